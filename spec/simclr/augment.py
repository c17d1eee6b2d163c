r"""The SimCLR augmentation pipeline as a random-transform plan: crop, flip, colour distortion, blur.

Paper: Chen et al., ICML 2020, Sec. 3 and Appendix A (Fig. 4, Algorithm in
A.1); official code: google-research/simclr ``tf2/data_util.py``
(``preprocess_for_train``, ``crop_and_resize``, ``color_jitter_rand``,
``to_grayscale``, ``batch_random_blur``) and ``data_util.py`` at the first
commit be133b3 (v1).

Per image, in this order (each output pixel value is a float in [0, 1])::

    1. crop + resize   y = R_y[i] @ x[c] @ R_x[i]^T           separable resampling matrices (below)
    2. flip            folded into R_x (its rows reversed), p = 0.5
    3. clip to [0, 1]
    4. colour jitter, p = 0.8: the four ops in a random order, each followed by clip to [0, 1]
         brightness  x * f, f ~ U[max(1 - 0.8 s, 0), 1 + 0.8 s]     (v2, "multiplicative")
                     x + d, d ~ U[-0.8 s, 0.8 s]                     (v1, "additive": tf.image.random_brightness)
         contrast    (x - m) * f + m, f ~ U[1 - 0.8 s, 1 + 0.8 s]   m = per-channel mean (tf.image.adjust_contrast)
         saturation  HSV s <- clip(s f, 0, 1), f ~ U[1 - 0.8 s, 1 + 0.8 s]   (tf.image.adjust_saturation)
         hue         HSV h <- (h + d) mod 1, d ~ U[-0.2 s, 0.2 s]            (tf.image.adjust_hue)
    5. grayscale, p = 0.2: g = 0.2989 r + 0.5870 g + 0.1140 b, copied to the 3 channels
    6. clip to [0, 1]
    7. Gaussian blur, p = 0.5 per image, sigma ~ U[0.1, 2.0] drawn once per (view) batch;
       kernel 2 r + 1 taps with r = (H // 10) // 2 (23 at H = 224); separable, zero padding
       ("SAME"); clip to [0, 1]

``s`` is the colour-jitter strength (``--color_jitter_strength``, 1.0 for
ImageNet, 0.5 for CIFAR-10 where blur is off). An op whose parameter is
neutral (factor 1, shift 0) is skipped.

Saturation without HSV: with ``v = max(r, g, b)``, ``c = v - min(r, g, b)`` (so
HSV's ``s = c / v``), scaling ``s`` by ``f`` with the clip at 1 is exactly
``x' = v - (v - x) * clip(f, 0, v / c)`` per channel (``x' = x`` where c = 0),
because at fixed hue and value each channel is ``v - c K(h)``. Hue uses the
HSV round trip with the usual branch-free ``hsv -> rgb``
(``x_n = v - c * clip(min(k, 4 - k), 0, 1)``, ``k = (n + 6 h) mod 6``, n = 5, 3, 1).

Random resized crop (``crop="official"``): ``tf.image.sample_distorted_bounding_box``
with the whole image as the box (``crop_and_resize``): ``area_range=(0.08, 1)``,
``aspect_ratio_range=(3/4 a, 4/3 a)`` with ``a`` the output's width / height,
``min_object_covered=0.1``, ``max_attempts=100``. Each attempt (TF's
``GenerateRandomCrop``, replayed in float32 here)::

    ratio      = U[0, 1) * (hi - lo) + lo                          (uniform, not log-uniform)
    h          = lrint(sqrt(min_area / ratio)),  h_max = lrint(sqrt(max_area / ratio))
    h_max      = largest h with lrint(h ratio) <= W, at most H;   h = min(h, h_max)
    h         += U{0, ..., h_max - h};  w = lrint(h ratio)
    area < min_area: h += 1 (w again);  area > max_area: h -= 1 (w again);  else reject
    y = U{0, ..., H - h - 1} if h < H else 0;  x likewise          (the bottom/right row is never the start+1)
    accept if w h >= 1 and w h / (W H) >= min_object_covered        (so the area is in fact >= 0.1)

after 100 rejected attempts the crop is the whole image. ``crop="torchvision"``
is ``RandomResizedCrop.get_params``: 10 attempts of a uniform area fraction in
``area_range`` and a log-uniform ratio in ``aspect_range`` (not scaled by the
output's aspect), ``w = round(sqrt(A r))``, ``h = round(sqrt(A / r))``,
``y = U{0..H-h}``, and a centred crop of the clamped ratio as fallback.

Resampling matrices (host side, float64, :meth:`AugmentPlan.resize_matrices`):
row ``i`` of ``R`` holds the kernel weights of output pixel ``i`` over the
input pixels of the crop ``[start, start + length)`` (zero elsewhere)::

    src = (i + 0.5) * length / out - 0.5        (half_pixel)     or   i * length / out     (legacy TF1)
    taps j = floor(src) - 1 .. floor(src) + 2, weight W(src - j)  (cubic, Keys a)
         j = floor(src), floor(src) + 1,        weight 1 - |src - j| (linear)
    edge "clamp":       taps outside the crop move to its nearest edge pixel (PyTorch, TF1 legacy)
    edge "renormalize": taps outside get weight 0 and the row is divided by its sum (TF2 half-pixel bicubic)

``W(t) = (a+2)|t|^3 - (a+3)|t|^2 + 1`` for ``|t| <= 1``, ``a|t|^3 - 5a|t|^2 +
8a|t| - 4a`` for ``1 < |t| < 2``. Presets: official (``tf2``: ``tf.image.resize``
BICUBIC = half-pixel, a = -0.5, renormalize), v1 (``tf.image.resize_bicubic``
legacy: a = -0.75, clamp), torchvision (bilinear, half-pixel, clamp).

Differences from the official implementation (say where pixels differ):
* TF looks cubic weights up in a 1024-entry table (the fractional position
  rounded to 1/1024) and computes in float32; here the weights are exact
  (float64), a difference below ~2e-3 of a pixel step.
* The resized crop is clipped to [0, 1] before the colour ops (the official
  code clips after each colour op and at the end, so bicubic overshoot can
  reach the first colour op, outside the HSV domain, and the grayscale op).
* The blur kernel is computed in float64 (TF: float32).
* ``crop="torchvision"`` has no antialiasing (torchvision's tensor default
  antialias=True differs when downscaling by more than 2x).

Randomness is split from the math: :func:`sample` draws every random
quantity into an :class:`AugmentPlan` with a ``numpy.random.Generator``; each
layer's ``apply(plan, images)`` is deterministic. Draw order, per image ``i``:
the crop's draws; flip ``u < p``; jitter ``u < p``, then (if applied) the
order ``permutation(4)``, brightness, contrast, saturation, hue (one uniform
each, in this order); grayscale ``u < p``. Then blur: per batch, one sigma
and then B uniforms ``u_i < p``; per image, ``u_i < p`` then sigma, per image.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import Config, param, require
from ..errors import ConfigError, DTypeError, ShapeError, TenfoldError, expected

_DU = "google-research/simclr tf2/data_util.py"
_DU1 = "google-research/simclr data_util.py (first commit be133b3)"

CROPS: tuple[str, ...] = ("official", "torchvision")
INTERPOLATIONS: tuple[str, ...] = ("bicubic", "bilinear")
EDGES: tuple[str, ...] = ("renormalize", "clamp")
BRIGHTNESS_MODES: tuple[str, ...] = ("multiplicative", "additive")
CONTRAST_MEANS: tuple[str, ...] = ("channel", "gray")
SATURATION_MODES: tuple[str, ...] = ("hsv", "blend")
BLUR_SIGMA_PER: tuple[str, ...] = ("batch", "image")
BLUR_PADDINGS: tuple[str, ...] = ("zero", "reflect")
#: Colour-jitter op indices in :attr:`AugmentPlan.order`.
OPS: tuple[str, ...] = ("brightness", "contrast", "saturation", "hue")

#: Input dtypes every layer accepts (uint8 is divided by 255; floats are taken as [0, 1]).
IMAGE_DTYPES: tuple[str, ...] = ("uint8", "float32", "float64")

Pair = tuple[float, float]


@dataclass(frozen=True)
class AugmentConfig(Config):
    """Every convention of the SimCLR augmentation. Presets: ``official`` (default), ``v1``, ``cifar``,
    ``torchvision``."""

    PRESETS = ("official", "v1", "cifar", "torchvision")

    crop: str = param("official", _DU + " crop_and_resize: tf.image.sample_distorted_bounding_box")
    area_range: tuple[float, float] = param((0.08, 1.0), _DU + " crop_and_resize: area_range=(0.08, 1.0)")
    aspect_range: tuple[float, float] = param((3 / 4, 4 / 3), _DU + " crop_and_resize: (3/4 * aspect, 4/3 * aspect)")
    min_object_covered: float = param(0.1, _DU + " crop_and_resize: min_object_covered=0.1")
    max_attempts: int = param(100, _DU + " crop_and_resize: max_attempts=100")
    interpolation: str = param("bicubic", _DU + " crop_and_resize: tf.image.resize(method=BICUBIC)")
    cubic_a: float = param(-0.5, "TF ResizeBicubic, half_pixel_centers=True: Keys cubic, a = -0.5")
    half_pixel: bool = param(True, "tf.image.resize (TF2) uses half-pixel centres")
    resize_edge: str = param("renormalize", "TF ResizeBicubic (Keys): out-of-image taps get weight 0, renormalised")
    flip_p: float = param(0.5, _DU + " preprocess_for_train: tf.image.random_flip_left_right")
    jitter_p: float = param(0.8, _DU + " random_color_jitter: random_apply(color_jitter, p=0.8)")
    strength: float = param(1.0, "run.py --color_jitter_strength 1.0 (ImageNet); 0.5 in the CIFAR recipe")
    brightness_mode: str = param("multiplicative", _DU + " random_brightness: impl='simclrv2' (default)")
    random_order: bool = param(True, _DU + " color_jitter: random_order=True (tf.random.shuffle(range(4)))")
    contrast_mean: str = param("channel", "tf.image.adjust_contrast: mean per channel")
    saturation_mode: str = param("hsv", "tf.image.adjust_saturation: scale HSV saturation, clip to [0, 1]")
    gray_p: float = param(0.2, _DU + " random_color_jitter: random_apply(to_grayscale, p=0.2)")
    gray_weights: tuple[float, float, float] = param((0.2989, 0.5870, 0.1140), "tf.image.rgb_to_grayscale")
    blur_p: float = param(0.5, _DU + " batch_random_blur: blur_probability=0.5 (model.py, ImageNet pretraining)")
    blur_sigma: tuple[float, float] = param((0.1, 2.0), _DU + " random_blur: sigma ~ U(0.1, 2.0)")
    blur_divisor: int = param(10, _DU + " random_blur: kernel_size = height // 10, radius = kernel_size // 2")
    blur_sigma_per: str = param("batch", _DU + " batch_random_blur: one sigma for the whole view batch")
    blur_padding: str = param("zero", _DU + " gaussian_blur: depthwise_conv2d padding='SAME'")

    def __post_init__(self) -> None:
        for f in ("area_range", "aspect_range", "blur_sigma", "gray_weights"):
            v = getattr(self, f)
            if isinstance(v, list):  # JSON round trip
                object.__setattr__(self, f, tuple(v))
        super().__post_init__()

    @classmethod
    def official(cls) -> AugmentConfig:
        """The repository HEAD (``tf2/data_util.py``, ImageNet pretraining: blur on, strength 1)."""
        return cls()

    @classmethod
    def v1(cls) -> AugmentConfig:
        """SimCLR v1 (first commit): additive brightness (``tf.image.random_brightness``) and TF1's
        ``tf.image.resize_bicubic`` (legacy coordinates, a = -0.75, clamped taps)."""
        return cls(brightness_mode="additive", cubic_a=-0.75, half_pixel=False, resize_edge="clamp")

    @classmethod
    def cifar(cls) -> AugmentConfig:
        """The README CIFAR-10 recipe: ``--color_jitter_strength=0.5``, ``--use_blur=False``."""
        return cls(strength=0.5, blur_p=0.0)

    @classmethod
    def torchvision(cls) -> AugmentConfig:
        """The torchvision pipeline of PyTorch ports: ``RandomResizedCrop`` (bilinear, no antialias),
        ``ColorJitter(0.8s, 0.8s, 0.8s, 0.2s)`` (contrast about the gray mean, saturation as a blend
        with gray), ``RandomGrayscale(0.2)``, ``GaussianBlur`` (reflect padding, one sigma per image)."""
        return cls(crop="torchvision", max_attempts=10, interpolation="bilinear", half_pixel=True,
                   resize_edge="clamp", contrast_mean="gray", saturation_mode="blend", blur_sigma_per="image",
                   blur_padding="reflect")

    def validate(self) -> None:
        n = type(self).__name__
        for f, choices in (("crop", CROPS), ("interpolation", INTERPOLATIONS), ("resize_edge", EDGES),
                           ("brightness_mode", BRIGHTNESS_MODES), ("contrast_mean", CONTRAST_MEANS),
                           ("saturation_mode", SATURATION_MODES), ("blur_sigma_per", BLUR_SIGMA_PER),
                           ("blur_padding", BLUR_PADDINGS)):
            require(getattr(self, f) in choices, f"{n}.{f}", "one of " + ", ".join(choices), repr(getattr(self, f)))
        for f in ("flip_p", "jitter_p", "gray_p", "blur_p", "min_object_covered"):
            v = getattr(self, f)
            require(_num(v) and 0.0 <= v <= 1.0, f"{n}.{f}", "a probability in [0, 1]", repr(v))
        for f, lo_ok in (("area_range", lambda lo: lo > 0), ("aspect_range", lambda lo: lo > 0),
                         ("blur_sigma", lambda lo: lo > 0)):
            v = getattr(self, f)
            require(isinstance(v, tuple) and len(v) == 2 and all(_num(t) for t in v) and lo_ok(v[0]) and v[0] <= v[1],
                    f"{n}.{f}", "a pair (lo, hi) with 0 < lo <= hi", repr(v))
        require(self.area_range[1] <= 1.0, f"{n}.area_range", "an upper bound <= 1", repr(self.area_range))
        require(isinstance(self.max_attempts, int) and self.max_attempts >= 1, f"{n}.max_attempts", "an int >= 1",
                repr(self.max_attempts))
        require(_num(self.cubic_a) and -1.0 <= self.cubic_a < 0.0, f"{n}.cubic_a", "a value in [-1, 0)",
                repr(self.cubic_a))
        require(isinstance(self.half_pixel, bool) and isinstance(self.random_order, bool), f"{n}.half_pixel",
                "bools for half_pixel and random_order", (self.half_pixel, self.random_order))
        require(_num(self.strength) and 0.0 <= self.strength <= 1.25, f"{n}.strength",
                "a strength in [0, 1.25] (contrast and saturation factors stay >= 0)", repr(self.strength))
        require(isinstance(self.gray_weights, tuple) and len(self.gray_weights) == 3
                and all(_num(w) and w >= 0 for w in self.gray_weights), f"{n}.gray_weights",
                "three weights >= 0", repr(self.gray_weights))
        require(isinstance(self.blur_divisor, int) and self.blur_divisor >= 1, f"{n}.blur_divisor", "an int >= 1",
                repr(self.blur_divisor))


def _num(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


Crop = tuple[int, int, int, int]  # (y, x, h, w) in input pixels


@dataclass(frozen=True)
class AugmentPlan:
    """Every random draw of one augmented view of a batch, and the conventions to execute it.

    Per image ``i`` (tuples of length B): ``crops[i] = (y, x, h, w)`` in input
    pixels; ``flips[i]``; ``jitter[i]`` (colour jitter applied); ``order[i]``
    (indices into :data:`OPS`); ``brightness[i]`` (a factor, or a shift when
    ``brightness_mode == "additive"``), ``contrast[i]``, ``saturation[i]``
    (factors), ``hue[i]`` (a shift in turns); neutral values where
    ``jitter[i]`` is False; ``gray[i]``; ``blur[i]`` and ``sigma[i]``.
    """

    in_height: int
    in_width: int
    height: int
    width: int
    crops: tuple[Crop, ...]
    flips: tuple[bool, ...]
    jitter: tuple[bool, ...]
    order: tuple[tuple[int, int, int, int], ...]
    brightness: tuple[float, ...]
    contrast: tuple[float, ...]
    saturation: tuple[float, ...]
    hue: tuple[float, ...]
    gray: tuple[bool, ...]
    blur: tuple[bool, ...]
    sigma: tuple[float, ...]
    interpolation: str = "bicubic"
    cubic_a: float = -0.5
    half_pixel: bool = True
    resize_edge: str = "renormalize"
    brightness_mode: str = "multiplicative"
    contrast_mean: str = "channel"
    saturation_mode: str = "hsv"
    gray_weights: tuple[float, float, float] = (0.2989, 0.5870, 0.1140)
    blur_radius: int = 0
    blur_padding: str = "zero"

    _PER_IMAGE = ("crops", "flips", "jitter", "order", "brightness", "contrast", "saturation", "hue", "gray", "blur",
                  "sigma")

    def __post_init__(self) -> None:
        w = "AugmentPlan"
        for f in ("in_height", "in_width", "height", "width"):
            v = getattr(self, f)
            if not (isinstance(v, int) and v >= 1):
                raise ConfigError(expected(f"{w}.{f}", "an int >= 1", repr(v)))
        b = len(self.crops)
        if b < 1:
            raise ConfigError(expected(w, "at least one image", "an empty plan"))
        for f in self._PER_IMAGE:
            if len(getattr(self, f)) != b:
                raise ConfigError(expected(f"{w}.{f}", f"{b} entries (one per image)", len(getattr(self, f))))
        for i, (y, x, h, wd) in enumerate(self.crops):
            if not (h >= 1 and wd >= 1 and 0 <= y and y + h <= self.in_height and 0 <= x and x + wd <= self.in_width):
                raise ConfigError(expected(f"{w}.crops[{i}]", f"a box inside {self.in_height}x{self.in_width}",
                                           self.crops[i]))
            if sorted(self.order[i]) != [0, 1, 2, 3]:
                raise ConfigError(expected(f"{w}.order[{i}]", "a permutation of 0..3", self.order[i]))
            if self.blur[i] and not self.sigma[i] > 0:
                raise ConfigError(expected(f"{w}.sigma[{i}]", "a sigma > 0 where blurred", self.sigma[i]))
        for f, choices in (("interpolation", INTERPOLATIONS), ("resize_edge", EDGES),
                           ("brightness_mode", BRIGHTNESS_MODES), ("contrast_mean", CONTRAST_MEANS),
                           ("saturation_mode", SATURATION_MODES), ("blur_padding", BLUR_PADDINGS)):
            if getattr(self, f) not in choices:
                raise ConfigError(expected(f"{w}.{f}", "one of " + ", ".join(choices), repr(getattr(self, f))))
        if not (isinstance(self.blur_radius, int) and self.blur_radius >= 0):
            raise ConfigError(expected(f"{w}.blur_radius", "an int >= 0", repr(self.blur_radius)))

    @property
    def batch_size(self) -> int:
        return len(self.crops)

    def neutral(self, i: int, op: int) -> bool:
        """Whether op ``op`` of image ``i`` changes nothing (skipped by every layer)."""
        if not self.jitter[i]:
            return True
        v = (self.brightness, self.contrast, self.saturation, self.hue)[op][i]
        if op == 0:
            return v == (0.0 if self.brightness_mode == "additive" else 1.0)
        return v == (0.0 if op == 3 else 1.0)

    def ops(self, i: int) -> list[int]:
        """The colour ops of image ``i`` that run, in their order."""
        return [op for op in self.order[i] if not self.neutral(i, op)]

    def resize_matrices(self) -> tuple[np.ndarray, np.ndarray]:
        """``(R_y (B, H, H_in), R_x (B, W, W_in))`` float64, the flips folded into ``R_x``."""
        ry = np.zeros((self.batch_size, self.height, self.in_height))
        rx = np.zeros((self.batch_size, self.width, self.in_width))
        for i, (y, x, h, w) in enumerate(self.crops):
            ry[i, :, y:y + h] = resample_matrix(h, self.height, self.interpolation, self.cubic_a, self.half_pixel,
                                                self.resize_edge)
            rx[i, :, x:x + w] = resample_matrix(w, self.width, self.interpolation, self.cubic_a, self.half_pixel,
                                                self.resize_edge)
            if self.flips[i]:
                rx[i] = rx[i, ::-1]
        return ry, rx

    def blur_kernels(self) -> np.ndarray:
        """(B, 2 r + 1) float64 normalised Gaussian taps (a unit impulse where not blurred)."""
        r = self.blur_radius
        out = np.zeros((self.batch_size, 2 * r + 1))
        for i in range(self.batch_size):
            out[i] = gaussian_kernel(r, self.sigma[i]) if self.blur[i] else np.eye(1, 2 * r + 1, r)[0]
        return out

    def blur_matrices(self) -> tuple[np.ndarray, np.ndarray]:
        """``(B_y (B, H, H), B_x (B, W, W))``: the blur as matrices (identity where not blurred)."""
        k = self.blur_kernels()
        by = np.stack([blur_matrix(self.height, k[i], self.blur_padding) for i in range(self.batch_size)])
        bx = np.stack([blur_matrix(self.width, k[i], self.blur_padding) for i in range(self.batch_size)])
        return by, bx

    def colour_params(self) -> np.ndarray:
        """(B, 4) float64: brightness, contrast, saturation, hue of each image."""
        return np.stack([self.brightness, self.contrast, self.saturation, self.hue], axis=1).astype(np.float64)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        return {k: ([list(v) if isinstance(v, tuple) else v for v in d[k]] if isinstance(d[k], tuple) else d[k])
                for k in d}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AugmentPlan:
        names = {f.name for f in dataclasses.fields(cls)}
        if not set(data) <= names or not {"in_height", "in_width", "height", "width", *cls._PER_IMAGE} <= set(data):
            raise ConfigError(expected("AugmentPlan.from_dict", "the keys " + ", ".join(sorted(names)), sorted(data)))
        d = dict(data)
        d["crops"] = tuple(tuple(int(v) for v in c) for c in d["crops"])
        d["order"] = tuple(tuple(int(v) for v in o) for o in d["order"])
        for f in ("flips", "jitter", "gray", "blur"):
            d[f] = tuple(bool(v) for v in d[f])
        for f in ("brightness", "contrast", "saturation", "hue", "sigma"):
            d[f] = tuple(float(v) for v in d[f])
        if "gray_weights" in d:
            d["gray_weights"] = tuple(float(v) for v in d["gray_weights"])
        for f in ("in_height", "in_width", "height", "width", "blur_radius"):
            if f in d:
                d[f] = int(d[f])
        return cls(**d)


# -- resampling ----------------------------------------------------------------

def cubic_weight(t: np.ndarray, a: float) -> np.ndarray:
    """Keys' cubic convolution kernel W(t) with parameter ``a``."""
    t = np.abs(t)
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return np.where(t <= 1, near, np.where(t < 2, far, 0.0))


