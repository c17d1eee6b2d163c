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


__all__ = ["soft_target_cross_entropy"]
