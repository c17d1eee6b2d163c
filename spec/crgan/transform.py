r"""The consistency transform T of CR-GAN: per-sample horizontal flip, then an integer translation.

Paper: Zhang et al., ICLR 2020 (arXiv:1910.12027). The paper's own wording of T
(Sec. 3/4: a random flip plus a shift by a few pixels) could not be read here
(only the abstract: "we augment data passing into the GAN discriminator and
penalize the sensitivity of the discriminator to these augmentations"); the
flip-and-shift reading is that of the summaries (shimopino/papers-challenge#141,
arXivTimes#1454) and of the only maintained implementation, StudioGAN
``src/utils/cr.py`` (``apply_diffaug4cr``): a per-sample flip with probability
0.5 and a per-sample integer shift drawn uniformly from ``[-int(H/8), int(H/8)]``
(rows) and ``[-int(W/8), int(W/8)]`` (columns), with **reflect** padding.

Math, for one sample ``x`` of shape (C, H, W), flip bit ``f``, shift ``(dy, dx)``::

    x'[c, i, j]  = x[c, i, W - 1 - j]     if f else x[c, i, j]          (flip first)
    T(x)[c, i, j] = x'[c, r(i + dy, H), r(j + dx, W)]                   (then shift)

    r(k, n) = k                      if 0 <= k < n
            = -k                     if k < 0          (pad_mode "reflect": mirror, edge not repeated)
            = 2 (n - 1) - k          if k >= n
    and T(x)[c, i, j] = 0 where the index leaves [0, n)   (pad_mode "zero")

A positive ``dy`` moves the content up (output row ``i`` reads input row
``i + dy``), as StudioGAN's gather ``x_pad[i + t + max]``. Reflection needs
``|shift| <= n - 1`` per axis (PyTorch's ``ReflectionPad2d`` rule ``pad < n``).

Draw order of :func:`sample` (one NumPy generator)::

    flip  = rng.random(B) < flip_prob
    dy    = rng.integers(-max_dy, max_dy + 1, size=B)      max_dy = int(H * max_shift_fraction)
    dx    = rng.integers(-max_dx, max_dx + 1, size=B)      max_dx = int(W * max_shift_fraction)

(StudioGAN draws the flip with ``torch.FloatTensor(n).uniform_`` and the shifts
with ``torch.randint``: the same distribution from another generator.)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import Config, param, require
from ..errors import ConfigError, ShapeError, TenfoldError, expected

PAD_MODES: tuple[str, ...] = ("reflect", "zero")

_STUDIO = "StudioGAN src/utils/cr.py apply_diffaug4cr"


@dataclass(frozen=True)
class TransformConfig(Config):
    """The CR transform: flip probability, the largest shift as a fraction of the size, the padding."""

    PRESETS = ("studiogan", "translate_only")

    flip_prob: float = param(0.5, _STUDIO + ": random_flip(x, 0.5), per sample")
    max_shift_fraction: float = param(0.125, _STUDIO + ": random_translation(x, 1/8), int(H/8) px (4 px at 32)")
    pad_mode: str = param("reflect", _STUDIO + ": F.pad(..., mode='reflect')")

    @classmethod
    def studiogan(cls) -> TransformConfig:
        """StudioGAN's ``apply_diffaug4cr``: flip p=0.5, shift up to int(H/8), reflect padding (the default)."""
        return cls()

    @classmethod
    def translate_only(cls) -> TransformConfig:
        """No flip (for data that is not mirror-symmetric, such as digits), shift and padding as StudioGAN."""
        return cls(flip_prob=0.0)

    def validate(self) -> None:
        require(_real(self.flip_prob) and 0.0 <= self.flip_prob <= 1.0, "TransformConfig.flip_prob",
                "a probability in [0, 1]", repr(self.flip_prob))
        require(_real(self.max_shift_fraction) and 0.0 <= self.max_shift_fraction < 1.0,
                "TransformConfig.max_shift_fraction", "a fraction in [0, 1)", repr(self.max_shift_fraction))
        require(self.pad_mode in PAD_MODES, "TransformConfig.pad_mode", "one of " + ", ".join(PAD_MODES),
                repr(self.pad_mode))

    def max_shifts(self, height: int, width: int) -> tuple[int, int]:
        """``(max_dy, max_dx) = (int(H * fraction), int(W * fraction))``."""
        return int(height * self.max_shift_fraction), int(width * self.max_shift_fraction)