def resample_matrix(in_size: int, out_size: int, interpolation: str = "bicubic", cubic_a: float = -0.5,
                    half_pixel: bool = True, edge: str = "renormalize") -> np.ndarray:
    """(out_size, in_size) float64: row i holds the weights of output pixel i (see the module docstring).

    Cached (a batch has few distinct crop sizes); the returned array is read-only.
    """
    return _resample_matrix(int(in_size), int(out_size), interpolation, float(cubic_a), bool(half_pixel), edge)


@functools.lru_cache(maxsize=4096)
def _resample_matrix(in_size: int, out_size: int, interpolation: str, cubic_a: float, half_pixel: bool,
                     edge: str) -> np.ndarray:
    scale = in_size / out_size
    i = np.arange(out_size, dtype=np.float64)
    src = (i + 0.5) * scale - 0.5 if half_pixel else i * scale
    base = np.floor(src)
    offsets = np.arange(-1, 3) if interpolation == "bicubic" else np.arange(0, 2)
    taps = base[:, None] + offsets[None, :]  # (out, taps)
    t = src[:, None] - taps
    w = cubic_weight(t, cubic_a) if interpolation == "bicubic" else np.maximum(0.0, 1.0 - np.abs(t))
    taps = taps.astype(np.int64)
    m = np.zeros((out_size, in_size))
    rows = np.repeat(np.arange(out_size), taps.shape[1])
    if edge == "renormalize":
        w = np.where((taps >= 0) & (taps < in_size), w, 0.0)
    np.add.at(m, (rows, np.clip(taps, 0, in_size - 1).ravel()), w.ravel())
    if edge == "renormalize":
        m /= m.sum(axis=1, keepdims=True)
    m.flags.writeable = False
    return m


