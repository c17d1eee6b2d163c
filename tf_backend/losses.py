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


def jsd_consistency(logits_clean: tf.Tensor, logits_aug1: tf.Tensor, logits_aug2: tf.Tensor, *,
                    weight: float = 12.0, clamp: tuple[float, float] = (1e-7, 1.0)) -> tf.Tensor:
    """AugMix's Jensen-Shannon consistency loss, the official form (a scalar).

    ``weight * (KL(p_c || M) + KL(p_1 || M) + KL(p_2 || M)) / 3`` with
    ``M = clip((p_c + p_1 + p_2) / 3, *clamp)`` and ``KL(p || M) = sum p (log p - log M) / B``
    (google-research/augmix ``cifar.py``; constants in :mod:`tenfold.spec.augmix`).
    ``log p`` is a log-softmax; gradients flow through ``M`` (``clip_by_value``
    passes them where the mean lies inside the clamp, as ``torch.clamp``).

    Args:
        logits_clean, logits_aug1, logits_aug2: (B, K) each.
        weight: The official 12.
        clamp: The official ``(1e-7, 1)``.
    """
    zs = [as_tensor("jsd_consistency", z) for z in (logits_clean, logits_aug1, logits_aug2)]
    if zs[0].shape.rank != 2 or any(z.shape != zs[0].shape for z in zs):
        raise ShapeError(expected("jsd_consistency", "three logits tensors of one shape (B, K)",
                                  ", ".join(str(tuple(z.shape)) for z in zs)))
    logp = [tf.nn.log_softmax(z, axis=-1) for z in zs]  # (B, K) each
    p = [tf.exp(v) for v in logp]
    log_m = tf.math.log(tf.clip_by_value((p[0] + p[1] + p[2]) / 3.0, clamp[0], clamp[1]))
    b = tf.cast(tf.shape(zs[0])[0], zs[0].dtype)
    kl = tf.add_n([tf.reduce_sum(pv * (lv - log_m)) / b for pv, lv in zip(p, logp, strict=True)])
    return weight * kl / 3.0


__all__ = ["jsd_consistency", "soft_target_cross_entropy"]
