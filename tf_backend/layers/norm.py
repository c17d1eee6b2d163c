"""BatchNorm for TensorFlow/Keras (NHWC) with the spec's conventions, not Keras' own.

Paper: Ioffe & Szegedy, ICML 2015; conventions of :mod:`tenfold.spec.batchnorm`.
Unlike ``keras.layers.BatchNormalization``, the momentum is the weight of the
*new* batch (Keras: of the old value, ``1 - m``) and the running variance takes
the *unbiased* batch variance ``var * n / (n - 1)`` (Keras: the biased one), so
running statistics match PyTorch and the official MegEngine code step by step.
float16 and bfloat16 inputs are normalised in float32 and rounded once.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tenfold.spec import batchnorm as spec
from tenfold.spec.dtypes import check_float_dtype

from .._tensors import as_tensor, dtype_name

_HALF = (tf.float16, tf.bfloat16)


def check_input(where: str, x: object, channels: int, training: bool) -> tf.Tensor:
    """Validate an NHWC float input (tenfold errors); the spec checks the NCHW-ordered shape."""
    x = as_tensor(where, x)
    check_float_dtype(where, dtype_name(x.dtype))
    shape = tuple(x.shape)
    nchw = (shape[0], shape[3], shape[1], shape[2]) if len(shape) == 4 else shape
    if len(shape) == 4 and None in nchw:  # symbolic batch or size: check rank and channels only
        spec.check_input(where, tuple(1 if d is None else d for d in nchw), channels, False)
    else:
        spec.check_input(where, nchw, channels, training)
    return x


@keras.saving.register_keras_serializable(package="tenfold")
class BatchNorm(keras.layers.Layer):
    """BatchNorm over the last (channel) axis of NHWC tensors, in the spec's conventions.

    Args:
        channels: Number of channels ``C``.
        config: Epsilon and momentum (spec convention: ``running = (1 - m) running + m batch``;
            default :class:`tenfold.spec.batchnorm.BatchNormConfig`), as the PyTorch ``BatchNorm2d``.

    Weights: ``weight`` (gamma), ``bias`` (beta), ``running_mean``, ``running_var`` (non-trainable).
    """

    def __init__(self, channels: int, config: spec.BatchNormConfig | None = None, **kwargs):
        super().__init__(**kwargs)
        self.config = spec.BatchNormConfig() if config is None else spec.BatchNormConfig.coerce(config, "BatchNorm")
        self.channels = channels
        self.weight = self.add_weight(shape=(channels,), initializer="ones", name="weight")
        self.bias = self.add_weight(shape=(channels,), initializer="zeros", name="bias")
        self.running_mean = self.add_weight(shape=(channels,), initializer="zeros", trainable=False,
                                            name="running_mean")
        self.running_var = self.add_weight(shape=(channels,), initializer="ones", trainable=False, name="running_var")
        self.built = True

    def build(self, input_shape=None) -> None:
        self.built = True

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        x = check_input("BatchNorm", inputs, self.channels, bool(training))
        out_dtype = x.dtype
        x = tf.cast(x, tf.float32) if x.dtype in _HALF else x
        cast = lambda v: tf.cast(v, x.dtype)  # noqa: E731
        if training:
            mean, var = tf.nn.moments(x, axes=[0, 1, 2])  # (C,) biased
            n = tf.cast(tf.shape(x)[0] * tf.shape(x)[1] * tf.shape(x)[2], x.dtype)
            m = self.config.momentum
            self.running_mean.assign(tf.cast((1 - m) * cast(self.running_mean) + m * mean, self.running_mean.dtype))
            unbiased = var * n / (n - 1)
            self.running_var.assign(tf.cast((1 - m) * cast(self.running_var) + m * unbiased, self.running_var.dtype))
        else:
            mean, var = cast(self.running_mean), cast(self.running_var)
        y = tf.nn.batch_normalization(x, mean, var, cast(self.bias), cast(self.weight), self.config.eps)
        return tf.cast(y, out_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "channels": self.channels, "eps": self.config.eps,
                "momentum": self.config.momentum}

    @classmethod
    def from_config(cls, config: dict) -> BatchNorm:
        config = dict(config)
        bn = spec.BatchNormConfig(config.pop("eps"), config.pop("momentum"))
        return cls(config.pop("channels"), bn, **config)


def layer_norm(x: tf.Tensor, scale: tf.Tensor, bias: tf.Tensor, eps: float) -> tf.Tensor:
    """LayerNorm over the last axis (biased variance); ``eps`` always explicit (Keras defaults to 1e-3)."""
    mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
    return (x - mean) * tf.math.rsqrt(var + eps) * scale + bias


__all__ = ["BatchNorm", "check_input", "layer_norm"]
