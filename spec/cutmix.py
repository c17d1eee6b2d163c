r"""CutMix: cut a box out of one image, paste it into another, mix the labels by area.

Paper: S. Yun, D. Han, S. J. Oh, S. Chun, J. Choe, Y. Yoo, "CutMix: Regularization
Strategy to Train Strong Classifiers with Localizable Features", ICCV 2019
(arXiv:1905.04899), Section 3.1. Official code: https://github.com/clovaai/CutMix-PyTorch
(``train.py``: the trigger, ``rand_bbox`` and the lambda correction).

Math, for a batch ``x`` of shape (B, C, H, W) with one-hot labels ``y`` (B, K)::

    lam_i   ~ Beta(alpha, alpha)                    (one draw per batch, or per sample)
    j(i)    = partner of sample i                   (randperm | roll | flip)
    side    = sqrt(1 - lam_i)
    cut_h   = int(H * side),   cut_w = int(W * side)          (truncation, as official)
    cy      ~ U{0, ..., H-1},  cx ~ U{0, ..., W-1}            (centre anywhere)
    y1, y2  = clip(cy - cut_h // 2, 0, H), clip(cy + cut_h // 2, 0, H)
    x1, x2  = clip(cx - cut_w // 2, 0, W), clip(cx + cut_w // 2, 0, W)
    x~_i    = x_i  with  x~_i[:, y1:y2, x1:x2] = x_j(i)[:, y1:y2, x1:x2]
    lam'_i  = 1 - (y2 - y1)(x2 - x1) / (H W)      if correct_lam else lam_i
    y~_i    = lam'_i y_i + (1 - lam'_i) y_j(i)

With probability ``1 - prob`` nothing happens (``lam' = 1``, the input is
returned as is). The official loss ``lam CE(out, y) + (1 - lam) CE(out, y_j)``
equals the cross-entropy against the soft target ``y~`` because CE is linear
in the target, which is why every layer returns soft targets.

Label smoothing is not part of CutMix here; it composes because both are
linear in the target: pass smoothed rows ``(1 - eps) * one_hot(y) + eps / K``
as soft labels (or smooth the returned targets the same way; the result is
identical).

The box is half-open, ``[y1, y2) x [x1, x2)`` in rows and columns; its sides are
even (``2 * (cut // 2)``), as in the official code. The official ``rand_bbox``
names ``size[2]`` "W" and ``size[3]`` "H" on NCHW tensors; the names are swapped
but used consistently (rwightman, timm#8), so its first integer draw is the row
centre and its first side the row side. The plan here uses the real names.

Randomness is split from the math: :func:`sample` draws every random quantity
into a :class:`CutMixPlan`; each layer's ``apply`` is deterministic.

Draw order (the official order, so that the official ``train.py`` fed the same
generator state gives the same plan, with ``torch.randperm(B)`` standing for
the generator's ``permutation(B)``)::

    batch:  u = random();  if u < prob: lam = beta(a, a); partner; cy = randint(H); cx = randint(W)
    elem:   u = random(B); lam = beta(a, a, B); partner; cy = randint(H, B); cx = randint(W, B)

(``roll`` and ``flip`` pairings draw nothing.)

Differences between implementations (shared research, official_b.md §2): the
paper mixes labels with the sampled lambda (no clipping correction) — preset
:meth:`CutMixConfig.paper`; torchvision ``v2.CutMix`` pairs by ``roll(1, 0)``,
always corrects lambda and has no probability — :meth:`CutMixConfig.torchvision`;
timm ``Mixup`` pairs by ``flip(0)`` — :meth:`CutMixConfig.timm`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import Config, param, require
from .contracts import Tolerances
from .errors import ConfigError, DTypeError, ShapeError, TenfoldError, expected
from .tolerance import Tolerance

PAPER = "Yun et al., CutMix: Regularization Strategy to Train Strong Classifiers with Localizable Features, ICCV 2019"
OFFICIAL_CODE = "https://github.com/clovaai/CutMix-PyTorch"

PAIRINGS: tuple[str, ...] = ("randperm", "roll", "flip")
GRANULARITIES: tuple[str, ...] = ("batch", "elem")

#: Image dtypes every layer accepts (the paste is a copy, so any real dtype works).
IMAGE_DTYPES: tuple[str, ...] = ("uint8", "int8", "int16", "int32", "int64",
                                 "float16", "bfloat16", "float32", "float64")
#: Dtypes of hard (class index) labels and of soft (B, K) labels.
INT_LABEL_DTYPES: tuple[str, ...] = ("uint8", "int8", "int16", "int32", "int64")
SOFT_LABEL_DTYPES: tuple[str, ...] = ("float16", "bfloat16", "float32", "float64")


@dataclass(frozen=True)
class CutMixConfig(Config):
    """Hyperparameters of CutMix, with the source of every default.

    Presets: ``official()`` (the defaults), ``cifar()``, ``paper()``,
    ``torchvision()``, ``timm()``.
    """

    PRESETS = ("official", "cifar", "paper", "torchvision", "timm")

    alpha: float = param(1.0, "official README recipes: --beta 1.0 (train.py's own default 0 means off)")
    prob: float = param(1.0, "official README ImageNet recipe: --cutmix_prob 1.0 (CIFAR recipe 0.5)")
    correct_lam: bool = param(True, "official train.py: lam recomputed from the clipped box (issue #1)")
    pairing: str = param("randperm", "official train.py: rand_index = torch.randperm(B)")
    granularity: str = param("batch", "official train.py: one lam and one box per batch (issue #4)")

    @classmethod
    def official(cls) -> CutMixConfig:
        """The official ImageNet recipe: alpha 1, always on, corrected lambda, randperm, per batch."""
        return cls()

    @classmethod
    def cifar(cls) -> CutMixConfig:
        """The official CIFAR recipe: as :meth:`official` with ``prob=0.5``."""
        return cls(prob=0.5)

    @classmethod
    def paper(cls) -> CutMixConfig:
        """The paper's Sec. 3.1: the labels take the sampled lambda (no area correction)."""
        return cls(correct_lam=False)

    @classmethod
    def torchvision(cls) -> CutMixConfig:
        """torchvision ``v2.CutMix(alpha=1.0)``: roll(1, 0) pairing, corrected lambda, always on."""
        return cls(pairing="roll")

    @classmethod
    def timm(cls) -> CutMixConfig:
        """timm ``Mixup(cutmix_alpha=1.0, mixup_alpha=0)``: flip(0) pairing, ``correct_lam=True``, mode batch."""
        return cls(pairing="flip")

    def validate(self) -> None:
        require(isinstance(self.alpha, (int, float)) and not isinstance(self.alpha, bool)
                and math.isfinite(self.alpha) and self.alpha > 0,
                "CutMixConfig.alpha", "a finite number > 0 (the Beta(alpha, alpha) parameter)", repr(self.alpha))
        require(isinstance(self.prob, (int, float)) and not isinstance(self.prob, bool) and 0.0 <= self.prob <= 1.0,
                "CutMixConfig.prob", "a probability in [0, 1]", repr(self.prob))
        require(isinstance(self.correct_lam, bool), "CutMixConfig.correct_lam", "a bool", repr(self.correct_lam))
        require(self.pairing in PAIRINGS, "CutMixConfig.pairing", "one of " + ", ".join(PAIRINGS), repr(self.pairing))
        require(self.granularity in GRANULARITIES, "CutMixConfig.granularity",
                "one of " + ", ".join(GRANULARITIES), repr(self.granularity))


Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class CutMixPlan:
    """Every random quantity of one CutMix call: what each layer's ``apply`` executes.

    Attributes:
        height: Image height H the plan was drawn for.
        width: Image width W.
        lam: Per sample, the weight of the sample's own label in its target
            (``lam'`` of the module docstring: corrected to the pasted area when
            the config said so; 1.0 where CutMix was not applied).
        boxes: Per sample, the pasted box ``(y1, y2, x1, x2)``, half-open, in
            pixels; ``(0, 0, 0, 0)`` where not applied.
        partner: Per sample, the index of the sample the box comes from.
        applied: Per sample, whether CutMix was applied.
        lam_sampled: Per sample, the Beta draw before any correction (1.0 where
            no draw was made).
        centres: Per sample, the drawn box centre ``(cy, cx)`` before clipping
            (``(0, 0)`` where not applied); kept so the centre draws can be tested.
    """

    height: int
    width: int
    lam: tuple[float, ...]
    boxes: tuple[Box, ...]
    partner: tuple[int, ...]
    applied: tuple[bool, ...]
    lam_sampled: tuple[float, ...]
    centres: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        where = "CutMixPlan"
        for name in ("height", "width"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v >= 1):
                raise ConfigError(expected(f"{where}.{name}", "an int >= 1", repr(v)))
        b = len(self.lam)
        if b < 1:
            raise ConfigError(expected(where, "at least one sample", "an empty plan"))
        for name in ("boxes", "partner", "applied", "lam_sampled", "centres"):
            if len(getattr(self, name)) != b:
                raise ConfigError(expected(f"{where}.{name}", f"{b} entries (one per sample)",
                                           len(getattr(self, name))))
        for i in range(b):
            y1, y2, x1, x2 = self.boxes[i]
            if not (0 <= y1 <= y2 <= self.height and 0 <= x1 <= x2 <= self.width):
                raise ConfigError(expected(f"{where}.boxes[{i}]", f"0 <= y1 <= y2 <= {self.height} and "
                                           f"0 <= x1 <= x2 <= {self.width}", self.boxes[i]))
            if not 0 <= self.partner[i] < b:
                raise ConfigError(expected(f"{where}.partner[{i}]", f"an index in [0, {b})", self.partner[i]))
            if not 0.0 <= self.lam[i] <= 1.0:
                raise ConfigError(expected(f"{where}.lam[{i}]", "a weight in [0, 1]", self.lam[i]))
            if not self.applied[i] and (self.boxes[i] != (0, 0, 0, 0) or self.lam[i] != 1.0):
                raise ConfigError(expected(f"{where}[{i}]", "box (0, 0, 0, 0) and lam 1.0 where not applied",
                                           (self.boxes[i], self.lam[i])))

    @property
    def batch_size(self) -> int:
        return len(self.lam)

    @property
    def shared(self) -> bool:
        """True when one box and one lambda serve the whole batch (the official per-batch mode)."""
        return len(set(self.boxes)) == 1 and len(set(self.lam)) == 1 and len(set(self.applied)) == 1

    def boxes_array(self) -> np.ndarray:
        """The boxes as an int64 array of shape (B, 4): ``y1, y2, x1, x2``."""
        return np.asarray(self.boxes, dtype=np.int64).reshape(self.batch_size, 4)

    def area_fraction(self) -> np.ndarray:
        """Per sample, the pasted area over ``H * W`` (float64, shape (B,))."""
        bx = self.boxes_array()
        return (bx[:, 1] - bx[:, 0]) * (bx[:, 3] - bx[:, 2]) / float(self.height * self.width)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable dict (lists of numbers)."""
        return {"height": self.height, "width": self.width, "lam": list(self.lam),
                "boxes": [list(b) for b in self.boxes], "partner": list(self.partner),
                "applied": list(self.applied), "lam_sampled": list(self.lam_sampled),
                "centres": [list(c) for c in self.centres]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CutMixPlan:
        """Inverse of :meth:`to_dict`; missing or unknown keys raise :class:`ConfigError`."""
        names = {f.name for f in dataclasses.fields(cls)}
        if set(data) != names:
            raise ConfigError(expected("CutMixPlan.from_dict", "exactly the keys " + ", ".join(sorted(names)),
                                       sorted(data)))
        return cls(height=int(data["height"]), width=int(data["width"]),
                   lam=tuple(float(v) for v in data["lam"]),
                   boxes=tuple(tuple(int(v) for v in b) for b in data["boxes"]),
                   partner=tuple(int(v) for v in data["partner"]),
                   applied=tuple(bool(v) for v in data["applied"]),
                   lam_sampled=tuple(float(v) for v in data["lam_sampled"]),
                   centres=tuple((int(c[0]), int(c[1])) for c in data["centres"]))


# -- sampling ----------------------------------------------------------------

def box_from_centre(lam: float, cy: int, cx: int, height: int, width: int) -> Box:
    """The official ``rand_bbox`` for a given lambda and centre: ``(y1, y2, x1, x2)``.

    Plain float64 arithmetic (``math.sqrt`` is the correctly rounded IEEE square
    root, as ``np.sqrt``), so the sides truncate exactly as in the official code.
    """
    cut_rat = math.sqrt(1.0 - float(lam))
    half_h = int(height * cut_rat) // 2
    half_w = int(width * cut_rat) // 2
    y1 = min(max(cy - half_h, 0), height)
    y2 = min(max(cy + half_h, 0), height)
    x1 = min(max(cx - half_w, 0), width)
    x2 = min(max(cx + half_w, 0), width)
    return (int(y1), int(y2), int(x1), int(x2))


def partner_indices(rng: Any, batch_size: int, pairing: str) -> tuple[int, ...]:
    """Partner of each sample: ``randperm`` draws ``rng.permutation(B)``; ``roll`` is
    ``i - 1 (mod B)`` (torchvision's ``roll(1, 0)``); ``flip`` is ``B - 1 - i`` (timm's ``flip(0)``).

    timm requires an even batch for ``flip``; here an odd batch is accepted and its
    middle sample is its own partner (its image and target stay unchanged in effect).
    """
    if pairing == "randperm":
        return tuple(int(v) for v in rng.permutation(batch_size))
    if pairing == "roll":
        return tuple((i - 1) % batch_size for i in range(batch_size))
    if pairing == "flip":
        return tuple(batch_size - 1 - i for i in range(batch_size))
    raise ConfigError(expected("partner_indices", "a pairing among " + ", ".join(PAIRINGS), repr(pairing)))


def _randint(rng: Any, high: int, size: int | None = None):
    # Generator.integers and the legacy RandomState.randint (what the official code calls).
    return rng.integers(high, size=size) if isinstance(rng, np.random.Generator) else rng.randint(high, size=size)


def _uniform(rng: Any, size: int | None = None):
    return rng.random(size) if isinstance(rng, np.random.Generator) else rng.random_sample(size)


def sample(rng: np.random.Generator | np.random.RandomState, batch_size: int, height: int, width: int,
           config: CutMixConfig | None = None) -> CutMixPlan:
    """Draw one :class:`CutMixPlan` (see the module docstring for the rule and draw order).

    Args:
        rng: A ``numpy.random.Generator``, or a legacy ``numpy.random.RandomState``
            (the official code draws from ``np.random``, i.e. a RandomState).
        batch_size: B >= 1.
        height: H >= 1.
        width: W >= 1.
        config: A :class:`CutMixConfig`; the official one when None.

    Returns:
        The plan.

    Raises:
        TenfoldError: On a non-positive size or a bad config.
    """
    config = CutMixConfig() if config is None else config
    if not isinstance(config, CutMixConfig):
        raise ConfigError(expected("cutmix.sample", "a CutMixConfig", type(config).__name__))
    if not isinstance(rng, (np.random.Generator, np.random.RandomState)):
        raise TenfoldError(expected("cutmix.sample", "a numpy.random.Generator or RandomState",
                                    type(rng).__name__))
    for name, v in (("batch_size", batch_size), ("height", height), ("width", width)):
        if not (isinstance(v, (int, np.integer)) and v >= 1):
            raise ShapeError(expected(f"cutmix.sample: {name}", "an int >= 1", repr(v)))
    b, h, w = int(batch_size), int(height), int(width)
    a = float(config.alpha)
    if config.granularity == "batch":
        u = float(_uniform(rng))
        if not u < config.prob:
            return _identity(b, h, w)
        lam_s = [float(rng.beta(a, a))] * b
        partner = partner_indices(rng, b, config.pairing)
        cy = [int(_randint(rng, h))] * b
        cx = [int(_randint(rng, w))] * b
        applied = [True] * b
    else:
        applied = [bool(v) for v in np.asarray(_uniform(rng, b)) < config.prob]
        lam_s = [float(v) for v in rng.beta(a, a, size=b)]
        partner = partner_indices(rng, b, config.pairing)
        cy = [int(v) for v in _randint(rng, h, b)]
        cx = [int(v) for v in _randint(rng, w, b)]
    boxes, lam, memo = [], [], {}
    for i in range(b):
        if not applied[i]:
            boxes.append((0, 0, 0, 0))
            lam.append(1.0)
            continue
        key = (lam_s[i], cy[i], cx[i])
        if key not in memo:  # per batch: one box, computed once
            box = box_from_centre(lam_s[i], cy[i], cx[i], h, w)
            area = (box[1] - box[0]) * (box[3] - box[2]) / float(h * w)
            memo[key] = (box, 1.0 - area if config.correct_lam else lam_s[i])
        boxes.append(memo[key][0])
        lam.append(memo[key][1])
    centres = tuple((cy[i], cx[i]) if applied[i] else (0, 0) for i in range(b))
    return CutMixPlan(h, w, tuple(lam), tuple(boxes), partner, tuple(applied), tuple(lam_s), centres)


def _identity(b: int, h: int, w: int) -> CutMixPlan:
    return CutMixPlan(h, w, (1.0,) * b, ((0, 0, 0, 0),) * b, tuple(range(b)), (False,) * b, (1.0,) * b,
                      ((0, 0),) * b)


# -- shared input validation (one message in every layer) --------------------

def check_images(where: str, shape: tuple[int, ...], dtype_name: str, plan: CutMixPlan | None,
                 layout: str = "NCHW") -> tuple[int, int, int]:
    """Validate an image batch; return ``(B, H, W)``.

    Raises:
        ShapeError: If the batch is not 4-D or does not match the plan.
        DTypeError: If the dtype is not a real numeric type of :data:`IMAGE_DTYPES`.
    """
    if len(shape) != 4:
        raise ShapeError(expected(where, f"a 4-D image batch ({', '.join(layout)})", f"shape {tuple(shape)}"))
    if dtype_name not in IMAGE_DTYPES:
        raise DTypeError(expected(where, "images of dtype " + ", ".join(IMAGE_DTYPES), f"dtype {dtype_name}"))
    b = shape[0]
    h, w = (shape[2], shape[3]) if layout == "NCHW" else (shape[1], shape[2])
    if plan is not None and (b, h, w) != (plan.batch_size, plan.height, plan.width):
        raise ShapeError(expected(where, f"images with B={plan.batch_size}, H={plan.height}, W={plan.width} "
                                  "as in the plan", f"B={b}, H={h}, W={w}"))
    return b, h, w


def check_num_classes(where: str, num_classes: object) -> int:
    if not (isinstance(num_classes, (int, np.integer)) and not isinstance(num_classes, bool) and num_classes >= 1):
        raise ConfigError(expected(where, "num_classes, an int >= 1", repr(num_classes)))
    return int(num_classes)


def check_labels(where: str, shape: tuple[int, ...], dtype_name: str, batch_size: int, num_classes: int) -> bool:
    """Validate labels' shape and dtype; return True for hard (class index) labels.

    Hard labels: shape (B,), an integer dtype. Soft labels: shape (B, K), a float dtype.

    Raises:
        ShapeError, DTypeError: With the expected form in the message.
    """
    if dtype_name in INT_LABEL_DTYPES:
        if tuple(shape) != (batch_size,):
            raise ShapeError(expected(where, f"class-index labels of shape ({batch_size},) (one per image)",
                                      f"shape {tuple(shape)}"))
        return True
    if dtype_name in SOFT_LABEL_DTYPES:
        if tuple(shape) != (batch_size, num_classes):
            raise ShapeError(expected(where, f"soft labels of shape ({batch_size}, {num_classes})",
                                      f"shape {tuple(shape)}"))
        return False
    raise DTypeError(expected(where, "integer class labels or float soft labels", f"dtype {dtype_name}"))


def label_range_message(where: str, num_classes: int) -> str:
    return expected(where, f"class labels in [0, {num_classes})", "a label out of that range")


def check_label_range(where: str, lo: int, hi: int, num_classes: int) -> None:
    """Raise :class:`TenfoldError` unless every class index lies in ``[0, num_classes)``."""
    if lo < 0 or hi >= num_classes:
        raise TenfoldError(expected(where, f"class labels in [0, {num_classes})", f"labels in [{lo}, {hi}]"))


#: Soft-target tolerances per target dtype (the images must be exactly equal:
#: the paste is a copy). float32 targets are ``lam * a + (1 - lam) * b`` in
#: float32: a couple of roundings of numbers <= 1.
_FORWARD: dict[str, Tolerance] = {
    "float64": Tolerance(atol=1e-15, rtol=0.0),
    "float32": Tolerance(atol=2e-7, rtol=0.0),
    "float16": Tolerance(atol=1e-3, rtol=0.0),
    "bfloat16": Tolerance(atol=8e-3, rtol=0.0),
}
#: Images: exact.
EXACT = Tolerance(atol=0.0, rtol=0.0)

#: Every tolerance conformance applies to this method (:class:`tenfold.spec.contracts.Tolerances`).
TOLERANCES = Tolerances(forward=_FORWARD)

#: The public names each layer must export for this method (checked by conformance).
EXPORTS: dict[str, tuple[str, ...]] = {
    "numpy_ref": ("apply", "soft_target_cross_entropy"),
    "torch_backend": ("cutmix_apply", "CutMix", "soft_target_cross_entropy"),
    "tf_backend": ("cutmix_apply", "CutMix", "soft_target_cross_entropy", "sample_tf"),
}

#: Exports whose signatures differ across layers on purpose (conformance compares all others).
API_DIFFERENCES: dict[str, str] = {
    "CutMix": "the PyTorch transform can mix in place (inplace=True) on its own batch; TF tensors are immutable",
    "cutmix_apply": "PyTorch only: inplace and a pairing hint for its fast paths; TF tensors are immutable",
    "soft_target_cross_entropy": "numpy_ref returns the per-sample losses (the oracle); backends add reduction",
}

__all__ = ["API_DIFFERENCES", "EXPORTS", "GRANULARITIES", "PAIRINGS", "TOLERANCES", "CutMixConfig", "CutMixPlan",
           "box_from_centre", "check_images", "check_labels", "partner_indices", "sample"]
