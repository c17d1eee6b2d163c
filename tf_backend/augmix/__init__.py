"""AugMix for TensorFlow (NHWC): batched per-image plans, a graph-mode sampler, a Keras layer, and the JSD loss.

Paper: Hendrycks et al., ICLR 2020. Official code: google-research/augmix.
The math, the plan and the draw order are in :mod:`tenfold.spec.augmix`.

* :func:`augmix_apply` (images, plan) -> the mix; :func:`augmix_chains` -> the
  chains; :func:`apply_op` -> one op on a batch; :func:`sample_tf` -> a plan
  drawn in a graph.
* :class:`AugMix`: a Keras preprocessing layer (``dataset.map(AugMix())``).
* :func:`jsd_consistency` (from :mod:`tenfold.tf_backend.losses`).
"""

from __future__ import annotations

from ..losses import jsd_consistency
from . import mix, ops
from .mix import AugMix, apply_op, augmix_apply, augmix_chains, quantize, sample_tf

__all__ = ["AugMix", "apply_op", "augmix_apply", "augmix_chains", "jsd_consistency", "mix", "ops", "quantize",
           "sample_tf"]
