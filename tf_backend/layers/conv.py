"""Convolution for TensorFlow/Keras (NHWC) with explicit padding, and kernel layout conversion.

Convolutions use explicit symmetric zero padding (never ``"SAME"``, whose
stride-2 padding is asymmetric), so every stride matches PyTorch's. Kernels
are kept in TensorFlow's layouts (conv ``(kh, kw, in, out)``, depthwise
``(kh, kw, C, 1)``); :func:`to_canonical` / :func:`to_tf_layout` convert to
and from the canonical PyTorch layout of the spec.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


@keras.saving.register_keras_serializable(package="tenfold")
class Conv(keras.layers.Layer):
    """A 2-D convolution (dense or depthwise), NHWC, explicit symmetric zero padding.

    Args:
        c_in, c_out: Channels (``c_out == c_in`` when ``depthwise``).
        kernel: ``k`` or ``(kh, kw)``.
        stride: Same in both directions.
        bias: Whether the conv has a bias.
        depthwise: One filter per channel (``groups = C``).
    """

    def __init__(self, c_in: int, c_out: int, kernel: int | tuple[int, int], stride: int = 1, bias: bool = True,
                 depthwise: bool = False, **kwargs):
        super().__init__(**kwargs)
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        self.c_in, self.c_out, self.kernel_hw, self.stride, self.depthwise = c_in, c_out, (kh, kw), stride, depthwise
        self.use_bias = bias
        shape = (kh, kw, c_in, 1) if depthwise else (kh, kw, c_in, c_out)
        fan_in = kh * kw * (1 if depthwise else c_in)
        init = keras.initializers.HeNormal() if fan_in else "zeros"
        self.kernel = self.add_weight(shape=shape, initializer=init, name="kernel")
        self.bias = self.add_weight(shape=(c_out,), initializer="zeros", name="bias") if bias else None
        self.padding = [[0, 0], [kh // 2, kh // 2], [kw // 2, kw // 2], [0, 0]]
        self.built = True

    def build(self, input_shape=None) -> None:
        self.built = True

    def call(self, x: tf.Tensor) -> tf.Tensor:
        k = tf.cast(self.kernel, x.dtype)
        s = [1, self.stride, self.stride, 1]
        if any(p for pair in self.padding for p in pair):
            # explicit zero padding then "VALID": depthwise_conv2d's own explicit padding crashes grappler's
            # shape inference inside tf.function (TF 2.21), and tf2onnx maps Pad + VALID cleanly
            x = tf.pad(x, self.padding)  # (N, H + 2 ph, W + 2 pw, C)
        if self.depthwise:
            y = tf.nn.depthwise_conv2d(x, k, s, "VALID")  # (N, H', W', C)
        else:
            y = tf.nn.conv2d(x, k, s, "VALID")  # (N, H', W', C_out)
        return y if self.bias is None else y + tf.cast(self.bias, x.dtype)

    def canonical(self) -> dict[str, tuple[keras.Variable, str]]:
        """Variables with the conversion tag of their canonical layout ("dw" or "conv", "vec")."""
        out = {"weight": (self.kernel, "dw" if self.depthwise else "conv")}
        if self.bias is not None:
            out["bias"] = (self.bias, "vec")
        return out


@keras.saving.register_keras_serializable(package="tenfold")
class ConvTranspose(keras.layers.Layer):
    """A 2-D transposed convolution (PyTorch's ``ConvTranspose2d``, output padding 0), NHWC.

    ``tf.nn.conv2d_transpose`` with "VALID" padding gives the full
    ``(H - 1) s + k`` output; the symmetric ``padding`` is then cropped from each
    side, which is what PyTorch's ``padding`` means for a transposed conv.
    Kernel layout ``(kh, kw, out, in)`` (tag ``"deconv"``; canonical ``(in, out, kh, kw)``).
    """

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, padding: int = 0, bias: bool = True,
                 **kwargs):
        super().__init__(**kwargs)
        self.c_in, self.c_out, self.k, self.stride, self.pad = c_in, c_out, kernel, stride, padding
        self.kernel = self.add_weight(shape=(kernel, kernel, c_out, c_in),
                                      initializer=keras.initializers.RandomNormal(0.0, 0.02), name="kernel")
        self.bias = self.add_weight(shape=(c_out,), initializer="zeros", name="bias") if bias else None
        self.built = True

    def build(self, input_shape=None) -> None:
        self.built = True

    def call(self, x: tf.Tensor) -> tf.Tensor:
        s, k, p = self.stride, self.k, self.pad
        shape = tf.shape(x)
        full = tf.stack([shape[0], (shape[1] - 1) * s + k, (shape[2] - 1) * s + k, self.c_out])
        y = tf.nn.conv2d_transpose(x, tf.cast(self.kernel, x.dtype), full, [1, s, s, 1], "VALID")
        if p:
            y = y[:, p:-p, p:-p, :]  # (N, (H - 1) s + k - 2p, ..., C_out)
        return y if self.bias is None else y + tf.cast(self.bias, x.dtype)

    def canonical(self) -> dict[str, tuple[keras.Variable, str]]:
        out = {"weight": (self.kernel, "deconv")}
        if self.bias is not None:
            out["bias"] = (self.bias, "vec")
        return out


def to_tf_layout(value: np.ndarray, tag: str) -> np.ndarray:
    """Canonical (PyTorch) layout -> TensorFlow layout."""
    if tag == "conv":
        return np.transpose(value, (2, 3, 1, 0))  # (O, I, kh, kw) -> (kh, kw, I, O)
    if tag == "dw":
        return np.transpose(value, (2, 3, 0, 1))  # (C, 1, kh, kw) -> (kh, kw, C, 1)
    if tag == "dense":
        return np.transpose(value)  # (out, in) -> (in, out)
    if tag == "deconv":
        return np.transpose(value, (2, 3, 1, 0))  # ConvTranspose (I, O, kh, kw) -> (kh, kw, O, I)
    return value


def to_canonical(value: np.ndarray, tag: str) -> np.ndarray:
    """TensorFlow layout -> canonical (PyTorch) layout."""
    if tag == "conv":
        return np.transpose(value, (3, 2, 0, 1))
    if tag == "dw":
        return np.transpose(value, (2, 3, 0, 1))
    if tag == "dense":
        return np.transpose(value)
    if tag == "deconv":
        return np.transpose(value, (3, 2, 0, 1))
    return value


__all__ = ["Conv", "ConvTranspose", "to_canonical", "to_tf_layout"]
