"""Peer check: the NumPy reference of every AugMix op against Pillow itself (the official code's library).

Pillow is a development dependency only (``pytest.importorskip``). Images are
"real-looking": smooth shading, edges and noise, grey and RGB, square, odd
and non-square sizes, plus flat and two-level images that take the
degenerate branches of autocontrast and equalize. Every op is compared at
levels spanning [0.1, 10) with both signs, exactly (uint8 equality).
"""

import numpy as np
import pytest

from tenfold.numpy_ref.augmix import ops as R
from tenfold.spec.augmix import ops as O

PIL = pytest.importorskip("PIL")
from PIL import Image, ImageEnhance, ImageFilter, ImageOps  # noqa: E402

LEVELS = (0.1, 1.0, 3.0, 5.5, 7.7, 9.999)  # the official level is drawn in [0.1, severity), severity <= 10


def natural(rng: np.random.Generator, c: int, h: int, w: int) -> np.ndarray:
    """Shading + a bright disc + a dark bar + noise: histograms and edges like a photo's."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    base = 110 + 50 * np.sin(x / (1.5 + w / 6)) + 40 * np.cos(y / (1.3 + h / 5))
    disc = ((y - h * 0.4) ** 2 + (x - w * 0.6) ** 2) < (min(h, w) * 0.25) ** 2
    bar = (x > w * 0.2) & (x < w * 0.35)
    img = base[None] + 70 * disc[None] - 80 * bar[None] + rng.normal(0, 12, (c, h, w)) + rng.uniform(-30, 30, (c, 1, 1))
    return np.clip(img, 0, 255).astype(np.uint8)


def to_pil(img: np.ndarray) -> Image.Image:
    return Image.fromarray(img[0] if img.shape[0] == 1 else np.ascontiguousarray(img.transpose(1, 2, 0)))


def from_pil(im: Image.Image) -> np.ndarray:
    a = np.asarray(im)
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)


def official_pil(op: str, im: Image.Image, arg: float) -> Image.Image:
    """The official ``augmentations.py`` call for an already computed argument."""
    w, h = im.size
    if op == "autocontrast":
        return ImageOps.autocontrast(im)
    if op == "equalize":
        return ImageOps.equalize(im)
    if op == "posterize":
        return ImageOps.posterize(im, int(arg))
    if op == "solarize":
        return ImageOps.solarize(im, arg)
    if op == "rotate":
        return im.rotate(arg, resample=Image.BILINEAR)
    data = {"shear_x": (1, arg, 0, 0, 1, 0), "shear_y": (1, 0, 0, arg, 1, 0),
            "translate_x": (1, 0, arg, 0, 1, 0), "translate_y": (1, 0, 0, 0, 1, arg)}
    if op in data:
        return im.transform((w, h), Image.AFFINE, data[op], resample=Image.BILINEAR)
    enhance = {"color": ImageEnhance.Color, "contrast": ImageEnhance.Contrast,
               "brightness": ImageEnhance.Brightness, "sharpness": ImageEnhance.Sharpness}
    return enhance[op](im).enhance(arg)


SHAPES = ((3, 32, 32), (1, 32, 32), (3, 9, 13), (1, 17, 10), (3, 2, 5), (3, 48, 40))


@pytest.mark.parametrize("op", O.OPS)
def test_op_matches_pillow(op):
    rng = np.random.default_rng(O.OP_ID[op])
    for c, h, w in SHAPES:
        img = natural(rng, c, h, w)
        for level in LEVELS:
            for sign in (1, -1):
                arg = O.official_argument(op, level, sign, w if op != "translate_y" else h)
                pil_arg = int(arg) if op in ("posterize", "rotate", "translate_x", "translate_y") else arg
                expected = from_pil(official_pil(op, to_pil(img), pil_arg))
                got = R.apply_one(op, img, arg)
                assert got.dtype == np.uint8
                np.testing.assert_array_equal(got, expected, err_msg=f"{op} level {level} sign {sign} {c}x{h}x{w}")


@pytest.mark.parametrize("op", O.OPS)
def test_binned_arguments_match_pillow(op):
    """torchvision's binned arguments (float degrees, float solarize thresholds) through PIL's ops."""
    rng = np.random.default_rng(100 + O.OP_ID[op])
    img = natural(rng, 3, 20, 23)
    for i in (1, 5, 7):  # bins; bits = 0 at bins 8-9 is outside Pillow's posterize range
        arg = O.binned_argument(op, i, -1, 23)
        pil_arg = int(arg) if op in ("posterize", "translate_x", "translate_y") else arg
        np.testing.assert_array_equal(R.apply_one(op, img, arg), from_pil(official_pil(op, to_pil(img), pil_arg)))


@pytest.mark.parametrize("kind", ["flat", "two-level", "extremes", "single-pixel-outlier"])
def test_degenerate_histograms_match_pillow(kind):
    """The identity branches of autocontrast (hi <= lo) and equalize (one value; step 0)."""
    h, w = 16, 16
    img = np.full((3, h, w), 77, dtype=np.uint8)
    if kind == "two-level":
        img[:, :, w // 2:] = 200
    elif kind == "extremes":
        img[:, ::2] = 0
        img[:, 1::2] = 255
    elif kind == "single-pixel-outlier":  # equalize's step = (sum - last) // 255 is 0
        img[:, 3, 4] = 250
    for op in ("autocontrast", "equalize", "contrast", "sharpness", "color"):
        arg = 0.0 if op in ("autocontrast", "equalize") else 1.3
        np.testing.assert_array_equal(R.apply_one(op, img, arg), from_pil(official_pil(op, to_pil(img), arg)))


@pytest.mark.parametrize("factor", [0.0, 0.118, 0.37, 0.5, 0.99, 1.0, 1.3, 1.9, -0.4])
def test_blend_matches_pillow_on_every_pair(factor):
    """``Image.blend`` on all 65536 (degenerate, image) pairs: Pillow's float32 arithmetic and truncation."""
    d, x = np.meshgrid(np.arange(256, dtype=np.uint8), np.arange(256, dtype=np.uint8), indexing="ij")
    expected = np.asarray(Image.blend(Image.fromarray(d), Image.fromarray(x), factor))
    np.testing.assert_array_equal(R.blend(d[None], x[None], factor)[0], expected)


def test_smooth_matches_pillow_on_noise():
    """SMOOTH on uniform noise (every sum pattern), in Pillow's float32 order of operations."""
    img = np.random.default_rng(5).integers(0, 256, (3, 64, 64)).astype(np.uint8)
    np.testing.assert_array_equal(R.smooth(img), from_pil(to_pil(img).filter(ImageFilter.SMOOTH)))


def test_grey_matches_pillow():
    rgb = np.random.default_rng(6).integers(0, 256, (3, 64, 64)).astype(np.uint8)
    np.testing.assert_array_equal(R.grey(rgb), np.asarray(to_pil(rgb).convert("L")))


def test_float_round_trip_is_exact():
    """``trunc((k / 255) * 255) == k`` in every float dtype: one conversion per chain equals one per op."""
    k = np.arange(256)
    for dt in (np.float16, np.float32, np.float64):
        x = k.astype(dt) / dt(255)
        np.testing.assert_array_equal(np.clip(x * dt(255), 0, 255).astype(np.uint8), k)
