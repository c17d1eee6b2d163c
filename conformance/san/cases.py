"""Cases of the SAN conformance suite and the reference side of its comparisons.

Every case is float64 draws from ``np.random.default_rng([seed, index])``:
inputs ``x0``, ``x1`` (two train steps), a cotangent ``w``, directions ``vx`` and
``vp/<name>`` for finite differences, and parameters ``p/<canonical name>``.
Operator cases cover every relation with both paddings on odd, non-square
maps, batch 1, a 5x5 footprint, inputs of scale 30 (saturated softmax), no
position encoding, and one case with every option non-default; network cases
are tiny SAN structures (pairwise and patchwise, and ``net-custom``: a
zero-padded Hadamard one, every option off its default) whose BatchNorm statistics are calibrated on ``x0``
(:func:`tenfold.numpy_ref.san.calibrate`), so logits stay of unit scale.
"""

from __future__ import annotations

import functools

import numpy as np

from tenfold.numpy_ref import san as ref
from tenfold.spec import san as spec
from tenfold.spec.san import nets

from ..case import Case, Comparison
from ..dtypes import round_to
from ..gradcheck import directional_derivative

METHOD = "san"
F32_64 = ("float32", "float64")


def _op(sa_type: str, relation: str, padding: str, **changes) -> spec.SAMConfig:
    base = dict(in_planes=8, rel_planes=3, out_planes=8, share_planes=2, kernel_size=3, sa_type=sa_type,
                relation=relation, padding=padding)
    return spec.SAMConfig(**{**base, **changes})


#: Operator cases: (config, input shape, input scale).
OP_CASES: dict[str, tuple[spec.SAMConfig, tuple[int, ...], float]] = {
    **{f"op-pair-{r}-{p}": (_op("pairwise", r, p), (2, 8, 5, 7), 1.0)
       for r in spec.PAIRWISE_RELATIONS for p in spec.PADDINGS},
    **{f"op-patch-{r}-{p}": (_op("patchwise", r, p), (2, 8, 6, 5), 1.0)
       for r in spec.PATCHWISE_RELATIONS for p in spec.PADDINGS},
    "op-pair-k5-batch1": (_op("pairwise", "subtraction", "reflect", kernel_size=5, out_planes=12, share_planes=3),
                          (1, 8, 6, 9), 1.0),
    "op-patch-k5-batch1": (_op("patchwise", "concatenation", "reflect", kernel_size=5), (1, 8, 7, 5), 1.0),
    "op-pair-wide": (_op("pairwise", "subtraction", "reflect"), (2, 8, 4, 6), 30.0),
    "op-pair-noposition": (_op("pairwise", "subtraction", "reflect", position=False), (2, 8, 5, 4), 1.0),
    # every option away from its default: relation, padding, position, kernel, sharing, BatchNorm eps and momentum
    "op-custom": (_op("pairwise", "concatenation", "zero", position=False, kernel_size=5, rel_planes=2,
                           out_planes=6, share_planes=3, bn_eps=1e-3, bn_momentum=0.3), (2, 8, 3, 4), 1.0),
}

#: Network cases: (config, input shape).
NET_CASES: dict[str, tuple[nets.SANConfig, tuple[int, ...]]] = {
    "net-pair": (nets.SANConfig.tiny("pairwise"), (2, 3, 16, 20)),
    "net-patch": (nets.SANConfig.tiny("patchwise"), (2, 3, 20, 16)),
    # every option away from its default: relation, padding, position, sharing, ratios, BatchNorm eps and momentum
    "net-custom": (nets.SANConfig.tiny("pairwise", relation="hadamard", padding="zero", position=False, layers=(1, 1),
                                       kernels=(3, 5), widths=(24, 48), stem_width=6, num_classes=7, share_planes=3,
                                       rel_ratio=8, mid_ratio=2, bn_eps=1e-3, bn_momentum=0.2), (2, 3, 9, 7)),
}

#: The six released structures (official layer counts, both kinds) at test widths, kernels 3-5 and 64 px.
for _name, _make in nets.PRESETS.items():
    NET_CASES[f"net-{_name}"] = (_make().replace(widths=(16, 32, 32, 64, 64), stem_width=8, kernels=(3, 5, 5, 3, 3),
                                                 share_planes=2, num_classes=10), (2, 3, 64, 64))
RELEASED = tuple(f"net-{name}" for name in nets.PRESETS)

OPS = tuple(OP_CASES)
NETS = tuple(NET_CASES)
CASES = (*OPS, *NETS)
#: Operator cases for gradients and graph mode (every kind and padding, the paper-only relations once).
GRAD = ("op-pair-subtraction-reflect", "op-pair-dot-zero", "op-patch-concatenation-zero", "op-patch-clique-reflect",
        "op-pair-k5-batch1", "op-custom")
STEPS = 2


def make_case(name: str, seed: int) -> Case:
    """Case ``name`` drawn from ``seed`` (see the module docstring).

    Built once per process: network cases calibrate their BatchNorm statistics with a train-mode pass of
    the reference, and every suite only reads the case (the reference outputs are recomputed per check, so
    the sensitivity flips still reach them).
    """
    return _make_case(name, seed)


