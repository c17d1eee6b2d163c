"""FReLU for TensorFlow/Keras (NHWC): the funnel activation as a Keras layer.

Paper: Ma, Zhang, Sun, "Funnel Activation for Visual Recognition", ECCV 2020,
Eq. (2). Official code: megvii-model/FunnelAct ``resnet/frelu.py`` and
``shufflenetv2/frelu_light.py``; math in :mod:`tenfold.spec.frelu`.

Convolutions use explicit symmetric zero padding (never ``"SAME"``, whose
stride-2 padding is asymmetric), so every stride matches PyTorch's. Kernels
are kept in TensorFlow's layouts (conv ``(kh, kw, in, out)``, depthwise
``(kh, kw, C, 1)``) and converted to the canonical PyTorch layout by
:func:`tenfold.tf_backend.frelu.nets.get_params`.

Differences from the official implementation: none in the math (see the
PyTorch module); channels last.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tenfold.spec import frelu as spec

from .._tensors import ArrayInput, as_tensor, dtype_name
from ..layers.conv import Conv
from ..layers.norm import BatchNorm


def check_input(where: str, x: object, channels: int) -> tf.Tensor:
    """Validate an NHWC float input with ``channels`` channels (tenfold errors)."""
    x = as_tensor(where, x)
    spec.check_dtype(dtype_name(x.dtype), where)
    spec.check_input(where, tuple(x.shape), channels, layout="NHWC")
    return x


@keras.saving.register_keras_serializable(package="tenfold")
class FReLU(ArrayInput, keras.layers.Layer):
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

    INPUT_WHERE = "FReLU"

    def __init__(self, channels: int, kernel_size: int = 3, *, variant: str = "full", bias: bool | None = None,
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
            setattr(self, norm, None if folded else BatchNorm(channels, self.config.batchnorm,
                                                              dtype=self.dtype_policy, name=norm))
            self.branch_names.append((conv, norm))
        self.built = True

    @classmethod
    def from_spec(cls, channels: int, config: spec.FReLUConfig, folded: bool = False, **kwargs) -> FReLU:
        """Build from a :class:`tenfold.spec.frelu.FReLUConfig` (variant, kernel, bias, BatchNorm)."""
        return cls(channels, config.kernel_size, variant=config.variant, bias=config.bias, eps=config.bn_eps,
                   momentum=config.bn_momentum, folded=folded, **kwargs)

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


__all__ = ["FReLU", "check_input"]
