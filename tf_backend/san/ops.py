"""The SAN self-attention operator (``SAM``) for TensorFlow/Keras, NHWC, traceable and exportable.

Paper: Zhao, Jia, Koltun, CVPR 2020, Section 3. Official code: hszhao/SAN
``model/san.py`` (``SAM``); math and canonical names in :mod:`tenfold.spec.san.ops`.

NHWC throughout. Inside the operator, gamma runs on ``(N, H*W, A, C)`` tensors
(``A = k^2`` taps for pairwise, 1 for patchwise; channels last), so the
shared :class:`~tenfold.tf_backend.layers.norm.BatchNorm` and 1x1
:class:`~tenfold.tf_backend.layers.conv.Conv` apply unchanged and train-mode
statistics span ``N * k^2 * H * W`` values as in the official code.
Footprints are gathered by padding first (``tf.pad``, ``REFLECT`` or
``CONSTANT``) and stacking the ``k^2`` shifted slices: no
``tf.image.extract_patches`` (tf2onnx cannot convert it with a dynamic batch)
and no ``depthwise_conv2d`` with explicit padding (it aborts inside
``tf.function`` on TF 2.21). Stacking on the last axis gives the official
Unfold channel order ``c * k^2 + t`` for the patchwise concatenation.

Differences from the official implementation: channels last; stride and
dilation 1 only; Keras initialisers. BatchNorm's ``num_batches_tracked``
(a PyTorch counter) is not kept: ``get_params`` omits it and ``load_params``
ignores it.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tenfold.spec.errors import ShapeError, expected
from tenfold.spec.san import ops as spec

from .._tensors import as_tensor, dtype_name
from ..layers.conv import Conv
from ..layers.norm import BatchNorm


def pad(x: tf.Tensor, p: int, padding: str) -> tf.Tensor:
    """Pad H and W of an NHWC tensor by ``p`` (``"reflect"``: the edge not repeated, as ReflectionPad2d)."""
    if p == 0:
        return x
    return tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], mode="REFLECT" if padding == "reflect" else "CONSTANT")


def _size(x: tf.Tensor) -> tuple:
    """``(H, W)`` as Python ints when static, else scalar tensors."""
    shape = tf.shape(x)
    return tuple(x.shape[i] if x.shape[i] is not None else shape[i] for i in (1, 2))


def footprints(x: tf.Tensor, kernel_size: int, padding: str, axis: int = -2) -> tf.Tensor:
    """Every ``k x k`` footprint of an NHWC map: ``(N, H, W, k^2, C)`` (``axis=-2``) or ``(N, H, W, C, k^2)``."""
    k = kernel_size
    h, w = _size(x)
    xp = pad(x, k // 2, padding)
    return tf.stack([xp[:, i:i + h, j:j + w, :] for i in range(k) for j in range(k)], axis=axis)


def position_map(h, w, dtype) -> tf.Tensor:
    """The official ``position(H, W)`` as NHWC ``(1, H, W, 2)``: channel 0 the x coordinate, channel 1 the y."""
    loc_w = tf.linspace(tf.constant(-1.0, dtype), tf.constant(1.0, dtype), w)
    loc_h = tf.linspace(tf.constant(-1.0, dtype), tf.constant(1.0, dtype), h)
    grid = tf.stack([tf.broadcast_to(loc_w[None, :], tf.stack([h, w])),
                     tf.broadcast_to(loc_h[:, None], tf.stack([h, w]))], axis=-1)
    return grid[None]


def aggregation(x: tf.Tensor, w: tf.Tensor, kernel_size: int, padding: str = "reflect") -> tf.Tensor:
    """``y[n, i, c] = sum_t w[n, i, t, c mod C_w] * x[n, i + t - pad, c]`` (official ``Aggregation``, NHWC).

    Args:
        x: ``(N, H, W, C)``.
        w: ``(N, H*W, k^2, C_w)`` with ``C_w`` dividing ``C`` (channel ``c`` uses weight ``c mod C_w``).
        kernel_size: ``k``.
        padding: ``"reflect"`` or ``"zero"``.

    Returns:
        ``(N, H, W, C)``.
    """
    c = x.shape[-1]
    cw = w.shape[-1]
    h, wd = _size(x)
    patches = footprints(x, kernel_size, padding)  # (N, H, W, k^2, C)
    patches = tf.reshape(patches, tf.stack([-1, h, wd, kernel_size ** 2, c // cw, cw]))  # channel g * C_w + c_w
    wt = tf.reshape(w, tf.stack([-1, h, wd, kernel_size ** 2, 1, cw]))
    return tf.reshape(tf.reduce_sum(patches * wt, axis=3), tf.stack([-1, h, wd, c]))


def relation(x1: tf.Tensor, x2: tf.Tensor, config: spec.SAMConfig) -> tf.Tensor:
    """The relation ``delta``: ``(N, L, k^2, C_d)`` (pairwise) or ``(N, L, 1, C_d)`` (patchwise), NHWC maps in."""
    r, k2, rel = config.rel_planes, config.taps, config.rel
    h, w = _size(x1)
    xi = tf.reshape(x1, tf.stack([-1, h * w, 1, r]))
    if config.sa_type == "pairwise":
        xj = tf.reshape(footprints(x2, config.kernel_size, config.padding), tf.stack([-1, h * w, k2, r]))
        if rel == "subtraction":
            return xi - xj
        if rel == "summation":
            return xi + xj
        if rel == "hadamard":
            return xi * xj
        if rel == "concatenation":
            return tf.concat([xi + tf.zeros_like(xj), xj], axis=-1)
        return tf.reduce_sum(xi * xj, axis=-1, keepdims=True)
    if rel == "concatenation":  # unfold channel c k^2 + t: stack the taps last
        xj = tf.reshape(footprints(x2, config.kernel_size, config.padding, axis=-1), tf.stack([-1, h * w, 1, r * k2]))
        return tf.concat([xi, xj], axis=-1)
    xj = tf.reshape(footprints(x2, config.kernel_size, config.padding), tf.stack([-1, h * w, k2, r]))
    if rel == "star":
        return tf.reshape(tf.reduce_sum(xi * xj, axis=-1), tf.stack([-1, h * w, 1, k2]))
    xk = tf.reshape(footprints(x1, config.kernel_size, config.padding), tf.stack([-1, h * w, k2, r]))
    clique = tf.einsum("nljr,nlmr->nljm", xk, xj)  # x1_j . x2_m: channel t_j k^2 + t_m
    return tf.reshape(clique, tf.stack([-1, h * w, 1, k2 * k2]))


def check_input(where: str, x: object, config: spec.SAMConfig, training: bool) -> tf.Tensor:
    """Validate an NHWC input with the spec's NCHW-ordered rules (same errors as every layer)."""
    x = as_tensor(where, x)
    spec.check_dtype(dtype_name(x.dtype), where)
    shape = tuple(x.shape)
    if len(shape) != 4:
        raise ShapeError(expected(where, f"a 4-D input (N, H, W, {config.in_planes})", f"shape {shape}"))
    spec.check_input(where, (shape[0], shape[3], shape[1], shape[2]), config)
    if training and None not in shape:
        spec.check_train_batch(where, shape[0], shape[1], shape[2])
    return x


