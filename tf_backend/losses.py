"""Losses shared by several methods, for TensorFlow (soft-target cross-entropy; NT-Xent, JSD and GAN losses join here).

Each loss matches :mod:`tenfold.numpy_ref.losses` through conformance.
"""

from __future__ import annotations

import tensorflow as tf

from tenfold.spec.errors import ShapeError, TenfoldError, expected

from ._tensors import as_tensor


def soft_target_cross_entropy(logits: tf.Tensor, targets: tf.Tensor, reduction: str = "mean") -> tf.Tensor:
    """Cross-entropy against soft targets, ``-sum_k t_k log_softmax(z)_k``.

    Equals the official ``lam * CE(z, y) + (1 - lam) * CE(z, y_j)`` for CutMix targets.

    Args:
        logits: (B, K).
        targets: (B, K).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
    """
    z = as_tensor("soft_target_cross_entropy", logits)
    t = as_tensor("soft_target_cross_entropy", targets)
    if z.shape.rank != 2 or z.shape != t.shape:
        raise ShapeError(expected("soft_target_cross_entropy", "logits and targets of one shape (B, K)",
                                  f"{tuple(z.shape)} and {tuple(t.shape)}"))
    loss = -tf.reduce_sum(tf.cast(t, z.dtype) * tf.nn.log_softmax(z, axis=-1), axis=-1)  # (B,)
    if reduction == "mean":
        return tf.reduce_mean(loss)
    if reduction == "sum":
        return tf.reduce_sum(loss)
    if reduction == "none":
        return loss
    raise TenfoldError(expected("soft_target_cross_entropy", "reduction 'mean', 'sum' or 'none'", repr(reduction)))


__all__ = ["soft_target_cross_entropy"]
