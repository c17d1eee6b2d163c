"""FReLU for PyTorch: the funnel activation as an ``nn.Module``.

Paper: Ma, Zhang, Sun, "Funnel Activation for Visual Recognition", ECCV 2020,
Eq. (2). Official code: megvii-model/FunnelAct ``resnet/frelu.py`` (full) and
``shufflenetv2/frelu_light.py`` (light); math in :mod:`tenfold.spec.frelu`.

Differences from the official implementation: none in the math. The
BatchNorm's epsilon and momentum are explicit (MegEngine's momentum 0.9 is
0.1 in PyTorch's convention), bad input raises tenfold errors, and a
``folded`` layer holds BatchNorm inside its convolution biases (inference only).
"""

from __future__ import annotations

import torch
from torch import nn

from tenfold.spec import frelu as spec

from .._tensors import as_tensor, dtype_name, to_param_dtype
from ..layers.norm import BatchNorm2d


def check_input(where: str, x: object, channels: int) -> torch.Tensor:
    """Validate an NCHW float input with ``channels`` channels (tenfold errors)."""
    x = as_tensor(where, x)
    spec.check_dtype(dtype_name(x.dtype), where)
    spec.check_input(where, tuple(x.shape), channels)
    return x


class FReLU(nn.Module):
    """FReLU ``max(x, BN(DWConv(x)))`` on NCHW tensors.

    Args:
        channels: Channel count ``C`` of the input.
        kernel_size: Odd depthwise kernel size ``k`` (padding ``k // 2``).
        variant: ``"full"`` (k x k conv, official ResNet) or ``"light"``
            (1 x k and k x 1 convs, each with its BatchNorm, summed; official ShuffleNetV2).
        bias: Conv bias (default: True for ``"full"`` as in the official code, False for ``"light"``).
        eps, momentum: BatchNorm epsilon and momentum (spec convention = PyTorch's).
        folded: BatchNorm folded into the convolutions (no ``bn_*`` submodules; inference only).
        dtype: Parameter dtype.

    Raises:
        ConfigError: On an even or non-positive kernel size or a bad channel count.
        ShapeError / DTypeError: In ``forward``, on a non-4-D, mis-channelled or non-float input.
    """

    def __init__(self, channels: int, kernel_size: int = 3, *, variant: str = "full", bias: bool | None = None,
                 eps: float = 1e-5, momentum: float = 0.1, folded: bool = False, dtype: torch.dtype | None = None):
        super().__init__()
        spec.check_channels("FReLU.channels", channels)
        spec.check_kernel_size("FReLU.kernel_size", kernel_size)
        self.config = spec.FReLUConfig(variant, kernel_size, variant == "full" if bias is None else bias, eps,
                                       momentum)
        self.channels, self.folded = channels, folded
        self._branches = []
        for conv, norm, (kh, kw) in spec.conv_names(self.config):
            self.add_module(conv, nn.Conv2d(channels, channels, (kh, kw), padding=(kh // 2, kw // 2),
                                            groups=channels, bias=self.config.bias or folded, dtype=dtype))
            self.add_module(norm, nn.Identity() if folded else BatchNorm2d(channels, self.config.batchnorm, dtype))
            self._branches.append((conv, norm))

    @classmethod
    def from_spec(cls, channels: int, config: spec.FReLUConfig, folded: bool = False,
                    dtype: torch.dtype | None = None) -> FReLU:
        """Build from a :class:`tenfold.spec.frelu.FReLUConfig` (variant, kernel, bias, BatchNorm)."""
        return cls(channels, config.kernel_size, variant=config.variant, bias=config.bias, eps=config.bn_eps,
                   momentum=config.bn_momentum, folded=folded, dtype=dtype)

    def funnel_condition(self, x: torch.Tensor) -> torch.Tensor:
        """``T(x)``: the BatchNorm of the depthwise conv (light: the sum of both branches)."""
        t = None
        for conv, norm in self._branches:
            z = getattr(self, norm)(getattr(self, conv)(x))  # (N, C, H, W)
            t = z if t is None else t + z
        return t

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = to_param_dtype(check_input("FReLU", x, self.channels), self)
        return torch.maximum(x, self.funnel_condition(x))

    def extra_repr(self) -> str:
        return f"{self.channels}, kernel_size={self.config.kernel_size}, variant={self.config.variant!r}" + (
            ", folded=True" if self.folded else "")


__all__ = ["FReLU", "check_input"]
