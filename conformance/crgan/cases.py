"""Cases of the CR-GAN conformance suite and the reference side of its comparisons.

Every case is float64 draws from ``np.random.default_rng([seed, index])``. The
plans of the step cases are drawn by the spec's samplers from
``np.random.default_rng([seed, index, round, 0 | 1])`` (D | G), so every layer
executes the same draws. See :mod:`tenfold.conformance.crgan` for the suites.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tenfold.numpy_ref import autodiff as ad
from tenfold.numpy_ref import crgan as ref
from tenfold.numpy_ref.crgan.step import _gan_d, _gan_g
from tenfold.numpy_ref.layers import spectral_norm as ref_sn
from tenfold.spec import crgan as spec
from tenfold.spec.spectral_norm import SpectralNormConfig

from ..case import Case, Comparison
from ..dtypes import round_to
from ..gradcheck import directional_derivative

METHOD = "crgan"
FULL = ("float32", "float64")
TOL = spec.TOLERANCES
EXACT = spec.EXACT

#: Transform cases: (config, NCHW shape): odd, non-square, batch 1, shifts up to most of the image.
TRANSFORM_CASES: dict[str, tuple[spec.TransformConfig, tuple[int, ...]]] = {
    "t-reflect": (spec.TransformConfig(max_shift_fraction=0.5), (4, 2, 7, 5)),
    "t-zero": (spec.TransformConfig(max_shift_fraction=0.9, pad_mode="zero"), (5, 3, 6, 9)),
    "t-batch1": (spec.TransformConfig(), (1, 1, 8, 8)),
}

#: Penalty and loss cases: (kind, shape of each operand).
FN_CASES: dict[str, tuple[str, tuple[int, ...]]] = {
    "pen-logits": ("penalty", (6, 1)),
    "pen-images": ("penalty", (3, 2, 5, 4)),
    "loss-ns": ("ns", (7, 1)),
    "loss-hinge": ("hinge", (7,)),
}

#: Spectral-norm cases: (config, raw weight shape in PyTorch layout); 3 training calls, then an eval call.
SN_CASES: dict[str, tuple[SpectralNormConfig, tuple[int, ...]]] = {
    "sn-conv": (SpectralNormConfig(), (4, 3, 3, 3)),
    "sn-options": (SpectralNormConfig(n_power_iterations=2, eps=1e-6, order="uv"), (5, 7)),
}
SN_CALLS = 3

_TINY = spec.GANConfig.tiny()
_OPTIONS = spec.TrainConfig(
    loss="hinge",
    cr=spec.CRConfig(lambda_real=3.0, lambda_fake=2.0, lambda_dis=7.0, lambda_gen=0.25, sigma_noise=0.1,
                     reduction="mean"),
    transform=spec.TransformConfig(flip_prob=1.0, max_shift_fraction=0.25, pad_mode="zero"),
    nets=spec.GANConfig(z_dim=4, image_channels=2, bottom=2, g_channels=(5, 3, 2), d_channels=(2, 3, 4),
                        lrelu_slope=0.2, bn_eps=1e-3, bn_momentum=0.3, sn_power_iterations=2, sn_eps=1e-6,
                        sn_order="uv"))

#: Whole-step cases: (config, batch). Each runs ROUNDS of (D step, G step) with the state carried over.
STEP_CASES: dict[str, tuple[spec.TrainConfig, int]] = {
    "step-icr": (spec.TrainConfig(nets=_TINY), 3),
    "step-crgan": (spec.TrainConfig(loss="hinge", cr=spec.CRConfig.cr(), nets=_TINY), 2),
    "step-baseline": (spec.TrainConfig(cr=spec.CRConfig.none(), nets=_TINY), 2),
    "step-options": (_OPTIONS, 3),
    "step-batch1": (spec.TrainConfig(nets=_TINY), 1),
}
ROUNDS = 2

CASES = (*TRANSFORM_CASES, *FN_CASES, *SN_CASES, *STEP_CASES)


def make_case(name: str, seed: int) -> Case:
    """Build case ``name`` from ``seed`` (float64 arrays; parameters under ``g/`` and ``d/``)."""
    index = CASES.index(name)
    rng = np.random.default_rng([seed, index])
    inputs: dict[str, np.ndarray] = {"seed": np.array(seed), "index": np.array(index)}
    if name in TRANSFORM_CASES:
        config, shape = TRANSFORM_CASES[name]
        plan = spec.sample(rng, shape[0], shape[2], shape[3], config)
        inputs.update(x=rng.normal(0, 1, shape), flip=plan.flips_array().astype(np.float64),
                      shift=plan.shifts_array().astype(np.float64))
    elif name in FN_CASES:
        kind, shape = FN_CASES[name]
        a, b = rng.normal(0, 2, shape), rng.normal(0, 2, shape)
        if kind == "ns":  # saturated logits: the stable softplus must stay finite and exact
            a.flat[:2], b.flat[:2] = (40.0, -35.0), (-40.0, 30.0)
        inputs.update(a=a, b=b)
    elif name in SN_CASES:
        _, shape = SN_CASES[name]
        inputs.update(w=rng.normal(0, 1, shape), u=ref_sn.normalize(rng.normal(0, 1, shape[0]), 1e-12),
                      v=ref_sn.normalize(rng.normal(0, 1, int(np.prod(shape[1:]))), 1e-12),
                      cot=rng.normal(0, 1, shape))
    elif name in STEP_CASES:
        config, batch = STEP_CASES[name]
        g, d = ref.init_params(config.nets, rng)
        for k, v in g.items():  # weights large enough that every layer matters
            if k.endswith("weight") and not k.startswith("bn"):
                g[k] = rng.normal(0, 0.4, v.shape)
            elif k.startswith("bn"):
                g[k] = (rng.uniform(0.5, 1.5, v.shape) if k.endswith(("weight", "running_var"))
                        else rng.normal(0, 0.2, v.shape))
        for k, v in d.items():
            if k.endswith(("weight_orig", "bias")):
                d[k] = rng.normal(0, 0.5, v.shape)
        inputs.update({f"g/{k}": v for k, v in g.items()})
        inputs.update({f"d/{k}": v for k, v in d.items()})
        inputs["x"] = np.tanh(rng.normal(0, 1, (batch, *config.nets.image_shape)))
    else:
        raise KeyError(name)
    return Case(METHOD, name, seed, inputs)


# -- helpers shared by the suites ---------------------------------------------

def rounded(case: Case, key: str, dtype: str) -> np.ndarray:
    return round_to(case.inputs[key], dtype)


def params(case: Case, prefix: str, dtype: str) -> dict[str, np.ndarray]:
    n = len(prefix)
    return {k[n:]: round_to(v, dtype) for k, v in case.inputs.items() if k.startswith(prefix)}


def transform_plan(case: Case) -> spec.TransformPlan:
    config, shape = TRANSFORM_CASES[case.name]
    flips = tuple(bool(f) for f in case.inputs["flip"])
    shifts = tuple((int(a), int(b)) for a, b in case.inputs["shift"])
    return spec.TransformPlan(shape[2], shape[3], flips, shifts, config.pad_mode)


def nhwc(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(a, 1, -1)) if a.ndim == 4 else a


def nchw(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.moveaxis(a, -1, 1)) if a.ndim == 4 else a


def _round_plan_latents(z: np.ndarray, z_eps: np.ndarray | None, dtype: str):
    zr = round_to(z, dtype)
    return zr, None if z_eps is None else round_to(z_eps, dtype) - zr


def step_plans(case: Case, dtype: str) -> list[tuple[spec.DStepPlan, spec.GStepPlan]]:
    """The ``ROUNDS`` (D plan, G plan) pairs, their latents rounded to ``dtype`` (``z + dz`` lands on ``dtype``)."""
    config, batch = STEP_CASES[case.name]
    seed, index = int(case.inputs["seed"]), int(case.inputs["index"])
    out = []
    for r in range(ROUNDS):
        dp = spec.sample_d_step(np.random.default_rng([seed, index, r, 0]), batch, config)
        gp = spec.sample_g_step(np.random.default_rng([seed, index, r, 1]), batch, config)
        z, dz = _round_plan_latents(dp.z_array(), None if dp.dz is None else dp.z_eps_array(), dtype)
        dp = spec.DStepPlan(z, dz, dp.real, dp.fake)
        z, dz = _round_plan_latents(gp.z_array(), None if gp.dz is None else gp.z_eps_array(), dtype)
        out.append((dp, spec.GStepPlan(z, dz)))
    return out


@dataclass
class Trace:
    """What a chain of steps produced: per step the loss terms and canonical gradients; the final states."""

    losses: list[dict[str, float]] = field(default_factory=list)
    grads: list[dict[str, np.ndarray]] = field(default_factory=list)
    g_state: dict[str, np.ndarray] = field(default_factory=dict)
    d_state: dict[str, np.ndarray] = field(default_factory=dict)


def reference_trace(case: Case, dtype: str) -> tuple[Trace, list]:
    """The float64 reference of ``ROUNDS`` rounds of (D step, G step) with no optimizer update.

    Returns the trace and, per step, ``(StepResult, d_params_before, g_params_before, plan)``.
    """
    config, _ = STEP_CASES[case.name]
    g, d = params(case, "g/", dtype), params(case, "d/", dtype)
    x = rounded(case, "x", dtype)
    trace, results = Trace(), []
    for dp, gp in step_plans(case, dtype):
        for plan in (dp, gp):
            before_d, before_g = dict(d), dict(g)
            res = ref.d_step(d, g, x, plan, config) if plan is dp else ref.g_step(g, d, plan, config)
            results.append((res, before_d, before_g, plan))
            d.update(res.d_state)
            g.update(res.g_state)
            trace.losses.append(res.losses)
            trace.grads.append(res.grads)
    trace.g_state = {k: v for k, v in g.items() if "running" in k}
    trace.d_state = {k: v for k, v in d.items() if k.endswith(("weight_u", "weight_v"))}
    return trace, results


def trace_comparisons(actual: Trace, expected: Trace, dtype: str, label: str = "") -> list[Comparison]:
    """Every loss term, gradient and final state of two traces."""
    fwd, grd = TOL.get("forward", dtype), TOL.get("gradient", dtype)
    comps = []
    for i, (la, le) in enumerate(zip(actual.losses, expected.losses, strict=True)):
        who = ("D", "G")[i % 2]
        comps += [Comparison(f"{label}{who}{i // 2} {k}", np.array(la[k]), np.array(le[k]), fwd) for k in le]
    for i, (ga, ge) in enumerate(zip(actual.grads, expected.grads, strict=True)):
        if set(ga) != set(ge):
            raise AssertionError(f"gradient names differ: {sorted(set(ga) ^ set(ge))}")
        who = ("D", "G")[i % 2]
        comps += [Comparison(f"{label}{who}{i // 2} d{k}", ga[k], ge[k], grd) for k in sorted(ge)]
    for name, a, e in (("G", actual.g_state, expected.g_state), ("D", actual.d_state, expected.d_state)):
        if set(a) != set(e):
            raise AssertionError(f"{name} state names differ: {sorted(set(a) ^ set(e))}")
        comps += [Comparison(f"{label}{name} state {k}", a[k], e[k], fwd) for k in sorted(e)]
    return comps


def fd_comparisons(case: Case, grads: list[dict[str, np.ndarray]]) -> list[Comparison]:
    """``<grad, V>`` of every step against the central difference of the float64 reference's plain loss.

    ``V`` is a random direction over the trained network's trainable entries;
    the D step holds each D call's SN vectors fixed (as the gradient does).
    """
    config, _ = STEP_CASES[case.name]
    _, results = reference_trace(case, "float64")
    x = case.inputs["x"]
    rng = np.random.default_rng([int(case.inputs["seed"]), 99])
    comps = []
    for i, ((res, d, g, plan), grad) in enumerate(zip(results, grads, strict=True)):
        names = sorted(grad)
        trained = d if i % 2 == 0 else g
        v = {k: rng.normal(0, 1, trained[k].shape) for k in names}

        def loss(t: float, i=i, res=res, d=d, g=g, plan=plan, v=v, trained=trained) -> float:
            moved = {**trained, **{k: trained[k] + t * v[k] for k in v}}
            if i % 2 == 0:
                return ref.d_step_loss(moved, g, x, plan, config, res.sn_calls)
            return ref.g_step_loss(moved, d, plan, config)

        fd = directional_derivative(lambda t: loss(float(t[0])), np.zeros(1), np.ones(1))
        an = sum(float((grad[k] * v[k]).sum()) for k in names)
        comps.append(Comparison(f"{('D', 'G')[i % 2]}{i // 2} <grad, V>", np.array(an), np.array(fd),
                                TOL.get("finite_difference")))
    return comps


# -- reference side of the function, transform and SN suites -------------------

def fn_reference(case: Case, dtype: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Values and gradients (w.r.t. ``a`` and ``b``) of the case's function, from the reference."""
    kind, _ = FN_CASES[case.name]
    a, b = rounded(case, "a", dtype), rounded(case, "b", dtype)
    values, grads = {}, {}
    variants = (("sum", "mean") if kind == "penalty" else ("d", "g"))
    for variant in variants:
        av, bv = ad.leaf(a), ad.leaf(b)
        if kind == "penalty":
            out = ref.penalty.penalty_var(av, bv, variant)
            values[variant] = np.array(ref.cr_penalty(a, b, variant))
        elif variant == "d":
            out = _gan_d(av, bv, kind)
            values[variant] = np.array(ref.gan_discriminator_loss(a, b, kind))
        else:
            out = _gan_g(bv, kind)
            values[variant] = np.array(ref.gan_generator_loss(b, kind))
        ad.backward(out)
        grads[f"{variant}/a"] = av.grad if av.grad is not None else np.zeros_like(a)
        grads[f"{variant}/b"] = bv.grad if bv.grad is not None else np.zeros_like(b)
    return values, grads