def blur_radius(height: int, divisor: int = 10) -> int:
    """``int((height // divisor) / 2)``: the official ``random_blur``'s radius (11 at H = 224)."""
    return (height // divisor) // 2


def gaussian_kernel(radius: int, sigma: float) -> np.ndarray:
    """Normalised taps ``exp(-x^2 / (2 sigma^2))`` at x = -r..r (float64)."""
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-x * x / (2.0 * float(sigma) ** 2))
    return k / k.sum()


def blur_matrix(size: int, kernel: np.ndarray, padding: str = "zero") -> np.ndarray:
    """(size, size): a 1-D correlation with ``kernel`` (centred), zero or reflect padding, as a matrix."""
    return _blur_matrix(int(size), tuple(float(v) for v in kernel), padding).copy()


@functools.lru_cache(maxsize=1024)
def _blur_matrix(size: int, kernel: tuple[float, ...], padding: str) -> np.ndarray:
    r = (len(kernel) - 1) // 2
    m = np.zeros((size, size))
    for i in range(size):
        for k, wk in enumerate(kernel):
            j = i + k - r
            if padding == "reflect" and size > 1:
                period = 2 * (size - 1)
                j = abs(j) % period
                j = period - j if j >= size else j
            if 0 <= j < size:
                m[i, j] += wk
    return m


