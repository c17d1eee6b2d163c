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
    from tenfold.tf_backend import crgan as tb

    config, _ = STEP_CASES[case.name]
    g, d = tb.build(config.nets, (params(case, "g/", dtype), params(case, "d/", dtype)), dtype=storage_dtype(dtype))
    x = _t(nhwc(rounded(case, "x", dtype)), dtype)
    trace = Trace()
    if graph:
        d_call, g_call = _graph_steps(d, g, config)
    else:
        def d_call(xx, draws):
            return tb.d_step(d, g, xx, draws, config)

        def g_call(draws):
            return tb.g_step(g, d, draws, config)
    for dp, gp in step_plans(case, dtype):
        losses, grads = d_call(x, tb.step.d_draws_from_plan(dp, x.dtype))
        trace.losses.append({k: float(v) for k, v in losses.items()})
        trace.grads.append(tb.canonical_grads(d, grads))
        losses, grads = g_call(tb.step.g_draws_from_plan(gp, x.dtype))
        trace.losses.append({k: float(v) for k, v in losses.items()})
        trace.grads.append(tb.canonical_grads(g, grads))
    trace.g_state = {k: v.astype(np.float64) for k, v in tb.get_params(g).items() if "running" in k}
    trace.d_state = {k: v.astype(np.float64) for k, v in tb.get_params(d).items() if k.endswith(("_u", "_v"))}
    return trace


def _graph_steps(d, g, config):
    """One ``tf.function`` per step whose arguments are all tensors (traced once per case and dtype).

    The transforms pad by the config's largest shift, so every round has the same static sizes.
    """
    import tensorflow as tf

    from tenfold.tf_backend import crgan as tb

    s = config.nets.image_size
    m, mode = config.transform.max_shifts(s, s), config.transform.pad_mode

    @tf.function
    def d_fn(x, z, z_eps, rflip, rshift, fflip, fshift):
        draws = tb.DDraws(z, z_eps if config.cr.lambda_dis > 0 else None,
                          tb.transform.Draw(rflip, rshift, m, mode) if config.cr.uses_real else None,
                          tb.transform.Draw(fflip, fshift, m, mode) if config.cr.uses_fake else None)
        return tb.d_step(d, g, x, draws, config)

    @tf.function
    def g_fn(z, z_eps):
        return tb.g_step(g, d, tb.GDraws(z, z_eps if config.cr.lambda_gen > 0 else None), config)

    def d_call(x, draws):
        none = tf.zeros((x.shape[0],), tf.bool), tf.zeros((x.shape[0], 2), tf.int32)
        real, fake = draws.real or none, draws.fake or none
        z_eps = draws.z if draws.z_eps is None else draws.z_eps
        return d_fn(x, draws.z, z_eps, real[0], real[1], fake[0], fake[1])

    def g_call(draws):
        return g_fn(draws.z, draws.z if draws.z_eps is None else draws.z_eps)

    return d_call, g_call


def tf_step(graph: bool):
    def run(case: Case, dtype: str) -> list[Comparison]:
        return trace_comparisons(tf_trace(case, dtype, graph), reference_trace(case, dtype)[0], dtype)
    return run


def tf_step_fd(case: Case, dtype: str) -> list[Comparison]:
    return fd_comparisons(case, tf_trace(case, "float64").grads)


def tf_step_vs_torch(case: Case, dtype: str) -> list[Comparison]:
    return trace_comparisons(tf_trace(case, dtype), torch_trace(case, dtype), dtype, "tf vs torch ")


__all__ = ["tf_fn", "tf_fn_vs_torch", "tf_sn", "tf_step", "tf_step_fd", "tf_step_vs_torch", "tf_transform"]
