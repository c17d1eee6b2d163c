"""NT-Xent for SimCLR in plain NumPy: the shared :mod:`tenfold.numpy_ref.losses` functions, re-exported.

Paper: Chen et al., ICML 2020, Eq. (1). Official code: google-research/simclr
``objective.py``. The math, the reductions and the global-batch semantics are
in :mod:`tenfold.spec.simclr.loss`. The reference has no distributed form: a
global batch is the concatenation of the processes' batches, which is what the
backends' distributed losses are compared with.
"""

from __future__ import annotations

from ..losses import nt_xent, nt_xent_grad

__all__ = ["nt_xent", "nt_xent_grad"]