# -- sampling --------------------------------------------------------------------

def _lrint(x: float) -> int:
    """C ``lrintf``: round half to even (the default rounding mode)."""
    return int(np.rint(np.float32(x)))


def _tf_attempt(rng: np.random.Generator, H: int, W: int, lo_area: float, hi_area: float, ratio: np.float32,
                min_covered: float) -> Crop | None:
    """One attempt of TF's ``GenerateRandomCrop`` + ``SatisfiesOverlapConstraints`` (float32 arithmetic)."""
    f32 = np.float32
    min_area = f32(lo_area) * f32(W) * f32(H)
    max_area = f32(hi_area) * f32(W) * f32(H)
    h = _lrint(np.sqrt(f32(min_area / ratio)))
    h_max = _lrint(np.sqrt(f32(max_area / ratio)))
    if _lrint(f32(h_max) * ratio) > W:
        h_max = int((W + 0.5 - float(f32(1e-7))) / float(ratio))
        if _lrint(f32(h_max) * ratio) > W:
            h_max -= 1
    h_max = min(h_max, H)
    h = min(h, h_max)
    if h < h_max:
        h += int(rng.integers(h_max - h + 1))
    w = _lrint(f32(h) * ratio)
    area = f32(w * h)
    if area < min_area:
        h += 1
        w = _lrint(f32(h) * ratio)
        area = f32(w * h)
    if area > max_area:
        h -= 1
        w = _lrint(f32(h) * ratio)
        area = f32(w * h)
    if area < min_area or area > max_area or w > W or h > H or w <= 0 or h <= 0:
        return None
    y = int(rng.integers(H - h)) if h < H else 0
    x = int(rng.integers(W - w)) if w < W else 0
    if f32(w * h) < f32(1.0) or f32(w * h) / f32(W * H) < f32(min_covered):
        return None
    return (y, x, h, w)


