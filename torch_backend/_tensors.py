"""Input checks shared by the PyTorch backend (messages come from the spec)."""

from __future__ import annotations

import torch

from tenfold.spec.dtypes import array_like
from tenfold.spec.errors import DTypeError, expected


def dtype_name(dtype: torch.dtype) -> str:
    """Canonical dtype name (``torch.float32`` -> ``"float32"``)."""
    return str(dtype).removeprefix("torch.")


def as_tensor(where: str, x: object) -> torch.Tensor:
    """``x`` itself if it is a ``torch.Tensor``, else ``x`` converted by NumPy's rules (CPU tensor).

    Lists, NumPy arrays and scalars are accepted as in the NumPy and TensorFlow
    layers (:func:`tenfold.spec.dtypes.array_like`), with the same dtype and
    the same errors.

    Raises:
        DTypeError: For ``None``, ragged lists, strings, objects, or a NumPy
            dtype PyTorch has no tensor for.
    """
    if isinstance(x, torch.Tensor):
        return x
    arr = array_like(where, x)
    try:
        return torch.from_numpy(arr if arr.flags.writeable else arr.copy())
    except TypeError:
        raise DTypeError(expected(where, "a dtype PyTorch has", f"dtype {arr.dtype}")) from None


def to_param_dtype(x: torch.Tensor, module: torch.nn.Module) -> torch.Tensor:
    """A floating input in ``module``'s parameter dtype (outside autocast), as Keras casts to its compute dtype.

    So a float64 batch given to a float32 model runs in float32 in PyTorch as
    in TensorFlow, instead of failing in the first convolution.
    """
    p = next(module.parameters(), None)
    if p is None or not x.is_floating_point() or x.dtype == p.dtype or torch.is_autocast_enabled(x.device.type):
        return x
    return x.to(p.dtype)
