"""Building blocks shared by several methods for TensorFlow (NHWC), one concept a file.

``conv`` (explicit-padding convolution, kernel layout conversion), ``norm``
(BatchNorm in the spec's conventions, LayerNorm), ``activations`` (GELU).
"""

from .activations import gelu
from .conv import Conv, to_canonical, to_tf_layout
from .norm import BatchNorm, layer_norm

__all__ = ["BatchNorm", "Conv", "gelu", "layer_norm", "to_canonical", "to_tf_layout"]
