"""Losses shared by several methods, for PyTorch (soft-target cross-entropy; NT-Xent, JSD and GAN losses join here).

Each loss matches :mod:`tenfold.numpy_ref.losses` through conformance.
"""

from __future__ import annotations

import torch

from tenfold.spec.errors import ShapeError, TenfoldError, expected

from ._tensors import as_tensor


def soft_target_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy against soft targets, ``-sum_k t_k log_softmax(z)_k``.

    For CutMix targets it equals the official ``lam * CE(z, y) + (1 - lam) * CE(z, y_j)``.

    Args:
        logits: (B, K).
        targets: (B, K) soft targets (rows summing to 1).
        reduction: ``"mean"`` (over the batch), ``"sum"`` or ``"none"``.
    """
    z = as_tensor("soft_target_cross_entropy", logits)
    t = as_tensor("soft_target_cross_entropy", targets)
    if z.ndim != 2 or z.shape != t.shape:
        raise ShapeError(expected("soft_target_cross_entropy", "logits and targets of one shape (B, K)",
                                  f"{tuple(z.shape)} and {tuple(t.shape)}"))
    loss = -(t.to(z.dtype) * torch.log_softmax(z, dim=-1)).sum(dim=-1)  # (B,)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise TenfoldError(expected("soft_target_cross_entropy", "reduction 'mean', 'sum' or 'none'", repr(reduction)))


def jsd_consistency(logits_clean: torch.Tensor, logits_aug1: torch.Tensor, logits_aug2: torch.Tensor, *,
                    weight: float = 12.0, clamp: tuple[float, float] = (1e-7, 1.0)) -> torch.Tensor:
    """AugMix's Jensen-Shannon consistency loss, the official form (a scalar).

    ``weight * (KL(p_c || M) + KL(p_1 || M) + KL(p_2 || M)) / 3`` with
    ``M = clamp((p_c + p_1 + p_2) / 3, *clamp)`` and ``KL(p || M) = sum p (log p - log M) / B``,
    as google-research/augmix ``cifar.py`` computes it with
    ``F.kl_div(log M, p, reduction="batchmean")``. Gradients flow through ``M``
    as in the official code. ``log p`` is a log-softmax, so a probability that
    underflows to 0 contributes 0 to the value and the gradient (the official
    ``F.kl_div`` on a softmax gives a NaN gradient there).

    Args:
        logits_clean, logits_aug1, logits_aug2: (B, K) each.
        weight: The official 12 (``tenfold.spec.augmix.JSD_WEIGHT``).
        clamp: The official ``(1e-7, 1)`` (``tenfold.spec.augmix.JSD_CLAMP``).
    """
    zs = [as_tensor("jsd_consistency", z) for z in (logits_clean, logits_aug1, logits_aug2)]
    if zs[0].ndim != 2 or any(z.shape != zs[0].shape for z in zs):
        raise ShapeError(expected("jsd_consistency", "three logits tensors of one shape (B, K)",
                                  ", ".join(str(tuple(z.shape)) for z in zs)))
    logp = [torch.log_softmax(z, dim=-1) for z in zs]  # (B, K) each
    p = [v.exp() for v in logp]
    log_m = torch.clamp((p[0] + p[1] + p[2]) / 3.0, clamp[0], clamp[1]).log()
    b = zs[0].shape[0]
    kl = sum((pv * (lv - log_m)).sum() / b for pv, lv in zip(p, logp, strict=True))
    return weight * kl / 3.0


class JSDLoss(torch.nn.Module):
    """The AugMix Jensen-Shannon consistency loss as a module (see :func:`jsd_consistency`).

    Paper: Hendrycks et al., ICLR 2020; official code: google-research/augmix ``cifar.py``.
    ``loss(z_clean, z_aug1, z_aug2)``, or ``loss(z)`` with the three views
    concatenated along the batch (``torch.cat([clean, aug1, aug2])``, as the
    official training loop feeds them), split in three.
    """

    def __init__(self, weight: float = 12.0, clamp: tuple[float, float] = (1e-7, 1.0)) -> None:
        super().__init__()
        self.weight = float(weight)
        self.clamp = (float(clamp[0]), float(clamp[1]))

    def forward(self, *logits: torch.Tensor) -> torch.Tensor:
        if len(logits) == 1:
            z = as_tensor("JSDLoss", logits[0])
            if z.ndim != 2 or z.shape[0] % 3:
                raise ShapeError(expected("JSDLoss", "(3B, K) logits (clean, aug1, aug2 concatenated)",
                                          f"shape {tuple(z.shape)}"))
            logits = tuple(z.chunk(3, dim=0))
        if len(logits) != 3:
            raise TenfoldError(expected("JSDLoss", "three logits tensors or one (3B, K)", f"{len(logits)} tensors"))
        return jsd_consistency(*logits, weight=self.weight, clamp=self.clamp)

    def extra_repr(self) -> str:
        return f"weight={self.weight}, clamp={self.clamp}"


__all__ = ["JSDLoss", "jsd_consistency", "soft_target_cross_entropy"]
