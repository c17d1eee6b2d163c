"""The AugMix operations for PyTorch, batched: each image of a uint8 (n, C, H, W) batch with its own argument.

Official code: google-research/augmix ``augmentations.py`` (PIL calls). The
arithmetic is Pillow's, as written out in :mod:`tenfold.spec.augmix.ops`, so
results equal :mod:`tenfold.numpy_ref.augmix` (and Pillow) exactly:

* Point ops: posterize is a bitwise AND and solarize a select (one pass each);
  autocontrast and equalize build one 256-entry table per image and channel
  (from the channel's min/max, or its histogram by one ``scatter_add_``) and
  apply all tables in one ``gather``.
* Affine ops: one sampling routine for every op and image: the input
  coordinates of every output pixel from each image's 6 coefficients, in
  float64 and in Pillow's order of operations, then 1, 2 or 4 gathers of the
  neighbours (translations land on pixel centres and need one; a shear
  interpolates along one axis) and the lerps in float64, one torch op per
  arithmetic step (so no fused multiply-add changes a rounding on any device).
* Enhance ops: the degenerate image per image (grey by PIL's fixed-point
  weights, the grey mean, zero, or SMOOTH in float32 in Pillow's order), then
  ``trunc(clip(D + f (X - D), 0, 255))`` in float32.

Nothing loops over images; every function works on CPU and CUDA tensors.
"""

from __future__ import annotations

import numpy as np
import torch

from tenfold.spec.augmix import ops as O


def _levels(device: torch.device) -> torch.Tensor:
    return torch.arange(256, dtype=torch.float64, device=device)


# -- point ops ------------------------------------------------------------------------------

def posterize(x: torch.Tensor, bits: torch.Tensor) -> torch.Tensor:
    """Keep the top ``bits`` (n,) bits of every pixel: ``x & ~(2**(8 - bits) - 1)``."""
    mask = (255 - (2 ** (8 - bits.to(torch.int64)) - 1)).to(torch.uint8)  # (n,)
    return x & mask.view(-1, 1, 1, 1)


def solarize(x: torch.Tensor, threshold: torch.Tensor) -> torch.Tensor:
    """Invert every pixel at or above its image's threshold (n,).

    For integer pixels ``x < t`` exactly when ``x < ceil(t)``, so the test runs on uint8.
    """
    t = torch.ceil(threshold.to(torch.float64))
    some = (t <= 255).view(-1, 1, 1, 1)  # a threshold above 255 inverts nothing
    t8 = t.clamp(0, 255).to(torch.uint8).view(-1, 1, 1, 1)
    return torch.where((x >= t8) & some, 255 - x, x)


def autocontrast_lut(x: torch.Tensor) -> torch.Tensor:
    """``ImageOps.autocontrast`` tables (n, C, 256) uint8 from each channel's min and max."""
    flat = x.flatten(2)  # (n, C, HW)
    lo, hi = flat.amin(dim=2).to(torch.float64), flat.amax(dim=2).to(torch.float64)  # (n, C)
    span = torch.where(hi > lo, hi - lo, torch.ones_like(hi))
    scale = (torch.full_like(span, 255.0) / span)[..., None]  # (n, C, 1); a true division (scalar / tensor
    # is a reciprocal times the scalar in torch: one more rounding than Pillow's 255.0 / (hi - lo))
    offset = -lo[..., None] * scale
    lut = torch.trunc(_levels(x.device) * scale + offset).clamp_(0, 255)  # Python's int(), in float64
    identity = _levels(x.device).expand_as(lut)
    return torch.where((hi > lo)[..., None], lut, identity).to(torch.uint8)


def histogram(x: torch.Tensor) -> torch.Tensor:
    """Per image and channel, the count of each level: (n, C, 256) int64."""
    n, c = x.shape[:2]
    flat = x.reshape(n * c, -1).to(torch.int64)  # (nC, HW)
    counts = torch.zeros(n * c, 256, dtype=torch.int64, device=x.device)
    counts.scatter_add_(1, flat, torch.ones_like(flat))
    return counts.view(n, c, 256)


