"""The CutMix plan (every random draw of one call) and the sampler that draws it in the official order."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError, ShapeError, TenfoldError, expected
from .config import PAIRINGS, CutMixConfig

#: A box as (y1, y2, x1, x2): rows y1:y2 and columns x1:x2, half-open.
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
    config = CutMixConfig() if config is None else CutMixConfig.coerce(config, "cutmix.sample")
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




#: The entries every plan dict must have (``CutMixPlan.to_dict()`` has these and more; so has ``sample_tf``'s).
PLAN_KEYS: tuple[str, ...] = ("lam", "boxes", "partner", "applied")


def as_plan(where: str, plan: object, height: int, width: int) -> CutMixPlan:
    """A :class:`CutMixPlan` from any form a layer accepts: the plan, its ``to_dict()``, or a dict of arrays.

    A dict needs :data:`PLAN_KEYS` (tensors are fine: they are read with
    ``np.asarray``); without ``height``/``width`` it takes the images' size,
    without ``lam_sampled``/``centres`` neutral values. So every layer takes
    the same forms and checks the same plan.

    Raises:
        ConfigError: For anything else, or a dict whose entries do not form a valid plan.
    """
    if isinstance(plan, CutMixPlan):
        return plan
    want = "a CutMixPlan or a dict with " + ", ".join(PLAN_KEYS)
    if not isinstance(plan, dict) and not (hasattr(plan, "keys") and hasattr(plan, "__getitem__")):
        raise ConfigError(expected(where, want, type(plan).__name__))
    plan = {k: plan[k] for k in plan.keys()}
    missing = [k for k in PLAN_KEYS if k not in plan]
    if missing:
        raise ConfigError(expected(where, want, "a dict without " + ", ".join(missing)))
    try:
        lam = np.asarray(plan["lam"], np.float64).reshape(-1)
        b = lam.shape[0]
        data = {"height": int(np.asarray(plan.get("height", height))),
                "width": int(np.asarray(plan.get("width", width))), "lam": lam.tolist(),
                "boxes": np.asarray(plan["boxes"], np.int64).reshape(b, 4).tolist(),
                "partner": np.asarray(plan["partner"], np.int64).reshape(b).tolist(),
                "applied": np.asarray(plan["applied"], bool).reshape(b).tolist(),
                "lam_sampled": np.asarray(plan.get("lam_sampled", lam), np.float64).reshape(b).tolist(),
                "centres": np.asarray(plan.get("centres", np.zeros((b, 2))), np.int64).reshape(b, 2).tolist()}
    except (TypeError, ValueError) as err:
        raise ConfigError(expected(where, f"{want} of one entry per sample", f"{type(err).__name__}: {err}")) from None
    return CutMixPlan.from_dict(data)



__all__ = ["PLAN_KEYS", "Box", "CutMixPlan", "as_plan", "box_from_centre", "partner_indices", "sample"]
