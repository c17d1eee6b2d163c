"""SAN for PyTorch: the self-attention operator ``SAM`` and the networks ``SAN`` (any device, no custom kernels).

Paper: Zhao, Jia, Koltun, "Exploring Self-attention for Image Recognition",
CVPR 2020. Official code: hszhao/SAN (CUDA/CuPy kernels only). Gathers
:mod:`~tenfold.torch_backend.san.ops` and :mod:`~tenfold.torch_backend.san.nets`;
official checkpoints load with :func:`load_checkpoint`.
"""

from __future__ import annotations

from .nets import SAN, Bottleneck, build, get_params, load_checkpoint, load_params, max_pool2
from .ops import SAM, aggregation, position_map, relation, unfold

__all__ = ["SAM", "SAN", "Bottleneck", "aggregation", "build", "get_params", "load_checkpoint", "load_params",
           "max_pool2", "position_map", "relation", "unfold"]
