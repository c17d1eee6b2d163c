"""FReLU for TensorFlow/Keras (NHWC): the activation, BatchNorm and the FReLU networks.

Paper: Ma, Zhang, Sun, "Funnel Activation for Visual Recognition", ECCV 2020.
Official code: megvii-model/FunnelAct. Gathers
:mod:`~tenfold.tf_backend.frelu.act`, :mod:`~tenfold.tf_backend.layers.norm`
and :mod:`~tenfold.tf_backend.frelu.nets`.
"""

from __future__ import annotations

from ..layers.conv import Conv
from ..layers.norm import BatchNorm
from .act import FReLU
from .nets import FReLUResNet, ShuffleNetV2FReLU, build, fold_batchnorm, get_params, load_params

__all__ = ["BatchNorm", "Conv", "FReLU", "FReLUResNet", "ShuffleNetV2FReLU", "build", "fold_batchnorm",
           "get_params", "load_params"]
