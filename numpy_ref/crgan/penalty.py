"""The consistency penalty ``pen(a, b)`` in plain NumPy (float64).

Math and sources: :mod:`tenfold.spec.crgan.penalty`.
"""

from __future__ import annotations

import numpy as np

from tenfold.spec.crgan import penalty as spec
from tenfold.spec.errors import ConfigError, expected

from .. import autodiff as ad
from .._arrays import as_array


def cr_penalty(a: object, b: object, reduction: str = "sum") -> float:
    """``(1/B) sum_i ||a_i - b_i||^2`` (``"sum"``) or the mean of every ``(a - b)^2`` (``"mean"``, MSELoss).

    Args:
        a, b: Batches of one shape (B, ...): discriminator logits (B,) / (B, 1),
            or images (B, C, H, W) for the generator's zCR term.
        reduction: ``"sum"`` (the papers' squared L2 per sample) or ``"mean"``.

    Returns:
        The penalty as a float64 scalar.
    """
    where = "cr_penalty"
    x, y = as_array(where, a).astype(np.float64), as_array(where, b).astype(np.float64)
    n = spec.check_pair(where, x.shape, y.shape)
    _check_reduction(where, reduction)
    d2 = (x - y) ** 2
    return float(d2.sum() / n) if reduction == "sum" else float(d2.mean())


def _check_reduction(where: str, reduction: object) -> None:
    if reduction not in spec.REDUCTIONS:
        raise ConfigError(expected(where, "a reduction among " + ", ".join(spec.REDUCTIONS), repr(reduction)))


def penalty_var(a: ad.Var, b: ad.Var, reduction: str) -> ad.Var:
    """:func:`cr_penalty` on :class:`~tenfold.numpy_ref.autodiff.Var` operands (for whole-step gradients)."""
    spec.check_pair("cr_penalty", a.shape, b.shape)
    d2 = ad.square(ad.sub(a, b))
    return ad.scale(ad.total(d2), 1.0 / a.shape[0]) if reduction == "sum" else ad.mean(d2)


__all__ = ["cr_penalty", "penalty_var"]
