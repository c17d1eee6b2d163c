"""Input coercion for the NumPy reference: arrays in, validated dtype names out."""

from __future__ import annotations

import numpy as np

from tenfold.spec.dtypes import array_like, check_numeric


def dtype_name(dtype: np.dtype) -> str:
    """Canonical dtype name of a NumPy dtype (``"float32"``, ``"int64"``, ``"str"``...)."""
    if dtype.kind in "US":
        return "str"
    if dtype.kind == "O":
        return "object"
    return dtype.name


def as_array(where: str, x: object) -> np.ndarray:
    """Convert ``x`` to an ndarray (:func:`tenfold.spec.dtypes.array_like`: one message in every layer).

    Raises:
        DTypeError: For ``None``, ragged lists, strings and objects.
    """
    if isinstance(x, np.ndarray):
        check_numeric(where, x.dtype.kind)
        return x
    return array_like(where, x)
