"""BatchNorm for PyTorch with the spec's explicit conventions and tenfold's input checks.

Paper: Ioffe & Szegedy, ICML 2015; conventions of :mod:`tenfold.spec.batchnorm`,
which are ``nn.BatchNorm2d``'s own (momentum = weight of the new batch,
unbiased running variance), so this is ``nn.BatchNorm2d`` with epsilon and
momentum always given and bad input reported as tenfold errors.
"""

from __future__ import annotations

import torch
from torch import nn

from tenfold.spec import batchnorm as spec
from tenfold.spec.dtypes import check_float_dtype

from .._tensors import as_tensor, dtype_name


class BatchNorm2d(nn.BatchNorm2d):
    """``nn.BatchNorm2d`` over NCHW channels with explicit ``eps`` and ``momentum``.

    Args:
        channels: Number of channels ``C``.
        config: Epsilon and momentum (default :class:`tenfold.spec.batchnorm.BatchNormConfig`).
        dtype: Parameter dtype.

    Raises (in ``forward``):
        ShapeError: Non-4-D input, another channel count, or one value per channel in train mode.
        DTypeError: Non-float input.
    """

    def __init__(self, channels: int, config: spec.BatchNormConfig | None = None, dtype: torch.dtype | None = None):
        config = spec.BatchNormConfig() if config is None else spec.BatchNormConfig.coerce(config, "BatchNorm2d")
        super().__init__(channels, eps=config.eps, momentum=config.momentum, dtype=dtype)
        self.config = config

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = as_tensor("BatchNorm2d", x)
        check_float_dtype("BatchNorm2d", dtype_name(x.dtype))
        spec.check_input("BatchNorm2d", tuple(x.shape), self.num_features, self.training)
        return super().forward(x)


__all__ = ["BatchNorm2d"]
