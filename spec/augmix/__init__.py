r"""AugMix: mix several chains of PIL operations into each image, and a Jensen-Shannon consistency loss.

Paper: D. Hendrycks, N. Mu, E. D. Cubuk, B. Zoph, J. Gilmer, B. Lakshminarayanan,
"AugMix: A Simple Data Processing Method to Improve Robustness and Uncertainty",
ICLR 2020 (arXiv:1912.02781), Sec. 3 and Algorithm 1. Official code:
https://github.com/google-research/augmix (``augmentations.py``: the ops and
magnitudes; ``cifar.py`` / ``imagenet.py``: ``aug()`` and the JSD loss;
``augment_and_mix.py``: the NumPy reference).

Math, for an image ``x`` (uint8 pixels, or floats in [0, 1]), ``k = width``
chains and the Beta weight ``m``::

    w ~ Dirichlet(alpha 1_k),   m ~ Beta(alpha, alpha)
    chain_j = op_{j,d_j} o ... o op_{j,1} (x),   d_j ~ U{1, 2, 3},   op ~ U(ops)   (with replacement)
    augmix(x) = (1 - m) x + m sum_j w_j chain_j             (official code; the paper swaps m and 1 - m)

The ops, their severity-to-magnitude maps and their exact PIL semantics are in
:mod:`tenfold.spec.augmix.ops`; the config, the plan and the official draw
order in :mod:`tenfold.spec.augmix.mix`. The mix is convex, so it commutes
with the per-channel normalisation the official code applies first
("Preprocessing commutes since all coefficients are convex"): here the mix is
returned in [0, 1] (uint8 pixels divided by 255) and normalisation is left to
the pipeline.

Jensen-Shannon consistency loss (``cifar.py`` / ``imagenet.py`` ``train``,
identical in both), for logits of the clean image and two AugMix views::

    p_v = softmax(z_v),   v in {clean, aug1, aug2}
    M   = clamp((p_clean + p_aug1 + p_aug2) / 3, 1e-7, 1)        (clamped, not renormalised)
    JSD = 12 * (KL(p_clean || M) + KL(p_aug1 || M) + KL(p_aug2 || M)) / 3
    KL(p || M) = sum_b sum_c p (log p - log M) / B               (F.kl_div(log M, p, reduction="batchmean"))

The weight 12 (:data:`JSD_WEIGHT`) and the clamp (:data:`JSD_CLAMP`) are
hard-coded in the official code (the paper writes ``L + lambda JS``); the
gradient flows through ``M`` too (the official code does not detach it), and
the clamp passes gradient only where ``1e-7 <= mean <= 1``. The
cross-entropy on the clean logits is added separately by the training loop.

Exactness (conformance): the point ops and the enhance ops are integer or
float32 arithmetic that every layer reproduces exactly. The affine ops are
exact when the interpolation runs in float64 in PIL's order of operations
without fused multiply-add, which the backends do; interpolating in float32
would move a pixel by one level wherever the float64 value lies within float32
rounding of an integer, and a later point op can amplify that step (a
posterize boundary, an equalize table), so chains are compared exactly.

Differences from the official implementation: the affine ops keep a
non-square image's own size (the official ``transform`` outputs ``IMAGE_SIZE``
squared); ``translate`` uses the image's own size unless ``image_size`` is
set; the plan keeps float64 weights (the official code casts them to float32).
"""

from __future__ import annotations

from ..contracts import Tolerances
from ..tolerance import Tolerance
from . import mix, ops
from .mix import (
    CHANNELS,
    FLOAT_DTYPES,
    IMAGE_DTYPES,
    M_WEIGHTS,
    MAGNITUDES,
    OUT_DTYPES,
    AugMixConfig,
    AugMixPlan,
    check_images,
    out_dtype_name,
    sample,
)
from .ops import AFFINE_OPS, ALL_OPS, DEFAULT_OPS, ENHANCE_OPS, OP_ID, OP_INFO, OPS, POINT_OPS, affine_coefficients

PAPER = ("Hendrycks et al., AugMix: A Simple Data Processing Method to Improve Robustness and Uncertainty, "
         "ICLR 2020")
OFFICIAL_CODE = "https://github.com/google-research/augmix"

#: The JSD weight: ``loss += 12 * (...) / 3`` (official cifar.py and imagenet.py).
JSD_WEIGHT = 12.0
#: The clamp of the mixture distribution: ``torch.clamp(..., 1e-7, 1)`` (official cifar.py and imagenet.py).
JSD_CLAMP: tuple[float, float] = (1e-7, 1.0)

#: Chains (uint8 after every op) are compared exactly in every layer.
EXACT = Tolerance(atol=0.0, rtol=0.0)

#: Conformance tolerances. ``forward``: the mix (values in [0, 1]) per output
#: dtype: float32 is a handful of roundings of numbers <= 1; float16/bfloat16
#: half an ulp at 1 plus the float32 sum; uint8 ``round(255 * mix)`` may flip
#: at a half. ``gradient`` / ``finite_difference``: the JSD loss's gradient
#: (for logits of unit scale).
TOLERANCES = Tolerances(
    forward={"float64": Tolerance(atol=1e-12, rtol=0.0), "float32": Tolerance(atol=2e-6, rtol=0.0),
             "float16": Tolerance(atol=1.5e-3, rtol=0.0), "bfloat16": Tolerance(atol=1e-2, rtol=0.0),
             "uint8": Tolerance(atol=1.0, rtol=0.0)},
    gradient={"float64": Tolerance(atol=1e-13, rtol=1e-10), "float32": Tolerance(atol=2e-6, rtol=2e-4)},
    finite_difference=Tolerance(atol=2e-8, rtol=1e-6),
)
#: The JSD loss value (a scalar of order 0.1-10).
JSD_TOLERANCES: dict[str, Tolerance] = {"float64": Tolerance(atol=1e-13, rtol=1e-11),
                                        "float32": Tolerance(atol=1e-6, rtol=2e-5)}

#: The public names each layer must export for this method (checked by conformance).
EXPORTS: dict[str, tuple[str, ...]] = {
    "numpy_ref": ("apply", "chains", "apply_op", "jsd_consistency", "jsd_consistency_grad"),
    "torch_backend": ("augmix_apply", "augmix_chains", "apply_op", "AugMix", "JSDLoss", "jsd_consistency"),
    "tf_backend": ("augmix_apply", "augmix_chains", "apply_op", "AugMix", "sample_tf", "jsd_consistency"),
}

#: Signature differences between the layers' exports, each with its reason (checked by conformance).
API_DIFFERENCES: dict[str, str] = {
    "augmix_apply": "tf_backend also takes op_list: a plan drawn inside a graph (sample_tf) is tensors whose ops are "
                    "unknown while tracing, so the ops it may contain are named; PyTorch plans are Python objects",
    "augmix_chains": "tf_backend also takes op_list (see augmix_apply)",
}

__all__ = ["AFFINE_OPS", "ALL_OPS", "API_DIFFERENCES", "CHANNELS", "DEFAULT_OPS", "ENHANCE_OPS", "EXACT", "EXPORTS",
           "FLOAT_DTYPES", "IMAGE_DTYPES", "JSD_CLAMP", "JSD_TOLERANCES", "JSD_WEIGHT", "MAGNITUDES", "M_WEIGHTS",
           "OFFICIAL_CODE", "OPS", "OP_ID", "OP_INFO", "OUT_DTYPES", "PAPER", "POINT_OPS", "TOLERANCES", "AugMixConfig",
           "AugMixPlan", "affine_coefficients", "check_images", "mix", "ops", "out_dtype_name", "sample"]
