"""Conformance cases and suites of FReLU, BatchNorm and the FReLU networks.

Cases (``make_case``): FReLU layers (full 3x3, 5x5 and 1x1 kernels, light
variant, batch 1 with a non-square image, wide values), BatchNorm layers, and
tiny versions of the three networks (a CIFAR basic-block ResNet, a bottleneck
ResNet with the ResNet-50-FReLU structure, ShuffleNetV2-FReLU). Inputs and
parameters are float64 draws; BatchNorm statistics are set away from the
identity so that eval mode is a real test.

Suites: FReLU forward (eval), train mode over three steps (outputs and the
updated running statistics), gradients against the written-out chain rule of
``numpy_ref.frelu_vjp`` (eval) and against central differences of the float64
reference in train mode, TF gradients against PyTorch's; BatchNorm train and
eval; each network's forward in eval mode and over two train-mode steps
(logits and every updated running statistic); BatchNorm-folded networks
against the unfolded reference; ONNX exports from both backends in onnxruntime.
"""

from __future__ import annotations

import numpy as np

from tenfold.numpy_ref import batchnorm as ref_bn
from tenfold.numpy_ref import frelu as ref
from tenfold.spec import batchnorm as bn_spec
from tenfold.spec import frelu as spec
from tenfold.spec import frelu_nets as nets

from .case import Case, Comparison, Suite
from .dtypes import round_to, storage_dtype
from .gradcheck import directional_derivative

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
}

#: BatchNorm cases: (input shape, mean, scale).
BN_CASES: dict[str, tuple[tuple[int, ...], float, float]] = {
    "bn-random": ((4, 3, 5, 6), 2.0, 3.0),
    "bn-batch1": ((1, 2, 3, 2), -1.0, 0.5),
}

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
        shape, mean, scale = BN_CASES[name]
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


def _params(case: Case, dtype: str) -> dict[str, np.ndarray]:
    """The case's parameters rounded to ``dtype`` (as float64 arrays)."""
    return {k[2:]: round_to(v, dtype) for k, v in case.inputs.items() if k.startswith("p/")}


def _x(case: Case, dtype: str, key: str = "x0") -> np.ndarray:
    return round_to(case.inputs[key], dtype)


def _store(a: np.ndarray, dtype: str) -> np.ndarray:
    return a.astype(storage_dtype(dtype))


def _nhwc(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1))


def _nchw(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2))


# -- references --------------------------------------------------------------

def _ref_train(case: Case, dtype: str, kind: str) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
    """Reference outputs of ``STEPS`` train-mode steps and the final running statistics."""
    params = _params(case, dtype)
    outs = []
    for i in range(STEPS):
        x = _x(case, dtype, f"x{i}")
        updates: dict[str, np.ndarray] = {}
        if kind == "act":
            outs.append(ref.frelu(x, params, ACT_CASES[case.name][0], training=True, updates=updates))
        else:
            outs.append(ref_bn.batch_norm_params(x, params, "", training=True, config=bn_spec.BatchNormConfig(),
                                                 updates=updates))
        params.update(updates)
    return outs, {k: v for k, v in params.items() if k.endswith(("running_mean", "running_var"))}


def _train_comparisons(case, dtype, kind, outs, state, tol_table) -> list[Comparison]:
    ref_outs, ref_state = _ref_train(case, dtype, kind)
    tol = tol_table[dtype]
    comps = [Comparison(f"y step {i}", a, e, tol) for i, (a, e) in enumerate(zip(outs, ref_outs, strict=True))]
    comps += [Comparison(k, state[k], ref_state[k], bn_spec.TOLERANCES[dtype]) for k in sorted(ref_state)]
    return comps


# -- PyTorch -----------------------------------------------------------------

def _torch_dtype(dtype: str):
    import torch

    return getattr(torch, dtype)


def _torch_layer(case: Case, dtype: str):
    from tenfold.torch_backend import frelu as tb

    if case.name in ACT_CASES:
        config, shape, _ = ACT_CASES[case.name]
        layer = tb.FReLU.from_spec(shape[1], config, dtype=_torch_dtype(dtype))
    else:
        layer = tb.BatchNorm2d(BN_CASES[case.name][0][1], dtype=_torch_dtype(dtype))
    return tb.load_params(layer, _params(case, dtype))


def _t(a: np.ndarray, dtype: str, grad: bool = False):
    import torch

    return torch.from_numpy(a).to(_torch_dtype(dtype)).requires_grad_(grad)


