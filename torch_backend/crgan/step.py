"""One whole discriminator step and one generator step for PyTorch (call order: :mod:`tenfold.spec.crgan.step`).

``d_step(D, G, x_real, plan, config)`` and ``g_step(G, D, plan, config)`` run
the spec's calls with both networks in training mode, back-propagate the
step's loss into the trained network's ``.grad`` (zeroed first; the other
network's parameters get no gradient) and return the loss terms. The
optimizer update is the caller's (any ``torch.optim`` optimizer). The draws
come from a plan (:func:`tenfold.spec.crgan.sample_d_step`, NumPy) or, for
training, from torch's RNG (:func:`sample_d_draws`, :func:`sample_g_draws`).

Differences from StudioGAN (``src/worker.py``): the same call order; see
:mod:`tenfold.spec.crgan.step` for what differs (skipped G calls, BatchNorm
statistics).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

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
    """The draws of a D step as tensors: latents, latent noise and the two transforms (None when unused)."""

    z: torch.Tensor
    z_eps: torch.Tensor | None = None
    real: Draw | None = None
    fake: Draw | None = None


@dataclass
class GDraws:
    """The draws of a G step as tensors."""

    z: torch.Tensor
    z_eps: torch.Tensor | None = None


def d_draws_from_plan(plan: spec.DStepPlan, dtype: torch.dtype, device=None) -> DDraws:
    """A :class:`~tenfold.spec.crgan.DStepPlan` as tensors (``z + dz`` added in float64, then cast)."""
    z = torch.as_tensor(plan.z_array(), device=device).to(dtype)
    z_eps = None if plan.dz is None else torch.as_tensor(plan.z_eps_array(), device=device).to(dtype)
    real = None if plan.real is None else plan_tensors(plan.real, device)
    fake = None if plan.fake is None else plan_tensors(plan.fake, device)
    return DDraws(z, z_eps, real, fake)


def g_draws_from_plan(plan: spec.GStepPlan, dtype: torch.dtype, device=None) -> GDraws:
    z = torch.as_tensor(plan.z_array(), device=device).to(dtype)
    z_eps = None if plan.dz is None else torch.as_tensor(plan.z_eps_array(), device=device).to(dtype)
    return GDraws(z, z_eps)


def sample_d_draws(batch: int, config: spec.TrainConfig, dtype: torch.dtype = torch.float32, device=None,
                   generator: torch.Generator | None = None) -> DDraws:
    """The draws of a D step from torch's RNG (same distributions as :func:`tenfold.spec.crgan.sample_d_step`)."""
    cr, n = config.cr, config.nets
    z = torch.randn(batch, n.z_dim, dtype=dtype, device=device, generator=generator)
    s = n.image_size
    real = sample_tensors(batch, s, s, config.transform, device, generator) if cr.uses_real else None
    fake = sample_tensors(batch, s, s, config.transform, device, generator) if cr.uses_fake else None
    z_eps = None
    if cr.lambda_dis > 0:
        z_eps = z + cr.sigma_noise * torch.randn(batch, n.z_dim, dtype=dtype, device=device, generator=generator)
    return DDraws(z, z_eps, real, fake)


def sample_g_draws(batch: int, config: spec.TrainConfig, dtype: torch.dtype = torch.float32, device=None,
                   generator: torch.Generator | None = None) -> GDraws:
    """The draws of a G step from torch's RNG."""
    z = torch.randn(batch, config.nets.z_dim, dtype=dtype, device=device, generator=generator)
    z_eps = None
    if config.cr.lambda_gen > 0:
        noise = torch.randn(batch, config.nets.z_dim, dtype=dtype, device=device, generator=generator)
        z_eps = z + config.cr.sigma_noise * noise
    return GDraws(z, z_eps)


def _check(where: str, config: object, d: object, g: object) -> spec.TrainConfig:
    if not isinstance(config, spec.TrainConfig):
        raise ConfigError(expected(where, "a TrainConfig", type(config).__name__))
    if not isinstance(d, Discriminator) or not isinstance(g, Generator):
        raise ConfigError(expected(where, "a crgan Discriminator and Generator", f"{type(d).__name__}, "
                                   f"{type(g).__name__}"))
    return config


