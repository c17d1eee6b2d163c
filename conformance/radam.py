"""Conformance of RAdam (see :mod:`tenfold.spec.radam`): whole trajectories against ``numpy_ref``.

Cases ``custom`` (every option off its official default) and ``tie`` (a
threshold equal to rho_6, so that only the inclusiveness decides step 6; PyTorch
only: Keras computes rho_t in-graph by another float64 formula) join the presets.
Every preset case (``official``, ``paper``, ``torch``, ``tfa``) comes with
or without weight decay, run for :data:`STEPS` steps on four random tensors
in two parameter groups with different learning rates. One tensor gets
gradients of scale 1e-7, where the epsilon placement decides the step, and
one tensor has a single element. Parameters are compared after *every*
step, so the steps around the switch into rectification (t = 4..7) are
checked one by one; the moments are compared at the end.

Non-finite gradients (``RAdamConfig.nonfinite``): ``official-nan`` puts a
NaN and an inf into two gradient streams mid-run with the default
``"propagate"`` (every layer must put NaN in the same elements and nowhere
else); ``official-skip`` does the same in both groups with ``"skip"`` (each
group's step with a non-finite gradient is skipped whole, step count included).

Modes:

* numpy ``factors``: the fused update ``p * decay - m * (a / (sqrt(v) + eps_eff) + b)``
  built from ``spec.step_factors`` (what the backends compute) against the
  plain per-phase reference; ``resume``: a state written to ``.npz`` and read
  back mid-trajectory continues bit for bit.
* torch ``fused``, ``foreach``, ``forloop`` (the three implementations);
  ``resume`` (``state_dict`` through ``torch.save``/``torch.load(weights_only=True)``
  mid-trajectory equals the uninterrupted run exactly); ``vs-torch-optim``
  (``torch.optim.RAdam`` itself against the reference, torch presets only).
* tf ``eager`` (presets with weight decay) and ``graph`` (``apply_gradients``
  inside ``tf.function``; presets without); ``resume`` (``save_own_variables`` /
  ``load_own_variables``).

The reference runs in float64 on inputs rounded to the tested dtype. Keras
keeps the learning rate in a float32 variable, so TensorFlow is compared with
a reference that uses the float32-rounded learning rate.
"""

from __future__ import annotations

import io

import numpy as np

from tenfold.numpy_ref import radam as ref
from tenfold.spec import radam as spec
from tenfold.spec.tolerance import Tolerance

from .case import Case, Comparison, Suite
from .dtypes import round_to

METHOD = "radam"
STEPS = 60
PRESET_CASES = tuple(f"{p}{w}" for p in spec.RAdamConfig.PRESETS for w in ("", "-wd"))
NONFINITE_CASES = ("official-nan", "official-skip")
CASES = (*PRESET_CASES, "torch-dwd", "custom", "tie", *NONFINITE_CASES)
TORCH_CASES = ("torch", "torch-wd", "torch-dwd")
DTYPES = ("float32", "float64")
#: TensorFlow steps are slow in eager mode, so each preset runs once with and once
#: without weight decay across the two modes rather than in both.
TF_EAGER_CASES = tuple(c for c in PRESET_CASES if c.endswith("-wd"))
TF_GRAPH_CASES = (*(c for c in PRESET_CASES if not c.endswith("-wd")), "custom", *NONFINITE_CASES)
EXACT = Tolerance(atol=0.0, rtol=0.0)

#: name -> (shape, gradient scale, group). Group 0 has lr 1e-2, group 1 lr 3e-3.
TENSORS: dict[str, tuple[tuple[int, ...], float, int]] = {
    "w": ((4, 3), 1.0, 0),
    "b": ((3,), 0.1, 0),
    "tiny": ((2, 2, 3), 1e-7, 1),
    "one": ((1,), 3.0, 1),
}
GROUP_LRS = (1e-2, 3e-3)
RESUME_AT = (4, 23)  # one stop in the early phase, one well past the switch


def config_of(case: str) -> spec.RAdamConfig:
    """The config of a case (group 0's learning rate)."""
    if case == "tie":  # rho_t equals the threshold exactly at step 6: only inclusiveness decides that step
        return spec.RAdamConfig.official().replace(lr=GROUP_LRS[0], threshold=spec.rho(6, 0.999)[1])
    if case == "custom":  # every option away from the official default
        return spec.RAdamConfig(lr=GROUP_LRS[0], betas=(0.8, 0.99), eps=1e-6, weight_decay=0.03,
                                weight_decay_mode="coupled", threshold=4.5, threshold_inclusive=False, early="sgd",
                                eps_mode="corrected", nonfinite="skip")
    preset = case.split("-")[0]
    config = spec.RAdamConfig.preset(preset).replace(lr=GROUP_LRS[0])
    if case.endswith("-wd"):
        config = config.replace(weight_decay=0.05)
    if case.endswith("-dwd"):
        config = config.replace(weight_decay=0.05, weight_decay_mode="decoupled")
    if case.endswith("-skip"):
        config = config.replace(nonfinite="skip")
    return config


