"""Cases of the FReLU conformance suite, and the reference side of its comparisons.

Every case is float64 draws from ``np.random.default_rng([seed, index])``:
inputs ``x0..``, a cotangent ``w``, a finite-difference direction ``v`` and
parameters ``p/<canonical name>``; see :mod:`tenfold.conformance.frelu`.
"""

from __future__ import annotations

import numpy as np

from tenfold.numpy_ref import frelu as ref
from tenfold.numpy_ref.layers import norm as ref_bn
from tenfold.spec import batchnorm as bn_spec
from tenfold.spec import frelu as spec
from tenfold.spec.frelu import nets as nets

from ..case import Case, Comparison
from ..dtypes import round_to, storage_dtype
from ..gradcheck import directional_derivative

METHOD = "frelu"


ALL = ("float16", "bfloat16", "float32", "float64")


FULL = ("float32", "float64")


STEPS = 3

#: FReLU layer cases: (config, input shape, input scale).


ACT_CASES: dict[str, tuple[spec.FReLUConfig, tuple[int, ...], float]] = {
    "act-random": (spec.FReLUConfig(), (2, 5, 7, 6), 1.0),
    "act-batch1": (spec.FReLUConfig(), (1, 3, 4, 5), 1.0),
    "act-k5": (spec.FReLUConfig(kernel_size=5), (2, 3, 6, 6), 1.0),
    "act-k1": (spec.FReLUConfig(kernel_size=1), (2, 4, 3, 3), 1.0),
    "act-light": (spec.FReLUConfig.light(), (2, 4, 6, 5), 1.0),
    "act-wide": (spec.FReLUConfig(), (2, 3, 5, 5), 30.0),
    # every option away from its default: light variant, kernel 5, BatchNorm eps and momentum (bias=False is
    # forced by the light variant, so no bias: the full variant's bias=False is covered by the folded nets)
    "act-custom": (spec.FReLUConfig(variant="light", kernel_size=5, bias=False, bn_eps=1e-2, bn_momentum=0.35),
                   (3, 3, 6, 7), 1.0),
}

#: BatchNorm cases: (input shape, mean, scale, config).


BN_CASES: dict[str, tuple[tuple[int, ...], float, float, bn_spec.BatchNormConfig]] = {
    "bn-random": ((4, 3, 5, 6), 2.0, 3.0, bn_spec.BatchNormConfig()),
    "bn-batch1": ((1, 2, 3, 2), -1.0, 0.5, bn_spec.BatchNormConfig()),
    # small variance so that eps matters, and a momentum far from the default (a backend ignoring either fails)
    "bn-custom": ((3, 4, 5, 3), 0.5, 0.05, bn_spec.BatchNormConfig(eps=1e-3, momentum=0.35)),
}


def bn_config(case: Case) -> bn_spec.BatchNormConfig:
    """The BatchNorm config of a BatchNorm case."""
    return BN_CASES[case.name][3]

#: Network cases: tiny widths and images, the real structures.


NET_CASES: dict[str, tuple[nets.NetConfig, tuple[int, ...]]] = {
    "net-cifar": (nets.ResNetFReLUConfig(block="basic", layers=(1, 2), widths=(4, 8), stem="cifar", stem_width=4,
                                         frelu_stages=(True, False), dropout=0.0, num_classes=5), (2, 3, 12, 10)),
    "net-resnet50": (nets.ResNetFReLUConfig(layers=(1, 2, 1), widths=(2, 4, 4), stem_width=4,
                                            frelu_stages=(True, True, False), num_classes=6), (2, 3, 32, 32)),
    "net-shufflenet": (nets.ShuffleNetV2FReLUConfig(stage_repeats=(2, 1, 1), stage_out_channels=(8, 16, 24, 32, 40),
                                                    num_classes=5), (2, 3, 32, 28)),
}


CASES = (*ACT_CASES, *BN_CASES, *NET_CASES)


def _bn_state(rng: np.random.Generator, c: int, prefix: str) -> dict[str, np.ndarray]:
    return {f"{prefix}weight": rng.uniform(0.5, 1.5, c), f"{prefix}bias": rng.normal(0, 0.3, c),
            f"{prefix}running_mean": rng.normal(0, 0.3, c), f"{prefix}running_var": rng.uniform(0.5, 1.5, c)}


