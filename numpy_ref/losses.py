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


def _jsd_terms(where: str, logits: tuple[object, ...], clamp: tuple[float, float]):
    zs = [as_array(where, z).astype(np.float64) for z in logits]
    if len(zs) != 3 or zs[0].ndim != 2 or any(z.shape != zs[0].shape for z in zs):
        raise ShapeError(expected(where, "three logits arrays of one shape (B, K)",
                                  ", ".join(str(z.shape) for z in zs)))
    logp = [log_softmax(z, axis=1) for z in zs]  # (B, K) each
    p = [np.exp(v) for v in logp]
    mean = (p[0] + p[1] + p[2]) / 3.0
    lo, hi = clamp
    mixture = np.clip(mean, lo, hi)
    return logp, p, mean, mixture


def jsd_consistency(logits_clean: object, logits_aug1: object, logits_aug2: object, *, weight: float = 12.0,
                    clamp: tuple[float, float] = (1e-7, 1.0)) -> float:
    """AugMix's Jensen-Shannon consistency loss, the official form (float64 scalar).

    ``weight * (KL(p_c || M) + KL(p_1 || M) + KL(p_2 || M)) / 3`` with
    ``p = softmax(z)``, ``M = clamp((p_c + p_1 + p_2) / 3, *clamp)`` (not
    renormalised) and ``KL(p || M) = sum p (log p - log M) / B`` (PyTorch's
    ``kl_div(log M, p, reduction="batchmean")``). Official code:
    google-research/augmix ``cifar.py`` ``train()``; constants in
    :mod:`tenfold.spec.augmix` (``JSD_WEIGHT``, ``JSD_CLAMP``). ``log p`` comes
    from a max-subtracted log-softmax, so every term is finite.
    """
    logp, p, _, mixture = _jsd_terms("jsd_consistency", (logits_clean, logits_aug1, logits_aug2), clamp)
    b = logp[0].shape[0]
    log_m = np.log(mixture)
    kl = sum(float((pv * (lv - log_m)).sum()) / b for pv, lv in zip(p, logp, strict=True))
    return weight * kl / 3.0


def jsd_consistency_grad(logits_clean: object, logits_aug1: object, logits_aug2: object, *, weight: float = 12.0,
                         clamp: tuple[float, float] = (1e-7, 1.0)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradient of :func:`jsd_consistency` with respect to the three logits (float64, (B, K) each).

    With ``c = weight / (3 B)``, ``a`` the unclamped mean and ``1[.]`` the
    clamp's pass-through (``lo <= a <= hi``, as ``torch.clamp``)::

        dL/dp_v = c (log p_v + 1 - log M - 1[lo <= a <= hi] a / M)
        dL/dz_v = p_v (g_v - sum_k p_v g_v)                 (softmax Jacobian)

    where the mixture is not clamped ``a / M = 1`` and ``g_v = c (log p_v - log M)``.
    """
    logp, p, mean, mixture = _jsd_terms("jsd_consistency_grad", (logits_clean, logits_aug1, logits_aug2), clamp)
    b = logp[0].shape[0]
    c = weight / (3.0 * b)
    lo, hi = clamp
    passes = (mean >= lo) & (mean <= hi)
    through_m = np.where(passes, mean / mixture, 0.0)
    log_m = np.log(mixture)
    grads = []
    for pv, lv in zip(p, logp, strict=True):
        g = c * (lv + 1.0 - log_m - through_m)  # dL/dp_v, (B, K)
        grads.append(pv * (g - (pv * g).sum(axis=1, keepdims=True)))
    return grads[0], grads[1], grads[2]


__all__ = ["jsd_consistency", "jsd_consistency_grad", "soft_target_cross_entropy"]
