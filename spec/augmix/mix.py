r"""AugMix configuration, plan and sampler: every random draw of one call, in the official order.

Official code: google-research/augmix ``cifar.py`` / ``imagenet.py`` (``aug``:
the draws and the mix) and ``augmentations.py`` (each op's own draws).

Per image, the official ``aug(image, preprocess)`` draws, from ``np.random``::

    ws = dirichlet([alpha] * width)                  chain weights
    m  = beta(alpha, alpha)                          skip weight
    for each of the width chains:
        depth = randint(1, 4)                        (when --mixture-depth <= 0)
        for each step:  op = choice(ops)             then the op's own draws:
            level = uniform(0.1, severity)           (all ops but autocontrast, equalize)
            sign: uniform() > 0.5 -> -1              (rotate, shear_x, shear_y)
                  random()  > 0.5 -> -1              (translate_x, translate_y)
    mixed = (1 - m) * pre(x) + m * sum_i ws[i] * pre(chain_i(x))

:func:`sample` makes these draws in this order, image after image, from a
``numpy.random.Generator`` or a legacy ``RandomState``; with
``np.random.RandomState(s)`` it reproduces the official stream for the same
seed (the official code casts ``ws`` and ``m`` to float32 before mixing; the
plan keeps the float64 draws). In the official JSD training each example
makes two ``aug`` calls; a plan for the batch ``[x0, x0, x1, x1, ...]``
reproduces that stream.

Which of the image and the mixture ``m`` weights: the code above gives ``m``
to the mixture; the paper's Algorithm 1 writes ``m * x_orig + (1 - m) *
x_aug`` (the roles swapped; the same distribution for a symmetric Beta, not
the same sample). ``m_weights="mix"`` (official code) or ``"image"`` (paper).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import Config, param, require
from ..errors import ConfigError, DTypeError, ShapeError, TenfoldError, expected
from . import ops as O

MAGNITUDES: tuple[str, ...] = ("continuous", "binned")
M_WEIGHTS: tuple[str, ...] = ("mix", "image")

#: Image dtypes every layer accepts: uint8 pixels, or floats in [0, 1].
IMAGE_DTYPES: tuple[str, ...] = ("uint8", "float16", "bfloat16", "float32", "float64")
FLOAT_DTYPES: tuple[str, ...] = ("float16", "bfloat16", "float32", "float64")
#: Output dtypes of the mix: floats in [0, 1], or uint8 (``round(255 * mix)``).
OUT_DTYPES: tuple[str, ...] = ("uint8", "float16", "bfloat16", "float32", "float64")
#: Channel counts with PIL semantics: grey ("L") and RGB.
CHANNELS: tuple[int, ...] = (1, 3)


@dataclass(frozen=True)
class AugMixConfig(Config):
    """Hyperparameters of AugMix, with the source of every default.

    Presets: ``official()`` (CIFAR, the defaults), ``imagenet()``, ``paper()``,
    ``torchvision()``.
    """

    PRESETS = ("official", "imagenet", "paper", "torchvision")

    severity: int = param(3, "official cifar.py: --aug-severity 3 (imagenet.py: 1)")
    width: int = param(3, "official cifar.py/imagenet.py: --mixture-width 3")
    depth: int = param(-1, "official cifar.py/imagenet.py: --mixture-depth -1, i.e. np.random.randint(1, 4) per chain")
    alpha: float = param(1.0, "official cifar.py: dirichlet([1] * width), beta(1, 1); imagenet.py --aug-prob-coeff 1")
    all_ops: bool = param(False, "official cifar.py/imagenet.py: --all-ops off (augmentations, not augmentations_all)")
    magnitudes: str = param("continuous", "official augmentations.py: sample_level = np.random.uniform(0.1, severity)")
    m_weights: str = param("mix", "official cifar.py aug(): mixed = (1 - m) * pre(image) + m * mix")
    image_size: int | None = param(None, "official augmentations.IMAGE_SIZE (32; imagenet.py 224): None uses the "
                                         "image's own width / height for translate_x / translate_y")

    @classmethod
    def official(cls) -> AugMixConfig:
        """The official CIFAR recipe (``cifar.py`` defaults): severity 3, width 3, depth 1-3, alpha 1, 9 ops."""
        return cls()

    @classmethod
    def imagenet(cls) -> AugMixConfig:
        """The official ImageNet recipe (``imagenet.py``): as :meth:`official` with severity 1."""
        return cls(severity=1)

    @classmethod
    def paper(cls) -> AugMixConfig:
        """The paper's Algorithm 1: ``m`` weights the original image (``m * x + (1 - m) * mix``)."""
        return cls(m_weights="image")

    @classmethod
    def torchvision(cls) -> AugMixConfig:
        """torchvision ``v2.AugMix()`` conventions: all 13 ops, binned magnitudes, severity 3.

        torchvision draws ``m`` as ``Dirichlet([alpha, alpha])`` with the second
        component on the mixture: the same law as ``Beta`` on the mixture. Its
        ops are tensor ops that round differently from PIL; this preset keeps
        PIL semantics and per-sample plans (torchvision shares one op set
        across a batch).
        """
        return cls(all_ops=True, magnitudes="binned")

    @property
    def ops(self) -> tuple[str, ...]:
        """The op list the sampler chooses from."""
        return O.ALL_OPS if self.all_ops else O.DEFAULT_OPS

    def validate(self) -> None:
        def is_int(v: object) -> bool:
            return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

        require(is_int(self.severity) and 1 <= self.severity <= 10, "AugMixConfig.severity",
                "an int in [1, 10] (the official --aug-severity)", repr(self.severity))
        require(is_int(self.width) and self.width >= 1, "AugMixConfig.width", "an int >= 1 (chains per image)",
                repr(self.width))
        require(is_int(self.depth) and (self.depth == -1 or self.depth >= 1), "AugMixConfig.depth",
                "-1 (random 1-3 per chain) or an int >= 1", repr(self.depth))
        require(isinstance(self.alpha, (int, float)) and not isinstance(self.alpha, bool)
                and math.isfinite(self.alpha) and self.alpha > 0, "AugMixConfig.alpha",
                "a finite number > 0 (Dirichlet and Beta parameter)", repr(self.alpha))
        require(isinstance(self.all_ops, bool), "AugMixConfig.all_ops", "a bool", repr(self.all_ops))
        require(self.magnitudes in MAGNITUDES, "AugMixConfig.magnitudes", "one of " + ", ".join(MAGNITUDES),
                repr(self.magnitudes))
        require(self.m_weights in M_WEIGHTS, "AugMixConfig.m_weights", "one of " + ", ".join(M_WEIGHTS),
                repr(self.m_weights))
        require(self.image_size is None or (is_int(self.image_size) and self.image_size >= 1),
                "AugMixConfig.image_size", "None or an int >= 1", repr(self.image_size))


