"""The AugMix operations for TensorFlow, batched: each image of a uint8 NHWC batch (n, H, W, C) with its own argument.

Official code: google-research/augmix ``augmentations.py`` (PIL calls). The
arithmetic is Pillow's (:mod:`tenfold.spec.augmix.ops`), so results equal
:mod:`tenfold.numpy_ref.augmix` exactly; the structure follows
:mod:`tenfold.torch_backend.augmix.ops`: tables gathered per image and channel
for autocontrast and equalize, a bitwise AND for posterize, a select for
solarize; one float64 sampling routine for the affine ops (by op: along rows,
along columns, or both), one elementwise op per arithmetic step; float32
blends. Every function runs eagerly and inside ``tf.function`` / ``tf.data``
with a dynamic number of images (an empty group is fine).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tenfold.spec.augmix import ops as O

_ROW_OPS = ("shear_x", "translate_x")  # samples stay on their row
_COL_OPS = ("shear_y", "translate_y")  # samples stay on their column


def _col(v: tf.Tensor) -> tf.Tensor:
    """(n,) -> (n, 1, 1, 1)."""
    return tf.reshape(v, [-1, 1, 1, 1])


# -- point ops ------------------------------------------------------------------------------

def posterize(x: tf.Tensor, bits: tf.Tensor) -> tf.Tensor:
    """``x & ~(2**(8 - bits) - 1)`` per image."""
    keep = 255 - (tf.bitwise.left_shift(tf.ones_like(bits, tf.int32), 8 - tf.cast(bits, tf.int32)) - 1)
    return tf.bitwise.bitwise_and(x, _col(tf.cast(keep, tf.uint8)))


def solarize(x: tf.Tensor, threshold: tf.Tensor) -> tf.Tensor:
    """Invert every pixel at or above its image's threshold."""
    return tf.where(tf.cast(x, tf.float64) < _col(tf.cast(threshold, tf.float64)), x, 255 - x)


def _apply_lut(x: tf.Tensor, lut: tf.Tensor) -> tf.Tensor:
    """Map channel c of image i through ``lut[i, c]``: ``lut`` (n, C, 256) uint8, ``x`` (n, H, W, C)."""
    n, c = tf.shape(x)[0], tf.shape(x)[3]
    offset = tf.reshape(tf.range(n * c) * 256, tf.stack([n, 1, 1, c]))
    return tf.gather(tf.reshape(lut, [-1]), tf.cast(x, tf.int32) + offset)


def autocontrast(x: tf.Tensor) -> tf.Tensor:
    """``ImageOps.autocontrast``: per image and channel, the table from the min and max."""
    lo = tf.cast(tf.reduce_min(x, axis=[1, 2]), tf.float64)[..., None]  # (n, C, 1)
    hi = tf.cast(tf.reduce_max(x, axis=[1, 2]), tf.float64)[..., None]
    scale = tf.fill(tf.shape(hi), tf.constant(255.0, tf.float64)) / tf.where(hi > lo, hi - lo, tf.ones_like(hi))
    offset = -lo * scale
    levels = tf.range(256, dtype=tf.float64)
    lut = tf.clip_by_value(tf.math.floor(levels * scale + offset), 0.0, 255.0)  # >= 0 once clipped: floor = int()
    lut = tf.where(hi > lo, lut, levels)
    return _apply_lut(x, tf.cast(lut, tf.uint8))


