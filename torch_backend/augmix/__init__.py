"""AugMix for PyTorch: batched per-image plans, a torchvision-style transform, and the JSD loss.

Paper: Hendrycks et al., ICLR 2020. Official code: google-research/augmix.
The math, the plan and the draw order are in :mod:`tenfold.spec.augmix`.

* :func:`augmix_apply` (images, plan) -> the mix; :func:`augmix_chains` -> the
  chains; :func:`apply_op` -> one op on a batch.
* :class:`AugMix` samples its own plans (``torchvision.transforms.v2`` call style).
* :class:`JSDLoss` / :func:`jsd_consistency` (from :mod:`tenfold.torch_backend.losses`).
"""

from __future__ import annotations

from ..losses import JSDLoss, jsd_consistency
from . import mix, ops
from .mix import AugMix, apply_op, augmix_apply, augmix_chains, quantize

__all__ = ["AugMix", "JSDLoss", "apply_op", "augmix_apply", "augmix_chains", "jsd_consistency", "mix", "ops",
           "quantize"]