def _real(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class TransformPlan:
    """Every random draw of one call of T on a batch: what each layer's ``apply`` executes.

    Attributes:
        height, width: The image size the plan was drawn for.
        flip: Per sample, whether it is mirrored (left-right) first.
        shift: Per sample, ``(dy, dx)``: output pixel ``(i, j)`` reads ``(i + dy, j + dx)``.
        pad_mode: ``"reflect"`` or ``"zero"``: what is read outside the image.
    """

    height: int
    width: int
    flip: tuple[bool, ...]
    shift: tuple[tuple[int, int], ...]
    pad_mode: str = "reflect"

    def __post_init__(self) -> None:
        where = "TransformPlan"
        for name in ("height", "width"):
            v = getattr(self, name)
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= 1):
                raise ConfigError(expected(f"{where}.{name}", "an int >= 1", repr(v)))
        b = len(self.flip)
        if b < 1:
            raise ConfigError(expected(where, "at least one sample", "an empty plan"))
        if len(self.shift) != b:
            raise ConfigError(expected(f"{where}.shift", f"{b} (dy, dx) pairs (one per sample)", len(self.shift)))
        if self.pad_mode not in PAD_MODES:
            raise ConfigError(expected(f"{where}.pad_mode", "one of " + ", ".join(PAD_MODES), repr(self.pad_mode)))
        for i, (dy, dx) in enumerate(self.shift):
            if not (isinstance(dy, int) and isinstance(dx, int)):
                raise ConfigError(expected(f"{where}.shift[{i}]", "two ints", (dy, dx)))
            if abs(dy) > self.height - 1 or abs(dx) > self.width - 1:
                raise ConfigError(expected(f"{where}.shift[{i}]", f"|dy| <= {self.height - 1} and "
                                           f"|dx| <= {self.width - 1} (a reflection inside the image)", (dy, dx)))

    @property
    def batch_size(self) -> int:
        return len(self.flip)

    def shifts_array(self) -> np.ndarray:
        """The shifts as an int64 array of shape (B, 2): ``dy, dx``."""
        return np.asarray(self.shift, dtype=np.int64).reshape(self.batch_size, 2)

    def flips_array(self) -> np.ndarray:
        """The flips as a bool array of shape (B,)."""
        return np.asarray(self.flip, dtype=bool)

    def max_abs_shift(self) -> tuple[int, int]:
        """The largest ``|dy|`` and ``|dx|`` of the plan (the padding a backend needs)."""
        s = np.abs(self.shifts_array())
        return int(s[:, 0].max()), int(s[:, 1].max())

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable dict."""
        return {"height": self.height, "width": self.width, "flip": list(self.flip),
                "shift": [list(s) for s in self.shift], "pad_mode": self.pad_mode}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TransformPlan:
        """Inverse of :meth:`to_dict`; missing or unknown keys raise :class:`ConfigError`."""
        names = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(data, dict) or set(data) != names:
            raise ConfigError(expected("TransformPlan.from_dict", "exactly the keys " + ", ".join(sorted(names)),
                                       sorted(data) if isinstance(data, dict) else type(data).__name__))
        return cls(int(data["height"]), int(data["width"]), tuple(bool(v) for v in data["flip"]),
                   tuple((int(s[0]), int(s[1])) for s in data["shift"]), str(data["pad_mode"]))


def sample(rng: np.random.Generator, batch_size: int, height: int, width: int,
           config: TransformConfig | None = None) -> TransformPlan:
    """Draw one :class:`TransformPlan` (rule and draw order in the module docstring).

    Args:
        rng: A ``numpy.random.Generator``.
        batch_size, height, width: B, H, W >= 1.
        config: A :class:`TransformConfig` (StudioGAN's when None).

    Raises:
        TenfoldError: A bad generator, size or config.
    """
    config = TransformConfig() if config is None else config
    where = "crgan.transform.sample"
    if not isinstance(config, TransformConfig):
        raise ConfigError(expected(where, "a TransformConfig", type(config).__name__))
    if not isinstance(rng, np.random.Generator):
        raise TenfoldError(expected(where, "a numpy.random.Generator", type(rng).__name__))
    for name, v in (("batch_size", batch_size), ("height", height), ("width", width)):
        if not (isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1):
            raise ShapeError(expected(f"{where}: {name}", "an int >= 1", repr(v)))
    b, h, w = int(batch_size), int(height), int(width)
    my, mx = config.max_shifts(h, w)  # < H and < W since the fraction is < 1: reflection always fits
    flip = rng.random(b) < config.flip_prob
    dy = rng.integers(-my, my + 1, size=b)
    dx = rng.integers(-mx, mx + 1, size=b)
    shift = tuple((int(a), int(c)) for a, c in zip(dy, dx, strict=True))
    return TransformPlan(h, w, tuple(bool(f) for f in flip), shift, config.pad_mode)


def check_batch(where: str, shape: tuple[int, ...], plan: TransformPlan, layout: str = "NCHW") -> None:
    """A 4-D batch whose B, H, W are the plan's (shared by every layer)."""
    if len(shape) != 4:
        raise ShapeError(expected(where, f"a 4-D image batch ({layout})", f"shape {tuple(shape)}"))
    b, h, w = (shape[0], shape[2], shape[3]) if layout == "NCHW" else (shape[0], shape[1], shape[2])
    if (b, h, w) != (plan.batch_size, plan.height, plan.width):
        raise ShapeError(expected(where, f"images with B={plan.batch_size}, H={plan.height}, W={plan.width} as in "
                                  "the plan", f"B={b}, H={h}, W={w}"))


def source_index(k: np.ndarray, n: int, pad_mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Where output index ``k`` (already shifted) reads from: ``(index, valid)`` (``valid`` False: a zero pad)."""
    k = np.asarray(k, dtype=np.int64)
    if pad_mode == "reflect":
        idx = np.where(k < 0, -k, np.where(k >= n, 2 * (n - 1) - k, k))
        return idx, np.ones(k.shape, dtype=bool)
    valid = (k >= 0) & (k < n)
    return np.clip(k, 0, n - 1), valid


__all__ = ["PAD_MODES", "TransformConfig", "TransformPlan", "check_batch", "sample", "source_index"]
