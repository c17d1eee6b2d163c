"""TensorFlow side of the CR-GAN conformance suite (NHWC; see :mod:`tenfold.conformance.crgan`)."""

from __future__ import annotations

import numpy as np

from tenfold.numpy_ref import crgan as ref

from ..case import Case, Comparison
from ..dtypes import storage_dtype
from .cases import (
    EXACT,
    FN_CASES,
    SN_CALLS,
    SN_CASES,
    STEP_CASES,
    TOL,
    Trace,
    fd_comparisons,
    fn_reference,
    nchw,
    nhwc,
    params,
    reference_trace,
    rounded,
    sn_grad_reference,
    sn_reference,
    step_plans,
    trace_comparisons,
    transform_plan,
)
from .torch_suites import torch_fn_grads, torch_trace


def _t(a: np.ndarray, dtype: str):
    import tensorflow as tf

    return tf.constant(a.astype(storage_dtype(dtype)))


def _np(t) -> np.ndarray:
    import tensorflow as tf

    return tf.cast(t, tf.float64).numpy()


def tf_transform(graph: bool):
    def run(case: Case, dtype: str) -> list[Comparison]:
        import tensorflow as tf

        from tenfold.tf_backend import crgan as tb

        plan, x = transform_plan(case), rounded(case, "x", dtype)
        def fn(t):
            return tb.transform_apply(plan, t)

        y = (tf.function(fn) if graph else fn)(_t(nhwc(x), dtype))
        return [Comparison("T(x)", nchw(_np(y)), ref.apply(plan, x), EXACT)]
    return run