def sample_crop(rng: np.random.Generator, in_height: int, in_width: int, height: int, width: int,
                config: AugmentConfig) -> Crop:
    """One crop ``(y, x, h, w)`` by ``config.crop``'s algorithm (see the module docstring)."""
    H, W = in_height, in_width
    lo_a, hi_a = config.area_range
    lo_r, hi_r = config.aspect_range
    if config.crop == "official":
        aspect = width / height
        lo, hi = np.float32(lo_r * aspect), np.float32(hi_r * aspect)
        for _ in range(config.max_attempts):
            ratio = np.float32(np.float32(rng.random()) * (hi - lo) + lo)
            crop = _tf_attempt(rng, H, W, lo_a, hi_a, ratio, config.min_object_covered)
            if crop is not None:
                return crop
        return (0, 0, H, W)
    area = H * W
    for _ in range(config.max_attempts):
        target = area * rng.uniform(lo_a, hi_a)
        ratio = math.exp(rng.uniform(math.log(lo_r), math.log(hi_r)))
        w = round(math.sqrt(target * ratio))
        h = round(math.sqrt(target / ratio))
        if 0 < w <= W and 0 < h <= H:
            y = int(rng.integers(0, H - h + 1))
            x = int(rng.integers(0, W - w + 1))
            return (y, x, h, w)
    in_ratio = W / H
    if in_ratio < lo_r:
        w, h = W, round(W / lo_r)
    elif in_ratio > hi_r:
        h, w = H, round(H * hi_r)
    else:
        w, h = W, H
    return ((H - h) // 2, (W - w) // 2, h, w)


def jitter_ranges(config: AugmentConfig) -> tuple[Pair, Pair, Pair, Pair]:
    """The uniform ranges of brightness, contrast, saturation and hue for strength ``s``."""
    s = config.strength
    b, c, sat, hue = 0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s
    bright = (-b, b) if config.brightness_mode == "additive" else (max(1.0 - b, 0.0), 1.0 + b)
    return bright, (1.0 - c, 1.0 + c), (1.0 - sat, 1.0 + sat), (-hue, hue)


def sample(rng: np.random.Generator, batch_size: int, in_height: int, in_width: int, height: int, width: int,
           config: AugmentConfig | None = None) -> AugmentPlan:
    """Draw one :class:`AugmentPlan` for a batch (one view), in the documented draw order.

    Args:
        rng: A ``numpy.random.Generator``.
        batch_size: B >= 1.
        in_height, in_width: Input image size.
        height, width: Output size.
        config: An :class:`AugmentConfig` (official when None).

    Raises:
        TenfoldError: On a bad size, generator or config.
    """
    config = AugmentConfig() if config is None else config
    if not isinstance(config, AugmentConfig):
        raise ConfigError(expected("simclr.augment.sample", "an AugmentConfig", type(config).__name__))
    if not isinstance(rng, np.random.Generator):
        raise TenfoldError(expected("simclr.augment.sample", "a numpy.random.Generator", type(rng).__name__))
    for name, v in (("batch_size", batch_size), ("in_height", in_height), ("in_width", in_width),
                    ("height", height), ("width", width)):
        if not (isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1):
            raise ShapeError(expected(f"simclr.augment.sample: {name}", "an int >= 1", repr(v)))
    b, H, W, h, w = (int(v) for v in (batch_size, in_height, in_width, height, width))
    ranges = jitter_ranges(config)
    neutral = (0.0 if config.brightness_mode == "additive" else 1.0, 1.0, 1.0, 0.0)
    crops, flips, jit, order, params, gray = [], [], [], [], [], []
    for _ in range(b):
        crops.append(sample_crop(rng, H, W, h, w, config))
        flips.append(bool(rng.random() < config.flip_p))
        on = bool(rng.random() < config.jitter_p)
        jit.append(on)
        if on:
            order.append(tuple(int(v) for v in rng.permutation(4)) if config.random_order else (0, 1, 2, 3))
            params.append(tuple(float(rng.uniform(lo, hi)) if hi > lo else float(lo) for lo, hi in ranges))
        else:
            order.append((0, 1, 2, 3))
            params.append(neutral)
        gray.append(bool(rng.random() < config.gray_p))
    lo_s, hi_s = config.blur_sigma
    if config.blur_sigma_per == "batch":
        s = float(rng.uniform(lo_s, hi_s))
        blur = [bool(u < config.blur_p) for u in rng.random(b)]
        sigma = [s if on else 0.0 for on in blur]
    else:
        blur, sigma = [], []
        for _ in range(b):
            on = bool(rng.random() < config.blur_p)
            blur.append(on)
            sigma.append(float(rng.uniform(lo_s, hi_s)) if on else 0.0)
    cols = list(zip(*params, strict=True))
    return AugmentPlan(H, W, h, w, tuple(crops), tuple(flips), tuple(jit), tuple(order), *(tuple(c) for c in cols),
                       tuple(gray), tuple(blur), tuple(sigma), interpolation=config.interpolation,
                       cubic_a=config.cubic_a, half_pixel=config.half_pixel, resize_edge=config.resize_edge,
                       brightness_mode=config.brightness_mode, contrast_mean=config.contrast_mean,
                       saturation_mode=config.saturation_mode, gray_weights=config.gray_weights,
                       blur_radius=blur_radius(h, config.blur_divisor), blur_padding=config.blur_padding)


# -- shared input validation -------------------------------------------------------

def check_images(where: str, shape: tuple, dtype_name: str, plan: AugmentPlan | None,
                 layout: str = "NCHW") -> tuple[int, int, int]:
    """Validate an RGB image batch; return ``(B, H, W)``.

    Raises:
        ShapeError: Unless 4-D with 3 channels (and matching the plan's B, H_in, W_in).
        DTypeError: Unless the dtype is one of :data:`IMAGE_DTYPES`.
    """
    shape = tuple(shape)
    if len(shape) != 4:
        raise ShapeError(expected(where, f"a 4-D image batch ({', '.join(layout)})", f"shape {shape}"))
    c = shape[1] if layout == "NCHW" else shape[3]
    if c != 3:
        raise ShapeError(expected(where, f"3 (RGB) channels in {layout}", f"shape {shape}"))
    if dtype_name not in IMAGE_DTYPES:
        raise DTypeError(expected(where, "images of dtype " + ", ".join(IMAGE_DTYPES), f"dtype {dtype_name}"))
    b = shape[0]
    h, w = (shape[2], shape[3]) if layout == "NCHW" else (shape[1], shape[2])
    if plan is not None and (b, h, w) != (plan.batch_size, plan.in_height, plan.in_width):
        raise ShapeError(expected(where, f"images with B={plan.batch_size}, H={plan.in_height}, W={plan.in_width} "
                                  "as in the plan", f"B={b}, H={h}, W={w}"))
    return b, h, w


def output_dtype(dtype_name: str) -> str:
    """The float dtype of the augmented images (float32 for uint8 input)."""
    return "float32" if dtype_name == "uint8" else dtype_name


__all__ = ["CROPS", "IMAGE_DTYPES", "OPS", "AugmentConfig", "AugmentPlan", "blur_matrix", "blur_radius",
           "check_images", "cubic_weight", "gaussian_kernel", "jitter_ranges", "output_dtype", "resample_matrix",
           "sample", "sample_crop"]