def make_case(name: str, seed: int) -> Case:
    """Build case ``name`` from ``seed``: ``x`` (or ``x0..x2`` for train steps), ``w`` and ``p/<param>`` arrays."""
    rng = np.random.default_rng([seed, CASES.index(name)])
    inputs: dict[str, np.ndarray] = {}
    if name in ACT_CASES:
        config, shape, scale = ACT_CASES[name]
        c = shape[1]
        for pname, pshape in spec.param_shapes(c, config).items():
            if "bn_" in pname:
                continue
            inputs[f"p/{pname}"] = rng.normal(0, 0.5, pshape)
        for _, norm, _ in spec.conv_names(config):
            inputs.update({f"p/{k}": v for k, v in _bn_state(rng, c, f"{norm}.").items()})
        for i in range(STEPS):
            inputs[f"x{i}"] = rng.normal(0, scale, shape)
        inputs["w"] = rng.normal(size=shape)
        inputs["v"] = rng.normal(size=shape)  # direction of the finite difference
    elif name in BN_CASES:
        shape, mean, scale, _ = BN_CASES[name]
        inputs.update({f"p/{k}": v for k, v in _bn_state(rng, shape[1], "").items()})
        for i in range(STEPS):
            inputs[f"x{i}"] = rng.normal(mean, scale, shape)
    elif name in NET_CASES:
        config, shape = NET_CASES[name]
        inputs.update({f"p/{k}": v for k, v in ref.init_params(config, rng).items()})
        inputs["x0"] = rng.normal(0, 1, shape)
        inputs["x1"] = rng.normal(0.5, 2, shape)  # a second train step with other statistics
    else:
        raise KeyError(name)
    return Case(METHOD, name, seed, inputs)


def net_config(case: Case) -> nets.NetConfig:
    """The network config of a network case (the case's own for a case on a user's weights)."""
    return case.config if case.config is not None else NET_CASES[case.name][0]


#: Modes that run on a user's weights (``tenfold conformance --method frelu --weights W.npz``): the
#: network forward in every backend and dtype, BatchNorm folded and not, train-mode steps, both exports.
WEIGHTS_MODES = ("net", "net-graph", "net-folded", "net-train", "from-torch", "from-tf")


def make_weights_case(params: dict[str, np.ndarray], config: nets.NetConfig, seed: int, batch: int = 2,
                      size: tuple[int, int] | None = None) -> Case:
    """A network case on given weights: images of raw pixels uniform in [0, 255] (the official input),
    224 x 224 (32 x 32 for the CIFAR stem) unless ``size`` says otherwise."""
    rng = np.random.default_rng([seed, 7])
    size = size or ((32, 32) if getattr(config, "stem", "") == "cifar" else (224, 224))
    shape = (batch, config.in_channels, *size)
    inputs = {f"p/{k}": np.asarray(v, np.float64) for k, v in params.items()}
    inputs["x0"] = rng.uniform(0.0, 255.0, shape)
    inputs["x1"] = rng.uniform(0.0, 255.0, shape)
    return Case(METHOD, "weights", seed, inputs, config=config)


def case_params(case: Case, dtype: str) -> dict[str, np.ndarray]:
    """The case's parameters rounded to ``dtype`` (as float64 arrays)."""
    return {k[2:]: round_to(v, dtype) for k, v in case.inputs.items() if k.startswith("p/")}


def case_x(case: Case, dtype: str, key: str = "x0") -> np.ndarray:
    return round_to(case.inputs[key], dtype)


def _store(a: np.ndarray, dtype: str) -> np.ndarray:
    return a.astype(storage_dtype(dtype))


def nhwc(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1))


def nchw(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2))