def _bn_vars(bn: BatchNorm) -> dict:
    return {k: (getattr(bn, k), "vec") for k in ("weight", "bias", "running_mean", "running_var")}


def _conv_vars(conv: Conv) -> dict:
    return dict(conv.canonical())


@keras.saving.register_keras_serializable(package="tenfold")
class SAM(keras.layers.Layer):
    """SAN's self-attention operator, pairwise or patchwise, NHWC.

    Paper: Zhao, Jia, Koltun, CVPR 2020, Eqs. (1)-(5). Official code: hszhao/SAN ``model/san.py``.

    Args:
        config: The operator (:class:`tenfold.spec.san.ops.SAMConfig`).
        **kwargs: Keras layer arguments (``dtype`` for float64).
    """

    def __init__(self, config: spec.SAMConfig | None = None, **kwargs):
        super().__init__(**kwargs)
        self.config = c = config or spec.SAMConfig()
        p = self.dtype_policy
        self.conv1 = Conv(c.in_planes, c.rel_planes, 1, dtype=p)
        self.conv2 = Conv(c.in_planes, c.rel_planes, 1, dtype=p)
        self.conv3 = Conv(c.in_planes, c.out_planes, 1, dtype=p)
        self.bn0 = BatchNorm(c.gamma_in, c.batchnorm, dtype=p)
        self.conv_w2 = Conv(c.gamma_in, c.gamma_hidden, 1, bias=False, dtype=p)
        self.bn3 = BatchNorm(c.gamma_hidden, c.batchnorm, dtype=p)
        self.conv_w5 = Conv(c.gamma_hidden, c.gamma_out, 1, dtype=p)
        self.conv_p = Conv(2, 2, 1, dtype=p) if c.uses_position else None
        self.built = True

    def build(self, input_shape=None) -> None:
        self.built = True

    def _position(self, x: tf.Tensor) -> tf.Tensor:
        """``p_i - p_j`` as ``(1, L, k^2, 2)``."""
        c = self.config
        h, w = _size(x)
        p = self.conv_p(position_map(h, w, x.dtype))  # (1, H, W, 2)
        pj = tf.reshape(footprints(p, c.kernel_size, c.padding), tf.stack([1, h * w, c.taps, 2]))
        return tf.reshape(p, tf.stack([1, h * w, 1, 2])) - pj

    def gamma(self, z: tf.Tensor, training) -> tf.Tensor:
        """``conv_w``: BN, ReLU, 1x1 conv, BN, ReLU, 1x1 conv on ``(N, L, A, C)``."""
        z = tf.nn.relu(self.bn0(z, training=training))
        z = tf.nn.relu(self.bn3(self.conv_w2(z), training=training))
        return self.conv_w5(z)

    def weights_of(self, x: tf.Tensor, training=None) -> tf.Tensor:
        """The aggregation weights ``(N, L, k^2, C_w)`` of an NHWC input."""
        c = self.config
        h, w = _size(x)
        delta = relation(self.conv1(x), self.conv2(x), c)
        if c.sa_type == "pairwise":
            if c.uses_position:
                pos = self._position(x)
                delta = tf.concat([delta, tf.broadcast_to(pos, tf.concat([tf.shape(delta)[:3], [2]], 0))], axis=-1)
            return tf.nn.softmax(self.gamma(delta, training), axis=2)  # softmax over the footprint
        out = tf.reshape(self.gamma(delta, training), tf.stack([-1, h * w, c.weight_planes, c.taps]))
        return tf.transpose(out, (0, 1, 3, 2))  # channel c_w k^2 + t -> (N, L, k^2, C_w)

    def call(self, inputs, training=None):
        x = check_input("SAM", inputs, self.config, bool(training))
        w = self.weights_of(x, training)
        return aggregation(self.conv3(x), w, self.config.kernel_size, self.config.padding)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], self.config.out_planes)

    def canonical(self) -> dict:
        """Canonical name -> (variable, layout tag)."""
        out = {f"conv{i}.{k}": v for i in (1, 2, 3) for k, v in _conv_vars(getattr(self, f"conv{i}")).items()}
        out.update({f"conv_w.0.{k}": v for k, v in _bn_vars(self.bn0).items()})
        out["conv_w.2.weight"] = self.conv_w2.canonical()["weight"]
        out.update({f"conv_w.3.{k}": v for k, v in _bn_vars(self.bn3).items()})
        out.update({f"conv_w.5.{k}": v for k, v in _conv_vars(self.conv_w5).items()})
        if self.conv_p is not None:
            out.update({f"conv_p.{k}": v for k, v in _conv_vars(self.conv_p).items()})
        return out


__all__ = ["SAM", "aggregation", "check_input", "footprints", "pad", "position_map", "relation"]
