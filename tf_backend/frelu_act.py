"""FReLU for TensorFlow/Keras (NHWC): the funnel activation as a Keras layer.

Paper: Ma, Zhang, Sun, "Funnel Activation for Visual Recognition", ECCV 2020,
Eq. (2). Official code: megvii-model/FunnelAct ``resnet/frelu.py`` and
``shufflenetv2/frelu_light.py``; math in :mod:`tenfold.spec.frelu`.

Convolutions use explicit symmetric zero padding (never ``"SAME"``, whose
stride-2 padding is asymmetric), so every stride matches PyTorch's. Kernels
are kept in TensorFlow's layouts (conv ``(kh, kw, in, out)``, depthwise
``(kh, kw, C, 1)``) and converted to the canonical PyTorch layout by
:func:`tenfold.tf_backend.frelu_nets.get_params`.

Differences from the official implementation: none in the math (see the
PyTorch module); channels last.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tenfold.spec import frelu as spec

from ._tensors import as_tensor, dtype_name
from .batchnorm import BatchNorm


def check_input(where: str, x: object, channels: int) -> tf.Tensor:
    """Validate an NHWC float input with ``channels`` channels (tenfold errors)."""
    x = as_tensor(where, x)
    spec.check_dtype(dtype_name(x.dtype), where)
    spec.check_input(where, tuple(x.shape), channels, layout="NHWC")
    return x


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
class FReLU(keras.layers.Layer):
    """FReLU ``max(x, BN(DWConv(x)))`` on NHWC tensors.

    Args:
        channels: Channel count ``C`` of the input (last axis).
        kernel_size: Odd depthwise kernel size ``k`` (padding ``k // 2``).
        variant: ``"full"`` (official ResNet) or ``"light"`` (1 x k + k x 1, official ShuffleNetV2).
        bias: Conv bias (default: True for ``"full"``, False for ``"light"``).
        eps, momentum: BatchNorm epsilon and momentum (spec convention, not Keras').
        folded: BatchNorm folded into the convolutions (inference only).

    Raises:
        ConfigError: On an even or non-positive kernel size or a bad channel count.
        ShapeError / DTypeError: In ``call``, on a non-4-D, mis-channelled or non-float input.
    """

    def __init__(self, channels: int, kernel_size: int = 3, variant: str = "full", bias: bool | None = None,
                 eps: float = 1e-5, momentum: float = 0.1, folded: bool = False, **kwargs):
        super().__init__(**kwargs)
        spec.check_channels("FReLU.channels", channels)
        spec.check_kernel_size("FReLU.kernel_size", kernel_size)
        self.config = spec.FReLUConfig(variant, kernel_size, variant == "full" if bias is None else bias, eps,
                                       momentum)
        self.channels, self.folded = channels, folded
        self.branch_names = []
        for conv, norm, (kh, kw) in spec.conv_names(self.config):
            setattr(self, conv, Conv(channels, channels, (kh, kw), 1, self.config.bias or folded, depthwise=True,
                                     dtype=self.dtype_policy, name=conv))
            setattr(self, norm, None if folded else BatchNorm(channels, eps, momentum, dtype=self.dtype_policy,
                                                              name=norm))
            self.branch_names.append((conv, norm))
        self.built = True

    @classmethod
    def from_spec(cls, channels: int, config: spec.FReLUConfig, folded: bool = False, **kwargs) -> FReLU:
        """Build from a :class:`tenfold.spec.frelu.FReLUConfig` (variant, kernel, bias, BatchNorm)."""
        return cls(channels, config.kernel_size, config.variant, config.bias, config.bn_eps, config.bn_momentum,
                   folded, **kwargs)

    def build(self, input_shape=None) -> None:
        self.built = True

    def funnel_condition(self, x: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        """``T(x)``: the BatchNorm of the depthwise conv (light: the sum of both branches)."""
        t = None
        for conv, norm in self.branch_names:
            z = getattr(self, conv)(x)  # (N, H, W, C)
            if not self.folded:
                z = getattr(self, norm)(z, training=training)
            t = z if t is None else t + z
        return t

    def call(self, inputs: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        x = check_input("FReLU", inputs, self.channels)
        return tf.maximum(x, self.funnel_condition(x, training))

    def canonical(self) -> dict[str, tuple[keras.Variable, str]]:
        out = {}
        for conv, norm in self.branch_names:
            out.update({f"{conv}.{k}": v for k, v in getattr(self, conv).canonical().items()})
            if not self.folded:
                bn = getattr(self, norm)
                out.update({f"{norm}.{k}": (getattr(bn, k), "vec")
                            for k in ("weight", "bias", "running_mean", "running_var")})
        return out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        c = self.config
        return {**super().get_config(), "channels": self.channels, "kernel_size": c.kernel_size,
                "variant": c.variant, "bias": c.bias, "eps": c.bn_eps, "momentum": c.bn_momentum,
                "folded": self.folded}


def to_tf_layout(value: np.ndarray, tag: str) -> np.ndarray:
    """Canonical (PyTorch) layout -> TensorFlow layout."""
    if tag == "conv":
        return np.transpose(value, (2, 3, 1, 0))  # (O, I, kh, kw) -> (kh, kw, I, O)
    if tag == "dw":
        return np.transpose(value, (2, 3, 0, 1))  # (C, 1, kh, kw) -> (kh, kw, C, 1)
    if tag == "dense":
        return np.transpose(value)  # (out, in) -> (in, out)
    return value


def to_canonical(value: np.ndarray, tag: str) -> np.ndarray:
    """TensorFlow layout -> canonical (PyTorch) layout."""
    if tag == "conv":
        return np.transpose(value, (3, 2, 0, 1))
    if tag == "dw":
        return np.transpose(value, (2, 3, 0, 1))
    if tag == "dense":
        return np.transpose(value)
    return value


__all__ = ["Conv", "FReLU", "check_input", "to_canonical", "to_tf_layout"]
