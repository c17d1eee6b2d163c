r"""LARS, the layer-wise adaptive rate scaling optimizer SimCLR trains with.

Paper: Y. You, I. Gitman, B. Ginsburg, "Large Batch Training of Convolutional
Networks", arXiv:1708.03888 (Algorithm 1); SimCLR (Chen et al., ICML 2020,
Sec. B.1) uses it for batch sizes up to 8192. Official code:
google-research/simclr ``lars_optimizer.py`` (``LARSOptimizer``) with the
exclusions of ``model_util.py`` ``get_optimizer``.

Math, per parameter tensor ``w`` with gradient ``g``, momentum buffer ``v``
(zeros at first), learning rate ``lr`` (this step's value)::

    g <- g + wd * w                                (unless excluded from weight decay)
    classic momentum (classic_momentum=True, the official default):
        trust = eta ||w|| / ||g||  if ||w|| > 0 and ||g|| > 0 else 1     (1 if excluded from adaptation)
        v     = momentum * v + lr * trust * g
        w    <- w - (momentum * v + lr * trust * g)     if nesterov else w - v
    popular momentum (classic_momentum=False):
        v      = momentum * v + g
        u      = momentum * v + g                   if nesterov else v
        trust  = eta ||w|| / ||u||  (same guards)
        w     <- w - lr * trust * u

Norms are Euclidean norms over the whole tensor. A parameter is excluded from
weight decay when any regular expression of ``exclude_from_weight_decay``
matches its name (``re.search``); from layer adaptation by
``exclude_from_layer_adaptation``, which defaults to the weight-decay list
(``None``), as in the official constructor. The official list is
``("batch_normalization", "bias", "head_supervised")``, matched against TF
variable names; :mod:`tenfold.spec.simclr.head` uses those names. For other
naming schemes (PyTorch's ``bn.weight``), ``exclude_vectors=True`` also
excludes every parameter of rank <= 1 (BatchNorm and biases), the usual
idiom of PyTorch ports.

Learning rate: ``base_lr * B / 256`` (``--learning_rate_scaling=linear``,
base 0.3) or ``base_lr * sqrt(B)`` (``sqrt``, base 0.075), linear warm-up
over 10 epochs then cosine decay to 0 (``model_util.py``
``learning_rate_schedule``); :func:`learning_rate` computes it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..config import Config, param, require
from ..dtypes import check_float_dtype
from ..errors import ShapeError, expected

_LO = "google-research/simclr lars_optimizer.py LARSOptimizer"
_MU = "google-research/simclr model_util.py get_optimizer"

#: The dtypes of parameters every layer accepts.
DTYPES: tuple[str, ...] = ("float32", "float64")

OFFICIAL_EXCLUDE: tuple[str, ...] = ("batch_normalization", "bias", "head_supervised")


@dataclass(frozen=True)
class LARSConfig(Config):
    """Hyperparameters of LARS. Presets: ``official`` (default), ``v2``, ``torch_idiom``."""

    PRESETS = ("official", "v2", "torch_idiom")

    lr: float = param(0.3, "run.py --learning_rate 0.3 per 256 examples (scaled by B/256 before use)")
    momentum: float = param(0.9, "run.py --momentum 0.9")
    weight_decay: float = param(1e-6, "run.py (v1) and tf2/run.py --weight_decay 1e-6; HEAD TF1 run.py 1e-4")
    eta: float = param(0.001, _LO + ": EETA_DEFAULT = 0.001")
    nesterov: bool = param(False, _LO + ": use_nesterov=False")
    classic_momentum: bool = param(True, _LO + ": classic_momentum=True")
    exclude_from_weight_decay: tuple[str, ...] = param(
        OFFICIAL_EXCLUDE, _MU + ": exclude_from_weight_decay=['batch_normalization', 'bias', 'head_supervised']")
    exclude_from_layer_adaptation: tuple[str, ...] | None = param(
        None, _LO + ": None means the weight-decay list")
    exclude_vectors: bool = param(False, "not in the official code (its names carry the exclusions)")

    def __post_init__(self) -> None:
        for f in ("exclude_from_weight_decay", "exclude_from_layer_adaptation"):
            v = getattr(self, f)
            if isinstance(v, list):  # JSON round trip
                object.__setattr__(self, f, tuple(v))
        super().__post_init__()

    @classmethod
    def official(cls) -> LARSConfig:
        """``lars_optimizer.py`` with ``get_optimizer``'s exclusions and the v1 weight decay 1e-6."""
        return cls()

    @classmethod
    def v2(cls) -> LARSConfig:
        """The repository's HEAD TF1 ``run.py`` (SimCLRv2 recipes): weight decay 1e-4."""
        return cls(weight_decay=1e-4)

    @classmethod
    def torch_idiom(cls) -> LARSConfig:
        """As :meth:`official`, and every parameter of rank <= 1 excluded (for PyTorch-style names)."""
        return cls(exclude_vectors=True)

    def validate(self) -> None:
        name = type(self).__name__
        for field, lo in (("lr", 0.0), ("weight_decay", 0.0), ("eta", 0.0)):
            v = getattr(self, field)
            require(_finite(v) and v >= lo, f"{name}.{field}", "a finite value >= 0", repr(v))
        require(_finite(self.momentum) and 0 <= self.momentum < 1, f"{name}.momentum", "a value in [0, 1)",
                repr(self.momentum))
        for field in ("nesterov", "classic_momentum", "exclude_vectors"):
            require(isinstance(getattr(self, field), bool), f"{name}.{field}", "a bool", repr(getattr(self, field)))
        for field in ("exclude_from_weight_decay", "exclude_from_layer_adaptation"):
            v = getattr(self, field)
            if v is None and field == "exclude_from_layer_adaptation":
                continue
            require(isinstance(v, tuple) and all(isinstance(p, str) for p in v), f"{name}.{field}",
                    "a tuple of regular expressions", repr(v))
            for p in v:
                try:
                    re.compile(p)
                except re.error as err:
                    require(False, f"{name}.{field}", "valid regular expressions", f"{p!r} ({err})")

    @property
    def adaptation_patterns(self) -> tuple[str, ...]:
        """The layer-adaptation exclusions in force (the weight-decay list when None or empty, as official)."""
        return self.exclude_from_layer_adaptation or self.exclude_from_weight_decay


