"""AugMix in plain NumPy: the ops with Pillow's arithmetic, the chains, the mix, and the JSD loss.

Paper: Hendrycks et al., ICLR 2020. Official code: google-research/augmix.
The math, the plan and the draw order are in :mod:`tenfold.spec.augmix`.

* :func:`apply` (plan, images) -> the mixed batch; :func:`chains` -> every
  chain's uint8 result; :func:`apply_op` -> one op on a batch.
* :func:`jsd_consistency` and its gradient :func:`jsd_consistency_grad` live in
  :mod:`tenfold.numpy_ref.losses` (shared losses) and are re-exported here.
"""

from __future__ import annotations

from ..losses import jsd_consistency, jsd_consistency_grad
from . import mix, ops
from .mix import apply, apply_op, chains, quantize

__all__ = ["apply", "apply_op", "chains", "jsd_consistency", "jsd_consistency_grad", "mix", "ops", "quantize"]
