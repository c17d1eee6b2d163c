"""Building blocks shared by several methods for TensorFlow (NHWC), one concept a file.

``conv`` (explicit-padding convolution, kernel layout conversion), ``norm``
(BatchNorm in the spec's conventions, LayerNorm), ``activations`` (GELU), ``upfirdn``
(FIR resampling).
"""

from .activations import gelu
from .conv import Conv, to_canonical, to_tf_layout
from .norm import BatchNorm, layer_norm
from .upfirdn import upfirdn2d

__all__ = ["BatchNorm", "Conv", "gelu", "layer_norm", "to_canonical", "to_tf_layout", "upfirdn2d"]
