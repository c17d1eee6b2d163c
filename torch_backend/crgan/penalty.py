"""The consistency penalty ``pen(a, b)`` for PyTorch (math: :mod:`tenfold.spec.crgan.penalty`)."""

from __future__ import annotations

import torch

from tenfold.spec.crgan import penalty as spec
from tenfold.spec.errors import ConfigError, expected

from .._tensors import as_tensor


def cr_penalty(a: torch.Tensor, b: torch.Tensor, reduction: str = "sum") -> torch.Tensor:
    """``(1/B) sum_i ||a_i - b_i||^2`` (``"sum"``) or ``F.mse_loss(a, b)`` (``"mean"``, StudioGAN's), a 0-d tensor.

    Gradients flow into both ``a`` and ``b``.
    """
    where = "cr_penalty"
    a, b = as_tensor(where, a), as_tensor(where, b)
    n = spec.check_pair(where, tuple(a.shape), tuple(b.shape))
    if reduction not in spec.REDUCTIONS:
        raise ConfigError(expected(where, "a reduction among " + ", ".join(spec.REDUCTIONS), repr(reduction)))
    d2 = (a - b).square()
    return d2.sum() / n if reduction == "sum" else d2.mean()


__all__ = ["cr_penalty"]
