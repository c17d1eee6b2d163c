"""CutMix in plain NumPy: the reference that executes a :class:`~tenfold.spec.cutmix.CutMixPlan`.

Paper: Yun et al., ICCV 2019, Sec. 3.1. Official code: clovaai/CutMix-PyTorch
(``train.py``). The math and the draw order are in :mod:`tenfold.spec.cutmix`.

Readable over fast: one explicit loop over the samples. Targets are float64.

Label smoothing is not done here; it composes because both are linear in the
target. Smoothing the one-hot labels first and mixing them gives the same
target as mixing first and smoothing after::

    soft = (1 - eps) * one_hot(labels, K) + eps / K
    mixed, targets, lam = apply(images, soft, plan, K)

Differences from the official implementation: none in the math. The official
code mixes the two cross-entropies with the scalar lambda; here the equivalent
soft target is returned (CE is linear in the target).
"""

from __future__ import annotations

import numpy as np

from tenfold.spec import cutmix as spec

from ._arrays import as_array, dtype_name
from .losses import soft_target_cross_entropy


def one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Float64 one-hot rows, shape (B, K)."""
    out = np.zeros((labels.shape[0], num_classes), dtype=np.float64)
    out[np.arange(labels.shape[0]), labels.astype(np.int64)] = 1.0
    return out


def as_soft_labels(where: str, labels: object, batch_size: int, num_classes: int) -> np.ndarray:
    """Validate labels (class indices or soft rows) and return float64 soft rows (B, K)."""
    num_classes = spec.check_num_classes(where, num_classes)
    y = as_array(where, labels)
    hard = spec.check_labels(where, y.shape, dtype_name(y.dtype), batch_size, num_classes)
    if hard:
        spec.check_label_range(where, int(y.min()), int(y.max()), num_classes)
        return one_hot(y, num_classes)
    return y.astype(np.float64)


def apply(images: object, labels: object, plan: spec.CutMixPlan,
          num_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Execute a CutMix plan on a batch.

    Args:
        images: (B, C, H, W) array of any real dtype (uint8, float...). Not modified.
        labels: Class indices (B,) of an integer dtype, or soft / one-hot labels
            (B, K) of a float dtype.
        plan: The plan from :func:`tenfold.spec.cutmix.sample` (same B, H, W), or
            its ``to_dict()``, or a dict of arrays (:func:`tenfold.spec.cutmix.as_plan`).
        num_classes: K.

    Returns:
        ``(mixed, targets, lam)``: the mixed images (a new array of the input
        dtype), float64 soft targets (B, K) and the effective lambda per sample
        (float64, (B,)): the weight of each sample's own label.

    Raises:
        TenfoldError: On a non-4-D batch, a batch that does not match the plan,
            labels of the wrong batch size or out of range, or num_classes < 1.
    """
    where = "cutmix"
    x = as_array(where, images)
    _, h, w = spec.check_images(where, x.shape, dtype_name(x.dtype), None)
    plan = spec.as_plan(where, plan, h, w)
    b, _, _ = spec.check_images(where, x.shape, dtype_name(x.dtype), plan)
    y = as_soft_labels(where, labels, b, num_classes)  # (B, K)
    mixed = x.copy()
    for i in range(b):
        if not plan.applied[i]:
            continue
        y1, y2, x1, x2 = plan.boxes[i]
        j = plan.partner[i]
        mixed[i, :, y1:y2, x1:x2] = x[j, :, y1:y2, x1:x2]  # from the input, never from the mixed batch
    lam = np.asarray(plan.lam, dtype=np.float64)  # (B,)
    partner = np.asarray(plan.partner, dtype=np.int64)
    targets = lam[:, None] * y + (1.0 - lam)[:, None] * y[partner]  # (B, K)
    return mixed, targets, lam



__all__ = ["apply", "as_soft_labels", "one_hot", "soft_target_cross_entropy"]
