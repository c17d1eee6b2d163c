"""AugMix chains and mix in plain NumPy: the reference that executes an :class:`~tenfold.spec.augmix.AugMixPlan`.

Official code: google-research/augmix ``cifar.py`` ``aug()`` and
``augment_and_mix.py``. Readable over fast: explicit loops over images,
chains and steps; the mix in float64.
"""

from __future__ import annotations

import numpy as np

from tenfold.spec import augmix as spec
from tenfold.spec.errors import ShapeError, TenfoldError, expected

from .._arrays import as_array, dtype_name
from .ops import apply_one


def quantize(images: np.ndarray) -> np.ndarray:
    """uint8 pixels of a batch: uint8 as is; floats in [0, 1] as ``uint8(clip(x * 255, 0, 255))``.

    The official ``augment_and_mix.py`` conversion (truncation), computed in the images' own dtype.
    """
    if images.dtype == np.uint8:
        return images
    return np.clip(images * 255, 0, 255).astype(np.uint8)


def _check(where: str, images: object, plan: spec.AugMixPlan) -> np.ndarray:
    if not isinstance(plan, spec.AugMixPlan):
        raise TenfoldError(expected(where, "an AugMixPlan", type(plan).__name__))
    x = as_array(where, images)
    spec.check_images(where, x.shape, dtype_name(x.dtype), plan)
    return x


def chains(plan: spec.AugMixPlan, images: object) -> np.ndarray:
    """Run every chain of the plan: ``(B, width, C, H, W)`` uint8.

    Args:
        plan: The plan (same B, H, W as the images).
        images: (B, C, H, W), uint8 or floats in [0, 1] (quantised first, see :func:`quantize`).

    Raises:
        TenfoldError: On a bad batch or plan.
    """
    x = quantize(_check("augmix.chains", images, plan))
    out = np.empty((plan.batch_size, plan.num_chains, *x.shape[1:]), dtype=np.uint8)
    for i in range(plan.batch_size):
        for j in range(plan.num_chains):
            img = x[i]
            for op, arg in zip(plan.ops[i][j], plan.args[i][j], strict=True):
                img = apply_one(op, img, arg)
            out[i, j] = img
    return out


def apply(plan: spec.AugMixPlan, images: object, *, out_dtype: str | None = None) -> np.ndarray:
    """Execute an AugMix plan: ``(1 - mw) x + mw sum_j w_j chain_j`` in [0, 1].

    Args:
        plan: From :func:`tenfold.spec.augmix.sample`.
        images: (B, C, H, W) with C in {1, 3}: uint8 pixels or floats in [0, 1].
        out_dtype: ``None`` (the images' float dtype; float32 for uint8), a float
            dtype name, or ``"uint8"`` for ``round(255 * mix)``.

    Returns:
        The mixed batch (B, C, H, W), computed in float64. The skip term uses
        the images as given (uint8 / 255, floats unquantised), as the official
        ``preprocess(image)``.

    Raises:
        TenfoldError: On a bad batch, plan or out_dtype.
    """
    where = "augmix"
    x = _check(where, images, plan)
    out_name = spec.out_dtype_name(where, dtype_name(x.dtype), out_dtype)
    ch = chains(plan, x).astype(np.float64) / 255.0  # (B, k, C, H, W)
    x01 = x.astype(np.float64) / 255.0 if x.dtype == np.uint8 else x.astype(np.float64)
    w = np.asarray(plan.chain_weights, dtype=np.float64)  # (B, k)
    mw = np.asarray(plan.mix_weight, dtype=np.float64)[:, None, None, None]  # (B, 1, 1, 1)
    mixture = np.einsum("bk,bkchw->bchw", w, ch)
    mixed = (1.0 - mw) * x01 + mw * mixture
    if out_name == "uint8":
        return np.clip(np.rint(mixed * 255.0), 0, 255).astype(np.uint8)
    return mixed.astype(out_name)


def apply_op(op: str, images: object, args: object) -> np.ndarray:
    """One op on every image of a batch, each with its own argument (for per-op conformance).

    Args:
        op: An op name (:data:`tenfold.spec.augmix.OPS`).
        images: (B, C, H, W) uint8.
        args: (B,) arguments (see :mod:`tenfold.spec.augmix.ops`).

    Returns:
        (B, C, H, W) uint8.
    """
    where = f"augmix.apply_op({op!r})"
    if op not in spec.OP_INFO:
        raise TenfoldError(expected(where, "an op among " + ", ".join(spec.OPS), repr(op)))
    x = as_array(where, images)
    b = spec.check_images(where, x.shape, dtype_name(x.dtype), None)[0]
    if x.dtype != np.uint8:
        raise TenfoldError(expected(where, "uint8 images", f"dtype {x.dtype}"))
    a = np.asarray(args, dtype=np.float64).reshape(-1)
    if a.shape != (b,):
        raise ShapeError(expected(where, f"{b} arguments (one per image)", f"shape {np.shape(args)}"))
    for v in a:
        spec.ops.check_argument(where, op, float(v))
    return np.stack([apply_one(op, x[i], float(a[i])) for i in range(b)])


__all__ = ["apply", "apply_op", "chains", "quantize"]
