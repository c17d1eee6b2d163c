"""Losses shared by several methods, for TensorFlow (soft-target cross-entropy, NT-Xent, JSD, GAN losses).

Each loss matches :mod:`tenfold.numpy_ref.losses` through conformance.
"""

from __future__ import annotations

import tensorflow as tf

from tenfold.spec.crgan.losses import check_logits, check_loss
from tenfold.spec.errors import ShapeError, TenfoldError, expected
from tenfold.spec.simclr import loss as ntx

from ._tensors import as_tensor, dtype_name
from .distributed import gather_with_grad, world


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


def nt_xent(z1: tf.Tensor, z2: tf.Tensor, temperature: float | None = None, reduction: str | None = None, *,
            normalize: bool | None = None, config: ntx.NTXentConfig | None = None,
            gather_distributed: bool = False) -> tf.Tensor:
    """NT-Xent of SimCLR (Chen et al., ICML 2020, Eq. (1); official ``objective.py``), eager or in a graph.

    Args:
        z1, z2: (n, d) embeddings of the two views (row i of each a positive pair).
        temperature, reduction, normalize: Override the fields of ``config`` (default
            :meth:`NTXentConfig.official`: tau 0.1, reduction ``"official"`` = 2x the paper's mean).
        config: A :class:`~tenfold.spec.simclr.loss.NTXentConfig`.
        gather_distributed: Inside ``strategy.run`` of a ``tf.distribute`` strategy,
            score the local anchors against every replica's embeddings (gradients
            flow back through ``all_gather``); the result is this replica's share
            (the reduction over its own 2n anchors).

    Returns:
        A scalar, or the (2n,) per-anchor losses for ``reduction="none"``; float16 and
        bfloat16 inputs are computed and returned in float32.
    """
    cfg = ntx.resolve(config, temperature, reduction, normalize)
    a, b = as_tensor("nt_xent", z1), as_tensor("nt_xent", z2)
    ntx.check_embeddings("nt_xent", tuple(a.shape), tuple(b.shape), dtype_name(a.dtype), dtype_name(b.dtype))
    if a.dtype in (tf.float16, tf.bfloat16):
        a, b = tf.cast(a, tf.float32), tf.cast(b, tf.float32)
    z = tf.concat([a, b], axis=0)  # (2n, d)
    h = z * tf.math.rsqrt(tf.maximum(tf.reduce_sum(z * z, axis=1, keepdims=True), cfg.eps)) if cfg.normalize else z
    n = tf.shape(a)[0]
    rank, size = world() if gather_distributed else (0, 1)
    if size == 1:
        logits = tf.matmul(h / cfg.temperature, h, transpose_b=True)  # (2n, 2n)
        logits = tf.linalg.set_diag(logits, tf.linalg.diag_part(logits) - ntx.LARGE_NUM)
        rows = tf.range(2 * n)
        pos = (rows + n) % (2 * n)
    else:
        cols = tf.concat([gather_with_grad(h[:n]), gather_with_grad(h[n:])], axis=0)  # (2 W n, d)
        own = tf.range(n) + tf.cast(rank, tf.int32) * n
        n_global = n * size
        self_cols = tf.concat([own, own + n_global], axis=0)
        pos = tf.concat([own + n_global, own], axis=0)
        logits = tf.matmul(h / cfg.temperature, cols, transpose_b=True)  # (2n, 2 W n)
        logits = logits - ntx.LARGE_NUM * tf.one_hot(self_cols, 2 * n_global, dtype=logits.dtype)
    per_anchor = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=pos, logits=logits)  # (2n,)
    if cfg.reduction == "none":
        return per_anchor
    factor = 2.0 if cfg.reduction == "official" else 1.0
    if cfg.reduction == "sum":
        return tf.reduce_sum(per_anchor)
    return factor * tf.reduce_mean(per_anchor)


def _gan_logits(where: str, logits: tf.Tensor) -> tf.Tensor:
    z = as_tensor(where, logits)
    check_logits(where, tuple(z.shape))
    return tf.reshape(z, [-1])


def gan_discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor, kind: str = "ns") -> tf.Tensor:
    """The discriminator's GAN loss (:mod:`tenfold.spec.crgan.losses`): ``"ns"`` or ``"hinge"``, a 0-d tensor."""
    where = "gan_discriminator_loss"
    check_loss(where, kind)
    r, f = _gan_logits(where, real_logits), _gan_logits(where, fake_logits)
    if kind == "ns":
        return tf.reduce_mean(tf.nn.softplus(-r)) + tf.reduce_mean(tf.nn.softplus(f))
    return tf.reduce_mean(tf.nn.relu(1.0 - r)) + tf.reduce_mean(tf.nn.relu(1.0 + f))


def gan_generator_loss(fake_logits: tf.Tensor, kind: str = "ns") -> tf.Tensor:
    """The generator's GAN loss: ``mean softplus(-f)`` (``"ns"``) or ``-mean f`` (``"hinge"``)."""
    where = "gan_generator_loss"
    check_loss(where, kind)
    f = _gan_logits(where, fake_logits)
    return tf.reduce_mean(tf.nn.softplus(-f)) if kind == "ns" else -tf.reduce_mean(f)


__all__ = ["gan_discriminator_loss", "gan_generator_loss", "jsd_consistency", "nt_xent", "soft_target_cross_entropy"]
