"""SimCLR in plain NumPy (float64-exact): NT-Xent and its gradient, the projection head, LARS, the augmentation.

Paper: Chen et al., "A Simple Framework for Contrastive Learning of Visual
Representations", ICML 2020. Official code: google-research/simclr. The math
is in :mod:`tenfold.spec.simclr`; this package gathers :mod:`.loss`,
:mod:`.head`, :mod:`.lars` and :mod:`.augment`.
"""

from __future__ import annotations

from . import augment, head, lars, loss
from .augment import apply
from .head import forward, init_params
from .lars import LARSState, init_state, step
from .loss import nt_xent, nt_xent_grad

__all__ = ["LARSState", "apply", "augment", "forward", "head", "init_params", "init_state", "lars", "loss",
           "nt_xent", "nt_xent_grad", "step"]
