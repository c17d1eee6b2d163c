"""Activations for TensorFlow written so that they export to ONNX (GELU exact via ``erf`` or tanh)."""

from __future__ import annotations

import math

import tensorflow as tf

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(x: tf.Tensor, form: str) -> tf.Tensor:
    """GELU written so that it exports to ONNX: exact via ``tf.math.erf``, or the tanh form."""
    if form == "exact":
        return 0.5 * x * (1.0 + tf.math.erf(x * (1.0 / math.sqrt(2.0))))
    return 0.5 * x * (1.0 + tf.math.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))


__all__ = ["gelu"]