def _ref_train(case: Case, dtype: str, kind: str) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
    """Reference outputs of ``STEPS`` train-mode steps and the final running statistics."""
    params = case_params(case, dtype)
    outs = []
    for i in range(STEPS):
        x = case_x(case, dtype, f"x{i}")
        updates: dict[str, np.ndarray] = {}
        if kind == "act":
            outs.append(ref.frelu(x, params, ACT_CASES[case.name][0], training=True, updates=updates))
        else:
            outs.append(ref_bn.batch_norm_params(x, params, "", training=True, config=bn_config(case),
                                                 updates=updates))
        params.update(updates)
    return outs, {k: v for k, v in params.items() if k.endswith(("running_mean", "running_var"))}


def train_comparisons(case, dtype, kind, outs, state, tol_table) -> list[Comparison]:
    ref_outs, ref_state = _ref_train(case, dtype, kind)
    tol = tol_table[dtype]
    comps = [Comparison(f"y step {i}", a, e, tol) for i, (a, e) in enumerate(zip(outs, ref_outs, strict=True))]
    comps += [Comparison(k, state[k], ref_state[k], bn_spec.TOLERANCES.forward[dtype]) for k in sorted(ref_state)]
    return comps


def grad_comparisons(case: Case, dtype: str, grads: dict, y: np.ndarray) -> list[Comparison]:
    x = case_x(case, dtype)
    mask = (y == x) if dtype in ("float16", "bfloat16") else None  # the backend's own branch choice
    expected = ref.frelu_vjp(x, case_params(case, dtype), round_to(case.inputs["w"], dtype), ACT_CASES[case.name][0],
                             mask=mask)
    tol = spec.TOLERANCES.gradient[dtype]
    if set(grads) != set(expected):
        raise AssertionError(f"gradient names {sorted(grads)} != {sorted(expected)}")
    # A parameter gradient is a sum over the batch and the image, so its rounding error scales with the
    # gradient's own size, not with one element's: each one is held to the dtype's absolute tolerance plus its
    # relative tolerance of the largest entry (sized per case; an all-zero or a wrong-scale gradient fails).
    return [Comparison(f"d{k}", grads[k], expected[k], tol if k == "x" else
                       type(tol)(tol.atol + tol.rtol * float(np.abs(expected[k]).max()), tol.rtol))
            for k in sorted(expected)]


def fd_comparison(case: Case, dx: np.ndarray) -> list[Comparison]:
    """``<dx, v>`` of a backend (train mode, float64) against the central difference of the reference."""
    config = ACT_CASES[case.name][0]
    params, x = case_params(case, "float64"), case.inputs["x0"]
    w, v = case.inputs["w"], case.inputs["v"]

    def loss(xx: np.ndarray) -> float:
        return float(np.sum(w * ref.frelu(xx, params, config, training=True)))

    fd = directional_derivative(loss, x, v)
    return [Comparison("<dx, v>", np.array(np.sum(dx * v)), np.array(fd), spec.TOLERANCES.finite_difference)]


def net_ref(case: Case, dtype: str) -> np.ndarray:
    return ref.forward(case_x(case, dtype), case_params(case, dtype), net_config(case))


NET_STEPS = 2


def _net_train_ref(case: Case, dtype: str) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
    """Reference logits of ``NET_STEPS`` train-mode steps (dropout 0) and the final running statistics."""
    config = net_config(case)
    if isinstance(config, nets.ResNetFReLUConfig):
        config = config.replace(dropout=0.0)  # the backends' dropout is set to 0 for these steps
    params = case_params(case, dtype)
    outs = []
    for i in range(NET_STEPS):
        updates: dict[str, np.ndarray] = {}
        outs.append(ref.forward(case_x(case, dtype, f"x{i}"), params, config, training=True, updates=updates))
        params.update(updates)
    return outs, {k: v for k, v in params.items() if k.endswith(("running_mean", "running_var"))}


def net_train_comparisons(case, dtype, outs, state) -> list[Comparison]:
    ref_outs, ref_state = _net_train_ref(case, dtype)
    tol = spec.nets.TOLERANCES.forward[dtype]
    comps = [Comparison(f"logits step {i}", a, e, tol) for i, (a, e) in enumerate(zip(outs, ref_outs, strict=True))]
    if set(state) != set(ref_state):
        raise AssertionError(f"running statistics {sorted(set(state) ^ set(ref_state))} differ in name")
    return comps + [Comparison(k, state[k], ref_state[k], tol) for k in sorted(ref_state)]