def _n(t) -> np.ndarray:
    return t.detach().double().numpy()


def _torch_eval(case: Case, dtype: str) -> list[Comparison]:
    layer = _torch_layer(case, dtype).eval()
    x = _x(case, dtype)
    y = _n(layer(_t(x, dtype)))
    if case.name in ACT_CASES:
        expected = ref.frelu(x, _params(case, dtype), ACT_CASES[case.name][0])
        return [Comparison("y", y, expected, spec.TOLERANCES[dtype])]
    expected = ref_bn.batch_norm_params(x, _params(case, dtype), "", training=False, config=bn_spec.BatchNormConfig())
    return [Comparison("y", y, expected, bn_spec.TOLERANCES[dtype])]


def _torch_train(case: Case, dtype: str) -> list[Comparison]:
    from tenfold.torch_backend import frelu as tb

    layer = _torch_layer(case, dtype).train()
    outs = [_n(layer(_t(_x(case, dtype, f"x{i}"), dtype))) for i in range(STEPS)]
    state = {k: v.astype(np.float64) for k, v in tb.get_params(layer).items()}
    kind = "act" if case.name in ACT_CASES else "bn"
    return _train_comparisons(case, dtype, kind, outs, state,
                              spec.TOLERANCES if kind == "act" else bn_spec.TOLERANCES)


