"""The SAN self-attention operator (``SAM``) in plain NumPy, float64-exact, from the equations.

Math and names: :mod:`tenfold.spec.san.ops`. Official code: hszhao/SAN
``model/san.py`` (``SAM``) and the ``test_*`` references of
``lib/sa/functions/{subtraction,subtraction2,aggregation}_refpad.py``, which
build every neighbourhood with ``ReflectionPad2d`` + ``Unfold``; here
:func:`tenfold.numpy_ref.layers.conv.extract_patches` does the same (tap
``t = kh * k + kw``, the Unfold order).

Tensors inside the operator follow the official layouts: gamma runs on
``(N, C, A, L)`` with ``L = H * W`` and ``A = k^2`` (pairwise) or 1 (patchwise),
and the aggregation weights are ``(N, C_w, k^2, L)``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tenfold.spec.contracts import check_params
from tenfold.spec.errors import ShapeError, expected
from tenfold.spec.san import ops as spec

from .._arrays import as_array, dtype_name
from ..layers.activations import relu, softmax
from ..layers.conv import extract_patches
from ..layers.norm import batch_norm_params

_PAD = {"reflect": "reflect", "zero": "zero"}


def unfold(x: np.ndarray, kernel_size: int, padding: str) -> np.ndarray:
    """``(N, C, H, W) -> (N, C, k^2, H*W)``: every footprint, padded per the spec (Unfold's order)."""
    n, c, h, w = x.shape
    return extract_patches(x, kernel_size, _PAD[padding]).reshape(n, c, kernel_size ** 2, h * w)


def position_map(h: int, w: int, dtype: object = np.float64) -> np.ndarray:
    """The official ``position(H, W)``: ``(2, H, W)``, x coordinate ``linspace(-1, 1, W)`` first, then y."""
    loc_w = np.broadcast_to(np.linspace(-1.0, 1.0, w, dtype=dtype)[None, :], (h, w))
    loc_h = np.broadcast_to(np.linspace(-1.0, 1.0, h, dtype=dtype)[:, None], (h, w))
    return np.stack([loc_w, loc_h])


def conv1x1(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """A 1x1 convolution on ``(N, C, A, B)`` with a ``(O, C, 1, 1)`` weight."""
    y = np.einsum("oc,ncab->noab", weight[:, :, 0, 0], x, optimize=True)
    return y if bias is None else y + bias.reshape(1, -1, 1, 1)


def aggregation(x: object, w: object, kernel_size: int, padding: str = "reflect") -> np.ndarray:
    """``y[n, c, i] = sum_t w[n, c mod C_w, t, i] * x[n, c, i + t - pad]`` (official ``aggregation_*pad``).

    Args:
        x: ``(N, C, H, W)`` values (``x3``).
        w: ``(N, C_w, k^2, H*W)`` weights; ``C`` must be a multiple of ``C_w``
            (channel ``c`` uses weight channel ``c mod C_w``: interleaved sharing).
        kernel_size: ``k`` (odd).
        padding: ``"reflect"`` or ``"zero"``.

    Returns:
        ``(N, C, H, W)``.
    """
    x, w = as_array("aggregation", x), as_array("aggregation", w)
    n, c, h, wd = x.shape
    k2 = kernel_size ** 2
    if w.ndim != 4 or w.shape[0] != n or w.shape[2:] != (k2, h * wd) or c % w.shape[1]:
        raise ShapeError(expected("aggregation", f"weights (N, C_w, {k2}, {h * wd}) with C_w dividing {c}",
                                  f"shape {w.shape}"))
    cw = w.shape[1]
    patches = unfold(x, kernel_size, padding).reshape(n, c // cw, cw, k2, h * wd)  # channel c = g * C_w + c_w
    return (w[:, None] * patches).sum(axis=3).reshape(n, c, h, wd)


def relation(x1: np.ndarray, x2: np.ndarray, config: spec.SAMConfig) -> np.ndarray:
    """The relation ``delta`` of :mod:`tenfold.spec.san.ops`, before the position channels.

    Returns:
        ``(N, C_delta, k^2, L)`` (pairwise) or ``(N, C_delta, 1, L)`` (patchwise).
    """
    n, r, h, w = x1.shape
    k2 = config.taps
    xi = x1.reshape(n, r, 1, h * w)  # (N, r, 1, L): phi(x_i)
    xj = unfold(x2, config.kernel_size, config.padding)  # (N, r, k^2, L): psi(x_j), j in R(i)
    rel = config.rel
    if config.sa_type == "pairwise":
        if rel == "subtraction":
            return xi - xj
        if rel == "summation":
            return xi + xj
        if rel == "hadamard":
            return xi * xj
        if rel == "concatenation":
            return np.concatenate([np.broadcast_to(xi, xj.shape), xj], axis=1)  # (N, 2r, k^2, L)
        return (xi * xj).sum(axis=1, keepdims=True)  # dot: (N, 1, k^2, L)
    if rel == "concatenation":
        return np.concatenate([xi, xj.reshape(n, r * k2, 1, h * w)], axis=1)  # (N, r (k^2 + 1), 1, L)
    if rel == "star":
        return (xi * xj).sum(axis=1)[:, :, None]  # (N, k^2, 1, L): x1_i . x2_j
    xk = unfold(x1, config.kernel_size, config.padding)  # (N, r, k^2, L): x1_j
    clique = np.einsum("nrjl,nrml->njml", xk, xj, optimize=True)  # (N, k^2, k^2, L): x1_j . x2_m
    return clique.reshape(n, k2 * k2, 1, h * w)


def position_delta(params: Mapping[str, np.ndarray], config: spec.SAMConfig, h: int, w: int,
                   prefix: str = "") -> np.ndarray:
    """``p_i - p_j`` of ``p = conv_p(position(H, W))``, ``(1, 2, k^2, L)`` (official ``Subtraction``)."""
    loc = position_map(h, w, params[f"{prefix}conv_p.weight"].dtype)[None]  # (1, 2, H, W)
    p = conv1x1(loc, params[f"{prefix}conv_p.weight"], params[f"{prefix}conv_p.bias"])  # (1, 2, H, W)
    return p.reshape(1, 2, 1, h * w) - unfold(p, config.kernel_size, config.padding)


class _BN:
    """BatchNorm through :func:`batch_norm_params`, recording train-mode updates (counter included)."""

    def __init__(self, params, config, training: bool, updates: dict | None):
        self.params, self.config, self.training, self.updates = params, config, training, updates

    def __call__(self, x: np.ndarray, prefix: str) -> np.ndarray:
        y = batch_norm_params(x, self.params, prefix, training=self.training, config=self.config,
                              updates=self.updates)
        counter = prefix + "num_batches_tracked"
        if self.training and self.updates is not None and counter in self.params:
            self.updates[counter] = np.asarray(self.params[counter]) + 1
        return y


def gamma(z: np.ndarray, params: Mapping[str, np.ndarray], prefix: str, bn: _BN) -> np.ndarray:
    """``conv_w``: BN, ReLU, 1x1 conv (no bias), BN, ReLU, 1x1 conv (bias), on ``(N, C, A, L)``."""
    g = prefix + "conv_w."
    z = relu(bn(z, g + "0."))
    z = relu(bn(conv1x1(z, params[g + "2.weight"]), g + "3."))
    return conv1x1(z, params[g + "5.weight"], params[g + "5.bias"])


def attention_weights(x: np.ndarray, params: Mapping[str, np.ndarray], config: spec.SAMConfig, bn: _BN,
                      prefix: str = "") -> np.ndarray:
    """The aggregation weights ``(N, C_w, k^2, L)`` of a ``SAM`` on ``x``."""
    p = prefix
    n, _, h, w = x.shape
    x1 = conv1x1(x, params[p + "conv1.weight"], params[p + "conv1.bias"])  # (N, r, H, W)
    x2 = conv1x1(x, params[p + "conv2.weight"], params[p + "conv2.bias"])  # (N, r, H, W)
    delta = relation(x1, x2, config)
    if config.sa_type == "pairwise":
        if config.uses_position:
            pos = position_delta(params, config, h, w, p)  # (1, 2, k^2, L)
            delta = np.concatenate([delta, np.broadcast_to(pos, (n, *pos.shape[1:]))], axis=1)
        return softmax(gamma(delta, params, p, bn), axis=2)  # (N, C_w, k^2, L), softmax over the footprint
    out = gamma(delta, params, p, bn)  # (N, k^2 C_w, 1, L): channel c_w * k^2 + t
    return out.reshape(n, config.weight_planes, config.taps, h * w)


def check_x(where: str, x: object, config: spec.SAMConfig, training: bool) -> np.ndarray:
    x = as_array(where, x)
    spec.check_dtype(dtype_name(x.dtype), where)
    spec.check_input(where, x.shape, config)
    if training:
        spec.check_train_batch(where, x.shape[0], x.shape[2], x.shape[3])
    return x


def sam(x: object, params: Mapping[str, np.ndarray], config: spec.SAMConfig, *, training: bool = False,
        updates: dict | None = None, prefix: str = "") -> np.ndarray:
    """One SAN self-attention operator (official ``SAM.forward``), pairwise or patchwise.

    Args:
        x: ``(N, in_planes, H, W)``.
        params: Canonical entries (:func:`tenfold.spec.san.ops.sam_param_shapes`; ``num_batches_tracked`` optional).
        config: The operator.
        training: BatchNorms of gamma with batch statistics, recording new running statistics in ``updates``.
        updates: Receives every updated BatchNorm entry under its canonical name (train mode).
        prefix: Name prefix of the entries (``"layer1.0.sam."``).

    Returns:
        ``(N, out_planes, H, W)``.

    Raises:
        ShapeError, DTypeError, CheckpointError: Bad input or parameters.
    """
    x = check_x("sam", x, config, training)
    if not prefix:
        check_params(params, spec.sam_param_shapes(config), "sam", optional=tuple(
            k for k in spec.sam_param_shapes(config) if spec.is_counter(k)))
    bn = _BN(params, config.batchnorm, training, updates)
    w = attention_weights(x, params, config, bn, prefix)
    x3 = conv1x1(x, params[prefix + "conv3.weight"], params[prefix + "conv3.bias"])  # (N, out, H, W)
    return aggregation(x3, w, config.kernel_size, config.padding)


def init_params(config: spec.SAMConfig, rng: np.random.Generator, dtype: str = "float64",
                prefix: str = "") -> dict[str, np.ndarray]:
    """Random parameters of one ``SAM`` (He-normal convs, BatchNorm statistics away from the identity)."""
    return random_params(spec.sam_param_shapes(config, prefix), rng, dtype)


def random_params(shapes: Mapping[str, tuple[int, ...]], rng: np.random.Generator,
                  dtype: str = "float64") -> dict[str, np.ndarray]:
    """He-normal conv/linear weights, biases ``N(0, 0.1)``, BatchNorm weight and running var ``U(0.5, 1.5)``,
    running mean ``N(0, 0.1)``, counters 0 (int64)."""
    out = {}
    for name, shape in shapes.items():
        if spec.is_counter(name):
            out[name] = np.zeros((), np.int64)
            continue
        if name.endswith("running_var") or (name.endswith(".weight") and len(shape) == 1):
            v = rng.uniform(0.5, 1.5, shape)
        elif name.endswith("running_mean") or len(shape) == 1:
            v = rng.normal(0.0, 0.1, shape)
        else:
            v = rng.normal(0.0, np.sqrt(2.0 / np.prod(shape[1:])), shape)
        out[name] = v.astype(dtype)
    return out


__all__ = ["aggregation", "attention_weights", "conv1x1", "gamma", "init_params", "position_delta", "position_map",
           "random_params", "relation", "sam", "unfold"]
