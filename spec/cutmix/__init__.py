r"""CutMix: cut a box out of one image, paste it into another, mix the labels by area.

Paper: S. Yun, D. Han, S. J. Oh, S. Chun, J. Choe, Y. Yoo, "CutMix: Regularization
Strategy to Train Strong Classifiers with Localizable Features", ICCV 2019
(arXiv:1905.04899), Section 3.1. Official code: https://github.com/clovaai/CutMix-PyTorch
(``train.py``: the trigger, ``rand_bbox`` and the lambda correction).

Math, for a batch ``x`` of shape (B, C, H, W) with one-hot labels ``y`` (B, K)::

    lam_i   ~ Beta(alpha, alpha)                    (one draw per batch, or per sample)
    j(i)    = partner of sample i                   (randperm | roll | flip)
    side    = sqrt(1 - lam_i)
    cut_h   = int(H * side),   cut_w = int(W * side)          (truncation, as official)
    cy      ~ U{0, ..., H-1},  cx ~ U{0, ..., W-1}            (centre anywhere)
    y1, y2  = clip(cy - cut_h // 2, 0, H), clip(cy + cut_h // 2, 0, H)
    x1, x2  = clip(cx - cut_w // 2, 0, W), clip(cx + cut_w // 2, 0, W)
    x~_i    = x_i  with  x~_i[:, y1:y2, x1:x2] = x_j(i)[:, y1:y2, x1:x2]
    lam'_i  = 1 - (y2 - y1)(x2 - x1) / (H W)      if correct_lam else lam_i
    y~_i    = lam'_i y_i + (1 - lam'_i) y_j(i)

With probability ``1 - prob`` nothing happens (``lam' = 1``, the input is
returned as is). The official loss ``lam CE(out, y) + (1 - lam) CE(out, y_j)``
equals the cross-entropy against the soft target ``y~`` because CE is linear
in the target, which is why every layer returns soft targets.

Label smoothing is not part of CutMix here; it composes because both are
linear in the target: pass smoothed rows ``(1 - eps) * one_hot(y) + eps / K``
as soft labels (or smooth the returned targets the same way; the result is
identical).

The box is half-open, ``[y1, y2) x [x1, x2)`` in rows and columns; its sides are
even (``2 * (cut // 2)``), as in the official code. The official ``rand_bbox``
names ``size[2]`` "W" and ``size[3]`` "H" on NCHW tensors; the names are swapped
but used consistently (rwightman, timm#8), so its first integer draw is the row
centre and its first side the row side. The plan here uses the real names.

Randomness is split from the math: :func:`sample` draws every random quantity
into a :class:`CutMixPlan`; each layer's ``apply`` is deterministic.

Draw order (the official order, so that the official ``train.py`` fed the same
generator state gives the same plan, with ``torch.randperm(B)`` standing for
the generator's ``permutation(B)``)::

    batch:  u = random();  if u < prob: lam = beta(a, a); partner; cy = randint(H); cx = randint(W)
    elem:   u = random(B); lam = beta(a, a, B); partner; cy = randint(H, B); cx = randint(W, B)

(``roll`` and ``flip`` pairings draw nothing.)

Differences between implementations (shared research, official_b.md §2): the
paper mixes labels with the sampled lambda (no clipping correction) — preset
:meth:`CutMixConfig.paper`; torchvision ``v2.CutMix`` pairs by ``roll(1, 0)``,
always corrects lambda and has no probability — :meth:`CutMixConfig.torchvision`;
timm ``Mixup`` pairs by ``flip(0)`` — :meth:`CutMixConfig.timm`.
"""

from __future__ import annotations

from ..contracts import Tolerances
from ..tolerance import Tolerance
from .checks import check_images, check_label_range, check_labels, check_num_classes, label_range_message
from .config import (
    GRANULARITIES,
    IMAGE_DTYPES,
    INT_LABEL_DTYPES,
    OFFICIAL_CODE,
    PAIRINGS,
    PAPER,
    SOFT_LABEL_DTYPES,
    CutMixConfig,
)
from .plan import PLAN_KEYS, Box, CutMixPlan, as_plan, box_from_centre, partner_indices, sample

#: Soft-target tolerances per target dtype (the images must be exactly equal:
#: the paste is a copy). float32 targets are ``lam * a + (1 - lam) * b`` in
#: float32: a couple of roundings of numbers <= 1.
_FORWARD: dict[str, Tolerance] = {
    "float64": Tolerance(atol=1e-15, rtol=0.0),
    "float32": Tolerance(atol=2e-7, rtol=0.0),
    "float16": Tolerance(atol=1e-3, rtol=0.0),
    "bfloat16": Tolerance(atol=8e-3, rtol=0.0),
}
#: Images: exact.
EXACT = Tolerance(atol=0.0, rtol=0.0)

#: Every tolerance conformance applies to this method (:class:`tenfold.spec.contracts.Tolerances`).
TOLERANCES = Tolerances(forward=_FORWARD)

#: The public names each layer must export for this method (checked by conformance).
EXPORTS: dict[str, tuple[str, ...]] = {
    "numpy_ref": ("apply", "soft_target_cross_entropy"),
    "torch_backend": ("cutmix_apply", "CutMix", "soft_target_cross_entropy"),
    "tf_backend": ("cutmix_apply", "CutMix", "soft_target_cross_entropy", "sample_tf"),
}

#: Exports whose signatures differ across layers on purpose (conformance compares all others).
API_DIFFERENCES: dict[str, str] = {
    "CutMix": "the PyTorch transform can mix in place (inplace=True) on its own batch; TF tensors are immutable",
    "cutmix_apply": "PyTorch only: inplace and a pairing hint for its fast paths; TF tensors are immutable",
    "soft_target_cross_entropy": "numpy_ref returns the per-sample losses (the oracle); backends add reduction",
}

__all__ = ["API_DIFFERENCES", "EXACT", "EXPORTS", "GRANULARITIES", "IMAGE_DTYPES", "INT_LABEL_DTYPES", "OFFICIAL_CODE",
           "PAIRINGS", "PAPER", "PLAN_KEYS", "SOFT_LABEL_DTYPES", "TOLERANCES", "Box", "CutMixConfig", "CutMixPlan",
           "as_plan", "box_from_centre", "check_images", "check_label_range", "check_labels", "check_num_classes",
           "label_range_message",           "partner_indices", "sample"]