def equalize(x: tf.Tensor) -> tf.Tensor:
    """``ImageOps.equalize``: per image and channel, the table from the histogram (clipped to 255)."""
    n, h, w, c = (tf.shape(x)[i] for i in range(4))
    rows = tf.reshape(tf.transpose(tf.cast(x, tf.int32), [0, 3, 1, 2]), tf.stack([n * c, h * w]))  # (nC, HW)
    offset = tf.range(n * c)[:, None] * 256
    counts = tf.math.bincount(tf.reshape(rows + offset, [-1]), minlength=n * c * 256, maxlength=n * c * 256,
                              dtype=tf.int64)
    hist = tf.reshape(counts, tf.stack([n, c, 256]))
    top = tf.cast(tf.reduce_max(x, axis=[1, 2]), tf.int32)[..., None]  # (n, C, 1)
    last = tf.gather(hist, top, batch_dims=2)  # count of the top level
    step = (tf.cast(h * w, tf.int64) - last) // 255
    safe = tf.where(step > 0, step, tf.ones_like(step))
    before = tf.cumsum(hist, axis=2, exclusive=True)
    lut = tf.minimum((safe // 2 + before) // safe, 255)
    lut = tf.where(step > 0, lut, tf.range(256, dtype=tf.int64))
    return _apply_lut(x, tf.cast(lut, tf.uint8))


# -- affine ops ------------------------------------------------------------------------------

def _lerp(p: tf.Tensor, q: tf.Tensor, t: tf.Tensor) -> tf.Tensor:
    """``p + (q - p) * t`` in float64, one op (one rounding) per step, as Pillow's BILINEAR macro."""
    p = tf.cast(p, tf.float64)
    return p + (tf.cast(q, tf.float64) - p) * t


def _gather_pixels(flat: tf.Tensor, index: tf.Tensor, shape: tf.Tensor) -> tf.Tensor:
    """``flat`` (n, HW, C), ``index`` (n, H, W) flat pixel indices -> (n, H, W, C)."""
    n = tf.shape(flat)[0]
    return tf.reshape(tf.gather(flat, tf.reshape(index, tf.stack([n, -1])), axis=1, batch_dims=1), shape)


def warp(x: tf.Tensor, coeffs: tf.Tensor, op: str) -> tf.Tensor:
    """PIL ``transform(AFFINE, BILINEAR)`` with fill 0 of every image by its own inverse map.

    Args:
        x: (n, H, W, C) uint8.
        coeffs: (n, 6) float64 ``(a, b, c, d, e, f)``.
        op: The affine op (decides which axes interpolate: translations land
            on pixel centres, shears stay on their rows or columns).
    """
    shape = tf.shape(x)
    n, h, w, c = shape[0], shape[1], shape[2], shape[3]
    hf, wf = tf.cast(h, tf.float64), tf.cast(w, tf.float64)
    a, b, cc, d, e, f = (tf.reshape(v, [-1, 1, 1]) for v in tf.unstack(tf.cast(coeffs, tf.float64), 6, axis=1))
    xc = tf.reshape(tf.range(w, dtype=tf.float64) + 0.5, [1, 1, -1])  # pixel centres
    yc = tf.reshape(tf.range(h, dtype=tf.float64) + 0.5, [1, -1, 1])
    zeros = tf.zeros(tf.stack([n, h, w]), tf.float64)
    u = a * xc + b * yc + cc + zeros  # (n, H, W), Pillow's affine_transform order
    v = d * xc + e * yc + f + zeros
    inside = (u >= 0.0) & (u < wf) & (v >= 0.0) & (v < hf)
    u, v = u - 0.5, v - 0.5
    x0, y0 = tf.math.floor(u), tf.math.floor(v)
    dx, dy = (u - x0)[..., None], (v - y0)[..., None]  # (n, H, W, 1)
    x0, y0 = tf.cast(x0, tf.int32), tf.cast(y0, tf.int32)
    xa, xb = tf.clip_by_value(x0, 0, w - 1), tf.clip_by_value(x0 + 1, 0, w - 1)
    ya, yb = tf.clip_by_value(y0, 0, h - 1) * w, tf.clip_by_value(y0 + 1, 0, h - 1) * w
    flat = tf.reshape(x, tf.stack([n, h * w, c]))

    def pick(rows, cols):
        return _gather_pixels(flat, rows + cols, shape)

    if op in ("translate_x", "translate_y"):  # whole pixels: dx = dy = 0
        value = tf.cast(pick(ya, xa), tf.float64)
    elif op in _ROW_OPS:  # dy = 0
        value = _lerp(pick(ya, xa), pick(ya, xb), dx)
    elif op in _COL_OPS:  # dx = 0
        value = _lerp(pick(ya, xa), pick(yb, xa), dy)
    else:
        value = _lerp(_lerp(pick(ya, xa), pick(ya, xb), dx), _lerp(pick(yb, xa), pick(yb, xb), dx), dy)
    value = tf.where(inside[..., None], value, tf.zeros_like(value))
    return tf.cast(value, tf.uint8)  # truncation, as Pillow's (UINT8) cast


def affine_coefficients_tf(op: str, arg: tf.Tensor, height, width) -> tf.Tensor:
    """(n, 6) float64 coefficients computed in TF (for plans drawn in a graph by ``sample_tf``).

    Rotation uses float64 cos/sin without Pillow's 15-decimal rounding (a
    difference of at most 1e-15 in a coefficient); injected plans carry the
    spec's exact coefficients instead.
    """
    arg = tf.cast(arg, tf.float64)
    one, zero = tf.ones_like(arg), tf.zeros_like(arg)
    if op == "rotate":
        angle = -(tf.math.floormod(arg, 360.0) * (3.141592653589793 / 180.0))
        cx, cy = tf.cast(width, tf.float64) / 2, tf.cast(height, tf.float64) / 2
        ca, sa = tf.cos(angle), tf.sin(angle)
        return tf.stack([ca, sa, ca * -cx + sa * -cy + cx, -sa, ca, -sa * -cx + ca * -cy + cy], axis=1)
    if op == "shear_x":
        return tf.stack([one, arg, zero, zero, one, zero], axis=1)
    if op == "shear_y":
        return tf.stack([one, zero, zero, arg, one, zero], axis=1)
    if op == "translate_x":
        return tf.stack([one, zero, arg, zero, one, zero], axis=1)
    if op == "translate_y":
        return tf.stack([one, zero, zero, zero, one, arg], axis=1)
    raise KeyError(op)


# -- enhance ops -----------------------------------------------------------------------------

def grey(x: tf.Tensor) -> tf.Tensor:
    """PIL ``convert("L")``: (n, H, W, 1) uint8 (one channel: itself)."""
    if x.shape[-1] == 1:
        return x
    r, g, b = tf.unstack(tf.cast(x, tf.int32), 3, axis=3)
    wr, wg, wb = O.GREY_WEIGHTS
    return tf.cast(tf.bitwise.right_shift(r * wr + g * wg + b * wb + O.GREY_ROUND, 16), tf.uint8)[..., None]


def _smooth(x: tf.Tensor) -> tf.Tensor:
    h = tf.shape(x)[1]
    k = tf.constant(np.asarray(O.SMOOTH_KERNEL, np.float32) / np.float32(O.SMOOTH_DIVISOR))
    p = tf.cast(x, tf.float32)

    def row(r0, r1, k3):
        band = p[:, r0:r1]
        return band[:, :, :-2] * k3[0] + band[:, :, 1:-1] * k3[1] + band[:, :, 2:] * k3[2]

    s = row(2, h, k[0:3]) + 0.5  # Pillow: s = .5; s += row(y+1); s += row(y); s += row(y-1)
    s = s + row(1, h - 1, k[3:6])
    s = s + row(0, h - 2, k[6:9])
    inner = tf.cast(tf.clip_by_value(s, 0.0, 255.0), tf.uint8)  # (n, H-2, W-2, C)
    middle = tf.concat([x[:, 1:-1, :1], inner, x[:, 1:-1, -1:]], axis=2)
    return tf.concat([x[:, :1], middle, x[:, -1:]], axis=1)


def smooth(x: tf.Tensor) -> tf.Tensor:
    """PIL ``filter(SMOOTH)`` in Pillow's float32 order of operations; borders copied, tiny images copied whole."""
    h, w = x.shape[1], x.shape[2]
    if h is not None and w is not None:
        return x if min(h, w) < 3 else _smooth(x)
    return tf.cond(tf.reduce_min(tf.shape(x)[1:3]) < 3, lambda: x, lambda: _smooth(x))


def degenerate(op: str, x: tf.Tensor) -> tf.Tensor:
    """The image each enhance op blends away from, broadcastable to ``x``."""
    if op == "color":
        return grey(x)
    if op == "contrast":
        lum = grey(x)
        total = tf.reduce_sum(tf.cast(lum, tf.int64), axis=[1, 2, 3])
        mean = tf.cast(total, tf.float64) / tf.cast(tf.shape(lum)[1] * tf.shape(lum)[2], tf.float64)
        return _col(tf.cast(tf.math.floor(mean + 0.5), tf.uint8))  # Python's int(mean + .5)
    if op == "brightness":
        return tf.zeros([1, 1, 1, 1], tf.uint8)
    if op == "sharpness":
        return smooth(x)
    raise KeyError(op)


def blend(d: tf.Tensor, x: tf.Tensor, factor: tf.Tensor) -> tf.Tensor:
    """``Image.blend(d, x, f)``: ``trunc(clip(D + f (X - D), 0, 255))`` in float32."""
    f = _col(tf.cast(factor, tf.float32))
    df = tf.cast(d, tf.float32)
    return tf.cast(tf.clip_by_value(df + f * (tf.cast(x, tf.float32) - df), 0.0, 255.0), tf.uint8)


# -- dispatch --------------------------------------------------------------------------------

def apply_group(op: str, x: tf.Tensor, args: tf.Tensor, coeffs: tf.Tensor) -> tf.Tensor:
    """Apply one op to every image of ``x`` (n, H, W, C) uint8, image i with ``args[i]`` / ``coeffs[i]``."""
    if op == "autocontrast":
        return autocontrast(x)
    if op == "equalize":
        return equalize(x)
    if op == "posterize":
        return posterize(x, args)
    if op == "solarize":
        return solarize(x, args)
    if op in O.AFFINE_OPS:
        return warp(x, coeffs, op)
    if op in O.ENHANCE_OPS:
        return blend(degenerate(op, x), x, args)
    raise KeyError(op)


__all__ = ["affine_coefficients_tf", "apply_group", "autocontrast", "blend", "degenerate", "equalize", "grey",
           "posterize", "smooth", "solarize", "warp"]
