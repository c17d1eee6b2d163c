"""Input coercion for the NumPy reference: arrays in, validated dtype names out."""

from __future__ import annotations

import numpy as np

from tenfold.spec.dtypes import not_an_array


def dtype_name(dtype: np.dtype) -> str:
    """Canonical dtype name of a NumPy dtype (``"float32"``, ``"int64"``, ``"str"``...)."""
    if dtype.kind in "US":
        return "str"
    if dtype.kind == "O":
        return "object"
    return dtype.name


def as_array(where: str, x: object) -> np.ndarray:
    """Convert ``x`` to an ndarray, turning conversion failures into tenfold errors."""
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(x)
    except (TypeError, ValueError):
        raise not_an_array(where, "an array-like of floats", x) from None