def group_configs(case: str, lr_dtype: str = "float64") -> list[spec.RAdamConfig]:
    """One config per group; ``lr_dtype="float32"`` rounds the learning rates as Keras stores them."""
    base = config_of(case)
    return [base.replace(lr=float(round_to(np.array(lr), lr_dtype))) for lr in GROUP_LRS]


def groups() -> list[list[str]]:
    return [[n for n, (_, _, g) in TENSORS.items() if g == k] for k in range(len(GROUP_LRS))]


def make_case(name: str, seed: int) -> Case:
    """Parameters ``p:<name>`` and gradient streams ``g:<name>`` of shape ``(STEPS, *shape)``."""
    rng = np.random.default_rng([seed, CASES.index(name)])
    inputs = {}
    for tname, (shape, scale, _) in TENSORS.items():
        inputs[f"p:{tname}"] = rng.normal(size=shape)
        g = scale * rng.normal(size=(STEPS, *shape))
        g[STEPS // 2] = 0.0  # a zero gradient mid-run (moments decay, the step continues)
        inputs[f"g:{tname}"] = g
    if name in NONFINITE_CASES:  # one NaN (group 0, step 10) and one -inf (group 1, step 40)
        inputs["g:w"][9, 1, 2] = np.nan
        inputs["g:tiny"][39, 0, 1, 2] = -np.inf
    return Case(METHOD, name, seed, inputs)


def _rounded(case: Case, dtype: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    params = {n: round_to(case.inputs[f"p:{n}"], dtype) for n in TENSORS}
    grads = {n: round_to(case.inputs[f"g:{n}"], dtype) for n in TENSORS}
    return params, grads



def _moments(states) -> dict[str, np.ndarray]:
    """Both moments of every tensor of every group, keyed ``m:<name>`` and ``v:<name>``."""
    moments = {}
    for k, names in enumerate(groups()):
        moments.update({f"m:{n}": states[k].exp_avg[n] for n in names})
        moments.update({f"v:{n}": states[k].exp_avg_sq[n] for n in names})
    return moments

def reference(case: Case, dtype: str, lr_dtype: str = "float64") -> list[dict[str, np.ndarray]]:
    """Parameters after every step, then (last entry) the final moments as ``m:<n>`` / ``v:<n>``."""
    params, grads = _rounded(case, dtype)
    configs = group_configs(case.name, lr_dtype)
    states = [ref.init_state({n: params[n] for n in names}) for names in groups()]
    out = []
    for t in range(STEPS):
        new = {}
        for k, names in enumerate(groups()):
            p, states[k] = ref.step({n: params[n] for n in names}, {n: grads[n][t] for n in names}, states[k],
                                    configs[k])
            new.update(p)
        params = new
        out.append(dict(params))
    out.append(_moments(states))
    return out


def _compare(actual: list[dict[str, np.ndarray]], expected: list[dict[str, np.ndarray]], tol: Tolerance,
             what: str = "") -> list[Comparison]:
    comps = []
    for t, (a, e) in enumerate(zip(actual, expected, strict=True)):
        label = "moments" if t == len(expected) - 1 else f"step {t + 1}"
        comps += [Comparison(f"{what}{label} {n}", np.asarray(a[n]), e[n], tol) for n in e]
    return comps


def _nonfinite_as_nan(states: list[dict[str, np.ndarray]]) -> list[dict[str, np.ndarray]]:
    """Every NaN or inf as NaN: after an inf gradient a moment reads -inf in ``b1 m + (1 - b1) g`` and NaN
    in the ``m + (1 - b1)(g - m)`` form of the fused kernels; the layers must agree on *where* values are
    non-finite, not on which non-finite value the arithmetic leaves."""
    return [{k: np.where(np.isfinite(v), v, np.nan) for k, v in s.items()} for s in states]


def _trajectory(run_backend, lr_dtype: str = "float64"):
    def run(case: Case, dtype: str) -> list[Comparison]:
        actual, expected = run_backend(case, dtype), reference(case, dtype, lr_dtype)
        if case.name == "official-nan":
            actual, expected = _nonfinite_as_nan(actual), _nonfinite_as_nan(expected)
        return _compare(actual, expected, spec.TOLERANCES.forward[dtype])
    return run


def _resume(run_backend):
    """``run_backend(case, dtype, stop)`` saves and reloads the state after step ``stop``."""
    def run(case: Case, dtype: str) -> list[Comparison]:
        whole = run_backend(case, dtype, None)
        comps = []
        for stop in RESUME_AT:
            comps += _compare(run_backend(case, dtype, stop), whole, EXACT, f"resumed after {stop}: ")
        return comps
    return run


# -- numpy -----------------------------------------------------------------

def _numpy_factors(case: Case, dtype: str) -> list[dict[str, np.ndarray]]:
    """The fused single-formula update, in ``dtype``, from the spec's host-side factors."""
    params, grads = _rounded(case, dtype)
    params = {n: p.astype(dtype) for n, p in params.items()}
    configs = group_configs(case.name)
    m = {n: np.zeros_like(p) for n, p in params.items()}
    v = {n: np.zeros_like(p) for n, p in params.items()}
    steps = [0] * len(configs)
    out = []
    for t in range(1, STEPS + 1):
        for k, names in enumerate(groups()):
            c = configs[k]
            if c.nonfinite == "skip" and not all(np.isfinite(grads[n][t - 1]).all() for n in names):
                continue  # the group's whole step, its step count included
            f = spec.step_factors(steps[k] + 1, c.lr, c)
            steps[k] += 1
            b1, b2 = c.betas
            for n in names:
                p, g = params[n], grads[n][t - 1].astype(dtype)
                if c.weight_decay_mode == "coupled" and c.weight_decay:
                    g = g + c.weight_decay * p
                m[n] = (b1 * m[n] + (1 - b1) * g).astype(dtype)
                v[n] = (b2 * v[n] + (1 - b2) * g * g).astype(dtype)
                with np.errstate(invalid="ignore"):  # NaN and inf propagate (official-nan)
                    upd = m[n] * (f.a / (np.sqrt(v[n]) + f.eps_eff) + f.b)
                params[n] = (p * f.decay - upd).astype(dtype)
        out.append(dict(params))
    out.append({**{f"m:{n}": x for n, x in m.items()}, **{f"v:{n}": x for n, x in v.items()}})
    return out


def _numpy_resume(case: Case, dtype: str, stop: int | None) -> list[dict[str, np.ndarray]]:
    params, grads = _rounded(case, dtype)
    configs = group_configs(case.name)
    states = [ref.init_state({n: params[n] for n in names}) for names in groups()]
    out = []
    for t in range(STEPS):
        for k, names in enumerate(groups()):
            p, states[k] = ref.step({n: params[n] for n in names}, {n: grads[n][t] for n in names}, states[k],
                                    configs[k])
            params.update(p)
        if t + 1 == stop:  # through an .npz file, as a checkpoint would
            buf = io.BytesIO()
            arrays = {f"{k}/{f}/{n}": getattr(s, f)[n] for k, s in enumerate(states)
                      for f in ("exp_avg", "exp_avg_sq") for n in s.exp_avg}
            arrays.update({f"{k}/step/{n}": np.array(s.step[n]) for k, s in enumerate(states) for n in s.step})
            arrays.update({f"param/{n}": p for n, p in params.items()})
            np.savez(buf, **arrays)
            buf.seek(0)
            with np.load(buf, allow_pickle=False) as z:
                params = {n: z[f"param/{n}"] for n in params}
                states = [ref.RAdamState({n: int(z[f"{k}/step/{n}"]) for n in names},
                                         {n: z[f"{k}/exp_avg/{n}"] for n in names},
                                         {n: z[f"{k}/exp_avg_sq/{n}"] for n in names})
                          for k, names in enumerate(groups())]
        out.append(dict(params))
    out.append(_moments(states))
    return out


# -- torch -----------------------------------------------------------------

def _torch_run(case: Case, dtype: str, impl: str | None = "foreach", stop: int | None = None,
               peer: bool = False) -> list[dict[str, np.ndarray]]:
    import torch

    from tenfold.torch_backend.radam import RAdam

    tdtype = getattr(torch, dtype)
    params, grads = _rounded(case, dtype)
    configs = group_configs(case.name)
    tensors = {n: torch.nn.Parameter(torch.tensor(params[n], dtype=tdtype)) for n in TENSORS}

    def make(tensors):
        pg = [{"params": [tensors[n] for n in names], "lr": configs[k].lr} for k, names in enumerate(groups())]
        if peer:
            c = configs[0]
            return torch.optim.RAdam(pg, lr=c.lr, betas=c.betas, eps=c.eps, weight_decay=c.weight_decay,
                                     decoupled_weight_decay=c.weight_decay_mode == "decoupled", foreach=False)
        opt = RAdam(pg, config=configs[0], impl=impl)
        opt.fused_min_numel = 0  # the kernel itself, even on these small tensors
        return opt

    opt = make(tensors)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: thread hand-offs would dominate (restored below)
    try:
        return _torch_steps(torch, opt, make, tensors, grads, tdtype, stop)
    finally:
        torch.set_num_threads(threads)


def _torch_steps(torch, opt, make, tensors, grads, tdtype, stop):
    out = []
    for t in range(STEPS):
        for n, p in tensors.items():
            p.grad = torch.tensor(grads[n][t], dtype=tdtype)
        opt.step()
        if t + 1 == stop:
            buf = io.BytesIO()
            torch.save({"opt": opt.state_dict(), "params": {n: p.detach() for n, p in tensors.items()}}, buf)
            del opt, tensors
            buf.seek(0)
            saved = torch.load(buf, weights_only=True)
            tensors = {n: torch.nn.Parameter(saved["params"][n].clone()) for n in TENSORS}
            opt = make(tensors)
            opt.load_state_dict(saved["opt"])
        out.append({n: p.detach().double().numpy().copy() for n, p in tensors.items()})
    moments = {}
    for n, p in tensors.items():
        moments[f"m:{n}"] = opt.state[p]["exp_avg"].double().numpy()
        moments[f"v:{n}"] = opt.state[p]["exp_avg_sq"].double().numpy()
    out.append(moments)
    return out


def _torch_impl(impl: str):
    return lambda case, dtype: _torch_run(case, dtype, impl)


def _torch_peer(case: Case, dtype: str):
    return _torch_run(case, dtype, peer=True)


def _torch_resume(case: Case, dtype: str, stop: int | None):
    return _torch_run(case, dtype, None, stop)


# -- tensorflow ------------------------------------------------------------

def _tf_run(case: Case, dtype: str, graph: bool = False, stop: int | None = None) -> list[dict[str, np.ndarray]]:
    import tensorflow as tf

    from tenfold.tf_backend.radam import RAdam

    params, grads = _rounded(case, dtype)
    configs = group_configs(case.name)
    variables = {n: tf.Variable(params[n].astype(dtype), name=n) for n in TENSORS}

    def make():
        opts = [RAdam(config=c) for c in configs]
        for opt, names in zip(opts, groups(), strict=True):
            opt.build([variables[n] for n in names])
        return opts, [tf.function(o.apply_gradients) if graph else o.apply_gradients for o in opts]

    opts, applies = make()
    out = []
    for t in range(STEPS):
        for apply, names in zip(applies, groups(), strict=True):
            apply([(tf.constant(grads[n][t].astype(dtype)), variables[n]) for n in names])
        if t + 1 == stop:
            stores = []
            for opt in opts:
                store: dict[str, np.ndarray] = {}
                opt.save_own_variables(store)
                stores.append({k: np.array(v) for k, v in store.items()})
            opts, applies = make()
            for opt, store in zip(opts, stores, strict=True):
                opt.load_own_variables(store)
        out.append({n: v.numpy().astype(np.float64) for n, v in variables.items()})
    moments = {}
    for opt, names in zip(opts, groups(), strict=True):
        for i, n in enumerate(names):
            moments[f"m:{n}"] = opt._momentums[i].numpy().astype(np.float64)
            moments[f"v:{n}"] = opt._velocities[i].numpy().astype(np.float64)
    out.append(moments)
    return out


def _tf_mode(graph: bool):
    return lambda case, dtype: _tf_run(case, dtype, graph)


def _tf_resume(case: Case, dtype: str, stop: int | None):
    return _tf_run(case, dtype, False, stop)


SUITES: tuple[Suite, ...] = (
    Suite("torch", "fused", DTYPES, CASES, _trajectory(_torch_impl("fused"))),
    Suite("torch", "foreach", DTYPES, CASES, _trajectory(_torch_impl("foreach"))),
    Suite("torch", "forloop", DTYPES, CASES, _trajectory(_torch_impl("forloop"))),
    Suite("torch", "vs-torch-optim", DTYPES, TORCH_CASES, _trajectory(_torch_peer)),
    Suite("torch", "resume", DTYPES, CASES, _resume(_torch_resume)),
    Suite("tf", "eager", DTYPES, TF_EAGER_CASES, _trajectory(_tf_mode(False), lr_dtype="float32")),
    Suite("tf", "graph", DTYPES, TF_GRAPH_CASES, _trajectory(_tf_mode(True), lr_dtype="float32")),
    Suite("tf", "resume", ("float32",), ("official-wd",), _resume(_tf_resume)),
    Suite("tf", "resume", ("float64",), ("torch",), _resume(_tf_resume)),
)

#: numpy_ref against itself (its own rounding in other dtypes, or another formulation such as folded
#: BatchNorm): properties of the reference, run by tests/test_reference_properties.py, never a conformance row.
REFERENCE_SELF_CHECKS: tuple[Suite, ...] = (
    Suite("numpy", "factors", DTYPES, CASES, _trajectory(_numpy_factors)),
    Suite("numpy", "resume", ("float64",), CASES, _resume(_numpy_resume)),
)
