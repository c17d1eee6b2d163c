"""Losses shared by several methods, in plain NumPy (float64).

Soft-target cross-entropy (CutMix, label smoothing). Further losses (NT-Xent,
the AugMix Jensen-Shannon term, GAN losses) live here too, one function each.
"""

from __future__ import annotations

import numpy as np

from tenfold.spec.errors import ShapeError, expected

from ._arrays import as_array
from .layers.activations import log_softmax


def soft_target_cross_entropy(logits: object, targets: object) -> np.ndarray:
    """Per-sample cross-entropy against soft targets: ``-sum_k t_k log_softmax(z)_k`` (float64, (B,)).

    Equals the official ``lam * CE(z, y) + (1 - lam) * CE(z, y_j)`` for CutMix
    targets. Log-softmax with max subtraction (finite for any finite logits).
    """
    z = as_array("soft_target_cross_entropy", logits).astype(np.float64)
    t = as_array("soft_target_cross_entropy", targets).astype(np.float64)
    if z.ndim != 2 or z.shape != t.shape:
        raise ShapeError(expected("soft_target_cross_entropy", "logits and targets of one shape (B, K)",
                                            f"{z.shape} and {t.shape}"))
    return -(t * log_softmax(z, axis=1)).sum(axis=1)


__all__ = ["soft_target_cross_entropy"]
