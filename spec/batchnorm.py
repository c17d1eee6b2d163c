r"""BatchNorm over the channels of NCHW images, spec'd once for every tenfold network.

Paper: S. Ioffe and C. Szegedy, "Batch Normalization: Accelerating Deep Network
Training by Reducing Internal Covariate Shift", ICML 2015, Algorithm 1 and 2.
The conventions below are PyTorch's ``nn.BatchNorm2d`` (and MegEngine's, the
framework of the FReLU official code, with its momentum written as ``1 - m``).

Parameters of a layer with ``C`` channels (canonical names, as in PyTorch and
MegEngine state dicts): ``weight`` (gamma, ``(C,)``), ``bias`` (beta, ``(C,)``),
``running_mean`` ``(C,)`` and ``running_var`` ``(C,)``.

Train mode, on ``x`` of shape ``(N, C, H, W)`` with ``n = N*H*W`` values per channel::

    mu      = mean(x over N, H, W)                         (per channel)
    var_b   = mean((x - mu)^2 over N, H, W)                (biased: normalises the batch)
    y       = (x - mu) / sqrt(var_b + eps) * weight + bias
    running_mean <- (1 - m) * running_mean + m * mu
    running_var  <- (1 - m) * running_var  + m * var_b * n / (n - 1)   (unbiased estimate)

Eval mode::

    y = (x - running_mean) / sqrt(running_var + eps) * weight + bias

``m`` is the momentum in the spec's convention (PyTorch's): the weight of the
new batch. Keras' ``BatchNormalization(momentum=...)`` is the weight of the
old value, ``1 - m``, and Keras updates the moving variance with the *biased*
variance; tenfold's Keras layer follows this spec instead (unbiased update).
MegEngine's ``BatchNorm2d(momentum=0.9)`` is ``m = 0.1`` here. Train mode needs
``n > 1`` (the unbiased variance divides by ``n - 1``); PyTorch raises there too.

Folding into the preceding convolution for inference (``s = weight / sqrt(running_var + eps)``)::

    conv.weight' = conv.weight * s[:, None, None, None]
    conv.bias'   = (conv.bias - running_mean) * s + bias        (conv.bias = 0 when it has none)
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import Config, param, require
from .contracts import Tolerances
from .errors import ShapeError, expected
from .tolerance import Tolerance

PAPER = "Ioffe & Szegedy, Batch Normalization, ICML 2015"

#: The names of one BatchNorm layer's entries in a parameter dict, in this order.
PARAM_NAMES: tuple[str, ...] = ("weight", "bias", "running_mean", "running_var")

#: Entries that training updates without gradients (state, not parameters).
STATE_NAMES: tuple[str, ...] = ("running_mean", "running_var")


@dataclass(frozen=True)
class BatchNormConfig(Config):
    """Epsilon and momentum of a BatchNorm layer (momentum in the spec's convention)."""

    PRESETS = ("torch", "megengine", "keras")

    eps: float = param(1e-5, "PyTorch nn.BatchNorm2d and MegEngine M.BatchNorm2d default eps")
    momentum: float = param(0.1, "PyTorch nn.BatchNorm2d default; MegEngine momentum=0.9 is 1 - 0.1")

    @classmethod
    def torch(cls) -> BatchNormConfig:
        return cls()

    @classmethod
    def megengine(cls) -> BatchNormConfig:
        """The official FReLU code's BatchNorm (MegEngine 0.5: eps 1e-5, momentum 0.9 = 1 - 0.1)."""
        return cls(eps=1e-5, momentum=0.1)

    @classmethod
    def keras(cls) -> BatchNormConfig:
        """Keras' ``BatchNormalization`` defaults (epsilon 1e-3, momentum 0.99 = 1 - 0.01)."""
        return cls(eps=1e-3, momentum=0.01)

    def validate(self) -> None:
        require(isinstance(self.eps, (int, float)) and self.eps > 0, "BatchNormConfig.eps", "a number > 0", self.eps)
        require(isinstance(self.momentum, (int, float)) and 0 <= self.momentum <= 1, "BatchNormConfig.momentum",
                "a number in [0, 1]", self.momentum)

    @property
    def keras_momentum(self) -> float:
        """The same momentum in Keras' convention (weight of the old running value)."""
        return 1.0 - self.momentum


def param_shapes(channels: int, prefix: str = "") -> dict[str, tuple[int, ...]]:
    """Canonical names and shapes of one BatchNorm layer (``prefix`` ends with a dot when given)."""
    return {f"{prefix}{name}": (channels,) for name in PARAM_NAMES}


def check_input(where: str, shape: tuple[int, ...], channels: int, training: bool) -> None:
    """Validate an NCHW input shape for a BatchNorm of ``channels`` channels.

    Raises:
        ShapeError: If ``x`` is not 4-D, has another channel count, or (train
            mode) holds a single value per channel.
    """
    if len(shape) != 4:
        raise ShapeError(expected(where, "a 4-D input (N, C, H, W)", f"shape {tuple(shape)}"))
    if shape[1] != channels:
        raise ShapeError(expected(where, f"{channels} channels (axis 1 of NCHW)",
                                  f"{shape[1]} in shape {tuple(shape)}"))
    if training and shape[0] * shape[2] * shape[3] <= 1:
        raise ShapeError(expected(where, "more than one value per channel in train mode (N*H*W > 1)",
                                  f"shape {tuple(shape)}"))


#: Forward tolerances per dtype (outputs of unit scale and updated running statistics).
_FORWARD: dict[str, Tolerance] = {
    "float64": Tolerance(atol=1e-12, rtol=1e-11),
    "float32": Tolerance(atol=2e-5, rtol=2e-5),
    "float16": Tolerance(atol=1e-2, rtol=1e-2),
    "bfloat16": Tolerance(atol=8e-2, rtol=5e-2),
}

#: Every tolerance conformance applies to this method (:class:`tenfold.spec.contracts.Tolerances`).
TOLERANCES = Tolerances(forward=_FORWARD)

__all__ = ["PARAM_NAMES", "STATE_NAMES", "TOLERANCES", "BatchNormConfig", "check_input", "param_shapes"]
