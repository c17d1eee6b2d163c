"""SAN for TensorFlow/Keras (NHWC): the self-attention operator ``SAM`` and the networks ``SAN``.

Paper: Zhao, Jia, Koltun, "Exploring Self-attention for Image Recognition",
CVPR 2020. Official code: hszhao/SAN. Gathers :mod:`~tenfold.tf_backend.san.ops`
and :mod:`~tenfold.tf_backend.san.nets`; traceable by ``tf.function`` and
convertible by tf2onnx with a dynamic batch.
"""

from __future__ import annotations

from .nets import SAN, Bottleneck, build, get_params, load_params
from .ops import SAM, aggregation, footprints, position_map, relation

__all__ = ["SAM", "SAN", "Bottleneck", "aggregation", "build", "footprints", "get_params", "load_params",
           "position_map", "relation"]
