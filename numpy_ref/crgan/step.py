"""One whole discriminator step and one generator step in plain NumPy (float64), with gradients.

The call order, the loss terms and the plans are those of
:mod:`tenfold.spec.crgan.step`. Gradients come from
:mod:`tenfold.numpy_ref.autodiff` (every VJP written out); the loss alone is
:func:`d_step_loss` / :func:`g_step_loss`, whose central differences are the
gradient oracle of conformance. For the discriminator step those take the
spectral-norm vectors of every D call as fixed (``StepResult.sn_calls``), which
is what "u and v are constants for the gradient" means.

No optimizer update: a step returns the losses, the gradients and the new
state (G's BatchNorm running statistics, D's ``weight_u``/``weight_v``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from tenfold.spec.contracts import check_params
from tenfold.spec.crgan import nets as nets_spec
from tenfold.spec.crgan import step as spec
from tenfold.spec.crgan.losses import check_loss
from tenfold.spec.errors import ConfigError, ShapeError, expected

from .. import autodiff as ad
from .._arrays import as_array
from .nets import SNState, discriminator_graph, generator_graph, sn_state
from .penalty import penalty_var
from .transform import apply


@dataclass
class StepResult:
    """What one step produces.

    Attributes:
        losses: The terms of :data:`tenfold.spec.crgan.D_TERMS` / ``G_TERMS`` (floats).
        grads: Canonical name -> gradient, for the trained network's trainable entries.
        d_state: D's ``<layer>.weight_u`` / ``weight_v`` after the step.
        g_state: G's ``bn<k>.running_mean`` / ``running_var`` after the step.
        sn_calls: The (u, v) of every layer used by each D call, in call order.
    """

    losses: dict[str, float]
    grads: dict[str, np.ndarray]
    d_state: dict[str, np.ndarray]
    g_state: dict[str, np.ndarray]
    sn_calls: list[SNState] = field(default_factory=list)


def _gan_d(r: ad.Var, f: ad.Var, kind: str) -> ad.Var:
    if kind == "ns":
        return ad.add(ad.mean(ad.softplus(ad.scale(r, -1.0))), ad.mean(ad.softplus(f)))
    return ad.add(ad.mean(ad.relu(ad.shift(ad.scale(r, -1.0), 1.0))), ad.mean(ad.relu(ad.shift(f, 1.0))))


def _gan_g(f: ad.Var, kind: str) -> ad.Var:
    return ad.mean(ad.softplus(ad.scale(f, -1.0))) if kind == "ns" else ad.scale(ad.mean(f), -1.0)


class _G:
    """The generator with its running statistics carried from call to call."""

    def __init__(self, params: Mapping[str, ad.Var], config: nets_spec.GANConfig):
        self.params = dict(params)
        self.config = config

    def __call__(self, z: np.ndarray) -> ad.Var:
        updates: dict[str, np.ndarray] = {}
        y = generator_graph(ad.const(z), self.params, self.config, training=True, updates=updates)
        self.params.update({k: ad.const(v) for k, v in updates.items()})
        return y

    def state(self) -> dict[str, np.ndarray]:
        return {k: v.value for k, v in self.params.items() if "running" in k}


class _D:
    """The discriminator with its SN state carried from call to call (or fixed per call)."""

    def __init__(self, params: Mapping[str, ad.Var], config: nets_spec.GANConfig,
                 fixed: list[SNState] | None = None):
        self.params, self.config, self.fixed = params, config, fixed
        self.state = sn_state({k: v.value for k, v in params.items()})
        self.calls: list[SNState] = []

    def __call__(self, x: ad.Var) -> ad.Var:
        if self.fixed is None:
            y, used = discriminator_graph(x, self.params, self.config, self.state, training=True)
            self.state = used
        else:
            y, used = discriminator_graph(x, self.params, self.config, self.fixed[len(self.calls)], training=False)
        self.calls.append(used)
        return y

    def state_dict(self) -> dict[str, np.ndarray]:
        out = {}
        for name, (u, v) in self.state.items():
            out[f"{name}.weight_u"], out[f"{name}.weight_v"] = u, v
        return out


def _vars(params: Mapping[str, np.ndarray], trainable: tuple[str, ...] | None) -> dict[str, ad.Var]:
    return {k: (ad.leaf if trainable is not None and k in trainable else ad.const)(np.asarray(v, np.float64))
            for k, v in params.items()}


def _d_graph(dv: dict[str, ad.Var], g_params: Mapping[str, np.ndarray], x_real: np.ndarray, plan: spec.DStepPlan,
             config: spec.TrainConfig, fixed: list[SNState] | None):
    cr, nets = config.cr, config.nets
    g = _G(_vars(g_params, None), nets)
    x_f = g(plan.z_array()).value  # (B, C, S, S), a constant for D
    x_e = g(plan.z_eps_array()).value if cr.lambda_dis > 0 else None
    d = _D(dv, nets, fixed)
    r = d(ad.const(x_real))  # (B, 1)
    f = d(ad.const(x_f))
    zero = ad.const(np.zeros(()))
    terms = {"adv": _gan_d(r, f, config.loss), "cr_real": zero, "cr_fake": zero, "zcr_dis": zero}
    if cr.lambda_real > 0:
        terms["cr_real"] = penalty_var(r, d(ad.const(apply(plan.real, x_real))), cr.reduction)
    if cr.lambda_fake > 0:
        terms["cr_fake"] = penalty_var(f, d(ad.const(apply(plan.fake, x_f))), cr.reduction)
    if cr.lambda_dis > 0:
        terms["zcr_dis"] = penalty_var(f, d(ad.const(x_e)), cr.reduction)
    total = terms["adv"]
    for name, lam in (("cr_real", cr.lambda_real), ("cr_fake", cr.lambda_fake), ("zcr_dis", cr.lambda_dis)):
        if lam > 0:
            total = ad.add(total, ad.scale(terms[name], lam))
    terms["total"] = total
    return terms, d, g


def _check_d(where: str, d_params, g_params, x_real, plan, config) -> np.ndarray:
    if not isinstance(config, spec.TrainConfig):
        raise ConfigError(expected(where, "a TrainConfig", type(config).__name__))
    check_loss(where, config.loss)
    check_params(d_params, nets_spec.discriminator_param_shapes(config.nets), where)
    check_params(g_params, nets_spec.generator_param_shapes(config.nets), where)
    spec.check_d_plan(where, plan, config)
    x = as_array(where, x_real).astype(np.float64)
    b = nets_spec.check_images(where, x.shape, config.nets)
    if b != plan.batch_size:
        raise ShapeError(expected(where, f"{plan.batch_size} real images as in the plan", f"{b}"))
    return x


def d_step(d: Mapping[str, np.ndarray], g: Mapping[str, np.ndarray], x_real: object,
           plan: spec.DStepPlan, config: spec.TrainConfig) -> StepResult:
    """One discriminator step: losses, gradients of ``L_D`` w.r.t. D's weights and biases, new state.

    Args:
        d, g: Canonical parameters of the discriminator and the generator (the
            backends take the models themselves under the same names).
        x_real: (B, C, S, S) real images (NCHW).
        plan: The step's draws (:func:`tenfold.spec.crgan.sample_d_step`).
        config: A :class:`~tenfold.spec.crgan.TrainConfig`.
    """
    x = _check_d("crgan.d_step", d, g, x_real, plan, config)
    trainable = nets_spec.trainable_names(nets_spec.discriminator_param_shapes(config.nets))
    dv = _vars(d, trainable)
    terms, dnet, gnet = _d_graph(dv, g, x, plan, config, None)
    ad.backward(terms["total"])
    grads = {k: dv[k].grad if dv[k].grad is not None else np.zeros_like(dv[k].value) for k in trainable}
    return StepResult({k: float(v.value) for k, v in terms.items()}, grads, dnet.state_dict(), gnet.state(),
                      dnet.calls)


def d_step_loss(d: Mapping[str, np.ndarray], g: Mapping[str, np.ndarray], x_real: object,
                plan: spec.DStepPlan, config: spec.TrainConfig, sn_calls: list[SNState]) -> float:
    """``L_D`` with every D call's SN vectors fixed to ``sn_calls`` (from :func:`d_step`): no gradient machinery."""
    x = _check_d("crgan.d_step_loss", d, g, x_real, plan, config)
    terms, _, _ = _d_graph(_vars(d, None), g, x, plan, config, sn_calls)
    return float(terms["total"].value)


