"""Mish for PyTorch: a function and an ``nn.Module`` on the native ATen kernel.

Paper: Misra, BMVC 2020. Official code: digantamisra98/Mish
(``Mish/Torch/functional.py``, which delegates to ``F.mish`` on torch >= 1.9).

Differences from the official implementation (and from ``F.mish``): the
native kernel returns NaN at ``x = -inf`` and a NaN gradient at ``+-inf``;
here the limits of :mod:`tenfold.spec.mish` are restored (value 0 at ``-inf``,
gradient 1 and 0 at ``+inf`` and ``-inf``). The repair runs only when the
tensor may hold an infinity; checking costs one sum over the input.
float16 and bfloat16 are computed in float32 inside the kernel and rounded once.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from tenfold.spec import mish as spec

from ._tensors import as_tensor, dtype_name


def _check(x: object, where: str) -> torch.Tensor:
    x = as_tensor(where, x)
    spec.check_dtype(dtype_name(x.dtype), where)
    return x


def _maybe_inf(x: torch.Tensor) -> bool:
    return not math.isfinite(x.sum().item())  # one read of x; NaN or inf anywhere makes the sum non-finite


def _forward(x: torch.Tensor, maybe_inf: bool) -> torch.Tensor:
    y = torch.ops.aten.mish(x)
    if maybe_inf:
        y = y.masked_fill_(torch.isneginf(x), 0.0)  # f(-inf) = 0
    return y


class _MishFunction(torch.autograd.Function):
    """Native forward and backward, with the limits at the infinities repaired.

    One sum over ``x`` (about 2 % of the kernel's time) tells whether the
    tensor can hold an infinity; only then are the repairs run. A sum that
    overflows from large finite values merely takes the exact path too.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)  # only x is kept, as the native kernel does
        ctx.maybe_inf = _maybe_inf(x)
        return _forward(x, ctx.maybe_inf)

    @staticmethod
    def backward(ctx, grad_y: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True: a differentiable form, as ATen does
            t = torch.tanh(torch.nn.functional.softplus(x))
            grad_x = grad_y * (t + x * torch.sigmoid(x) * (1 - t * t))
        else:
            grad_x = torch.ops.aten.mish_backward(grad_y, x)
        if ctx.maybe_inf:
            grad_x = torch.where(x == float("inf"), grad_y, grad_x)  # f'(+inf) = 1
            grad_x = grad_x.masked_fill_(torch.isneginf(x), 0.0)  # f'(-inf) = 0
        return grad_x


def mish(x: torch.Tensor) -> torch.Tensor:
    """Mish activation ``x * tanh(softplus(x))``, element-wise.

    Args:
        x: Floating-point tensor of any shape (float16, bfloat16, float32,
            float64), on any device.

    Returns:
        Tensor of the same shape, dtype and device.

    Raises:
        DTypeError: If ``x`` is not a floating-point ``torch.Tensor``.
    """
    x = _check(x, "mish")
    if torch.compiler.is_compiling():  # traced graphs (torch.export, ONNX) take the plain op
        return torch.nn.functional.mish(x)
    if x.requires_grad and torch.is_grad_enabled():
        return _MishFunction.apply(x)
    return _forward(x, _maybe_inf(x))  # inference: no autograd bookkeeping


class Mish(nn.Module):
    """``nn.Module`` form of :func:`mish` (a drop-in for ``torch.nn.Mish``).

    Paper: Misra, BMVC 2020. Official code: digantamisra98/Mish.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return mish(x)


__all__ = ["Mish", "mish"]
