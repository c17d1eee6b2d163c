"""A small reverse-mode differentiation helper for the NumPy reference (float64-exact).

A :class:`Var` holds a value and, when it depends on something that wants a
gradient, the vector-Jacobian products to its parents. :func:`backward` walks
the nodes in reverse creation order (a parent is always created before its
child, so that order is topological) and accumulates ``Var.grad``.

Each op below is one function with its forward from the shared layers
(:mod:`tenfold.numpy_ref.layers`) and its VJP written out; everything is plain
NumPy in the input's dtype. Used by the CR-GAN reference for whole training
steps; any method that needs reference gradients of a small network can use it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from .layers import conv as _conv
from .layers.activations import sigmoid
from .layers.activations import softplus as _softplus

_ids = itertools.count()

Vjp = Callable[[np.ndarray], np.ndarray]


class Var:
    """A value in a computation, with the VJPs to the parents that need a gradient."""

    __slots__ = ("_id", "grad", "parents", "requires_grad", "value")

    def __init__(self, value: np.ndarray, parents: tuple[tuple[Var, Vjp], ...] = (), requires_grad: bool = False):
        self.value = np.asarray(value)
        self.parents = tuple((p, f) for p, f in parents if p.requires_grad)
        self.requires_grad = requires_grad or bool(self.parents)
        self.grad: np.ndarray | None = None
        self._id = next(_ids)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    def __repr__(self) -> str:
        return f"Var(shape={self.value.shape}, requires_grad={self.requires_grad})"


def leaf(value: np.ndarray) -> Var:
    """A variable whose gradient :func:`backward` fills in."""
    return Var(value, requires_grad=True)


def const(value: np.ndarray | Var) -> Var:
    """A constant (no gradient flows into it); a Var is detached."""
    return Var(value.value if isinstance(value, Var) else value)


def backward(root: Var, seed: np.ndarray | float = 1.0) -> None:
    """Accumulate ``d root / d leaf`` (times ``seed``) into the ``grad`` of every leaf that ``root`` depends on."""
    nodes, stack, seen = [], [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen or not node.requires_grad:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(p for p, _ in node.parents)
    grads: dict[int, np.ndarray] = {id(root): np.broadcast_to(np.asarray(seed, root.value.dtype), root.shape).copy()}
    for node in sorted(nodes, key=lambda n: n._id, reverse=True):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        if not node.parents:  # a leaf
            node.grad = g if node.grad is None else node.grad + g
            continue
        for parent, vjp in node.parents:
            pg = vjp(g)
            grads[id(parent)] = pg if id(parent) not in grads else grads[id(parent)] + pg


def _unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for i, n in enumerate(shape):
        if n == 1 and g.shape[i] != 1:
            g = g.sum(axis=i, keepdims=True)
    return g


# -- element-wise and reductions ---------------------------------------------

def add(a: Var, b: Var) -> Var:
    return Var(a.value + b.value, ((a, lambda g: _unbroadcast(g, a.shape)), (b, lambda g: _unbroadcast(g, b.shape))))


def sub(a: Var, b: Var) -> Var:
    return Var(a.value - b.value, ((a, lambda g: _unbroadcast(g, a.shape)), (b, lambda g: -_unbroadcast(g, b.shape))))


def scale(a: Var, c: float) -> Var:
    """``c * a`` for a Python scalar ``c``."""
    return Var(a.value * c, ((a, lambda g: g * c),))


def shift(a: Var, c: float) -> Var:
    """``a + c`` for a Python scalar ``c``."""
    return Var(a.value + c, ((a, lambda g: g),))


def square(a: Var) -> Var:
    return Var(a.value * a.value, ((a, lambda g: 2.0 * a.value * g),))


def total(a: Var) -> Var:
    """Sum of every element (a 0-d Var)."""
    return Var(a.value.sum(), ((a, lambda g: np.broadcast_to(g, a.shape).copy()),))


def mean(a: Var) -> Var:
    """Mean of every element."""
    n = a.value.size
    return Var(a.value.mean(), ((a, lambda g: np.broadcast_to(g / n, a.shape).copy()),))


def reshape(a: Var, shape: tuple[int, ...]) -> Var:
    return Var(a.value.reshape(shape), ((a, lambda g: g.reshape(a.shape)),))


def relu(a: Var) -> Var:
    """``max(a, 0)``; the derivative at 0 is 0 (PyTorch's and TensorFlow's choice)."""
    mask = a.value > 0
    return Var(np.where(mask, a.value, 0.0).astype(a.value.dtype), ((a, lambda g: g * mask),))


def leaky_relu(a: Var, slope: float) -> Var:
    """``a`` where ``a > 0``, else ``slope * a`` (derivative ``slope`` at 0, as PyTorch)."""
    mask = a.value > 0
    return Var(np.where(mask, a.value, a.value * slope), ((a, lambda g: np.where(mask, g, g * slope)),))


def tanh(a: Var) -> Var:
    y = np.tanh(a.value)
    return Var(y, ((a, lambda g: g * (1.0 - y * y)),))


def softplus(a: Var) -> Var:
    """``log(1 + e^a)`` through ``logaddexp``; derivative ``sigmoid(a)``."""
    return Var(_softplus(a.value), ((a, lambda g: g * sigmoid(a.value)),))


# -- layers ------------------------------------------------------------------

def linear(x: Var, weight: Var, bias: Var | None = None) -> Var:
    """``x @ weight^T + bias`` with a PyTorch-layout ``(out, in)`` weight."""
    y = x.value @ weight.value.T  # (B, out)
    parents = [(x, lambda g: g @ weight.value), (weight, lambda g: g.T @ x.value)]
    if bias is not None:
        y = y + bias.value
        parents.append((bias, lambda g: g.sum(axis=0)))
    return Var(y, tuple(parents))


def conv2d(x: Var, weight: Var, bias: Var | None, stride: int, padding: int) -> Var:
    """:func:`tenfold.numpy_ref.layers.conv.conv2d` (NCHW, ``(out, in, kh, kw)``, zero padding)."""
    y = _conv.conv2d(x.value, weight.value, None if bias is None else bias.value, stride, padding)
    parents = [(x, lambda g: _conv.conv2d_input_vjp(g, weight.value, x.shape[2:], stride, padding)),
               (weight, lambda g: _conv.conv2d_weight_vjp(x.value, g, weight.shape, stride, padding))]
    if bias is not None:
        parents.append((bias, lambda g: g.sum(axis=(0, 2, 3))))
    return Var(y, tuple(parents))


def conv_transpose2d(x: Var, weight: Var, bias: Var | None, stride: int, padding: int) -> Var:
    """:func:`tenfold.numpy_ref.layers.conv.conv_transpose2d` (``(in, out, kh, kw)`` weight)."""
    y = _conv.conv_transpose2d(x.value, weight.value, stride, padding, None if bias is None else bias.value)
    parents = [(x, lambda g: _conv.conv2d(g, weight.value, None, stride, padding)),
               (weight, lambda g: _conv.conv_transpose2d_weight_vjp(x.value, g, weight.shape, stride, padding))]
    if bias is not None:
        parents.append((bias, lambda g: g.sum(axis=(0, 2, 3))))
    return Var(y, tuple(parents))


def batch_norm_train(x: Var, weight: Var, bias: Var, eps: float) -> tuple[Var, np.ndarray, np.ndarray]:
    """BatchNorm of NCHW ``x`` with batch statistics; returns ``(y, mean, biased var)``.

    The statistics are returned as plain arrays for the running-average update
    (:mod:`tenfold.spec.batchnorm`); the gradient flows through them.
    """
    c = (1, -1, 1, 1)
    xv = x.value
    mu = xv.mean(axis=(0, 2, 3))  # (C,)
    var = ((xv - mu.reshape(c)) ** 2).mean(axis=(0, 2, 3))  # (C,)
    inv = 1.0 / np.sqrt(var + eps)  # (C,)
    xhat = (xv - mu.reshape(c)) * inv.reshape(c)  # (N, C, H, W)
    y = xhat * weight.value.reshape(c) + bias.value.reshape(c)

    def dx(g: np.ndarray) -> np.ndarray:
        gh = g * weight.value.reshape(c)  # d/dxhat
        m1 = gh.mean(axis=(0, 2, 3)).reshape(c)
        m2 = (gh * xhat).mean(axis=(0, 2, 3)).reshape(c)
        return (gh - m1 - xhat * m2) * inv.reshape(c)

    parents = ((x, dx), (weight, lambda g: (g * xhat).sum(axis=(0, 2, 3))), (bias, lambda g: g.sum(axis=(0, 2, 3))))
    return Var(y, parents), mu, var


def channel_affine(x: Var, scale_: np.ndarray, shift_: np.ndarray, weight: Var, bias: Var) -> Var:
    """Eval-mode BatchNorm: ``(x - mean) / sqrt(var + eps) * weight + bias`` with ``scale_ = 1/sqrt(var + eps)``
    and ``shift_ = mean`` fixed."""
    c = (1, -1, 1, 1)
    xhat = (x.value - shift_.reshape(c)) * scale_.reshape(c)
    y = xhat * weight.value.reshape(c) + bias.value.reshape(c)
    return Var(y, ((x, lambda g: g * (weight.value * scale_).reshape(c)),
                   (weight, lambda g: (g * xhat).sum(axis=(0, 2, 3))), (bias, lambda g: g.sum(axis=(0, 2, 3)))))


def spectral_normalize(weight: Var, u: np.ndarray, v: np.ndarray) -> tuple[Var, float]:
    """``weight / sigma`` with ``sigma = u . (W_mat v)``; ``u``, ``v`` constants, ``sigma`` differentiated.

    Returns ``(W_sn, sigma)``. VJP: ``G / sigma - (<G, W> / sigma^2) u v^T``.
    """
    w = weight.value
    w_mat = w.reshape(w.shape[0], -1)  # (out, rest)
    sigma = float(u @ (w_mat @ v))

    def vjp(g: np.ndarray) -> np.ndarray:
        inner = float((g * w).sum())
        return g / sigma - (inner / sigma**2) * np.outer(u, v).reshape(w.shape)

    return Var(w / sigma, ((weight, vjp),)), sigma


__all__ = ["Var", "add", "backward", "batch_norm_train", "channel_affine", "const", "conv2d", "conv_transpose2d",
           "leaf", "leaky_relu", "linear", "mean", "relu", "reshape", "scale", "shift", "softplus",
           "spectral_normalize", "square", "sub", "tanh", "total"]
