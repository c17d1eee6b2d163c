"""The AugMix operations in plain NumPy, one uint8 image (C, H, W) at a time, with Pillow's exact arithmetic.

Official code: google-research/augmix ``augmentations.py`` (each op is a PIL
call). The semantics written out in :mod:`tenfold.spec.augmix.ops` are
reproduced here step by step: the tables of the point ops from the histogram,
the affine warp in float64 in Pillow's order of operations, the enhance blends
in float32 as Pillow's C code computes them. ``tests/test_augmix_pillow.py``
checks every op against Pillow itself.

Differences from the official implementation: none in the pixels for the
shapes PIL supports (grey and RGB); see the spec for non-square images.
"""

from __future__ import annotations

import numpy as np

from tenfold.spec.augmix import ops as O

_LEVELS = np.arange(256)


# -- point ops: one 256-entry table per channel ------------------------------------------

def autocontrast_lut(channel: np.ndarray) -> np.ndarray:
    """``ImageOps.autocontrast`` (cutoff 0) table of one channel (H, W) uint8 -> (256,) uint8."""
    present = np.flatnonzero(np.bincount(channel.ravel(), minlength=256))
    lo, hi = int(present[0]), int(present[-1])
    if hi <= lo:
        return _LEVELS.astype(np.uint8)
    scale = 255.0 / (hi - lo)
    offset = -lo * scale
    values = np.trunc(_LEVELS * scale + offset)  # Python's int(): toward zero, in float64
    return np.clip(values, 0, 255).astype(np.uint8)


