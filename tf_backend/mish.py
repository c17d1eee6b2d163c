"""Mish for TensorFlow: a function and a Keras layer with a memory-lean gradient.

Paper: Misra, BMVC 2020. Official code: digantamisra98/Mish
(``Mish/TFKeras/mish.py``: ``x * tf.math.tanh(tf.math.softplus(x))``).

Both passes compute ``tanh(softplus(x))`` from two sigmoids (see
``_sigmoids``). The gradient is a ``tf.custom_gradient`` that keeps only ``x``
for the backward pass and recomputes what it needs, so a training step holds
one tensor per activation where autodiff of the composite also holds
``tanh(softplus(x))``. The backward pass, and the forward pass when run
eagerly, are each one XLA-compiled element-wise kernel (``jit_compile=True``)
instead of one TF op per sub-expression; XLA compiles once per input shape
and dtype. Inside graphs the forward pass is plain TF ops, so that tf2onnx
converts models that use it.

Differences from the official implementation (and ``keras.activations.mish``):
the composite returns NaN at ``x = -inf`` (``-inf * 0``); here a select
restores ``mish(-inf) = 0`` and the gradient is 1 at ``+inf`` and 0 at
``-inf``, as the spec requires. Note that ``keras.activations.mish`` inside a
``tf.function`` is rewritten by TF's graph optimiser into a fused kernel that
returns 0 for ``x`` below about -16 in float32 (relative error 1); the form
used here is not rewritten, so eager and graph results agree.
float16 and bfloat16 inputs (also under a mixed-precision policy) are
computed in float32 and rounded once.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tenfold.spec import mish as spec

from ._tensors import ArrayInput, as_tensor, dtype_name

_HALF = (tf.float16, tf.bfloat16)


def _sigmoids(x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """``s = sigmoid(x)``, ``e = sigmoid(-x) = exp(-softplus(x))``, ``d = 1 + e^2`` and ``tanh(softplus(x))``.

    ``tanh(softplus(x)) = (1 - e^2) / (1 + e^2) = s (1 + e) / (1 + e^2)``: the last
    form has no ``1 - e^2`` cancellation for very negative ``x``, and it is not
    the ``x * tanh(softplus(x))`` pattern that TF's graph optimiser rewrites
    into a fused Mish kernel (which returns 0 below about -16 in float32).
    """
    s = tf.math.sigmoid(x)
    e = tf.math.sigmoid(-x)
    d = 1.0 + e * e
    return s, e, d, s * (1.0 + e) / d


def _forward_ops(x: tf.Tensor) -> tf.Tensor:
    y = x * _sigmoids(x)[3]
    return tf.where(tf.equal(x, tf.constant(-float("inf"), x.dtype)), tf.zeros_like(x), y)  # -inf * 0 -> 0


_forward_fused = tf.function(_forward_ops, jit_compile=True, reduce_retracing=True)


@tf.function(jit_compile=True, reduce_retracing=True)
def _backward(x: tf.Tensor, dy: tf.Tensor) -> tf.Tensor:
    # f'(x) = tanh(sp) + x sigmoid(x) sech^2(sp), sech^2(sp) = 4 e^2 / (1 + e^2)^2
    s, e, d, t = _sigmoids(x)
    x_finite = tf.where(tf.math.is_inf(x), tf.zeros_like(x), x)  # the slope is 0 at +-inf: inf * 0 -> 0
    # (a select, not multiply_no_nan, which would split the XLA fusion and triple the memory)
    return dy * (t + x_finite * (s * 4.0 * e * e / (d * d)))


@tf.custom_gradient
def _mish(x: tf.Tensor):
    def grad(dy: tf.Tensor) -> tf.Tensor:
        return _backward(x, dy)

    # Eagerly, one fused XLA kernel, called on stop_gradient(x) so that a recording tape does not make
    # the compiled function also return its intermediates for a gradient we never use. Inside a graph
    # (tf.function, Keras fit, tf2onnx export) plain ops, which the caller's XLA may fuse and which
    # converters understand.
    return (_forward_fused(tf.stop_gradient(x)) if tf.executing_eagerly() else _forward_ops(x)), grad


def mish(x: tf.Tensor) -> tf.Tensor:
    """Mish activation ``x * tanh(softplus(x))``, element-wise.

    Args:
        x: Floating-point tensor or array-like (float16, bfloat16, float32,
            float64). Works eagerly and inside ``tf.function``.

    Returns:
        Tensor of the same shape and dtype.

    Raises:
        DTypeError: If ``x`` is not floating-point.
    """
    x = as_tensor("mish", x)
    spec.check_dtype(dtype_name(x.dtype), "mish")
    if x.dtype in _HALF:
        return tf.cast(_mish(tf.cast(x, tf.float32)), x.dtype)
    return _mish(x)


@keras.saving.register_keras_serializable(package="tenfold")
class Mish(ArrayInput, keras.layers.Layer):
    """Keras layer form of :func:`mish`; follows the layer's dtype policy.

    Paper: Misra, BMVC 2020. Official code: digantamisra98/Mish.
    """

    INPUT_WHERE = "mish"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return mish(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape


__all__ = ["Mish", "mish"]
