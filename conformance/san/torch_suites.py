"""PyTorch side of the SAN conformance suite (see :mod:`tenfold.conformance.san`)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ..case import Case, Comparison
from .cases import (
    NET_CASES,
    OP_CASES,
    STEPS,
    config_of,
    eval_comparisons,
    fd_comparisons,
    params,
    train_comparisons,
    x_of,
)


def _tdtype(dtype: str):
    import torch

    return getattr(torch, dtype)


def torch_model(case: Case, dtype: str):
    """The case's ``SAM`` or ``SAN`` with the case's parameters, in ``dtype``."""
    from tenfold.torch_backend import san as tb

    return tb.load_params(tb.build(config_of(case), _tdtype(dtype)), params(case, dtype))


def _t(a: np.ndarray, dtype: str, grad: bool = False):
    import torch

    return torch.from_numpy(np.ascontiguousarray(a)).to(_tdtype(dtype)).requires_grad_(grad)


def _n(t) -> np.ndarray:
    return t.detach().double().cpu().numpy()


def _eval(lean: bool):
    """Eval mode without autograd: the lean path (``lean=True``) or the full one."""
    def run(case: Case, dtype: str) -> list[Comparison]:
        import torch

        model = torch_model(case, dtype).eval()
        for m in model.modules():
            if hasattr(m, "lean"):
                m.lean = lean
        with torch.no_grad():
            y = _n(model(_t(x_of(case, dtype), dtype)))
        return eval_comparisons(case, dtype, y)
    return run


def _train(case: Case, dtype: str) -> list[Comparison]:
    """``STEPS`` train-mode forwards (autograd on): outputs and updated running statistics and counters."""
    from tenfold.torch_backend import san as tb

    model = torch_model(case, dtype).train()
    outs = [_n(model(_t(x_of(case, dtype, f"x{i}"), dtype))) for i in range(STEPS)]
    state = {k: v.astype(np.float64) for k, v in tb.get_params(model).items()}
    return train_comparisons(case, dtype, outs, state)


def torch_grads(case: Case, dtype: str, training: bool) -> dict[str, np.ndarray]:
    """Gradients of ``sum(w * y)`` with respect to ``x`` and every parameter (canonical names)."""
    import torch

    model = torch_model(case, dtype).train(training)
    x = _t(x_of(case, dtype), dtype, grad=True)
    y = model(x)
    names, tensors = zip(*model.named_parameters(), strict=True)
    grads = torch.autograd.grad(y, [x, *tensors], grad_outputs=_t(case.inputs["w"], dtype))
    return {"x": _n(grads[0]), **{k: _n(g) for k, g in zip(names, grads[1:], strict=True)}}


def _grad_fd(training: bool):
    def run(case: Case, dtype: str) -> list[Comparison]:
        return fd_comparisons(case, torch_grads(case, "float64", training), training)
    return run


def _load_official(case: Case, dtype: str) -> list[Comparison]:
    """An official-layout file (``{"state_dict": {"module." + name: tensor}, "optimizer": ...}``) round trip."""
    import torch

    from tenfold.torch_backend import san as tb

    p = params(case, dtype)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model_best.pth"
        torch.save({"epoch": 100, "state_dict": {"module." + k: torch.as_tensor(v).to(_tdtype(dtype))
                                                  if v.dtype.kind == "f" else torch.as_tensor(v)
                                                  for k, v in p.items()},
                    "optimizer": {"state": {}, "param_groups": [{"lr": 0.1, "momentum": 0.9}]},
                    "top1_val": 0.75, "top5_val": 0.92}, path)
        model = tb.load_checkpoint(tb.build(config_of(case), _tdtype(dtype)), path).eval()
    with torch.no_grad():
        y = _n(model(_t(x_of(case, dtype), dtype)))
    back = tb.get_params(model)
    comps = [Comparison(f"round trip {k}", back[k].astype(np.float64), p[k].astype(np.float64),
                        case_tol(dtype)) for k in p]
    return comps + eval_comparisons(case, dtype, y)


def case_tol(dtype: str):
    from tenfold.spec.tolerance import Tolerance

    return Tolerance(0.0, 0.0)  # a loaded value is the stored value, exactly


__all__ = ["NET_CASES", "OP_CASES", "torch_grads", "torch_model"]
