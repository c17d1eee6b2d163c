"""The SimCLR augmentation pipeline in plain NumPy: the float64 reference that executes an
:class:`~tenfold.spec.simclr.augment.AugmentPlan`.

Paper: Chen et al., ICML 2020, Appendix A. Official code: google-research/simclr
``tf2/data_util.py``. The steps, the formulas and the draw order are in
:mod:`tenfold.spec.simclr.augment`; here each step is written out for one
image at a time (readable over fast), in float64, and the result is rounded
once to the output dtype.
"""

from __future__ import annotations

import numpy as np

from tenfold.spec.errors import TenfoldError, expected
from tenfold.spec.simclr import augment as spec

from .._arrays import as_array, dtype_name


def rgb_to_hsv(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(3, H, W) RGB -> hue in turns [0, 1), chroma ``c = max - min`` and value ``v = max`` (each (H, W))."""
    r, g, b = x
    v = x.max(axis=0)
    c = v - x.min(axis=0)
    safe = np.where(c > 0, c, 1.0)
    h = np.where(v == r, np.mod((g - b) / safe, 6.0), np.where(v == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0))
    return np.where(c > 0, h / 6.0, 0.0), c, v


def hsv_to_rgb(h: np.ndarray, c: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_hsv`: ``x_n = v - c clip(min(k, 4 - k), 0, 1)``, ``k = (n + 6 h) mod 6``."""
    out = []
    for n in (5.0, 3.0, 1.0):
        k = np.mod(n + 6.0 * h, 6.0)
        out.append(v - c * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0))
    return np.stack(out)


def gray(x: np.ndarray, weights: tuple[float, float, float]) -> np.ndarray:
    """(H, W) luma ``w_r r + w_g g + w_b b``."""
    return weights[0] * x[0] + weights[1] * x[1] + weights[2] * x[2]


def colour_op(x: np.ndarray, op: int, value: float, plan: spec.AugmentPlan) -> np.ndarray:
    """One colour-jitter op on a (3, H, W) image (no clipping here)."""
    if op == 0:
        return x + value if plan.brightness_mode == "additive" else x * value
    if op == 1:
        if plan.contrast_mean == "channel":
            m = x.mean(axis=(1, 2), keepdims=True)  # (3, 1, 1)
        else:
            m = gray(x, plan.gray_weights).mean()
        return (x - m) * value + m
    if op == 2:
        if plan.saturation_mode == "blend":
            return value * x + (1.0 - value) * gray(x, plan.gray_weights)[None]
        v = x.max(axis=0)
        c = v - x.min(axis=0)
        k = np.where(c > 0, np.minimum(max(value, 0.0), v / np.where(c > 0, c, 1.0)), 1.0)  # s' / s
        return v - (v - x) * k
    h, c, v = rgb_to_hsv(x)
    return hsv_to_rgb(np.mod(h + value, 1.0), c, v)


def apply(plan: spec.AugmentPlan, images: object) -> np.ndarray:
    """Execute one view's plan on an NCHW RGB batch.

    Args:
        plan: From :func:`tenfold.spec.simclr.augment.sample` for this B, H_in, W_in.
        images: (B, 3, H_in, W_in) uint8 (divided by 255) or float32/float64 in [0, 1].

    Returns:
        (B, 3, H, W) in [0, 1], float32 for uint8 input, else the input dtype (computed in float64).

    Raises:
        TenfoldError: On a non-RGB, non-4-D batch, a bad dtype, or a batch not matching the plan.
    """
    where = "simclr.augment"
    if not isinstance(plan, spec.AugmentPlan):
        raise TenfoldError(expected(where, "an AugmentPlan", type(plan).__name__))
    x = as_array(where, images)
    spec.check_images(where, x.shape, dtype_name(x.dtype), plan)
    xf = x.astype(np.float64) / (255.0 if x.dtype == np.uint8 else 1.0)
    ry, rx = plan.resize_matrices()
    by, bx = plan.blur_matrices()
    params = plan.colour_params()
    out = np.empty((plan.batch_size, 3, plan.height, plan.width))
    for i in range(plan.batch_size):
        y = np.clip(ry[i] @ xf[i] @ rx[i].T, 0.0, 1.0)  # (3, H, W): crop, resize, flip
        for op in plan.ops(i):
            y = np.clip(colour_op(y, op, float(params[i, op]), plan), 0.0, 1.0)
        if plan.gray[i]:
            y = np.broadcast_to(gray(y, plan.gray_weights), y.shape)
        y = np.clip(y, 0.0, 1.0)
        if plan.blur[i]:
            y = np.clip(by[i] @ y @ bx[i].T, 0.0, 1.0)
        out[i] = y
    return out.astype(spec.output_dtype(dtype_name(x.dtype)))


__all__ = ["apply", "colour_op", "gray", "hsv_to_rgb", "rgb_to_hsv"]