def _g_graph(gv: dict[str, ad.Var], d_params: Mapping[str, np.ndarray], plan: spec.GStepPlan,
             config: spec.TrainConfig):
    cr, nets = config.cr, config.nets
    g = _G(gv, nets)
    x_f = g(plan.z_array())  # (B, C, S, S)
    x_e = g(plan.z_eps_array()) if cr.lambda_gen > 0 else None
    d = _D(_vars(d_params, None), nets)
    f = d(x_f)
    terms = {"adv": _gan_g(f, config.loss), "zcr_gen": ad.const(np.zeros(()))}
    total = terms["adv"]
    if cr.lambda_gen > 0:
        terms["zcr_gen"] = penalty_var(x_f, x_e, cr.reduction)
        total = ad.sub(total, ad.scale(terms["zcr_gen"], cr.lambda_gen))
    terms["total"] = total
    return terms, d, g


def _check_g(where: str, g_params, d_params, plan, config) -> None:
    if not isinstance(config, spec.TrainConfig):
        raise ConfigError(expected(where, "a TrainConfig", type(config).__name__))
    check_params(g_params, nets_spec.generator_param_shapes(config.nets), where)
    check_params(d_params, nets_spec.discriminator_param_shapes(config.nets), where)
    spec.check_g_plan(where, plan, config)


def g_step(g: Mapping[str, np.ndarray], d: Mapping[str, np.ndarray], plan: spec.GStepPlan,
           config: spec.TrainConfig) -> StepResult:
    """One generator step: losses, gradients of ``L_G`` w.r.t. G's trainable entries, new state of both nets.

    ``g``, ``d``: canonical parameters of the two networks.
    """
    _check_g("crgan.g_step", g, d, plan, config)
    trainable = nets_spec.trainable_names(nets_spec.generator_param_shapes(config.nets))
    gv = _vars(g, trainable)
    terms, dnet, gnet = _g_graph(gv, d, plan, config)
    ad.backward(terms["total"])
    grads = {k: gv[k].grad if gv[k].grad is not None else np.zeros_like(gv[k].value) for k in trainable}
    return StepResult({k: float(v.value) for k, v in terms.items()}, grads, dnet.state_dict(), gnet.state(),
                      dnet.calls)


def g_step_loss(g: Mapping[str, np.ndarray], d: Mapping[str, np.ndarray], plan: spec.GStepPlan,
                config: spec.TrainConfig) -> float:
    """``L_G`` of one generator step (no gradient machinery)."""
    _check_g("crgan.g_step_loss", g, d, plan, config)
    terms, _, _ = _g_graph(_vars(g, None), d, plan, config)
    return float(terms["total"].value)


__all__ = ["StepResult", "d_step", "d_step_loss", "g_step", "g_step_loss"]
