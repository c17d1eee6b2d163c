"""One whole discriminator step and one generator step for TensorFlow (call order: :mod:`tenfold.spec.crgan.step`).

``d_step(D, G, x_real, plan, config)`` and ``g_step(G, D, plan, config)`` run
the spec's calls with both networks in training mode under a
``tf.GradientTape`` and return ``(terms, grads)``: the loss terms and the
gradients aligned with the trained model's ``trainable_variables`` (ready for
``optimizer.apply_gradients``). Everything is TensorFlow ops, so a step can be
wrapped in ``tf.function`` (plan-derived sizes are Python constants). The draws
come from a plan (NumPy) or, for training, from a ``tf.random.Generator``
(:func:`sample_d_draws`, :func:`sample_g_draws`). Images are NHWC.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from tenfold.spec.crgan import nets as nets_spec
from tenfold.spec.crgan import step as spec
from tenfold.spec.errors import ConfigError, ShapeError, expected

from .._tensors import as_tensor
from ..losses import gan_discriminator_loss, gan_generator_loss
from .nets import Discriminator, Generator
from .penalty import cr_penalty
from .transform import Draw, plan_tensors, sample_tensors


@dataclass
class DDraws:
    """The draws of a D step as tensors (None where a term is off)."""

    z: tf.Tensor
    z_eps: tf.Tensor | None = None
    real: Draw | None = None
    fake: Draw | None = None


@dataclass
class GDraws:
    """The draws of a G step as tensors."""

    z: tf.Tensor
    z_eps: tf.Tensor | None = None


def _latents(a: np.ndarray, dtype: tf.DType) -> tf.Tensor:
    return tf.cast(tf.constant(a), dtype)


def d_draws_from_plan(plan: spec.DStepPlan, dtype: tf.DType) -> DDraws:
    """A :class:`~tenfold.spec.crgan.DStepPlan` as tensors (``z + dz`` added in float64, then cast)."""
    return DDraws(_latents(plan.z_array(), dtype),
                  None if plan.dz is None else _latents(plan.z_eps_array(), dtype),
                  None if plan.real is None else plan_tensors(plan.real),
                  None if plan.fake is None else plan_tensors(plan.fake))


def g_draws_from_plan(plan: spec.GStepPlan, dtype: tf.DType) -> GDraws:
    return GDraws(_latents(plan.z_array(), dtype), None if plan.dz is None else _latents(plan.z_eps_array(), dtype))


def sample_d_draws(batch: int, config: spec.TrainConfig, dtype: tf.DType = tf.float32,
                   generator: tf.random.Generator | None = None) -> DDraws:
    """The draws of a D step from a ``tf.random.Generator`` (the global one when None)."""
    gen = generator or tf.random.get_global_generator()
    cr, n = config.cr, config.nets
    z = gen.normal([batch, n.z_dim], dtype=dtype)
    s = n.image_size
    real = sample_tensors(batch, s, s, config.transform, gen) if cr.uses_real else None
    fake = sample_tensors(batch, s, s, config.transform, gen) if cr.uses_fake else None
    z_eps = z + cr.sigma_noise * gen.normal([batch, n.z_dim], dtype=dtype) if cr.lambda_dis > 0 else None
    return DDraws(z, z_eps, real, fake)


def sample_g_draws(batch: int, config: spec.TrainConfig, dtype: tf.DType = tf.float32,
                   generator: tf.random.Generator | None = None) -> GDraws:
    """The draws of a G step from a ``tf.random.Generator``."""
    gen = generator or tf.random.get_global_generator()
    z = gen.normal([batch, config.nets.z_dim], dtype=dtype)
    z_eps = None
    if config.cr.lambda_gen > 0:
        z_eps = z + config.cr.sigma_noise * gen.normal([batch, config.nets.z_dim], dtype=dtype)
    return GDraws(z, z_eps)


def _check(where: str, config: object, d: object, g: object) -> spec.TrainConfig:
    if not isinstance(config, spec.TrainConfig):
        raise ConfigError(expected(where, "a TrainConfig", type(config).__name__))
    if not isinstance(d, Discriminator) or not isinstance(g, Generator):
        raise ConfigError(expected(where, "a crgan Discriminator and Generator",
                                   f"{type(d).__name__}, {type(g).__name__}"))
    return config


def d_step(d: Discriminator, g: Generator, x_real: tf.Tensor, plan: spec.DStepPlan | DDraws,
           config: spec.TrainConfig) -> tuple[dict[str, tf.Tensor], list[tf.Tensor]]:
    """One discriminator step.

    Args:
        d, g: The networks (called in training mode).
        x_real: (B, S, S, C) real images.
        plan: A :class:`~tenfold.spec.crgan.DStepPlan` or :class:`DDraws`.
        config: A :class:`~tenfold.spec.crgan.TrainConfig`.

    Returns:
        ``(terms, grads)``: the terms of ``D_TERMS`` and ``dL_D`` for each of
        ``d.trainable_variables``.
    """
    where = "crgan.d_step"
    config = _check(where, config, d, g)
    x = as_tensor(where, x_real)
    b = nets_spec.check_images(where, tuple(x.shape), config.nets, layout="NHWC")
    if isinstance(plan, spec.DStepPlan):
        spec.check_d_plan(where, plan, config)
        plan = d_draws_from_plan(plan, x.dtype)
    if plan.z.shape[0] is not None and plan.z.shape[0] != b:
        raise ShapeError(expected(where, f"{plan.z.shape[0]} real images as in the plan", f"{b}"))
    cr = config.cr
    x_f = tf.stop_gradient(g(plan.z, training=True))  # (B, S, S, C)
    x_e = tf.stop_gradient(g(plan.z_eps, training=True)) if cr.lambda_dis > 0 else None
    with tf.GradientTape() as tape:
        r = d(x, training=True)  # (B, 1)
        f = d(x_f, training=True)
        zero = tf.zeros((), x.dtype)
        terms = {"adv": gan_discriminator_loss(r, f, config.loss), "cr_real": zero, "cr_fake": zero,
                 "zcr_dis": zero}
        total = terms["adv"]
        if cr.lambda_real > 0:
            terms["cr_real"] = cr_penalty(r, d(plan.real(x), training=True), cr.reduction)
            total = total + cr.lambda_real * terms["cr_real"]
        if cr.lambda_fake > 0:
            terms["cr_fake"] = cr_penalty(f, d(plan.fake(x_f), training=True), cr.reduction)
            total = total + cr.lambda_fake * terms["cr_fake"]
        if cr.lambda_dis > 0:
            terms["zcr_dis"] = cr_penalty(f, d(x_e, training=True), cr.reduction)
            total = total + cr.lambda_dis * terms["zcr_dis"]
    terms["total"] = total
    return terms, tape.gradient(total, d.trainable_variables)


def g_step(g: Generator, d: Discriminator, plan: spec.GStepPlan | GDraws,
           config: spec.TrainConfig) -> tuple[dict[str, tf.Tensor], list[tf.Tensor]]:
    """One generator step: ``(terms, grads)`` with ``dL_G`` for each of ``g.trainable_variables``.

    ``d`` runs in training mode, so its spectral-norm state advances; no
    gradient is taken with respect to its variables.
    """
    where = "crgan.g_step"
    config = _check(where, config, d, g)
    if isinstance(plan, spec.GStepPlan):
        spec.check_g_plan(where, plan, config)
        plan = g_draws_from_plan(plan, g.fc.kernel.dtype)
    cr = config.cr
    with tf.GradientTape() as tape:
        x_f = g(plan.z, training=True)  # (B, S, S, C)
        x_e = g(plan.z_eps, training=True) if cr.lambda_gen > 0 else None
        f = d(x_f, training=True)  # (B, 1)
        terms = {"adv": gan_generator_loss(f, config.loss), "zcr_gen": tf.zeros((), x_f.dtype)}
        total = terms["adv"]
        if cr.lambda_gen > 0:
            terms["zcr_gen"] = cr_penalty(x_f, x_e, cr.reduction)
            total = total - cr.lambda_gen * terms["zcr_gen"]
    terms["total"] = total
    return terms, tape.gradient(total, g.trainable_variables)


__all__ = ["DDraws", "GDraws", "d_draws_from_plan", "d_step", "g_draws_from_plan", "g_step", "sample_d_draws",
           "sample_g_draws"]
