"""The CR transform ``T`` in plain NumPy: executes a :class:`~tenfold.spec.crgan.transform.TransformPlan`.

Math, sources and draw order: :mod:`tenfold.spec.crgan.transform`. Readable
over fast: the source index of every output pixel is computed from the rule
(reflection or zero) directly, without padding, one sample at a time.
"""

from __future__ import annotations

import numpy as np

from tenfold.spec.crgan import transform as spec
from tenfold.spec.dtypes import check_float_dtype
from tenfold.spec.errors import TenfoldError, expected

from .._arrays import as_array, dtype_name


def apply(plan: spec.TransformPlan, x: object) -> np.ndarray:
    """``T(x)`` for an NCHW float batch: flip (where the plan says), then shift with the plan's padding.

    Returns:
        A new array of the input's dtype and shape (values are moved, never mixed).

    Raises:
        TenfoldError: A non-plan, a non-float or non-4-D batch, or one whose
            B, H, W differ from the plan's.
    """
    where = "crgan.apply"
    if not isinstance(plan, spec.TransformPlan):
        raise TenfoldError(expected(where, "a TransformPlan", type(plan).__name__))
    x = as_array(where, x)
    check_float_dtype(where, dtype_name(x.dtype))
    spec.check_batch(where, x.shape, plan)
    h, w = plan.height, plan.width
    out = np.zeros_like(x)
    for i in range(plan.batch_size):
        img = x[i, :, :, ::-1] if plan.flip[i] else x[i]  # (C, H, W)
        dy, dx = plan.shift[i]
        rows, rok = spec.source_index(np.arange(h) + dy, h, plan.pad_mode)  # (H,)
        cols, cok = spec.source_index(np.arange(w) + dx, w, plan.pad_mode)  # (W,)
        moved = img[:, rows[:, None], cols[None, :]]  # (C, H, W)
        out[i] = np.where(rok[:, None] & cok[None, :], moved, np.zeros((), x.dtype))
    return out


__all__ = ["apply"]
