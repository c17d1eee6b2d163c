"""SimCLR for TensorFlow/Keras (NHWC): NT-Xent (one replica or many), the projection head, LARS, the augmentation.

Paper: Chen et al., "A Simple Framework for Contrastive Learning of Visual
Representations", ICML 2020. Official code: google-research/simclr (``tf2/``).
The math is in :mod:`tenfold.spec.simclr`; this package gathers :mod:`.loss`,
:mod:`.head`, :mod:`.lars` and :mod:`.augment`.
"""

from __future__ import annotations

from . import augment, head, lars, loss
from .augment import SimCLRAugment, apply, augment_dataset, plan_tensors
from .head import ProjectionHead, get_params, load_params
from .lars import LARS
from .loss import NTXentLoss, gather_with_grad, nt_xent

__all__ = ["LARS", "NTXentLoss", "ProjectionHead", "SimCLRAugment", "apply", "augment", "augment_dataset",
           "gather_with_grad", "get_params", "head", "lars", "load_params", "loss", "nt_xent", "plan_tensors"]
