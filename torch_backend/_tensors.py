"""Input checks shared by the PyTorch backend (messages come from the spec)."""

from __future__ import annotations

import torch

from tenfold.spec.dtypes import not_an_array


def dtype_name(dtype: torch.dtype) -> str:
    """Canonical dtype name (``torch.float32`` -> ``"float32"``)."""
    return str(dtype).removeprefix("torch.")


def as_tensor(where: str, x: object) -> torch.Tensor:
    """Return ``x`` if it is a ``torch.Tensor``, else raise a tenfold ``DTypeError``."""
    if not isinstance(x, torch.Tensor):
        raise not_an_array(where, "a torch.Tensor", x)
    return x
