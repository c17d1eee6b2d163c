"""TensorFlow side of the FReLU conformance suite (NHWC; see :mod:`tenfold.conformance.frelu`)."""

from __future__ import annotations

import numpy as np

from tenfold.numpy_ref import frelu as ref
from tenfold.numpy_ref.layers import norm as ref_bn
from tenfold.spec import batchnorm as bn_spec
from tenfold.spec import frelu as spec

from ..case import Case, Comparison
from ..dtypes import round_to, storage_dtype
from .cases import (
    ACT_CASES,
    BN_CASES,
    NET_STEPS,
    STEPS,
    bn_config,
    case_params,
    case_x,
    fd_comparison,
    grad_comparisons,
    nchw,
    net_config,
    net_ref,
    net_train_comparisons,
    nhwc,
    train_comparisons,
)
from .torch_suites import torch_grads

_GRAPHS: dict = {}


def _tf_layer(case: Case, dtype: str):
    from tenfold.tf_backend import frelu as tfb

    if case.name in ACT_CASES:
        config, shape, _ = ACT_CASES[case.name]
        layer = tfb.FReLU.from_spec(shape[1], config, dtype=dtype)
        return tfb.load_params(layer, case_params(case, dtype))
    layer = tfb.BatchNorm(BN_CASES[case.name][0][1], bn_config(case), dtype=dtype)
    for k, v in case_params(case, dtype).items():
        getattr(layer, k).assign(v.astype(storage_dtype(dtype)))
    return layer


def _tf_in(a: np.ndarray, dtype: str):
    import tensorflow as tf

    return tf.cast(tf.constant(nhwc(a)), dtype)


def _tf_out(t) -> np.ndarray:
    import tensorflow as tf

    return nchw(tf.cast(t, tf.float64).numpy())


def _tf_call(layer, graph: bool, training: bool):
    import tensorflow as tf

    if not graph:
        return lambda x: layer(x, training=training)
    return tf.function(lambda x: layer(x, training=training))


def _tf_eval(graph: bool):
    def run(case: Case, dtype: str) -> list[Comparison]:
        layer = _tf_layer(case, dtype)
        x = case_x(case, dtype)
        y = _tf_out(_tf_call(layer, graph, False)(_tf_in(x, dtype)))
        if case.name in ACT_CASES:
            return [Comparison("y", y, ref.frelu(x, case_params(case, dtype), ACT_CASES[case.name][0]),
                               spec.TOLERANCES.forward[dtype])]
        expected = ref_bn.batch_norm_params(x, case_params(case, dtype), "", training=False,
                                            config=bn_config(case))
        return [Comparison("y", y, expected, bn_spec.TOLERANCES.forward[dtype])]
    return run


def _tf_bn_layers(layer) -> dict[str, object]:
    """The BatchNorm layers of a BatchNorm or FReLU layer, by canonical name prefix."""
    if _is_bn(layer):
        return {"": layer}
    return {f"{norm}.": getattr(layer, norm) for _, norm in layer.branch_names}


def _is_bn(layer) -> bool:
    from tenfold.tf_backend.layers.norm import BatchNorm

    return isinstance(layer, BatchNorm)


def _tf_train(graph: bool):
    def run(case: Case, dtype: str) -> list[Comparison]:
        layer = _tf_layer(case, dtype)
        call = _tf_call(layer, graph, True)
        outs = [_tf_out(call(_tf_in(case_x(case, dtype, f"x{i}"), dtype))) for i in range(STEPS)]
        state = {}
        for prefix, bn in _tf_bn_layers(layer).items():
            state[f"{prefix}running_mean"] = np.asarray(bn.running_mean.numpy(), np.float64)
            state[f"{prefix}running_var"] = np.asarray(bn.running_var.numpy(), np.float64)
        kind = "act" if case.name in ACT_CASES else "bn"
        return train_comparisons(case, dtype, kind, outs, state,
                                  spec.TOLERANCES.forward if kind == "act" else bn_spec.TOLERANCES.forward)
    return run


def _tf_grads(case: Case, dtype: str, training: bool = False) -> tuple[dict[str, np.ndarray], np.ndarray]:
    import tensorflow as tf

    from tenfold.tf_backend.frelu.nets import _to_canonical

    layer = _tf_layer(case, dtype)
    x = _tf_in(case_x(case, dtype), dtype)
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
    return grad_comparisons(case, dtype, *_tf_grads(case, dtype))


def _tf_grad_fd(case: Case, dtype: str) -> list[Comparison]:
    return fd_comparison(case, _tf_grads(case, dtype, training=True)[0]["x"])


def _tf_grad_vs_torch(case: Case, dtype: str) -> list[Comparison]:
    tf_g, _ = _tf_grads(case, dtype, training=True)
    torch_g, _ = torch_grads(case, dtype, training=True)
    tol = spec.TOLERANCES.gradient[dtype]
    n = float(np.prod(ACT_CASES[case.name][1])) / ACT_CASES[case.name][1][1]
    return [Comparison(f"d{k} tf vs torch (train mode)", tf_g[k], torch_g[k],
                       tol if k == "x" else type(tol)(tol.atol * n, tol.rtol)) for k in sorted(torch_g)]


def tf_net(case: Case, dtype: str, fold: bool = False):
    from tenfold.tf_backend import frelu as tfb

    config = net_config(case)
    model = tfb.load_params(tfb.build(config, dtype), case_params(case, dtype))
    return tfb.fold_batchnorm(model) if fold else model


def _tf_net_run(graph: bool, fold: bool = False):
    def run(case: Case, dtype: str) -> list[Comparison]:
        model = tf_net(case, dtype, fold)
        y = _tf_call(model, graph, False)(_tf_in(case_x(case, dtype), dtype))
        import tensorflow as tf

        return [Comparison("logits", tf.cast(y, tf.float64).numpy(), net_ref(case, dtype),
                           spec.nets.TOLERANCES.forward[dtype])]
    return run


def _tf_net_train(case: Case, dtype: str) -> list[Comparison]:
    import tensorflow as tf

    from tenfold.tf_backend import frelu as tfb

    model = tf_net(case, dtype)
    if hasattr(model, "dropout"):
        model.dropout.rate = 0.0
    outs = [tf.cast(model(_tf_in(case_x(case, dtype, f"x{i}"), dtype), training=True), tf.float64).numpy()
            for i in range(NET_STEPS)]
    state = {k: v.astype(np.float64) for k, v in tfb.get_params(model).items() if "running" in k}
    return net_train_comparisons(case, dtype, outs, state)