def d_step(d: Discriminator, g: Generator, x_real: torch.Tensor, plan: spec.DStepPlan | DDraws,
           config: spec.TrainConfig) -> dict[str, torch.Tensor]:
    """One discriminator step: fills ``d``'s ``.grad`` with ``dL_D``; returns the terms of ``D_TERMS`` (detached).

    Args:
        d, g: The networks (both put in training mode).
        x_real: (B, C, S, S) real images.
        plan: A :class:`~tenfold.spec.crgan.DStepPlan` or :class:`DDraws`.
        config: A :class:`~tenfold.spec.crgan.TrainConfig`.
    """
    where = "crgan.d_step"
    config = _check(where, config, d, g)
    x = as_tensor(where, x_real)
    b = nets_spec.check_images(where, tuple(x.shape), config.nets)
    if isinstance(plan, spec.DStepPlan):
        spec.check_d_plan(where, plan, config)
        plan = d_draws_from_plan(plan, x.dtype, x.device)
    if plan.z.shape[0] != b:
        raise ShapeError(expected(where, f"{plan.z.shape[0]} real images as in the plan", f"{b}"))
    cr = config.cr
    d.train()
    g.train()
    with torch.no_grad():
        x_f = g(plan.z)  # (B, C, S, S)
        x_e = g(plan.z_eps) if cr.lambda_dis > 0 else None
    d.zero_grad(set_to_none=True)
    r = d(x)  # (B, 1)
    f = d(x_f)
    zero = torch.zeros((), dtype=x.dtype, device=x.device)
    terms = {"adv": gan_discriminator_loss(r, f, config.loss), "cr_real": zero, "cr_fake": zero, "zcr_dis": zero}
    total = terms["adv"]
    if cr.lambda_real > 0:
        terms["cr_real"] = cr_penalty(r, d(plan.real(x)), cr.reduction)
        total = total + cr.lambda_real * terms["cr_real"]
    if cr.lambda_fake > 0:
        terms["cr_fake"] = cr_penalty(f, d(plan.fake(x_f)), cr.reduction)
        total = total + cr.lambda_fake * terms["cr_fake"]
    if cr.lambda_dis > 0:
        terms["zcr_dis"] = cr_penalty(f, d(x_e), cr.reduction)
        total = total + cr.lambda_dis * terms["zcr_dis"]
    total.backward()
    terms["total"] = total
    return {k: v.detach() for k, v in terms.items()}


def g_step(g: Generator, d: Discriminator, plan: spec.GStepPlan | GDraws,
           config: spec.TrainConfig) -> dict[str, torch.Tensor]:
    """One generator step: fills ``g``'s ``.grad`` with ``dL_G``; returns the terms of ``G_TERMS`` (detached).

    ``d``'s parameters are frozen for the step (``requires_grad_(False)``, then
    restored), but ``d`` runs in training mode, so its spectral-norm state advances.
    """
    where = "crgan.g_step"
    config = _check(where, config, d, g)
    dtype, device = g.fc.weight.dtype, g.fc.weight.device
    if isinstance(plan, spec.GStepPlan):
        spec.check_g_plan(where, plan, config)
        plan = g_draws_from_plan(plan, dtype, device)
    cr = config.cr
    d.train()
    g.train()
    flags = [p.requires_grad for p in d.parameters()]
    for p in d.parameters():
        p.requires_grad_(False)
    try:
        g.zero_grad(set_to_none=True)
        x_f = g(plan.z)  # (B, C, S, S)
        x_e = g(plan.z_eps) if cr.lambda_gen > 0 else None
        f = d(x_f)  # (B, 1)
        terms = {"adv": gan_generator_loss(f, config.loss),
                 "zcr_gen": torch.zeros((), dtype=dtype, device=device)}
        total = terms["adv"]
        if cr.lambda_gen > 0:
            terms["zcr_gen"] = cr_penalty(x_f, x_e, cr.reduction)
            total = total - cr.lambda_gen * terms["zcr_gen"]
        total.backward()
        terms["total"] = total
    finally:
        for p, flag in zip(d.parameters(), flags, strict=True):
            p.requires_grad_(flag)
    return {k: v.detach() for k, v in terms.items()}


__all__ = ["DDraws", "GDraws", "d_draws_from_plan", "d_step", "g_draws_from_plan", "g_step", "sample_d_draws",
           "sample_g_draws"]
