"""PyTorch side of the CR-GAN conformance suite (see :mod:`tenfold.conformance.crgan`)."""

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
    params,
    reference_trace,
    rounded,
    sn_grad_reference,
    sn_reference,
    step_plans,
    trace_comparisons,
    transform_plan,
)


def _t(a: np.ndarray, dtype: str, grad: bool = False):
    import torch

    return torch.tensor(a.astype(storage_dtype(dtype)), requires_grad=grad)


def _np(t) -> np.ndarray:
    return t.detach().double().cpu().numpy().copy()  # a float64 tensor would share its memory


def torch_transform(case: Case, dtype: str) -> list[Comparison]:
    from tenfold.torch_backend import crgan as tb

    plan, x = transform_plan(case), rounded(case, "x", dtype)
    return [Comparison("T(x)", _np(tb.transform_apply(plan, _t(x, dtype))), ref.apply(plan, x), EXACT)]


def torch_fn_grads(case: Case, dtype: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Values and gradients of the case's function in PyTorch (keys as :func:`fn_reference`)."""
    from tenfold.torch_backend import crgan as tb

    kind, _ = FN_CASES[case.name]
    values, grads = {}, {}
    for variant in (("sum", "mean") if kind == "penalty" else ("d", "g")):
        a, b = _t(rounded(case, "a", dtype), dtype, True), _t(rounded(case, "b", dtype), dtype, True)
        if kind == "penalty":
            out = tb.cr_penalty(a, b, variant)
        elif variant == "d":
            out = tb.gan_discriminator_loss(a, b, kind)
        else:
            out = tb.gan_generator_loss(b, kind)
        out.backward()
        values[variant] = _np(out)
        grads[f"{variant}/a"] = np.zeros(a.shape) if a.grad is None else _np(a.grad)
        grads[f"{variant}/b"] = _np(b.grad)
    return values, grads


def torch_fn(case: Case, dtype: str) -> list[Comparison]:
    values, grads = torch_fn_grads(case, dtype)
    ev, eg = fn_reference(case, dtype)
    fwd, grd = TOL.get("forward", dtype), TOL.get("gradient", dtype)
    return ([Comparison(k, values[k], ev[k], fwd) for k in ev]
            + [Comparison(f"d/d{k}", grads[k], eg[k], grd) for k in eg])


def torch_sn(case: Case, dtype: str) -> list[Comparison]:
    """Three training calls then an eval call of a torch SN layer: W_sn and the state after each; the gradient."""
    import torch

    from tenfold.torch_backend.layers.spectral_norm import SNConv2d, SNLinear

    config, shape = SN_CASES[case.name]
    tdt = getattr(torch, storage_dtype(dtype))
    layer = (SNConv2d(shape[1], shape[0], shape[2], config=config, dtype=tdt) if len(shape) == 4
             else SNLinear(shape[1], shape[0], config=config, dtype=tdt))
    with torch.no_grad():
        layer.weight_orig.copy_(_t(rounded(case, "w", dtype), dtype))
        layer.weight_u.copy_(_t(rounded(case, "u", dtype), dtype))
        layer.weight_v.copy_(_t(rounded(case, "v", dtype), dtype))
    expected = sn_reference(case, dtype)
    fwd = TOL.get("forward", dtype)
    comps = []
    for i in range(SN_CALLS + 1):
        layer.train(i < SN_CALLS)
        ws = layer.normalized_weight()
        if i == SN_CALLS - 1:
            (ws * _t(rounded(case, "cot", dtype), dtype)).sum().backward()
        comps += [Comparison(f"W_sn call {i}", _np(ws), expected[f"w_sn{i}"], fwd),
                  Comparison(f"u call {i}", _np(layer.weight_u), expected[f"u{i}"], fwd),
                  Comparison(f"v call {i}", _np(layer.weight_v), expected[f"v{i}"], fwd)]
    comps.append(Comparison("d<cot, W_sn>/dW", _np(layer.weight_orig.grad), sn_grad_reference(case, dtype),
                            TOL.get("gradient", dtype)))
    return comps


def torch_trace(case: Case, dtype: str) -> Trace:
    """``ROUNDS`` rounds of (D step, G step) in PyTorch, plan-injected, no optimizer update."""
    import torch

    from tenfold.torch_backend import crgan as tb

    config, _ = STEP_CASES[case.name]
    g, d = tb.build(config.nets, (params(case, "g/", dtype), params(case, "d/", dtype)),
                    dtype=getattr(torch, storage_dtype(dtype)))
    x = _t(rounded(case, "x", dtype), dtype)
    trace = Trace()
    for dp, gp in step_plans(case, dtype):
        losses = tb.d_step(d, g, x, dp, config)
        trace.losses.append({k: float(v) for k, v in losses.items()})
        trace.grads.append({k: _np(p.grad) for k, p in d.named_parameters()})
        losses = tb.g_step(g, d, gp, config)
        trace.losses.append({k: float(v) for k, v in losses.items()})
        trace.grads.append({k: _np(p.grad) for k, p in g.named_parameters()})
    trace.g_state = {k: v.astype(np.float64) for k, v in tb.get_params(g).items() if "running" in k}
    trace.d_state = {k: v.astype(np.float64) for k, v in tb.get_params(d).items() if k.endswith(("_u", "_v"))}
    return trace


def torch_step(case: Case, dtype: str) -> list[Comparison]:
    return trace_comparisons(torch_trace(case, dtype), reference_trace(case, dtype)[0], dtype)


def torch_step_fd(case: Case, dtype: str) -> list[Comparison]:
    return fd_comparisons(case, torch_trace(case, "float64").grads)


__all__ = ["torch_fn", "torch_fn_grads", "torch_sn", "torch_step", "torch_step_fd", "torch_trace",
           "torch_transform"]
