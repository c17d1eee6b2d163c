"""FReLU in plain NumPy: the activation, BatchNorm and the FReLU networks (float64-exact).

Paper: Ma, Zhang, Sun, "Funnel Activation for Visual Recognition", ECCV 2020.
Official code: megvii-model/FunnelAct. The math is in :mod:`tenfold.spec.frelu`
and :mod:`tenfold.spec.frelu.nets`; this module gathers
:mod:`~tenfold.numpy_ref.frelu.act`, :mod:`~tenfold.numpy_ref.layers.norm` and
:mod:`~tenfold.numpy_ref.frelu.nets`.
"""

from __future__ import annotations

from ..layers.conv import conv2d, depthwise_conv2d, depthwise_conv2d_vjp
from ..layers.norm import batch_norm, batch_norm_params
from ..layers.pool import max_pool2d
from .act import frelu, frelu_vjp, funnel_condition
from .nets import (
    check_params,
    fold_batchnorm,
    forward,
    from_megengine,
    init_params,
    resnet_forward,
    shufflenet_forward,
)

__all__ = ["batch_norm", "batch_norm_params", "check_params", "conv2d", "depthwise_conv2d", "depthwise_conv2d_vjp",
           "fold_batchnorm", "forward", "frelu", "frelu_vjp", "from_megengine", "funnel_condition", "init_params",
           "max_pool2d", "resnet_forward", "shufflenet_forward"]