def _torch_grads(case: Case, dtype: str, training: bool = False) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Gradients of ``sum(w * frelu(x))`` w.r.t. ``x`` and every parameter (canonical names), and ``y``."""
    import torch

    layer = _torch_layer(case, dtype).train(training)
    x = _t(_x(case, dtype), dtype, grad=True)
    y = layer(x)
    names, tensors = zip(*layer.named_parameters(), strict=True)
    grads = torch.autograd.grad(y, [x, *tensors], grad_outputs=_t(round_to(case.inputs["w"], dtype), dtype))
    return {"x": _n(grads[0]), **{n: _n(g) for n, g in zip(names, grads[1:], strict=True)}}, _n(y)


def _grad_comparisons(case: Case, dtype: str, grads: dict, y: np.ndarray) -> list[Comparison]:
    x = _x(case, dtype)
    mask = (y == x) if dtype in ("float16", "bfloat16") else None  # the backend's own branch choice
    expected = ref.frelu_vjp(x, _params(case, dtype), round_to(case.inputs["w"], dtype), ACT_CASES[case.name][0],
                             mask=mask)
    tol = spec.GRAD_TOLERANCES[dtype]
    if set(grads) != set(expected):
        raise AssertionError(f"gradient names {sorted(grads)} != {sorted(expected)}")
    # parameter gradients sum over the batch and image: scale the tolerance by the number of terms
    n = float(np.prod(x.shape)) / x.shape[1]
    return [Comparison(f"d{k}", grads[k], expected[k],
                       tol if k == "x" else type(tol)(tol.atol * n, tol.rtol)) for k in sorted(expected)]


def _torch_grad(case: Case, dtype: str) -> list[Comparison]:
    return _grad_comparisons(case, dtype, *_torch_grads(case, dtype))


def _fd_comparison(case: Case, dx: np.ndarray) -> list[Comparison]:
    """``<dx, v>`` of a backend (train mode, float64) against the central difference of the reference."""
    config = ACT_CASES[case.name][0]
    params, x = _params(case, "float64"), case.inputs["x0"]
    w, v = case.inputs["w"], case.inputs["v"]

    def loss(xx: np.ndarray) -> float:
        return float(np.sum(w * ref.frelu(xx, params, config, training=True)))

    fd = directional_derivative(loss, x, v)
    return [Comparison("<dx, v>", np.array(np.sum(dx * v)), np.array(fd), spec.FD_TOLERANCE)]


def _torch_grad_fd(case: Case, dtype: str) -> list[Comparison]:
    return _fd_comparison(case, _torch_grads(case, dtype, training=True)[0]["x"])


def _torch_net(case: Case, dtype: str, fold: bool = False):
    from tenfold.torch_backend import frelu as tb

    config, _ = NET_CASES[case.name]
    model = tb.load_params(tb.build(config, _torch_dtype(dtype)), _params(case, dtype)).eval()
    return tb.fold_batchnorm(model) if fold else model


def _net_ref(case: Case, dtype: str) -> np.ndarray:
    config, _ = NET_CASES[case.name]
    return ref.forward(_x(case, dtype), _params(case, dtype), config)


def _torch_net_run(fold: bool):
    def run(case: Case, dtype: str) -> list[Comparison]:
        import torch

        model = _torch_net(case, dtype, fold)
        with torch.no_grad():
            y = _n(model(_t(_x(case, dtype), dtype)))
        return [Comparison("logits", y, _net_ref(case, dtype), spec.NET_TOLERANCES[dtype])]
    return run


NET_STEPS = 2


def _net_train_ref(case: Case, dtype: str) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
    """Reference logits of ``NET_STEPS`` train-mode steps (dropout 0) and the final running statistics."""
    config = NET_CASES[case.name][0]
    if isinstance(config, nets.ResNetFReLUConfig):
        config = config.replace(dropout=0.0)  # the backends' dropout is set to 0 for these steps
    params = _params(case, dtype)
    outs = []
    for i in range(NET_STEPS):
        updates: dict[str, np.ndarray] = {}
        outs.append(ref.forward(_x(case, dtype, f"x{i}"), params, config, training=True, updates=updates))
        params.update(updates)
    return outs, {k: v for k, v in params.items() if k.endswith(("running_mean", "running_var"))}


def _net_train_comparisons(case, dtype, outs, state) -> list[Comparison]:
    ref_outs, ref_state = _net_train_ref(case, dtype)
    tol = spec.NET_TOLERANCES[dtype]
    comps = [Comparison(f"logits step {i}", a, e, tol) for i, (a, e) in enumerate(zip(outs, ref_outs, strict=True))]
    if set(state) != set(ref_state):
        raise AssertionError(f"running statistics {sorted(set(state) ^ set(ref_state))} differ in name")
    return comps + [Comparison(k, state[k], ref_state[k], tol) for k in sorted(ref_state)]


def _torch_net_train(case: Case, dtype: str) -> list[Comparison]:
    from tenfold.torch_backend import frelu as tb

    model = _torch_net(case, dtype).train()
    if hasattr(model, "dropout"):
        model.dropout.p = 0.0
    outs = [_n(model(_t(_x(case, dtype, f"x{i}"), dtype))) for i in range(NET_STEPS)]
    state = {k: v.astype(np.float64) for k, v in tb.get_params(model).items() if "running" in k}
    return _net_train_comparisons(case, dtype, outs, state)


# -- TensorFlow ----------------------------------------------------------------

_GRAPHS: dict = {}


def _tf_layer(case: Case, dtype: str):
    from tenfold.tf_backend import frelu as tfb

    if case.name in ACT_CASES:
        config, shape, _ = ACT_CASES[case.name]
        layer = tfb.FReLU.from_spec(shape[1], config, dtype=dtype)
        return tfb.load_params(layer, _params(case, dtype))
    layer = tfb.BatchNorm(BN_CASES[case.name][0][1], dtype=dtype)
    for k, v in _params(case, dtype).items():
        getattr(layer, k).assign(v.astype(storage_dtype(dtype)))
    return layer


def _tf_in(a: np.ndarray, dtype: str):
    import tensorflow as tf

    return tf.cast(tf.constant(_nhwc(a)), dtype)


def _tf_out(t) -> np.ndarray:
    import tensorflow as tf

    return _nchw(tf.cast(t, tf.float64).numpy())


def _tf_call(layer, graph: bool, training: bool):
    import tensorflow as tf

    if not graph:
        return lambda x: layer(x, training=training)
    return tf.function(lambda x: layer(x, training=training))


def _tf_eval(graph: bool):
    def run(case: Case, dtype: str) -> list[Comparison]:
        layer = _tf_layer(case, dtype)
        x = _x(case, dtype)
        y = _tf_out(_tf_call(layer, graph, False)(_tf_in(x, dtype)))
        if case.name in ACT_CASES:
            return [Comparison("y", y, ref.frelu(x, _params(case, dtype), ACT_CASES[case.name][0]),
                               spec.TOLERANCES[dtype])]
        expected = ref_bn.batch_norm_params(x, _params(case, dtype), "", training=False,
                                            config=bn_spec.BatchNormConfig())
        return [Comparison("y", y, expected, bn_spec.TOLERANCES[dtype])]
    return run


def _tf_bn_layers(layer) -> dict[str, object]:
    if case_is_bn(layer):
        return {"": layer}
    return {f"{norm}.": getattr(layer, norm) for _, norm in layer.branch_names}


def case_is_bn(layer) -> bool:
    from tenfold.tf_backend.batchnorm import BatchNorm

    return isinstance(layer, BatchNorm)


def _tf_train(graph: bool):
    def run(case: Case, dtype: str) -> list[Comparison]:
        layer = _tf_layer(case, dtype)
        call = _tf_call(layer, graph, True)
        outs = [_tf_out(call(_tf_in(_x(case, dtype, f"x{i}"), dtype))) for i in range(STEPS)]
        state = {}
        for prefix, bn in _tf_bn_layers(layer).items():
            state[f"{prefix}running_mean"] = np.asarray(bn.running_mean.numpy(), np.float64)
            state[f"{prefix}running_var"] = np.asarray(bn.running_var.numpy(), np.float64)
        kind = "act" if case.name in ACT_CASES else "bn"
        return _train_comparisons(case, dtype, kind, outs, state,
                                  spec.TOLERANCES if kind == "act" else bn_spec.TOLERANCES)
    return run


def _tf_grads(case: Case, dtype: str, training: bool = False) -> tuple[dict[str, np.ndarray], np.ndarray]:
    import tensorflow as tf

    from tenfold.tf_backend.frelu_nets import _to_canonical

    layer = _tf_layer(case, dtype)
    x = _tf_in(_x(case, dtype), dtype)
    canon = {k: (v, tag) for k, (v, tag) in layer.canonical().items() if v.trainable}
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=training)
    grads = tape.gradient(y, [x, *(v for v, _ in canon.values())],
                          output_gradients=_tf_in(round_to(case.inputs["w"], dtype), dtype))
    out = {"x": _tf_out(grads[0])}
    for (k, (_, tag)), g in zip(canon.items(), grads[1:], strict=True):
        out[k] = _to_canonical(tf.cast(g, tf.float64).numpy(), tag)
    return out, _tf_out(y)


def _tf_grad(case: Case, dtype: str) -> list[Comparison]:
    return _grad_comparisons(case, dtype, *_tf_grads(case, dtype))


def _tf_grad_fd(case: Case, dtype: str) -> list[Comparison]:
    return _fd_comparison(case, _tf_grads(case, dtype, training=True)[0]["x"])


def _tf_grad_vs_torch(case: Case, dtype: str) -> list[Comparison]:
    tf_g, _ = _tf_grads(case, dtype, training=True)
    torch_g, _ = _torch_grads(case, dtype, training=True)
    tol = spec.GRAD_TOLERANCES[dtype]
    n = float(np.prod(ACT_CASES[case.name][1])) / ACT_CASES[case.name][1][1]
    return [Comparison(f"d{k} tf vs torch (train mode)", tf_g[k], torch_g[k],
                       tol if k == "x" else type(tol)(tol.atol * n, tol.rtol)) for k in sorted(torch_g)]


def _tf_net(case: Case, dtype: str, fold: bool = False):
    from tenfold.tf_backend import frelu as tfb

    config, _ = NET_CASES[case.name]
    model = tfb.load_params(tfb.build(config, dtype), _params(case, dtype))
    return tfb.fold_batchnorm(model) if fold else model


def _tf_net_run(graph: bool, fold: bool = False):
    def run(case: Case, dtype: str) -> list[Comparison]:
        model = _tf_net(case, dtype, fold)
        y = _tf_call(model, graph, False)(_tf_in(_x(case, dtype), dtype))
        import tensorflow as tf

        return [Comparison("logits", tf.cast(y, tf.float64).numpy(), _net_ref(case, dtype),
                           spec.NET_TOLERANCES[dtype])]
    return run


def _tf_net_train(case: Case, dtype: str) -> list[Comparison]:
    import tensorflow as tf

    from tenfold.tf_backend import frelu as tfb

    model = _tf_net(case, dtype)
    if hasattr(model, "dropout"):
        model.dropout.rate = 0.0
    outs = [tf.cast(model(_tf_in(_x(case, dtype, f"x{i}"), dtype), training=True), tf.float64).numpy()
            for i in range(NET_STEPS)]
    state = {k: v.astype(np.float64) for k, v in tfb.get_params(model).items() if "running" in k}
    return _net_train_comparisons(case, dtype, outs, state)


# -- ONNX ----------------------------------------------------------------------

def _onnx(backend: str):
    def run(case: Case, dtype: str) -> list[Comparison]:
        from tenfold.export import frelu as ex
        from tenfold.export.runtime import runner

        _, shape = NET_CASES[case.name]
        if backend == "torch":
            proto = ex.onnx_model_torch(_torch_net(case, "float32"), shape)
        else:
            proto = ex.onnx_model_tf(_tf_net(case, "float32"), shape)
        x = _x(case, "float32")
        run_ = runner(proto, "cpu")
        comps = [Comparison("logits", run_(x.astype(np.float32))[0].astype(np.float64), _net_ref(case, "float32"),
                            spec.ONNX_TOLERANCE)]
        x3 = np.concatenate([x, x[:1]])  # a batch size other than the export's
        comps.append(Comparison("logits batch 3", run_(x3.astype(np.float32))[0].astype(np.float64),
                                ref.forward(x3, _params(case, "float32"), NET_CASES[case.name][0]),
                                spec.ONNX_TOLERANCE))
        return comps
    return run


def _numpy_act(case: Case, dtype: str) -> list[Comparison]:
    """numpy_ref in float32 against itself in float64 (its own rounding)."""
    config = ACT_CASES[case.name][0]
    x, p = _x(case, dtype), _params(case, dtype)
    y = ref.frelu(x.astype(dtype), {k: v.astype(dtype) for k, v in p.items()}, config)
    return [Comparison("y", y.astype(np.float64), ref.frelu(x, p, config), spec.TOLERANCES[dtype])]


def _numpy_fold(case: Case, dtype: str) -> list[Comparison]:
    """The folded reference network against the unfolded one (float64)."""
    config, _ = NET_CASES[case.name]
    folded, fconfig = ref.fold_batchnorm(_params(case, dtype), config)
    return [Comparison("logits", ref.forward(_x(case, dtype), folded, fconfig), _net_ref(case, dtype),
                       spec.NET_TOLERANCES[dtype])]


ACT = tuple(ACT_CASES)
BN = tuple(BN_CASES)
NETS = tuple(NET_CASES)
SMOOTH = ("act-random", "act-batch1", "act-light")

SUITES: tuple[Suite, ...] = (
    Suite("numpy", "eager", ("float32",), ACT, _numpy_act),
    Suite("numpy", "folded", ("float64",), NETS, _numpy_fold),
    Suite("torch", "eval", ALL, (*ACT, *BN), _torch_eval),
    Suite("torch", "train", ALL, (*ACT, *BN), _torch_train),
    Suite("torch", "grad", ALL, ACT, _torch_grad),
    Suite("torch", "grad-fd-train", ("float64",), SMOOTH, _torch_grad_fd),
    Suite("torch", "net", FULL, NETS, _torch_net_run(fold=False)),
    Suite("torch", "net-train", FULL, NETS, _torch_net_train),
    Suite("torch", "net-folded", ("float64",), NETS, _torch_net_run(fold=True)),
    Suite("tf", "eval", ALL, (*ACT, *BN), _tf_eval(graph=False)),
    Suite("tf", "eval-graph", ALL, (*ACT, *BN), _tf_eval(graph=True)),
    Suite("tf", "train", ALL, (*ACT, *BN), _tf_train(graph=False)),
    Suite("tf", "train-graph", FULL, (*ACT, *BN), _tf_train(graph=True)),
    Suite("tf", "grad", ALL, ACT, _tf_grad),
    Suite("tf", "grad-fd-train", ("float64",), SMOOTH, _tf_grad_fd),
    Suite("tf", "grad-vs-torch", FULL, ACT, _tf_grad_vs_torch, requires=("torch",)),
    Suite("tf", "net", FULL, NETS, _tf_net_run(graph=False)),
    Suite("tf", "net-graph", ("float32",), NETS, _tf_net_run(graph=True)),
    Suite("tf", "net-train", FULL, NETS, _tf_net_train),
    Suite("tf", "net-folded", ("float64",), NETS, _tf_net_run(graph=False, fold=True)),
    # every network through at least one exporter, each exporter on two networks (exports cost seconds)
    Suite("onnx", "from-torch", ("float32",), ("net-resnet50", "net-shufflenet"), _onnx("torch"),
          requires=("torch",)),
    Suite("onnx", "from-tf", ("float32",), ("net-cifar", "net-shufflenet"), _onnx("tf"), requires=("tf",)),
)
