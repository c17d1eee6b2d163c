"""Losses shared by several methods, in plain NumPy (float64).

Soft-target cross-entropy (CutMix, label smoothing); the AugMix Jensen-Shannon
term; NT-Xent (SimCLR; the math in :mod:`tenfold.spec.simclr.loss`) with its
written-out gradient; the GAN losses (non-saturating, hinge; CR-GAN, the math in
:mod:`tenfold.spec.crgan.losses`). One function each.
"""

from __future__ import annotations

import numpy as np

from tenfold.spec.crgan.losses import check_logits, check_loss
from tenfold.spec.errors import ShapeError, expected
from tenfold.spec.simclr import loss as ntx

from ._arrays import as_array, dtype_name
from .layers.activations import log_softmax, relu, softplus


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


def _nt_xent_inputs(z1: object, z2: object, temperature, reduction, normalize, config):
    cfg = ntx.resolve(config, temperature, reduction, normalize)
    a, b = as_array("nt_xent", z1), as_array("nt_xent", z2)
    ntx.check_embeddings("nt_xent", a.shape, b.shape, dtype_name(a.dtype), dtype_name(b.dtype))
    return cfg, np.concatenate([a, b]).astype(np.float64)  # (2N, d)


def _nt_xent_forward(z: np.ndarray, cfg: ntx.NTXentConfig):
    """Per-anchor losses (2N,), the row softmax P (2N, 2N), the unit rows h and their norms."""
    two_n = z.shape[0]
    if cfg.normalize:
        norm = np.sqrt(np.maximum((z * z).sum(axis=1, keepdims=True), cfg.eps))  # (2N, 1)
        h = z / norm
    else:
        norm, h = np.ones((two_n, 1)), z
    logits = h @ h.T / cfg.temperature  # (2N, 2N)
    logits[np.diag_indices(two_n)] -= ntx.LARGE_NUM  # masked after the division, as official
    pos = (np.arange(two_n) + two_n // 2) % two_n
    shifted = logits - logits.max(axis=1, keepdims=True)
    lse = np.log(np.exp(shifted).sum(axis=1))  # (2N,)
    per_anchor = lse - shifted[np.arange(two_n), pos]
    p = np.exp(shifted - lse[:, None])  # (2N, 2N) row softmax
    return per_anchor, p, h, norm, pos


def _reduce(per_anchor: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return per_anchor
    return np.asarray(per_anchor.sum() * ntx.reduction_factor(reduction, per_anchor.shape[0]))


def nt_xent(z1: object, z2: object, temperature: float | None = None, reduction: str | None = None, *,
            normalize: bool | None = None, config: ntx.NTXentConfig | None = None) -> np.ndarray:
    """NT-Xent of SimCLR (Chen et al., ICML 2020, Eq. (1); official ``objective.py``), float64.

    Args:
        z1, z2: (N, d) embeddings of the two views; row i of each is a positive pair.
        temperature, reduction, normalize: Override the fields of ``config``
            (default :meth:`NTXentConfig.official`: tau 0.1, ``"official"`` = 2x the paper's mean).
        config: A :class:`~tenfold.spec.simclr.loss.NTXentConfig`.

    Returns:
        A scalar array, or the (2N,) per-anchor losses (view-1 anchors first) for ``reduction="none"``.

    Raises:
        ShapeError, DTypeError, ConfigError: On bad shapes, dtypes or hyperparameters.
    """
    cfg, z = _nt_xent_inputs(z1, z2, temperature, reduction, normalize, config)
    return _reduce(_nt_xent_forward(z, cfg)[0], cfg.reduction)


def nt_xent_grad(z1: object, z2: object, temperature: float | None = None, reduction: str | None = None, *,
                 normalize: bool | None = None, config: ntx.NTXentConfig | None = None,
                 upstream: object = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The chain rule of :func:`nt_xent` written out: ``(dLoss/dz1, dLoss/dz2)`` (float64, each (N, d)).

    ``upstream`` is the gradient arriving at the loss: a scalar, or (2N,) for ``reduction="none"``.
    With ``G = c (P - Y)`` (``c`` the reduction's factor times ``upstream``)::

        dLoss/dh = (G + G^T) h / tau,   dLoss/dz = (dh - h (h . dh)) / ||z||   (see the spec)
    """
    cfg, z = _nt_xent_inputs(z1, z2, temperature, reduction, normalize, config)
    two_n = z.shape[0]
    _, p, h, norm, pos = _nt_xent_forward(z, cfg)
    up = np.asarray(upstream, dtype=np.float64)
    c = up * (1.0 if cfg.reduction == "none" else ntx.reduction_factor(cfg.reduction, two_n))
    c = np.broadcast_to(c, (two_n,))
    y = np.zeros_like(p)
    y[np.arange(two_n), pos] = 1.0
    g = c[:, None] * (p - y)  # dLoss/dS, (2N, 2N)
    dh = (g + g.T) @ h / cfg.temperature  # (2N, d)
    if cfg.normalize:
        above = (z * z).sum(axis=1, keepdims=True) > cfg.eps
        dz = np.where(above, dh - h * (h * dh).sum(axis=1, keepdims=True), dh) / norm
    else:
        dz = dh
    return dz[: two_n // 2], dz[two_n // 2:]


def _gan_logits(where: str, logits: object) -> np.ndarray:
    z = as_array(where, logits).astype(np.float64)
    check_logits(where, z.shape)
    return z.reshape(-1)


def gan_discriminator_loss(real_logits: object, fake_logits: object, kind: str = "ns") -> float:
    """The discriminator's GAN loss (:mod:`tenfold.spec.crgan.losses`), float64.

    ``"ns"``: ``mean softplus(-r) + mean softplus(f)``; ``"hinge"``:
    ``mean relu(1 - r) + mean relu(1 + f)``. Logits (B,) or (B, 1).
    """
    where = "gan_discriminator_loss"
    check_loss(where, kind)
    r, f = _gan_logits(where, real_logits), _gan_logits(where, fake_logits)
    if kind == "ns":
        return float(softplus(-r).mean() + softplus(f).mean())
    return float(relu(1.0 - r).mean() + relu(1.0 + f).mean())


def gan_generator_loss(fake_logits: object, kind: str = "ns") -> float:
    """The generator's GAN loss: ``mean softplus(-f)`` (``"ns"``) or ``-mean f`` (``"hinge"``), float64."""
    where = "gan_generator_loss"
    check_loss(where, kind)
    f = _gan_logits(where, fake_logits)
    return float(softplus(-f).mean()) if kind == "ns" else float(-f.mean())


__all__ = ["gan_discriminator_loss", "gan_generator_loss", "jsd_consistency", "jsd_consistency_grad", "nt_xent",
           "nt_xent_grad", "soft_target_cross_entropy"]
