"""PyTorch side of the FReLU conformance suite (see :mod:`tenfold.conformance.frelu`)."""

from __future__ import annotations

import numpy as np

from tenfold.numpy_ref import frelu as ref
from tenfold.numpy_ref.layers import norm as ref_bn
from tenfold.spec import batchnorm as bn_spec
from tenfold.spec import frelu as spec

from ..case import Case, Comparison
from ..dtypes import round_to
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
    net_config,
    net_ref,
    net_train_comparisons,
    train_comparisons,
)


def _torch_dtype(dtype: str):
    import torch

    return getattr(torch, dtype)


def _torch_layer(case: Case, dtype: str):
    from tenfold.torch_backend import frelu as tb

    if case.name in ACT_CASES:
        config, shape, _ = ACT_CASES[case.name]
        layer = tb.FReLU.from_spec(shape[1], config, dtype=_torch_dtype(dtype))
    else:
        layer = tb.BatchNorm2d(BN_CASES[case.name][0][1], bn_config(case), dtype=_torch_dtype(dtype))
    return tb.load_params(layer, case_params(case, dtype))


def _t(a: np.ndarray, dtype: str, grad: bool = False):
    import torch

    return torch.from_numpy(a).to(_torch_dtype(dtype)).requires_grad_(grad)


def _n(t) -> np.ndarray:
    return t.detach().double().numpy()


def _torch_eval(case: Case, dtype: str) -> list[Comparison]:
    layer = _torch_layer(case, dtype).eval()
    x = case_x(case, dtype)
    y = _n(layer(_t(x, dtype)))
    if case.name in ACT_CASES:
        expected = ref.frelu(x, case_params(case, dtype), ACT_CASES[case.name][0])
        return [Comparison("y", y, expected, spec.TOLERANCES.forward[dtype])]
    expected = ref_bn.batch_norm_params(x, case_params(case, dtype), "", training=False,
                                        config=bn_config(case))
    return [Comparison("y", y, expected, bn_spec.TOLERANCES.forward[dtype])]


def _torch_train(case: Case, dtype: str) -> list[Comparison]:
    from tenfold.torch_backend import frelu as tb

    layer = _torch_layer(case, dtype).train()
    outs = [_n(layer(_t(case_x(case, dtype, f"x{i}"), dtype))) for i in range(STEPS)]
    state = {k: v.astype(np.float64) for k, v in tb.get_params(layer).items()}
    kind = "act" if case.name in ACT_CASES else "bn"
    return train_comparisons(case, dtype, kind, outs, state,
                              spec.TOLERANCES.forward if kind == "act" else bn_spec.TOLERANCES.forward)


def torch_grads(case: Case, dtype: str, training: bool = False) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Gradients of ``sum(w * frelu(x))`` w.r.t. ``x`` and every parameter (canonical names), and ``y``."""
    import torch

    layer = _torch_layer(case, dtype).train(training)
    x = _t(case_x(case, dtype), dtype, grad=True)
    y = layer(x)
    names, tensors = zip(*layer.named_parameters(), strict=True)
    grads = torch.autograd.grad(y, [x, *tensors], grad_outputs=_t(round_to(case.inputs["w"], dtype), dtype))
    return {"x": _n(grads[0]), **{n: _n(g) for n, g in zip(names, grads[1:], strict=True)}}, _n(y)


def _torch_grad(case: Case, dtype: str) -> list[Comparison]:
    return grad_comparisons(case, dtype, *torch_grads(case, dtype))


def _torch_grad_fd(case: Case, dtype: str) -> list[Comparison]:
    return fd_comparison(case, torch_grads(case, dtype, training=True)[0]["x"])


def torch_net(case: Case, dtype: str, fold: bool = False):
    from tenfold.torch_backend import frelu as tb

    config = net_config(case)
    model = tb.load_params(tb.build(config, _torch_dtype(dtype)), case_params(case, dtype)).eval()
    return tb.fold_batchnorm(model) if fold else model


def _torch_net_run(fold: bool):
    def run(case: Case, dtype: str) -> list[Comparison]:
        import torch

        model = torch_net(case, dtype, fold)
        with torch.no_grad():
            y = _n(model(_t(case_x(case, dtype), dtype)))
        return [Comparison("logits", y, net_ref(case, dtype), spec.nets.TOLERANCES.forward[dtype])]
    return run


def _torch_net_train(case: Case, dtype: str) -> list[Comparison]:
    from tenfold.torch_backend import frelu as tb

    model = torch_net(case, dtype).train()
    if hasattr(model, "dropout"):
        model.dropout.p = 0.0
    outs = [_n(model(_t(case_x(case, dtype, f"x{i}"), dtype))) for i in range(NET_STEPS)]
    state = {k: v.astype(np.float64) for k, v in tb.get_params(model).items() if "running" in k}
    return net_train_comparisons(case, dtype, outs, state)