@functools.cache
def _make_case(name: str, seed: int) -> Case:
    rng = np.random.default_rng([seed, CASES.index(name)])
    inputs: dict[str, np.ndarray] = {}
    if name in OP_CASES:
        config, shape, scale = OP_CASES[name]
        params = ref.sam_init_params(config, rng)
        inputs["x0"] = rng.normal(0, scale, shape)
        inputs["x1"] = rng.normal(0.5, 2 * scale, shape)
        out_shape = (shape[0], config.out_planes, *shape[2:])
    else:
        config, shape = NET_CASES[name]
        inputs["x0"] = rng.normal(0, 1, shape)
        inputs["x1"] = rng.normal(0.5, 2, shape)
        params = ref.calibrate(ref.init_params(config, rng), config, inputs["x0"])
        out_shape = (shape[0], config.num_classes)
    inputs["w"] = rng.normal(size=out_shape)
    inputs["vx"] = rng.normal(size=shape)
    for k, v in params.items():
        inputs[f"p/{k}"] = v
        if not spec.is_state(k):
            inputs[f"vp/{k}"] = rng.normal(size=v.shape)
    return Case(METHOD, name, seed, inputs)


def config_of(case: Case):
    return (OP_CASES.get(case.name) or NET_CASES[case.name])[0]


def params(case: Case, dtype: str = "float64") -> dict[str, np.ndarray]:
    """The case's parameters rounded to ``dtype`` (float64 arrays; counters stay int64)."""
    return {k[2:]: (v if v.dtype.kind != "f" else round_to(v, dtype)) for k, v in case.inputs.items()
            if k.startswith("p/")}


def x_of(case: Case, dtype: str, key: str = "x0") -> np.ndarray:
    return round_to(case.inputs[key], dtype)


def forward_ref(case: Case, x: np.ndarray, p: dict, training: bool = False, updates: dict | None = None,
                config=None) -> np.ndarray:
    """numpy_ref (float64) of the case's operator or network."""
    config = config or config_of(case)
    if case.name in OP_CASES:
        return ref.sam(x, p, config, training=training, updates=updates)
    return ref.forward(x, p, config, training=training, updates=updates)


def tolerances(case: Case):
    return spec.TOLERANCES if case.name in OP_CASES else spec.NET_TOLERANCES


def eval_comparisons(case: Case, dtype: str, y: np.ndarray) -> list[Comparison]:
    expected = forward_ref(case, x_of(case, dtype), params(case, dtype))
    return [Comparison("y", y, expected, tolerances(case).get("forward", dtype))]


def train_comparisons(case: Case, dtype: str, outs: list[np.ndarray], state: dict[str, np.ndarray]) -> list[Comparison]:
    """``STEPS`` train-mode outputs and the final running statistics against the reference."""
    p = params(case, dtype)
    expected, tol = [], tolerances(case).get("forward", dtype)
    for i in range(STEPS):
        updates: dict[str, np.ndarray] = {}
        expected.append(forward_ref(case, x_of(case, dtype, f"x{i}"), p, True, updates))
        p.update(updates)
    comps = [Comparison(f"y step {i}", a, e, tol) for i, (a, e) in enumerate(zip(outs, expected, strict=True))]
    want = sorted(k for k in p if k.endswith(("running_mean", "running_var")))
    if sorted(k for k in state if k in p and k.endswith(("running_mean", "running_var"))) != want:
        raise AssertionError(f"running statistics differ in name: {sorted(set(state) ^ set(want))[:5]}")
    comps += [Comparison(k, np.asarray(state[k], np.float64), p[k], tol) for k in want]
    comps += [Comparison(k, np.asarray(state[k], np.float64), np.asarray(p[k], np.float64), tol)
              for k in sorted(state) if spec.is_counter(k) and k in p]
    return comps


def fd_comparisons(case: Case, grads: dict[str, np.ndarray], training: bool) -> list[Comparison]:
    """Backend gradients of ``sum(w * y)`` along the case's directions against central differences (float64).

    ``grads`` holds ``"x"`` and every trainable parameter's gradient under its canonical name.
    """
    p, x, w = params(case), case.inputs["x0"], case.inputs["w"]
    vx = case.inputs["vx"]
    vp = {k[3:]: v for k, v in case.inputs.items() if k.startswith("vp/")}
    tol = tolerances(case).finite_difference

    def loss_x(xx: np.ndarray) -> float:
        return float(np.sum(w * forward_ref(case, xx, p, training)))

    def loss_p(t: float) -> float:
        moved = {k: (v + t * vp[k] if k in vp else v) for k, v in p.items()}
        return float(np.sum(w * forward_ref(case, x, moved, training)))

    missing = sorted(set(vp) - set(grads))
    if missing:
        raise AssertionError(f"no gradient for {missing[:5]}")
    # a step of 1e-7: ReLU kinks of gamma lie within 1e-6 of some case points (the float64 round-off of a
    # central difference at 1e-7 stays near 1e-9 relative)
    fd_x = directional_derivative(loss_x, x, vx, step=1e-7)
    fd_p = (loss_p(1e-7) - loss_p(-1e-7)) / 2e-7
    dp = sum(float(np.sum(grads[k] * vp[k])) for k in vp)
    return [Comparison("<dy/dx, v>", np.array(float(np.sum(grads["x"] * vx))), np.array(fd_x), tol),
            Comparison("<dy/dparams, v>", np.array(dp), np.array(fd_p), tol)]


__all__ = ["CASES", "F32_64", "GRAD", "METHOD", "NETS", "NET_CASES", "OPS", "OP_CASES", "RELEASED", "STEPS",
           "config_of", "eval_comparisons", "fd_comparisons", "forward_ref", "make_case", "params", "tolerances",
           "train_comparisons", "x_of"]
