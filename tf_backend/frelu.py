"""FReLU for TensorFlow/Keras (NHWC): the activation, BatchNorm and the FReLU networks.

Paper: Ma, Zhang, Sun, "Funnel Activation for Visual Recognition", ECCV 2020.
Official code: megvii-model/FunnelAct. Gathers
:mod:`~tenfold.tf_backend.frelu_act`, :mod:`~tenfold.tf_backend.batchnorm`
and :mod:`~tenfold.tf_backend.frelu_nets`.
"""

from __future__ import annotations

from .batchnorm import BatchNorm
from .frelu_act import Conv, FReLU
from .frelu_nets import FReLUResNet, ShuffleNetV2FReLU, build, fold_batchnorm, get_params, load_params

__all__ = ["BatchNorm", "Conv", "FReLU", "FReLUResNet", "ShuffleNetV2FReLU", "build", "fold_batchnorm",
           "get_params", "load_params"]
