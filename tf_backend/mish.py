"""Mish for TensorFlow: a function and a Keras layer with a memory-lean gradient.

Paper: Misra, BMVC 2020. Official code: digantamisra98/Mish
(``Mish/TFKeras/mish.py``: ``x * tf.math.tanh(tf.math.softplus(x))``).

The gradient is a ``tf.custom_gradient`` that keeps only ``x`` for the backward
pass and recomputes ``softplus``, ``tanh`` and ``sigmoid`` there, so a training
step holds one tensor per activation where autodiff of the composite holds
the intermediate ``tanh(softplus(x))`` as well.

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


@tf.custom_gradient
def _mish(x: tf.Tensor):
    t = tf.math.tanh(tf.math.softplus(x))
    y = tf.math.multiply_no_nan(x, t)  # x * t, and 0 where t == 0 (x = -inf)

    def grad(dy: tf.Tensor) -> tf.Tensor:
        tb = tf.math.tanh(tf.math.softplus(x))
        e = tf.math.sigmoid(-x)  # exp(-softplus(x)), in (0, 1]
        sech = 2.0 * e / (1.0 + e * e)  # sech(softplus(x)) without the 1 - tanh^2 cancellation
        slope = tf.math.sigmoid(x) * (sech * sech)
        return dy * (tb + tf.math.multiply_no_nan(x, slope))

    return y, grad


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
