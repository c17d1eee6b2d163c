"""FReLU: the funnel activation (:mod:`.act`) and the FReLU networks (:mod:`.nets`).

Paper: Ma, Zhang, Sun, "Funnel Activation for Visual Recognition", ECCV 2020.
Official code: megvii-model/FunnelAct. The activation's names are re-exported
here (``tenfold.spec.frelu.FReLUConfig``); the networks live in
``tenfold.spec.frelu.nets``.
"""

from . import act, nets
from .act import *  # noqa: F403
from .act import __all__ as _act_all

__all__ = ["act", "nets", *_act_all]