def equalize_lut(x: torch.Tensor) -> torch.Tensor:
    """``ImageOps.equalize`` tables (n, C, 256) uint8 (entries clipped to 255, as PIL's point tables)."""
    h = histogram(x)  # (n, C, 256)
    total = x.shape[2] * x.shape[3]
    last = h.gather(2, x.flatten(2).amax(dim=2, keepdim=True).to(torch.int64))  # count of the top level
    step = (total - last) // 255  # (n, C, 1)
    safe = torch.where(step > 0, step, torch.ones_like(step))
    before = torch.cumsum(h, dim=2) - h  # pixels below each level
    lut = ((safe // 2 + before) // safe).clamp_(max=255)
    identity = torch.arange(256, device=x.device).expand_as(lut)
    return torch.where(step > 0, lut, identity).to(torch.uint8)  # one level, or step 0: identity


def apply_lut(x: torch.Tensor, lut: torch.Tensor) -> torch.Tensor:
    """Map each channel of each image through its own table: ``lut`` (n, C, 256) uint8."""
    n, c, h, w = x.shape
    return torch.gather(lut, 2, x.reshape(n, c, h * w).to(torch.int64)).view(n, c, h, w)


# -- affine ops ------------------------------------------------------------------------------

def _lerp(p: torch.Tensor, q: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``p + (q - p) * t`` in float64 as Pillow's BILINEAR macro: one rounding per step, one torch op per
    step (so no device fuses a multiply-add). Works in place in a float64 copy of ``q``."""
    p = p.to(torch.float64)  # same-dtype in-place ops take the vectorised path
    out = q.to(torch.float64) if q.dtype != torch.float64 else q
    return out.sub_(p).mul_(t).add_(p)


def _finish(value: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
    """Fill 0 outside the input, then Pillow's ``(UINT8)`` cast (truncation)."""
    return value.masked_fill_(~inside.unsqueeze(1), 0).to(torch.uint8)


def _warp_axis(x: torch.Tensor, main: torch.Tensor, other: torch.Tensor, off: torch.Tensor, dim: int,
               whole_axis: bool, on_centres: bool) -> torch.Tensor:
    """Warp whose samples stay on their own row (``dim=3``) or column (``dim=2``): shears and translations.

    The coordinate along ``dim`` is ``main * centre + other * cross_centre + off``
    (Pillow's ``a0 xin + a1 yin + a2`` with the terms in its order; the sum of
    the two products commutes), then one gather (on a pixel centre) or two and a lerp.
    ``whole_axis``: every ``other`` is 0 (the coordinate is the same across the
    axis); ``on_centres``: moreover every sample lands on a pixel centre (a
    whole-pixel translation). Both are decided on the host from the plan.
    """
    n, ch, h, w = x.shape
    dev = x.device
    size = x.shape[dim]
    along = torch.arange(size, dtype=torch.float64, device=dev) + 0.5
    across = torch.arange(h if dim == 3 else w, dtype=torch.float64, device=dev) + 0.5
    shape_along, shape_across = ((1, w), (h, 1)) if dim == 3 else ((h, 1), (1, w))
    coord = main.view(n, 1, 1) * along.view(shape_along)
    if not whole_axis:  # 0 * centre adds +0.0 exactly: skipped for translations
        coord = coord + other.view(n, 1, 1) * across.view(shape_across)  # (n, H, W)
    coord = coord + off.view(n, 1, 1)
    inside = (coord >= 0) & (coord < size)
    coord = coord - 0.5
    i0 = torch.floor(coord)
    frac = (coord - i0).unsqueeze(1)
    i0 = i0.to(torch.int64).unsqueeze(1)  # (n, 1, H|1, W|1)
    full = (n, ch, h, w)
    lo = torch.gather(x, dim, i0.clamp(0, size - 1).expand(full))
    if on_centres:  # a whole-pixel translation: dx = 0, the value is the pixel itself
        return lo.masked_fill_(~inside.unsqueeze(1), 0)
    hi = torch.gather(x, dim, (i0 + 1).clamp(0, size - 1).expand(full))
    return _finish(_lerp(lo, hi, frac), inside)


def _warp_2d(x: torch.Tensor, coeffs: torch.Tensor) -> torch.Tensor:
    """The general warp (rotations): four neighbours, three lerps (Pillow's bilinear_filter order)."""
    n, ch, h, w = x.shape
    dev = x.device
    a, b, c, d, e, f = (v.view(n, 1, 1) for v in coeffs.unbind(1))
    xc = torch.arange(w, dtype=torch.float64, device=dev).view(1, 1, w) + 0.5  # pixel centres
    yc = torch.arange(h, dtype=torch.float64, device=dev).view(1, h, 1) + 0.5
    u = a * xc + b * yc + c  # (n, H, W): input coordinates, as Pillow's affine_transform
    v = d * xc + e * yc + f
    inside = (u >= 0) & (u < w) & (v >= 0) & (v < h)  # (n, H, W)
    u = u - 0.5
    v = v - 0.5
    x0, y0 = torch.floor(u), torch.floor(v)
    dx, dy = (u - x0).unsqueeze(1), (v - y0).unsqueeze(1)  # (n, 1, H, W)
    x0, y0 = x0.to(torch.int64), y0.to(torch.int64)
    xa, xb = x0.clamp(0, w - 1), (x0 + 1).clamp(0, w - 1)  # edge pixels repeat inside the image
    ya, yb = (y0.clamp(0, h - 1) * w), ((y0 + 1).clamp(0, h - 1) * w)
    flat = x.reshape(n, ch, h * w)

    def pick(rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:  # (n, C, H, W) uint8
        index = (rows + cols).view(n, 1, h * w).expand(n, ch, h * w)
        return torch.gather(flat, 2, index).view(n, ch, h, w)

    top = _lerp(pick(ya, xa), pick(ya, xb), dx)
    bottom = _lerp(pick(yb, xa), pick(yb, xb), dx)
    return _finish(_lerp(top, bottom, dy), inside)


def warp(x: torch.Tensor, coeffs: torch.Tensor) -> torch.Tensor:
    """PIL ``transform(AFFINE, BILINEAR)`` with fill 0 of every image by its own inverse map.

    One sampling routine for every affine op; the coefficients decide how much
    of it runs: samples that stay on their rows (shear_x, translate_x) or
    columns (shear_y, translate_y) interpolate along one axis (one gather for
    whole-pixel translations), the rest (rotate) along both. The result is
    Pillow's in every case.

    Args:
        x: (n, C, H, W) uint8.
        coeffs: (n, 6) float64, ``(a, b, c, d, e, f)`` per image
            (:func:`tenfold.spec.augmix.ops.affine_coefficients`).

    Returns:
        (n, C, H, W) uint8, equal to Pillow's result.
    """
    host = coeffs.detach().to(dtype=torch.float64, device="cpu")  # the plan's doubles: decided on the host
    a, b, c, d, e, f = host.unbind(1)
    coeffs = coeffs.to(device=x.device, dtype=torch.float64)
    rows_kept = bool(((d == 0) & (e == 1) & (f == 0)).all())  # v = y + .5 exactly
    cols_kept = bool(((a == 1) & (b == 0) & (c == 0)).all())  # u = x + .5 exactly
    if rows_kept and cols_kept:
        return x.clone()
    for kept, (m, o, f0), dim in ((rows_kept, (0, 1, 2), 3), (cols_kept, (4, 3, 5), 2)):
        if kept:
            whole = bool((host[:, o] == 0).all())
            centres = whole and bool((host[:, m] == 1).all()) and bool((host[:, f0] == torch.round(host[:, f0])).all())
            return _warp_axis(x, coeffs[:, m], coeffs[:, o], coeffs[:, f0], dim, whole, centres)
    return _warp_2d(x, coeffs)


def affine_coefficients(ops: list[str], args: list[float], height: int, width: int) -> torch.Tensor:
    """(n, 6) float64 coefficients of the given affine ops (Python doubles from the spec)."""
    return torch.tensor([O.affine_coefficients(op, a, height, width) for op, a in zip(ops, args, strict=True)],
                        dtype=torch.float64).view(-1, 6)


# -- enhance ops -----------------------------------------------------------------------------

def grey(x: torch.Tensor) -> torch.Tensor:
    """PIL ``convert("L")``: (n, 1, H, W) uint8 (one channel: itself)."""
    if x.shape[1] == 1:
        return x
    r, g, b = (v.to(torch.int32) for v in x.unbind(1))
    wr, wg, wb = O.GREY_WEIGHTS
    return ((r * wr + g * wg + b * wb + O.GREY_ROUND) >> 16).to(torch.uint8).unsqueeze(1)


def smooth(x: torch.Tensor) -> torch.Tensor:
    """PIL ``filter(SMOOTH)`` in Pillow's float32 order of operations; borders copied."""
    h, w = x.shape[2:]
    if h < 3 or w < 3:
        return x.clone()
    k = torch.from_numpy(np.asarray(O.SMOOTH_KERNEL, np.float32) / np.float32(O.SMOOTH_DIVISOR)).to(x.device)
    p = x.to(torch.float32)

    def row(r0: int, r1: int, k3: torch.Tensor) -> torch.Tensor:
        band = p[:, :, r0:r1]
        return band[..., :-2] * k3[0] + band[..., 1:-1] * k3[1] + band[..., 2:] * k3[2]

    s = row(2, h, k[0:3]) + 0.5  # Pillow: s = .5; s += row(y+1); s += row(y); s += row(y-1)
    s = s + row(1, h - 1, k[3:6])
    s = s + row(0, h - 2, k[6:9])
    out = x.clone()
    out[:, :, 1:-1, 1:-1] = s.clamp_(0.0, 255.0).to(torch.uint8)
    return out


def degenerate(op: str, x: torch.Tensor) -> torch.Tensor:
    """The image each enhance op blends away from, broadcastable to ``x``."""
    if op == "color":
        return grey(x)
    if op == "contrast":
        lum = grey(x)
        total = lum.flatten(1).sum(dim=1, dtype=torch.int64).to(torch.float64)
        mean = total / torch.full_like(total, lum.shape[2] * lum.shape[3])  # tensor / tensor: a true division
        return torch.floor(mean + 0.5).to(torch.uint8).view(-1, 1, 1, 1)  # Python's int(mean + .5)
    if op == "brightness":
        return torch.zeros(1, 1, 1, 1, dtype=torch.uint8, device=x.device)
    if op == "sharpness":
        return smooth(x)
    raise KeyError(op)


def blend(d: torch.Tensor, x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """``Image.blend(d, x, f)``: ``trunc(clip(D + f (X - D), 0, 255))`` in float32, ``f`` (n,) per image.

    The clip changes nothing for ``0 <= f <= 1`` (the value lies between D and X).
    """
    f = factor.to(device=x.device, dtype=torch.float32).view(-1, 1, 1, 1)
    df = d.to(torch.float32)
    return (df + f * (x.to(torch.float32) - df)).clamp_(0.0, 255.0).to(torch.uint8)


# -- dispatch --------------------------------------------------------------------------------

def apply_group(op: str, x: torch.Tensor, args: torch.Tensor, coeffs: torch.Tensor | None = None) -> torch.Tensor:
    """Apply one op to every image of ``x`` (n, C, H, W) uint8, image i with ``args[i]``.

    ``coeffs`` (n, 6): the affine coefficients (computed from ``args`` when None).
    """
    if op == "autocontrast":
        return apply_lut(x, autocontrast_lut(x))
    if op == "equalize":
        return apply_lut(x, equalize_lut(x))
    if op == "posterize":
        return posterize(x, args.to(x.device))
    if op == "solarize":
        return solarize(x, args.to(device=x.device, dtype=torch.float64))
    if op in O.AFFINE_OPS:
        if coeffs is None:
            coeffs = affine_coefficients([op] * len(args), args.tolist(), x.shape[2], x.shape[3])
        return warp(x, coeffs)
    if op in O.ENHANCE_OPS:
        return blend(degenerate(op, x), x, args)
    raise KeyError(op)


__all__ = ["affine_coefficients", "apply_group", "apply_lut", "autocontrast_lut", "blend", "degenerate",
           "equalize_lut", "grey", "histogram", "posterize", "smooth", "solarize", "warp"]