def equalize_lut(channel: np.ndarray) -> np.ndarray:
    """``ImageOps.equalize`` table of one channel (H, W) uint8 -> (256,) uint8 (entries clipped to 255)."""
    h = np.bincount(channel.ravel(), minlength=256).astype(np.int64)
    nonzero = h[h > 0]
    if len(nonzero) <= 1:
        return _LEVELS.astype(np.uint8)
    step = (int(nonzero.sum()) - int(nonzero[-1])) // 255
    if step == 0:
        return _LEVELS.astype(np.uint8)
    before = np.concatenate(([0], np.cumsum(h)[:-1]))  # pixels below each level
    return np.minimum((step // 2 + before) // step, 255).astype(np.uint8)


def posterize_lut(bits: float) -> np.ndarray:
    """``ImageOps.posterize(bits)``: keep the top ``bits`` bits."""
    mask = ~(2 ** (8 - int(bits)) - 1)
    return (_LEVELS & mask).astype(np.uint8)


def solarize_lut(threshold: float) -> np.ndarray:
    """``ImageOps.solarize(threshold)``: invert every level at or above the threshold."""
    return np.where(_LEVELS < threshold, _LEVELS, 255 - _LEVELS).astype(np.uint8)


def point(image: np.ndarray, luts: list[np.ndarray]) -> np.ndarray:
    """Map each channel of ``image`` (C, H, W) uint8 through its table."""
    return np.stack([lut[ch] for lut, ch in zip(luts, image, strict=True)])


# -- affine ops: PIL's inverse-mapped bilinear warp ---------------------------------------

def affine(image: np.ndarray, coeffs: tuple[float, ...]) -> np.ndarray:
    """``Image.transform(size, AFFINE, coeffs, BILINEAR)`` with fill 0, on (C, H, W) uint8.

    Pillow's ``affine_transform`` and ``bilinear_filter*`` (``Geometry.c``),
    in float64 and in the same order of operations.
    """
    _, h, w = image.shape
    a, b, cc, d, e, f = (float(v) for v in coeffs)
    yc, xc = np.meshgrid(np.arange(h) + 0.5, np.arange(w) + 0.5, indexing="ij")  # (H, W) pixel centres
    u = a * xc + b * yc + cc  # input coordinates of each output pixel
    v = d * xc + e * yc + f
    inside = (u >= 0.0) & (u < w) & (v >= 0.0) & (v < h)
    u, v = u - 0.5, v - 0.5
    x0, y0 = np.floor(u), np.floor(v)
    dx, dy = u - x0, v - y0
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    xa, xb = np.clip(x0, 0, w - 1), np.clip(x0 + 1, 0, w - 1)  # edge pixels repeat inside the image
    ya, yb = np.clip(y0, 0, h - 1), np.clip(y0 + 1, 0, h - 1)
    p = image.astype(np.float64)
    top = p[:, ya, xa] + (p[:, ya, xb] - p[:, ya, xa]) * dx  # (C, H, W)
    bottom = p[:, yb, xa] + (p[:, yb, xb] - p[:, yb, xa]) * dx
    value = top + (bottom - top) * dy
    return np.where(inside, np.trunc(value), 0.0).astype(np.uint8)


# -- enhance ops: blends with a degenerate image -------------------------------------------

def grey(image: np.ndarray) -> np.ndarray:
    """PIL ``convert("L")`` of (C, H, W) uint8: ITU-R 601-2 in 16-bit fixed point (C = 1: the channel)."""
    if image.shape[0] == 1:
        return image[0]
    r, g, b = (ch.astype(np.int64) for ch in image)
    wr, wg, wb = O.GREY_WEIGHTS
    return ((r * wr + g * wg + b * wb + O.GREY_ROUND) >> 16).astype(np.uint8)


def smooth(image: np.ndarray) -> np.ndarray:
    """PIL ``filter(ImageFilter.SMOOTH)`` on (C, H, W) uint8, in Pillow's float32 arithmetic."""
    _, h, w = image.shape
    if h < 3 or w < 3:
        return image.copy()
    k = np.asarray(O.SMOOTH_KERNEL, dtype=np.float32) / np.float32(O.SMOOTH_DIVISOR)  # float32 / float32
    p = image.astype(np.float32)

    def row(r: slice, k3: np.ndarray) -> np.ndarray:  # p[r][x-1] k0 + p[r][x] k1 + p[r][x+1] k2, left to right
        return p[:, r, :-2] * k3[0] + p[:, r, 1:-1] * k3[1] + p[:, r, 2:] * k3[2]

    s = np.float32(0.5) + row(slice(2, h), k[0:3])  # the row below first, as Pillow sums
    s = s + row(slice(1, h - 1), k[3:6])
    s = s + row(slice(0, h - 2), k[6:9])
    out = image.copy()
    out[:, 1:-1, 1:-1] = np.clip(s, 0.0, 255.0).astype(np.uint8)  # trunc after the clip
    return out


def blend(degenerate: np.ndarray, image: np.ndarray, factor: float) -> np.ndarray:
    """``Image.blend(degenerate, image, factor)``: ``trunc(D + f (X - D))`` in float32, clipped outside [0, 1]."""
    f = np.float32(factor)
    d = degenerate.astype(np.float32)
    value = d + f * (image.astype(np.int32) - degenerate.astype(np.int32)).astype(np.float32)
    if not 0.0 <= f <= 1.0:
        value = np.clip(value, 0.0, 255.0)
    return value.astype(np.uint8)


def degenerate(op: str, image: np.ndarray) -> np.ndarray:
    """The image an enhance op blends away from (see the spec)."""
    if op == "color":
        return np.broadcast_to(grey(image), image.shape).copy()
    if op == "contrast":
        lum = grey(image)
        mean = float(lum.sum(dtype=np.int64)) / lum.size
        return np.full(image.shape, int(mean + 0.5), dtype=np.uint8)
    if op == "brightness":
        return np.zeros_like(image)
    if op == "sharpness":
        return smooth(image)
    raise KeyError(op)


# -- one op, by name ------------------------------------------------------------------------

def apply_one(op: str, image: np.ndarray, arg: float) -> np.ndarray:
    """Apply op ``op`` with argument ``arg`` to one (C, H, W) uint8 image."""
    _, h, w = image.shape
    if op == "autocontrast":
        return point(image, [autocontrast_lut(ch) for ch in image])
    if op == "equalize":
        return point(image, [equalize_lut(ch) for ch in image])
    if op == "posterize":
        return point(image, [posterize_lut(arg)] * len(image))
    if op == "solarize":
        return point(image, [solarize_lut(arg)] * len(image))
    if op in O.AFFINE_OPS:
        return affine(image, O.affine_coefficients(op, arg, h, w))
    if op in O.ENHANCE_OPS:
        return blend(degenerate(op, image), image, arg)
    raise KeyError(op)


__all__ = ["affine", "apply_one", "autocontrast_lut", "blend", "degenerate", "equalize_lut", "grey", "point",
           "posterize_lut", "smooth", "solarize_lut"]