def tf_fn_grads(case: Case, dtype: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    import tensorflow as tf

    from tenfold.tf_backend import crgan as tb

    kind, _ = FN_CASES[case.name]
    values, grads = {}, {}
    for variant in (("sum", "mean") if kind == "penalty" else ("d", "g")):
        a, b = tf.Variable(_t(rounded(case, "a", dtype), dtype)), tf.Variable(_t(rounded(case, "b", dtype), dtype))
        with tf.GradientTape() as tape:
            if kind == "penalty":
                out = tb.cr_penalty(a, b, variant)
            elif variant == "d":
                out = tb.gan_discriminator_loss(a, b, kind)
            else:
                out = tb.gan_generator_loss(b, kind)
        ga, gb = tape.gradient(out, [a, b])
        values[variant] = _np(out)
        grads[f"{variant}/a"] = np.zeros(a.shape) if ga is None else _np(ga)
        grads[f"{variant}/b"] = _np(gb)
    return values, grads


def tf_fn(case: Case, dtype: str) -> list[Comparison]:
    values, grads = tf_fn_grads(case, dtype)
    ev, eg = fn_reference(case, dtype)
    fwd, grd = TOL.get("forward", dtype), TOL.get("gradient", dtype)
    return ([Comparison(k, values[k], ev[k], fwd) for k in ev]
            + [Comparison(f"d/d{k}", grads[k], eg[k], grd) for k in eg])


def tf_fn_vs_torch(case: Case, dtype: str) -> list[Comparison]:
    tg = tf_fn_grads(case, dtype)[1]
    pg = torch_fn_grads(case, dtype)[1]
    grd = TOL.get("gradient", dtype)
    return [Comparison(f"tf vs torch d/d{k}", tg[k], pg[k], grd) for k in pg]


def tf_sn(case: Case, dtype: str) -> list[Comparison]:
    """Three training calls then an eval call of a TF SN layer: W_sn and the state after each; the gradient."""
    import tensorflow as tf

    from tenfold.tf_backend.layers.conv import to_canonical, to_tf_layout
    from tenfold.tf_backend.layers.spectral_norm import SNConv, SNDense

    config, shape = SN_CASES[case.name]
    conv = len(shape) == 4
    layer = (SNConv(shape[1], shape[0], shape[2], config=config, dtype=dtype) if conv
             else SNDense(shape[1], shape[0], config=config, dtype=dtype))
    tag = "conv" if conv else "dense"
    layer.kernel.assign(_t(to_tf_layout(rounded(case, "w", dtype), tag), dtype))
    layer.u.assign(_t(rounded(case, "u", dtype), dtype))
    layer.v.assign(_t(rounded(case, "v", dtype), dtype))
    expected = sn_reference(case, dtype)
    fwd = TOL.get("forward", dtype)
    comps, grad = [], None
    for i in range(SN_CALLS + 1):
        with tf.GradientTape() as tape:
            ws = layer.normalized_kernel(i < SN_CALLS)
            out = tf.reduce_sum(ws * _t(to_tf_layout(rounded(case, "cot", dtype), tag), dtype))
        if i == SN_CALLS - 1:
            grad = tape.gradient(out, layer.kernel)
        comps += [Comparison(f"W_sn call {i}", to_canonical(_np(ws), tag), expected[f"w_sn{i}"], fwd),
                  Comparison(f"u call {i}", _np(layer.u), expected[f"u{i}"], fwd),
                  Comparison(f"v call {i}", _np(layer.v), expected[f"v{i}"], fwd)]
    comps.append(Comparison("d<cot, W_sn>/dW", to_canonical(_np(grad), tag), sn_grad_reference(case, dtype),
                            TOL.get("gradient", dtype)))
    return comps


def tf_trace(case: Case, dtype: str, graph: bool = False) -> Trace:
    """``ROUNDS`` rounds of (D step, G step) in TensorFlow, plan-injected, eagerly or in ``tf.function``."""
    import tensorflow as tf

    from tenfold.tf_backend import crgan as tb

    config, _ = STEP_CASES[case.name]
    g, d = tb.build(config.nets, (params(case, "g/", dtype), params(case, "d/", dtype)), dtype=storage_dtype(dtype))
    x = _t(nhwc(rounded(case, "x", dtype)), dtype)
    trace = Trace()
    for dp, gp in step_plans(case, dtype):
        d_draws = tb.step.d_draws_from_plan(dp, x.dtype)
        g_draws = tb.step.g_draws_from_plan(gp, x.dtype)
        d_fn, g_fn = _step_fns(d, g, d_draws, g_draws, config)
        losses, grads = (tf.function(d_fn) if graph else d_fn)(x)
        trace.losses.append({k: float(v) for k, v in losses.items()})
        trace.grads.append(tb.canonical_grads(d, grads))
        losses, grads = (tf.function(g_fn) if graph else g_fn)()
        trace.losses.append({k: float(v) for k, v in losses.items()})
        trace.grads.append(tb.canonical_grads(g, grads))
    trace.g_state = {k: v.astype(np.float64) for k, v in tb.get_params(g).items() if "running" in k}
    trace.d_state = {k: v.astype(np.float64) for k, v in tb.get_params(d).items() if k.endswith(("_u", "_v"))}
    return trace


def _step_fns(d, g, d_draws, g_draws, config):
    """The two steps as closures over their draws (``tf.function`` traces only the image argument)."""
    from tenfold.tf_backend import crgan as tb

    def d_fn(x):
        return tb.d_step(d, g, x, d_draws, config)

    def g_fn():
        return tb.g_step(g, d, g_draws, config)

    return d_fn, g_fn


def tf_step(graph: bool):
    def run(case: Case, dtype: str) -> list[Comparison]:
        return trace_comparisons(tf_trace(case, dtype, graph), reference_trace(case, dtype)[0], dtype)
    return run


def tf_step_fd(case: Case, dtype: str) -> list[Comparison]:
    return fd_comparisons(case, tf_trace(case, "float64").grads)


def tf_step_vs_torch(case: Case, dtype: str) -> list[Comparison]:
    return trace_comparisons(tf_trace(case, dtype), torch_trace(case, dtype), dtype, "tf vs torch ")


__all__ = ["tf_fn", "tf_fn_vs_torch", "tf_sn", "tf_step", "tf_step_fd", "tf_step_vs_torch", "tf_transform"]
