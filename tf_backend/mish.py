"""Mish for TensorFlow: a function and a Keras layer with a memory-lean gradient.

Paper: Misra, BMVC 2020. Official code: digantamisra98/Mish
(``Mish/TFKeras/mish.py``: ``x * tf.math.tanh(tf.math.softplus(x))``).

The gradient is a ``tf.custom_gradient`` that keeps only ``x`` for the backward
pass and recomputes what it needs from two sigmoids, so a training step holds
one tensor per activation where autodiff of the composite also holds
``tanh(softplus(x))``. Forward and backward are each one XLA-compiled
element-wise kernel (``jit_compile=True``), fused instead of one TF op per
sub-expression; XLA compiles once per input shape and dtype.

Differences from the official implementation (and ``keras.activations.mish``):
the composite returns NaN at ``x = -inf`` (``-inf * 0``); here the products
that meet ``inf * 0`` use ``tf.math.multiply_no_nan``, so ``mish(-inf) = 0``
and the gradient is 1 at ``+inf`` and 0 at ``-inf``, as the spec requires.
float16 and bfloat16 inputs (also under a mixed-precision policy) are
computed in float32 and rounded once.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tenfold.spec import mish as spec

from ._tensors import as_tensor, dtype_name

_HALF = (tf.float16, tf.bfloat16)


@tf.function(jit_compile=True, reduce_retracing=True)
def _forward(x: tf.Tensor) -> tf.Tensor:
    t = tf.math.tanh(tf.math.softplus(x))
    return tf.math.multiply_no_nan(x, t)  # x * t, and 0 where t == 0 (x = -inf)


@tf.function(jit_compile=True, reduce_retracing=True)
def _backward(x: tf.Tensor, dy: tf.Tensor) -> tf.Tensor:
    # With s = sigmoid(x) and e = sigmoid(-x) = exp(-softplus(x)):
    #   tanh(softplus(x)) = s (1 + e) / (1 + e^2)   (no 1 - e^2 cancellation)
    #   sech^2(softplus(x)) = 4 e^2 / (1 + e^2)^2
    s = tf.math.sigmoid(x)
    e = tf.math.sigmoid(-x)
    e2 = e * e
    d = 1.0 + e2
    t = s * (1.0 + e) / d
    x_finite = tf.where(tf.math.is_inf(x), tf.zeros_like(x), x)  # the slope is 0 at +-inf: inf * 0 -> 0
    # (a select, not multiply_no_nan, which would split the XLA fusion and triple the memory)
    return dy * (t + x_finite * (s * 4.0 * e2 / (d * d)))


@tf.custom_gradient
def _mish(x: tf.Tensor):
    def grad(dy: tf.Tensor) -> tf.Tensor:
        return _backward(x, dy)

    return _forward(x), grad


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
class Mish(keras.layers.Layer):
    """Keras layer form of :func:`mish`; follows the layer's dtype policy.

    Paper: Misra, BMVC 2020. Official code: digantamisra98/Mish.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return mish(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape


__all__ = ["Mish", "mish"]