Nested = tuple[tuple[tuple[Any, ...], ...], ...]


@dataclass(frozen=True)
class AugMixPlan:
    """Every random quantity of one AugMix call on a batch: what each layer's ``apply`` executes.

    Per sample ``i`` and chain ``j`` the chain applies ``ops[i][j][k]`` with
    argument ``args[i][j][k]`` for ``k`` in order. Then
    ``mixed_i = (1 - mix_weight[i]) * x_i + mix_weight[i] * sum_j chain_weights[i][j] * chain_ij``.

    Attributes:
        height: Image height H the plan was drawn for.
        width: Image width W.
        ops: Op names, nested (B, width, depth of that chain).
        levels: The drawn levels, nested like ``ops`` (the bin index for binned
            magnitudes; 0.0 where the op draws none).
        signs: The drawn signs, +1 or -1 (+1 where the op draws none).
        args: Each op's argument (see :mod:`tenfold.spec.augmix.ops`): bits,
            degrees, threshold, shear, pixels or factor; 0.0 for autocontrast
            and equalize. This is what ``apply`` reads.
        chain_weights: (B, width), the Dirichlet draws.
        m: (B,), the Beta draws.
        mix_weight: (B,), the weight of the chain mixture in the output
            (``m`` under the official convention, ``1 - m`` under the paper's).
    """

    height: int
    width: int
    ops: Nested
    levels: Nested
    signs: Nested
    args: Nested
    chain_weights: tuple[tuple[float, ...], ...]
    m: tuple[float, ...]
    mix_weight: tuple[float, ...]

    def __post_init__(self) -> None:
        where = "AugMixPlan"
        for name in ("height", "width"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v >= 1):
                raise ConfigError(expected(f"{where}.{name}", "an int >= 1", repr(v)))
        b = len(self.ops)
        if b < 1:
            raise ConfigError(expected(where, "at least one sample", "an empty plan"))
        for name in ("levels", "signs", "args", "chain_weights", "m", "mix_weight"):
            if len(getattr(self, name)) != b:
                raise ConfigError(expected(f"{where}.{name}", f"{b} entries (one per sample)",
                                           len(getattr(self, name))))
        nchains = len(self.ops[0])
        for i in range(b):
            if len(self.ops[i]) != nchains or nchains < 1:
                raise ConfigError(expected(f"{where}.ops[{i}]", f"{max(nchains, 1)} chains (as sample 0)",
                                           len(self.ops[i])))
            for name in ("levels", "signs", "args", "chain_weights"):
                if len(getattr(self, name)[i]) != nchains:
                    raise ConfigError(expected(f"{where}.{name}[{i}]", f"{nchains} chains",
                                               len(getattr(self, name)[i])))
            for j in range(nchains):
                depth = len(self.ops[i][j])
                for name in ("levels", "signs", "args"):
                    if len(getattr(self, name)[i][j]) != depth:
                        raise ConfigError(expected(f"{where}.{name}[{i}][{j}]", f"{depth} steps (as ops)",
                                                   len(getattr(self, name)[i][j])))
                for k in range(depth):
                    O.check_argument(f"{where}.args[{i}][{j}][{k}]", self.ops[i][j][k], self.args[i][j][k])
                    if self.signs[i][j][k] not in (1, -1):
                        raise ConfigError(expected(f"{where}.signs[{i}][{j}][{k}]", "+1 or -1", self.signs[i][j][k]))
                w = self.chain_weights[i][j]
                if not (math.isfinite(w) and 0.0 <= w <= 1.0):
                    raise ConfigError(expected(f"{where}.chain_weights[{i}][{j}]", "a weight in [0, 1]", w))
            for name in ("m", "mix_weight"):
                v = getattr(self, name)[i]
                if not (isinstance(v, float) and math.isfinite(v) and 0.0 <= v <= 1.0):
                    raise ConfigError(expected(f"{where}.{name}[{i}]", "a float in [0, 1]", v))

    @classmethod
    def _trusted(cls, **fields: Any) -> AugMixPlan:
        """A plan built by :func:`sample`, valid by construction: the per-entry checks are skipped (they cost
        as much as the draws)."""
        plan = object.__new__(cls)
        for name, value in fields.items():
            object.__setattr__(plan, name, value)
        return plan

    @property
    def batch_size(self) -> int:
        return len(self.ops)

    @property
    def num_chains(self) -> int:
        return len(self.ops[0])

    @property
    def max_depth(self) -> int:
        return max(len(c) for chains in self.ops for c in chains)

    def arrays(self) -> dict[str, np.ndarray]:
        """The plan as padded arrays, the form the batched backends consume.

        Returns:
            ``op_id`` int32 (B, width, D) with -1 past a chain's end (D = the
            longest chain); ``arg`` float64 (B, width, D); ``coeffs`` float64
            (B, width, D, 6), the affine inverse map of affine ops (identity
            elsewhere), computed by :func:`~tenfold.spec.augmix.ops.affine_coefficients`
            so every layer warps with the same doubles; ``chain_weights`` float64
            (B, width); ``mix_weight`` float64 (B,).
        """
        b, w, d = self.batch_size, self.num_chains, self.max_depth
        op_id = np.full((b, w, d), -1, dtype=np.int32)
        arg = np.zeros((b, w, d), dtype=np.float64)
        coeffs = np.tile(np.asarray(O.IDENTITY, dtype=np.float64), (b, w, d, 1))
        for i in range(b):
            for j in range(w):
                for k, (op, a) in enumerate(zip(self.ops[i][j], self.args[i][j], strict=True)):
                    op_id[i, j, k] = O.OP_ID[op]
                    arg[i, j, k] = a
                    if op in O.AFFINE_OPS:
                        coeffs[i, j, k] = O.affine_coefficients(op, a, self.height, self.width)
        return {"op_id": op_id, "arg": arg, "coeffs": coeffs,
                "chain_weights": np.asarray(self.chain_weights, dtype=np.float64).reshape(b, w),
                "mix_weight": np.asarray(self.mix_weight, dtype=np.float64)}

    def describe(self, i: int, j: int) -> str:
        """A short text of chain ``j`` of sample ``i``: ``"rotate -7, posterize 3"`` (for pictures and logs)."""
        parts = []
        for op, a in zip(self.ops[i][j], self.args[i][j], strict=True):
            if op in ("autocontrast", "equalize"):
                parts.append(op)
            elif op in ("posterize", "rotate", "translate_x", "translate_y", "solarize") and a == int(a):
                parts.append(f"{op} {int(a)}")
            else:
                parts.append(f"{op} {a:.3g}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable dict (nested lists)."""
        def lists(v):
            return [lists(x) for x in v] if isinstance(v, (tuple, list)) else v
        return {f.name: lists(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AugMixPlan:
        """Inverse of :meth:`to_dict`; missing or unknown keys raise :class:`ConfigError`."""
        names = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(data, dict) or set(data) != names:
            raise ConfigError(expected("AugMixPlan.from_dict", "exactly the keys " + ", ".join(sorted(names)),
                                       sorted(data) if isinstance(data, dict) else type(data).__name__))

        def nested(v, leaf):
            return tuple(tuple(tuple(leaf(x) for x in c) for c in s) for s in v)
        try:
            return cls(height=int(data["height"]), width=int(data["width"]),
                       ops=nested(data["ops"], str), levels=nested(data["levels"], float),
                       signs=nested(data["signs"], int), args=nested(data["args"], float),
                       chain_weights=tuple(tuple(float(x) for x in s) for s in data["chain_weights"]),
                       m=tuple(float(x) for x in data["m"]), mix_weight=tuple(float(x) for x in data["mix_weight"]))
        except (TypeError, ValueError) as err:
            if isinstance(err, TenfoldError):
                raise
            raise ConfigError(expected("AugMixPlan.from_dict", "nested lists of numbers and op names",
                                       str(err))) from None


# -- sampling ----------------------------------------------------------------------

def _integers(rng: Any, low: int, high: int) -> int:
    # Generator.integers and the legacy RandomState.randint (what the official code calls).
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(low, high))
    return int(rng.randint(low, high))


def _chain(rng: Any, config: AugMixConfig, height: int, width: int):
    depth = config.depth if config.depth > 0 else _integers(rng, 1, 4)
    names, levels, signs, args = [], [], [], []
    ops = config.ops
    for _ in range(depth):
        op = ops[_integers(rng, 0, len(ops))]  # = np.random.choice(ops): the same draw, without choice's overhead
        info = O.OP_INFO[op]
        size = config.image_size or (height if op == "translate_y" else width)
        level, sign = 0.0, 1
        if config.magnitudes == "continuous":
            if info.has_level:
                level = float(rng.uniform(0.1, config.severity))
            if info.signed:
                u = float(rng.uniform()) if info.sign_draw == "uniform" else float(rng.random())
                sign = -1 if u > 0.5 else 1
            arg = O.official_argument(op, level, sign, size)
        else:  # torchvision: a bin index, then the sign of a signed op (rand() <= 0.5 negates)
            if info.has_level:
                level = float(_integers(rng, 0, config.severity))
                if info.signed:
                    sign = -1 if float(rng.random()) <= 0.5 else 1
            arg = O.binned_argument(op, int(level), sign, size)
        names.append(op)
        levels.append(level)
        signs.append(sign)
        args.append(float(arg))
    return tuple(names), tuple(levels), tuple(signs), tuple(args)


def sample(rng: np.random.Generator | np.random.RandomState, batch_size: int, height: int, width: int,
           config: AugMixConfig | None = None) -> AugMixPlan:
    """Draw one :class:`AugMixPlan` (see the module docstring for the official draw order).

    Args:
        rng: A ``numpy.random.Generator``, or a legacy ``RandomState`` (the
            official code draws from ``np.random``).
        batch_size: B >= 1.
        height: H >= 1.
        width: W >= 1.
        config: An :class:`AugMixConfig`; the official one when None.

    Returns:
        The plan.

    Raises:
        TenfoldError: On a non-positive size, a bad generator or a bad config.
    """
    config = AugMixConfig() if config is None else config
    if not isinstance(config, AugMixConfig):
        raise ConfigError(expected("augmix.sample", "an AugMixConfig", type(config).__name__))
    if not isinstance(rng, (np.random.Generator, np.random.RandomState)):
        raise TenfoldError(expected("augmix.sample", "a numpy.random.Generator or RandomState", type(rng).__name__))
    for name, v in (("batch_size", batch_size), ("height", height), ("width", width)):
        if not (isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1):
            raise ShapeError(expected(f"augmix.sample: {name}", "an int >= 1", repr(v)))
    b, h, w = int(batch_size), int(height), int(width)
    a = float(config.alpha)
    per = {k: [] for k in ("ops", "levels", "signs", "args", "chain_weights", "m", "mix_weight")}
    for _ in range(b):
        ws = rng.dirichlet([a] * config.width)
        m = float(rng.beta(a, a))
        chains = [_chain(rng, config, h, w) for _ in range(config.width)]
        for key, idx in (("ops", 0), ("levels", 1), ("signs", 2), ("args", 3)):
            per[key].append(tuple(c[idx] for c in chains))
        per["chain_weights"].append(tuple(float(v) for v in ws))
        per["m"].append(m)
        per["mix_weight"].append(m if config.m_weights == "mix" else 1.0 - m)
    return AugMixPlan._trusted(height=h, width=w, **{k: tuple(v) for k, v in per.items()})


# -- shared input validation (one message in every layer) --------------------------

def check_images(where: str, shape: tuple[int, ...], dtype_name: str, plan: AugMixPlan | None,
                 layout: str = "NCHW") -> tuple[int, int, int, int]:
    """Validate an image batch; return ``(B, C, H, W)``.

    Raises:
        ShapeError: Not 4-D, a channel count other than 1 or 3, or a batch
            that does not match the plan.
        DTypeError: A dtype outside :data:`IMAGE_DTYPES`.
    """
    if len(shape) != 4:
        raise ShapeError(expected(where, f"a 4-D image batch ({', '.join(layout)})", f"shape {tuple(shape)}"))
    if dtype_name not in IMAGE_DTYPES:
        raise DTypeError(expected(where, "images of dtype " + ", ".join(IMAGE_DTYPES), f"dtype {dtype_name}"))
    if layout == "NCHW":
        b, c, h, w = shape
    else:
        b, h, w, c = shape
    if c not in CHANNELS and c != -1:
        raise ShapeError(expected(where, "1 (grey) or 3 (RGB) channels", f"{c} channels"))
    if plan is not None and (b, h, w) != (plan.batch_size, plan.height, plan.width):
        raise ShapeError(expected(where, f"images with B={plan.batch_size}, H={plan.height}, W={plan.width} "
                                  "as in the plan", f"B={b}, H={h}, W={w}"))
    return b, c, h, w


def out_dtype_name(where: str, in_dtype: str, out_dtype: str | None) -> str:
    """The output dtype of the mix: ``out_dtype``, else the input's float dtype, else float32 for uint8."""
    if out_dtype is None:
        return in_dtype if in_dtype in FLOAT_DTYPES else "float32"
    if out_dtype not in OUT_DTYPES:
        raise DTypeError(expected(where, "out_dtype among " + ", ".join(OUT_DTYPES), repr(out_dtype)))
    return out_dtype


__all__ = ["CHANNELS", "FLOAT_DTYPES", "IMAGE_DTYPES", "MAGNITUDES", "M_WEIGHTS", "OUT_DTYPES", "AugMixConfig",
           "AugMixPlan", "check_images", "out_dtype_name", "sample"]