def sn_reference(case: Case, dtype: str) -> dict[str, np.ndarray]:
    """``W_sn``, ``u``, ``v`` after each of ``SN_CALLS`` training calls and one eval call."""
    config, _ = SN_CASES[case.name]
    w, u, v = rounded(case, "w", dtype), rounded(case, "u", dtype), rounded(case, "v", dtype)
    out = {}
    for i in range(SN_CALLS + 1):
        ws, u, v = ref.spectral_norm(w, u, v, config, training=i < SN_CALLS)
        out.update({f"w_sn{i}": ws, f"u{i}": u, f"v{i}": v})
    return out


def sn_grad_reference(case: Case, dtype: str) -> np.ndarray:
    """``d sum(cot * W_sn) / dW`` at the last state, through the reference's VJP."""
    config, _ = SN_CASES[case.name]
    w, u, v = rounded(case, "w", dtype), rounded(case, "u", dtype), rounded(case, "v", dtype)
    for _ in range(SN_CALLS):
        u, v = ref_sn.power_iteration(w, u, v, config)
    wv = ad.leaf(w)
    ws, _ = ad.spectral_normalize(wv, u, v)
    ad.backward(ws, rounded(case, "cot", dtype))
    return wv.grad


__all__ = ["CASES", "FULL", "METHOD", "Trace", "make_case"]
