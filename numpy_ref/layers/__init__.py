"""Building blocks shared by several methods, one concept a file (NCHW, float64-exact).

``conv`` (convolutions, padding), ``pool``, ``norm`` (BatchNorm, LayerNorm),
``activations`` (ReLU, GELU, softplus, softmax ...), ``attention``, ``upfirdn``
(FIR resampling), ``spectral_norm``. A method file imports from here and holds only its own method.
"""

from .activations import gelu, leaky_relu, log_softmax, relu, sigmoid, softmax, softplus
from .attention import multi_head_attention
from .conv import conv2d, conv_transpose2d, depthwise_conv2d, depthwise_conv2d_vjp, extract_patches, pad2d
from .norm import batch_norm, batch_norm_params, fold, layer_norm
from .pool import global_avg_pool, max_pool2d
from .upfirdn import upfirdn2d

__all__ = ["batch_norm", "batch_norm_params", "conv2d", "conv_transpose2d", "depthwise_conv2d",
           "depthwise_conv2d_vjp", "extract_patches", "fold", "gelu", "global_avg_pool", "layer_norm", "leaky_relu",
           "log_softmax", "max_pool2d", "multi_head_attention", "pad2d", "relu", "sigmoid", "softmax", "softplus",
           "upfirdn2d"]
