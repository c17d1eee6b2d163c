"""SAN in plain NumPy: the self-attention operator (:mod:`.ops`) and the SAN networks (:mod:`.nets`), float64-exact.

Paper: Zhao, Jia, Koltun, "Exploring Self-attention for Image Recognition",
CVPR 2020. Official code: hszhao/SAN (CUDA kernels only). The math is in
:mod:`tenfold.spec.san`; the reference follows the Unfold/ReflectionPad
formulation of the official kernels' own tests.
"""

from __future__ import annotations

from .nets import block, calibrate, features, forward, init_params
from .ops import aggregation, attention_weights, position_delta, position_map, random_params, relation, sam, unfold
from .ops import init_params as sam_init_params

__all__ = ["aggregation", "attention_weights", "block", "calibrate", "features", "forward", "init_params",
           "position_delta", "position_map", "random_params", "relation", "sam", "sam_init_params", "unfold"]
