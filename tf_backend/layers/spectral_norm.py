"""Spectrally normalised layers for TensorFlow/Keras (NHWC), in the conventions of :mod:`tenfold.spec.spectral_norm`.

Paper: Miyato et al., ICLR 2018, Algorithm 1. Unlike ``keras.layers.SpectralNormalization``
(which stores only ``u``, stops the gradient through ``sigma`` and writes
``W / sigma`` back into the kernel in training mode), these layers keep the
raw kernel, store ``u`` and ``v`` and differentiate ``sigma = u . W v`` through
``W``, as PyTorch's ``torch.nn.utils.spectral_norm``: a training-mode call
advances the state once (``n_power_iterations`` steps, no gradient), then
uses it. ``v`` is kept in the canonical (PyTorch) order of the flattened
``(in, kh, kw)`` axes, so states move between frameworks unchanged.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from tenfold.spec.spectral_norm import SpectralNormConfig


def _normalize(a: tf.Tensor, eps: float) -> tf.Tensor:
    """``a / max(||a||, eps)`` (``torch.nn.functional.normalize``)."""
    return a / tf.maximum(tf.norm(a), tf.cast(eps, a.dtype))


@keras.saving.register_keras_serializable(package="tenfold")
class SpectralNorm(keras.layers.Layer):
    """A raw kernel (TF layout) with its power-iteration state; :meth:`normalized_kernel` gives ``W / sigma``.

    Args:
        kernel_shape: ``(kh, kw, in, out)`` for a conv, ``(in, out)`` for a dense layer.
        config: Iterations, eps and order.
    """

    def __init__(self, kernel_shape: tuple[int, ...], config: SpectralNormConfig | None = None, **kwargs):
        super().__init__(**kwargs)
        self.sn_config = config or SpectralNormConfig()
        self.kernel_shape = tuple(kernel_shape)
        out, rest = kernel_shape[-1], math.prod(kernel_shape[:-1])
        self.kernel = self.add_weight(shape=self.kernel_shape, initializer=keras.initializers.RandomNormal(0.0, 0.02),
                                      name="kernel")
        self.u = self.add_weight(shape=(out,), initializer="random_normal", trainable=False, name="u")
        self.v = self.add_weight(shape=(rest,), initializer="random_normal", trainable=False, name="v")
        self.u.assign(_normalize(self.u, self.sn_config.eps))
        self.v.assign(_normalize(self.v, self.sn_config.eps))

    def weight_matrix(self) -> tf.Tensor:
        """``W_mat`` (out, rest) in PyTorch's order: conv ``(kh, kw, in, out) -> (out, in, kh, kw)``."""
        k = tf.convert_to_tensor(self.kernel)
        if len(self.kernel_shape) == 4:
            k = tf.transpose(k, (3, 2, 0, 1))  # (out, in, kh, kw)
        else:
            k = tf.transpose(k)  # (out, in)
        return tf.reshape(k, (self.kernel_shape[-1], -1))

    def normalized_kernel(self, training: bool) -> tf.Tensor:
        """``kernel / sigma`` in TF layout; in training mode the state advances first (once per call)."""
        w = self.weight_matrix()  # (out, rest)
        u, v = tf.convert_to_tensor(self.u), tf.convert_to_tensor(self.v)
        if training:
            ws, eps = tf.stop_gradient(w), self.sn_config.eps
            for _ in range(self.sn_config.n_power_iterations):
                if self.sn_config.order == "vu":
                    v = _normalize(tf.linalg.matvec(ws, u, transpose_a=True), eps)
                    u = _normalize(tf.linalg.matvec(ws, v), eps)
                else:
                    u = _normalize(tf.linalg.matvec(ws, v), eps)
                    v = _normalize(tf.linalg.matvec(ws, u, transpose_a=True), eps)
            self.u.assign(u)
            self.v.assign(v)
        u, v = tf.stop_gradient(u), tf.stop_gradient(v)
        sigma = tf.tensordot(u, tf.linalg.matvec(w, v), 1)
        return tf.convert_to_tensor(self.kernel) / sigma

    def canonical_sn(self) -> dict[str, tuple[keras.Variable, str]]:
        tag = "conv" if len(self.kernel_shape) == 4 else "dense"
        return {"weight_orig": (self.kernel, tag), "weight_u": (self.u, "vec"), "weight_v": (self.v, "vec")}


@keras.saving.register_keras_serializable(package="tenfold")
class SNConv(SpectralNorm):
    """A spectrally normalised 2-D convolution with a bias, NHWC, explicit symmetric zero padding."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, padding: int = 0,
                 config: SpectralNormConfig | None = None, **kwargs):
        super().__init__((kernel, kernel, c_in, c_out), config, **kwargs)
        self.stride, self.padding = stride, padding
        self.bias = self.add_weight(shape=(c_out,), initializer="zeros", name="bias")

    def call(self, x: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        k = self.normalized_kernel(bool(training))
        p = self.padding
        if p:
            x = tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]])  # (N, H + 2p, W + 2p, C)
        return tf.nn.conv2d(x, k, [1, self.stride, self.stride, 1], "VALID") + self.bias

    def canonical(self) -> dict[str, tuple[keras.Variable, str]]:
        return {**self.canonical_sn(), "bias": (self.bias, "vec")}


@keras.saving.register_keras_serializable(package="tenfold")
class SNDense(SpectralNorm):
    """A spectrally normalised dense layer with a bias."""

    def __init__(self, in_features: int, out_features: int, config: SpectralNormConfig | None = None, **kwargs):
        super().__init__((in_features, out_features), config, **kwargs)
        self.bias = self.add_weight(shape=(out_features,), initializer="zeros", name="bias")

    def call(self, x: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        return tf.matmul(x, self.normalized_kernel(bool(training))) + self.bias

    def canonical(self) -> dict[str, tuple[keras.Variable, str]]:
        return {**self.canonical_sn(), "bias": (self.bias, "vec")}


__all__ = ["SNConv", "SNDense", "SpectralNorm"]
