"""SimCLR for PyTorch: NT-Xent (one process or many), the projection head, LARS, the augmentation pipeline.

Paper: Chen et al., "A Simple Framework for Contrastive Learning of Visual
Representations", ICML 2020. Official code: google-research/simclr. The math
is in :mod:`tenfold.spec.simclr`; this package gathers :mod:`.loss`,
:mod:`.head`, :mod:`.lars` and :mod:`.augment`.
"""

from __future__ import annotations

from . import augment, head, lars, loss
from .augment import SimCLRAugment, apply
from .head import ProjectionHead, canonical_names, get_params, load_params
from .lars import LARS, lars_param_groups
from .loss import NTXentLoss, gather_with_grad, nt_xent

__all__ = ["LARS", "NTXentLoss", "ProjectionHead", "SimCLRAugment", "apply", "augment", "canonical_names",
           "gather_with_grad", "get_params", "head", "lars", "lars_param_groups", "load_params", "loss", "nt_xent"]
