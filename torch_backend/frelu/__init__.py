"""FReLU for PyTorch: the activation, BatchNorm and the FReLU networks.

Paper: Ma, Zhang, Sun, "Funnel Activation for Visual Recognition", ECCV 2020.
Official code: megvii-model/FunnelAct. Gathers
:mod:`~tenfold.torch_backend.frelu.act`, :mod:`~tenfold.torch_backend.layers.norm`
and :mod:`~tenfold.torch_backend.frelu.nets`.
"""

from __future__ import annotations

from ..layers.norm import BatchNorm2d
from .act import FReLU
from .nets import FReLUResNet, ShuffleNetV2FReLU, build, fold_batchnorm, get_params, load_params

__all__ = ["BatchNorm2d", "FReLU", "FReLUResNet", "ShuffleNetV2FReLU", "build", "fold_batchnorm", "get_params",
           "load_params"]
