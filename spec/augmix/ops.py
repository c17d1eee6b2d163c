r"""The AugMix operations: the official list, the severity-to-magnitude maps, and their PIL semantics.

Official code: google-research/augmix ``augmentations.py`` (the ops, the maps),
``cifar.py`` / ``imagenet.py`` (``--all-ops``, ``IMAGE_SIZE``). Every op works
on uint8 channels, as PIL does; the semantics below are Pillow's (13.0,
``src/PIL/Image.py``, ``ImageOps.py``, ``ImageEnhance.py``,
``src/libImaging/Geometry.c``, ``Filter.c``, ``Blend.c``, ``Convert.c``).

Ops (:data:`OPS`, the official ``augmentations_all`` order; the first nine are
the default ``augmentations``; the last four, enabled by ``--all-ops``, overlap
ImageNet-C and are off by default)::

    autocontrast, equalize, posterize, rotate, solarize, shear_x, shear_y,
    translate_x, translate_y | color, contrast, brightness, sharpness

Official magnitudes (continuous level ``l ~ U[0.1, severity)``; ``int_parameter(l, M)
= int(l * M / 10)``, ``float_parameter(l, M) = l * M / 10``; a sign ``-1`` with
probability 1/2 where noted)::

    posterize     bits      = 4 - int(l * 4 / 10)
    rotate        degrees   = int(l * 30 / 10),            signed (uniform() > 0.5)
    solarize      threshold = 256 - int(l * 256 / 10)
    shear_x/y     s         = l * 0.3 / 10,                signed (uniform() > 0.5)
    translate_x/y t         = int(l * (S / 3) / 10) px,    signed (random() > 0.5)
    color, contrast, brightness, sharpness: factor = l * 1.8 / 10 + 0.1
    autocontrast, equalize: no level is drawn

``S`` is the official module global ``IMAGE_SIZE`` (32; ``imagenet.py`` sets
224); here ``config.image_size``, or the image's own width (translate_x) or
height (translate_y) when that is None (the same for the official square images).

torchvision's magnitudes (preset ``torchvision``; ``transforms/v2/_auto_augment.py``
``AugMix``): a bin ``i ~ U{0, ..., severity-1}`` of a 10-bin ``linspace(0, max)``,
so ``mag = i * max / 9``; rotate 30 (float degrees), shear 0.3, translate
``int(i * (S/3) / 9)`` with S the width (x) or height (y), posterize
``round(4 - i / 2.25)`` bits, solarize threshold ``255 * (1 - i / 9)``, enhance
factor ``1 + sign * 0.9 * i / 9``; every signed op is negated when ``rand() <= 0.5``.

PIL semantics (what every layer executes, channel by channel, on uint8):

* Point ops map each channel through a 256-entry table (entries clipped to
  [0, 255], PIL's ``CLIP8`` on ``Image.point`` tables):

  - autocontrast: ``lo``, ``hi`` = smallest and largest value present; identity
    if ``hi <= lo``; else ``lut[i] = clip(int(i * s - lo * s), 0, 255)`` with
    ``s = 255.0 / (hi - lo)`` (float64, ``int`` truncates toward zero).
  - equalize: ``h`` = histogram, ``nz`` its non-zero counts; identity if
    ``len(nz) <= 1`` or ``step = (sum(nz) - nz[-1]) // 255`` is 0; else
    ``n = step // 2`` and ``lut[i] = n // step`` before ``n += h[i]``.
  - posterize(bits): ``lut[i] = i & ~(2**(8 - bits) - 1)``.
  - solarize(threshold): ``lut[i] = i if i < threshold else 255 - i``.

* Affine ops (rotate, shear, translate) are PIL ``Image.transform(AFFINE)``
  with BILINEAR resampling and fill 0 (``rotate`` without ``fillcolor``;
  ``transform`` with ``fill=1``): the 6 coefficients ``(a, b, c, d, e, f)``
  map *output* pixel centres to *input* coordinates
  (:func:`affine_coefficients`). For output pixel (x, y), in float64::

      u = a (x + .5) + b (y + .5) + c,   v = d (x + .5) + e (y + .5) + f
      outside 0 <= u < W and 0 <= v < H:  0
      else u -= .5, v -= .5;  x0 = floor(u), y0 = floor(v);  dx = u - x0, dy = v - y0
           p(r, q) = pixel at row clip(r, 0, H-1), column clip(q, 0, W-1)
           top = p(y0, x0)   + (p(y0, x0+1)   - p(y0, x0))   * dx
           bot = p(y0+1, x0) + (p(y0+1, x0+1) - p(y0+1, x0)) * dx
           out = trunc(top + (bot - top) * dy)

  (each product and sum rounded in float64, in this order; ``trunc`` is C's
  cast to UINT8). rotate(deg) is ``Image.rotate(deg, BILINEAR)``: counter-
  clockwise about ``(W/2, H/2)``; shear_x(s) ``(1, s, 0, 0, 1, 0)``; shear_y(s)
  ``(1, 0, 0, s, 1, 0)``; translate_x(t) ``(1, 0, t, 0, 1, 0)`` (a positive t
  moves content left); translate_y(t) ``(1, 0, 0, 0, 1, t)`` (moves it up).

* Enhance ops are ``Image.blend(degenerate, image, factor)``: with ``f`` the
  factor rounded to float32, ``out = trunc(D + f * (X - D))`` in float32
  arithmetic, clipped to [0, 255] first when ``f`` is outside [0, 1]. The
  degenerate image ``D``:

  - color: the grey image ``L = (19595 R + 38470 G + 7471 B + 32768) >> 16``
    (PIL's ITU-R 601-2 ``rgb2l``) in every channel (one channel: the image).
  - contrast: ``mean = sum(L) / (H W)`` (float64), every pixel ``int(mean + .5)``.
  - brightness: 0.
  - sharpness: PIL's SMOOTH filter (3x3 kernel ``[[1,1,1],[1,5,1],[1,1,1]] / 13``):
    kernel entries ``k / 13`` in float32; for interior pixels, in float32,
    ``s = .5; s += row(y+1); s += row(y); s += row(y-1)`` with
    ``row(r) = p[r][x-1] k0 + p[r][x] k1 + p[r][x+1] k2`` (left to right),
    then ``trunc(clip(s, 0, 255))``; the outermost rows and columns are copied;
    an image under 3 pixels in either direction is copied whole.

Float images (values in [0, 1]) go through the official ``augment_and_mix.py``
conversion: ``u = uint8(clip(x * 255, 0, 255))`` (truncation, in the image's
dtype), the ops on ``u``, back as ``u / 255``. Converting once per chain equals
converting at every op because ``trunc((k / 255) * 255) == k`` for every k in
float16, float32 and float64 (checked in the tests).

Differences from the official implementation: for a non-square image the
affine ops keep the image's own size (the official ``transform`` always
outputs ``IMAGE_SIZE x IMAGE_SIZE``, which crops or pads non-square inputs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ConfigError, expected


@dataclass(frozen=True)
class OpInfo:
    """What the sampler and the layers need to know about one op.

    Attributes:
        name: The op's name (the official function name).
        kind: ``"point"`` (a 256-entry table per channel), ``"affine"``
            (an inverse-mapped bilinear warp) or ``"enhance"`` (a blend with a
            degenerate image).
        has_level: Whether the official op draws a level.
        signed: Whether the official op draws a random sign.
        sign_draw: ``"uniform"`` (``np.random.uniform() > 0.5``: rotate, shear)
            or ``"random"`` (``np.random.random() > 0.5``: translate); the two
            consume the stream identically, the name records the official call.
    """

    name: str
    kind: str
    has_level: bool
    signed: bool
    sign_draw: str = ""


_INFO = (
    OpInfo("autocontrast", "point", False, False),
    OpInfo("equalize", "point", False, False),
    OpInfo("posterize", "point", True, False),
    OpInfo("rotate", "affine", True, True, "uniform"),
    OpInfo("solarize", "point", True, False),
    OpInfo("shear_x", "affine", True, True, "uniform"),
    OpInfo("shear_y", "affine", True, True, "uniform"),
    OpInfo("translate_x", "affine", True, True, "random"),
    OpInfo("translate_y", "affine", True, True, "random"),
    OpInfo("color", "enhance", True, False),
    OpInfo("contrast", "enhance", True, False),
    OpInfo("brightness", "enhance", True, False),
    OpInfo("sharpness", "enhance", True, False),
)

#: Every op, in the official ``augmentations_all`` order; an op's index here is its id in every layer.
OPS: tuple[str, ...] = tuple(i.name for i in _INFO)
#: The official default list ``augmentations`` (``--all-ops`` off).
DEFAULT_OPS: tuple[str, ...] = OPS[:9]
#: ``augmentations_all``.
ALL_OPS: tuple[str, ...] = OPS
OP_INFO: dict[str, OpInfo] = {i.name: i for i in _INFO}
OP_ID: dict[str, int] = {name: k for k, name in enumerate(OPS)}
POINT_OPS = tuple(i.name for i in _INFO if i.kind == "point")
AFFINE_OPS = tuple(i.name for i in _INFO if i.kind == "affine")
ENHANCE_OPS = tuple(i.name for i in _INFO if i.kind == "enhance")

#: PIL's SMOOTH kernel (``ImageFilter.SMOOTH``): weights and divisor.
SMOOTH_KERNEL: tuple[int, ...] = (1, 1, 1, 1, 5, 1, 1, 1, 1)
SMOOTH_DIVISOR = 13
#: PIL's ``rgb2l`` fixed-point weights (sum 65536) and rounding offset; the shift is 16.
GREY_WEIGHTS: tuple[int, int, int] = (19595, 38470, 7471)
GREY_ROUND = 0x8000


def int_parameter(level: float, maxval: float) -> int:
    """The official ``int_parameter``: ``int(level * maxval / 10)``."""
    return int(level * maxval / 10)


def float_parameter(level: float, maxval: float) -> float:
    """The official ``float_parameter``: ``float(level) * maxval / 10.``."""
    return float(level) * maxval / 10.0


def official_argument(op: str, level: float, sign: int, translate_size: int) -> float:
    """The op's argument for an official continuous level (and sign), as ``augmentations.py`` computes it.

    Args:
        op: An op name.
        level: The drawn level (ignored by autocontrast and equalize).
        sign: ``+1`` or ``-1`` (ignored by unsigned ops).
        translate_size: ``S`` of the translate map (``IMAGE_SIZE``).

    Returns:
        bits (posterize), degrees (rotate), threshold (solarize), shear factor,
        translation in pixels, or enhance factor; 0.0 for autocontrast/equalize.
    """
    if op in ("autocontrast", "equalize"):
        return 0.0
    if op == "posterize":
        return float(4 - int_parameter(level, 4))
    if op == "rotate":
        return float(sign * int_parameter(level, 30))
    if op == "solarize":
        return float(256 - int_parameter(level, 256))
    if op in ("shear_x", "shear_y"):
        return sign * float_parameter(level, 0.3)
    if op in ("translate_x", "translate_y"):
        return float(sign * int_parameter(level, translate_size / 3))
    if op in ENHANCE_OPS:
        return float_parameter(level, 1.8) + 0.1
    raise ConfigError(expected("augmix.official_argument", "an op among " + ", ".join(OPS), repr(op)))


def binned_argument(op: str, bin_index: int, sign: int, translate_size: int) -> float:
    """The op's argument for torchvision's binned magnitude ``i`` (10 bins, ``linspace(0, max, 10)[i]``)."""
    i = int(bin_index)
    if op in ("autocontrast", "equalize"):
        return 0.0
    if op == "posterize":
        return float(round(4 - i / 2.25))
    if op == "rotate":
        return sign * (30.0 * i / 9)
    if op == "solarize":
        return 255.0 * (1.0 - i / 9)
    if op in ("shear_x", "shear_y"):
        return sign * (0.3 * i / 9)
    if op in ("translate_x", "translate_y"):
        return float(sign * int(i * (translate_size / 3.0) / 9))
    if op in ENHANCE_OPS:
        return 1.0 + sign * (0.9 * i / 9)
    raise ConfigError(expected("augmix.binned_argument", "an op among " + ", ".join(OPS), repr(op)))


Coefficients = tuple[float, float, float, float, float, float]
IDENTITY: Coefficients = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def rotate_coefficients(degrees: float, height: int, width: int) -> Coefficients:
    """PIL ``Image.rotate(degrees)``'s inverse map (expand off, centre ``(W/2, H/2)``), exactly as Pillow computes it.

    The angle is reduced modulo 360, and cos/sin are rounded to 15 decimals,
    so the coefficients are the same doubles Pillow passes to its C code.
    (Pillow's fast paths for 0, 180 and square 90/270 degrees give the same
    pixels as this map: its samples then fall exactly on pixel centres.)
    """
    angle = -math.radians(float(degrees) % 360.0)
    cx, cy = width / 2, height / 2
    a, b = round(math.cos(angle), 15), round(math.sin(angle), 15)
    d, e = round(-math.sin(angle), 15), round(math.cos(angle), 15)
    c = a * -cx + b * -cy + 0.0
    f = d * -cx + e * -cy + 0.0
    return (a, b, c + cx, d, e, f + cy)


def affine_coefficients(op: str, arg: float, height: int, width: int) -> Coefficients:
    """The 6 inverse-map coefficients ``(a, b, c, d, e, f)`` of an affine op (see the module docstring)."""
    if op == "rotate":
        return rotate_coefficients(arg, height, width)
    if op == "shear_x":
        return (1.0, float(arg), 0.0, 0.0, 1.0, 0.0)
    if op == "shear_y":
        return (1.0, 0.0, 0.0, float(arg), 1.0, 0.0)
    if op == "translate_x":
        return (1.0, 0.0, float(arg), 0.0, 1.0, 0.0)
    if op == "translate_y":
        return (1.0, 0.0, 0.0, 0.0, 1.0, float(arg))
    raise ConfigError(expected("augmix.affine_coefficients", "an affine op among " + ", ".join(AFFINE_OPS),
                               repr(op)))


def check_argument(where: str, op: str, arg: float) -> None:
    """Raise :class:`ConfigError` unless ``arg`` is a valid argument of ``op``."""
    if op not in OP_INFO:
        raise ConfigError(expected(where, "an op among " + ", ".join(OPS), repr(op)))
    if not (isinstance(arg, float) and math.isfinite(arg)):
        raise ConfigError(expected(f"{where} ({op})", "a finite float argument", repr(arg)))
    if op in ("autocontrast", "equalize") and arg != 0.0:
        raise ConfigError(expected(f"{where} ({op})", "argument 0.0 (the op takes none)", arg))
    if op == "posterize" and not (arg == int(arg) and 0 <= arg <= 8):
        raise ConfigError(expected(f"{where} (posterize)", "a whole number of bits in [0, 8]", arg))
    if op in ("translate_x", "translate_y") and arg != int(arg):
        raise ConfigError(expected(f"{where} ({op})", "a whole number of pixels", arg))


__all__ = ["AFFINE_OPS", "ALL_OPS", "DEFAULT_OPS", "ENHANCE_OPS", "GREY_ROUND", "GREY_WEIGHTS", "IDENTITY", "OPS",
           "OP_ID", "OP_INFO", "POINT_OPS", "SMOOTH_DIVISOR", "SMOOTH_KERNEL", "Coefficients", "OpInfo",
           "affine_coefficients", "binned_argument", "check_argument", "float_parameter", "int_parameter",
           "official_argument", "rotate_coefficients"]