def _finite(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def excluded(name: str, patterns: tuple[str, ...]) -> bool:
    """Whether any pattern matches ``name`` (``re.search``, as the official ``_use_weight_decay``)."""
    return any(re.search(p, name) is not None for p in patterns)


def exclusions(name: str, ndim: int, config: LARSConfig) -> tuple[bool, bool]:
    """``(use_weight_decay, use_adaptation)`` of one parameter."""
    vector = config.exclude_vectors and ndim <= 1
    use_wd = config.weight_decay != 0 and not vector and not excluded(name, config.exclude_from_weight_decay)
    use_adapt = not vector and not excluded(name, config.adaptation_patterns)
    return use_wd, use_adapt


def trust_ratio(w_norm: float, u_norm: float, eta: float) -> float:
    """``eta * w_norm / u_norm`` where both norms are > 0, else 1 (the official guards)."""
    return eta * w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0


def learning_rate(step: int, total_steps: int, warmup_steps: int, base_lr: float, batch_size: int,
                  scaling: str = "linear") -> float:
    """``model_util.learning_rate_schedule``: scaled lr, linear warm-up, then cosine decay to 0."""
    require(scaling in ("linear", "sqrt"), "learning_rate", "scaling 'linear' or 'sqrt'", repr(scaling))
    scaled = base_lr * batch_size / 256.0 if scaling == "linear" else base_lr * math.sqrt(batch_size)
    if warmup_steps and step < warmup_steps:
        return step / warmup_steps * scaled
    decay_steps = max(total_steps - warmup_steps, 1)
    progress = min(max(step - warmup_steps, 0), decay_steps) / decay_steps
    return scaled * 0.5 * (1.0 + math.cos(math.pi * progress))


def check_dtype(dtype_name: str, where: str = "LARS") -> str:
    return check_float_dtype(where, dtype_name, DTYPES)


def check_grad_shape(where: str, param_shape: tuple, grad_shape: tuple) -> None:
    if tuple(param_shape) != tuple(grad_shape):
        raise ShapeError(expected(where, f"a gradient of the parameter's shape {tuple(param_shape)}",
                                  f"shape {tuple(grad_shape)}"))


def sparse_error(where: str) -> str:
    return expected(where, "a dense gradient (LARS has no sparse update)", "a sparse gradient")


__all__ = ["OFFICIAL_EXCLUDE", "LARSConfig", "check_dtype", "check_grad_shape", "excluded", "exclusions",
           "learning_rate", "trust_ratio"]
