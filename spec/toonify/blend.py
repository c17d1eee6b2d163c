r"""Toonify's resolution-dependent blend of two StyleGAN2 generators (layer swapping and interpolation).

Paper: J. N. M. Pinkney and D. Adler, "Resolution Dependent GAN Interpolation
for Controllable Image Synthesis Between Domains", NeurIPS 2020 workshop
(arXiv:2010.05334), Section 2. Official code: justinpinkney/stylegan2
``blend_models.py`` (TF1, Nvidia Source Code License-NC; read for facts only).

Two generators of one topology: ``low`` (``model_1`` in the official code, the
"low res pkl", whose coarse layers are kept: in Toonify the cartoon fine-tune)
and ``high`` (``model_2``: the fine layers, FFHQ). Every synthesis parameter has
a *position* from its resolution ``r`` and level (0: ``Const`` / ``Conv0_up``,
1: ``Conv1`` / ``ToRGB``), ``pos(r, level) = 2 log2(r / 4) + level``; in
canonical (rosinality) names:

    =========  =======================================================
    position   canonical prefix
    =========  =======================================================
    0          ``input.input``                       (4x4 Const)
    1          ``to_rgb1``                           (4x4 ToRGB)
    2i         ``convs.{2i-2}``                      (Conv0_up at 4 * 2^i)
    2i+1       ``convs.{2i-1}``, ``to_rgbs.{i-1}``   (Conv1 and ToRGB at 4 * 2^i)
    =========  =======================================================

With ``x = position - pos(resolution, level)`` and ``y(x)`` the weight of
``high``, each blended parameter is ``out = y high + (1 - y) low``:

    hard switch    y = 1 if x > threshold else 0
    smooth switch  y = 1 / (1 + exp(-(x - centre) / width))

Never blended (copied from ``low``, as ``model_out = model_1.clone()`` does):
the mapping network ``style.*``, the 4x4 ``conv1`` (its TF name
``G_synthesis/4x4/Conv`` matches neither level suffix), the noise buffers
``noises.*``, ``latent_avg`` (``dlatent_avg``) and the FIR taps.

Presets (:class:`BlendConfig`):

* ``official()``: the script exactly, quirks included. The hard switch keeps
  *two* positions (``x = 0`` and ``x = 1``) on ``low``: with ``level=0``,
  "resolution r" means every layer up to and including ``r`` comes from
  ``low``; with ``level=1`` also the upsampling conv of ``2r``. The logistic is
  centred at ``x = 0``, so as ``width -> 0`` it gives ``y = 0.5`` at ``x = 0``
  and ``1`` at ``x = 1``: not the hard switch. ``width`` 0 or ``None`` is the
  hard switch (``if blend_width:``).
* ``consistent()``: the same hard switch, and the logistic centred half-way
  between the last position kept (``x = threshold``) and the first one taken
  (``threshold + 1``), so that ``width -> 0`` gives exactly the hard switch
  and the blend is symmetric about the switch.

The blend is linear per parameter, so blending canonical (rosinality) weights
equals converting the official TF blend (the ``mod_bias + 1`` shift and the
``Conv0_up`` flip are affine per parameter and commute with it).
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config import Config, param, require
from ..errors import CheckpointError, ConfigError, expected

PAPER = ("Pinkney & Adler, Resolution Dependent GAN Interpolation for Controllable Image Synthesis Between "
         "Domains, NeurIPS 2020 workshop (arXiv:2010.05334)")
OFFICIAL_CODE = "https://github.com/justinpinkney/stylegan2"  # blend_models.py

@dataclass(frozen=True)
class BlendConfig(Config):
    """The switch rule of the blend (``official()`` by default)."""

    PRESETS = ("official", "consistent")

    threshold: float = param(1.0, "official blend_models.py: hard switch `y = 1 if x > 1 else 0`")
    centre: float = param(0.0, "official blend_models.py: `y = 1 / (1 + exp(-x / blend_width))`, centred at x = 0")
    zero_width_is_hard: bool = param(True, "official blend_models.py: `if blend_width:` (0 and None are hard)")

    @classmethod
    def official(cls) -> BlendConfig:
        """blend_models.py exactly: hard ``x > 1``, logistic centred at 0, width 0 = hard."""
        return cls()

    @classmethod
    def consistent(cls) -> BlendConfig:
        """The official hard switch; the logistic centred at ``threshold + 1/2`` (tends to the hard switch)."""
        return cls(centre=1.5)

    def validate(self) -> None:
        require(math.isfinite(self.threshold), "BlendConfig.threshold", "a finite threshold", self.threshold)
        require(math.isfinite(self.centre), "BlendConfig.centre", "a finite centre", self.centre)
        require(isinstance(self.zero_width_is_hard, bool), "BlendConfig.zero_width_is_hard", "a bool",
                self.zero_width_is_hard)


_CONVS = re.compile(r"^convs\.(\d+)\.")
_TO_RGBS = re.compile(r"^to_rgbs\.(\d+)\.")


def position_of(name: str) -> int | None:
    """The blend position of a canonical parameter, or ``None`` if it is never blended."""
    if name == "input.input":
        return 0
    if name.endswith((".blur.kernel", ".upsample.kernel")):
        return None
    if name.startswith("to_rgb1."):
        return 1
    m = _CONVS.match(name)
    if m:
        return int(m.group(1)) + 2  # convs.{2i-2} -> 2i, convs.{2i-1} -> 2i+1
    m = _TO_RGBS.match(name)
    if m:
        return 2 * int(m.group(1)) + 3  # to_rgbs.{i-1} -> 2i+1
    return None  # style.*, conv1.*, noises.*, latent_avg


def switch_position(resolution: int, level: int) -> int:
    """``pos(resolution, level) = 2 log2(resolution / 4) + level``."""
    return 2 * (int(resolution).bit_length() - 3) + int(level)


def model_resolution(names: Any) -> int:
    """The output resolution of a canonical generator dict (from its ``to_rgbs.*`` entries)."""
    n = 1 + max((int(m.group(1)) for m in map(_TO_RGBS.match, names) if m), default=-1)
    return 4 * 2 ** n


def check_switch(resolution: int, level: int, width: float | None, top: int, where: str = "toonify.blend") -> None:
    """``resolution`` one of the model's (4 .. top), ``level`` 0 or 1, ``width`` None or finite >= 0."""
    valid = [4 * 2 ** i for i in range(top.bit_length() - 2)]
    if isinstance(resolution, bool) or not isinstance(resolution, numbers.Integral) or resolution not in valid:
        raise ConfigError(expected(where, "a resolution among " + ", ".join(map(str, valid)), repr(resolution)))
    if isinstance(level, bool) or not isinstance(level, numbers.Integral) or level not in (0, 1):
        raise ConfigError(expected(where, "level 0 (Const/Conv0_up) or 1 (Conv1/ToRGB)", repr(level)))
    if width is not None and not (isinstance(width, int | float) and math.isfinite(width) and width >= 0):
        raise ConfigError(expected(where, "a width None or a finite number >= 0", repr(width)))


def weight_of(x: float, width: float | None, config: BlendConfig) -> float:
    """The weight ``y`` of the high-res model at offset ``x`` from the switch position."""
    hard = width is None or (width == 0 and config.zero_width_is_hard)
    if hard:
        return 1.0 if x > config.threshold else 0.0
    if width == 0:  # the limit of the logistic (only without zero_width_is_hard)
        return 1.0 if x > config.centre else 0.5 if x == config.centre else 0.0
    t = -(x - config.centre) / width
    return 1.0 / (1.0 + math.exp(t)) if t < 700 else 0.0


def blend_weights(names: Any, resolution: int, level: int = 0, width: float | None = None,
                  config: BlendConfig | None = None, where: str = "toonify.blend") -> dict[str, float | None]:
    """``name -> y`` for every canonical name (``None``: never blended, copied from the low-res model).

    Args:
        names: The canonical names of one generator (an iterable).
        resolution: The switch resolution (official ``--res``).
        level: 0 or 1 (official ``--level``).
        width: ``None`` (hard switch) or the logistic's width (official ``--blend_width``).
        config: The switch rule; ``BlendConfig.official()`` by default.
    """
    config = config or BlendConfig.official()
    names = list(names)
    check_switch(resolution, level, width, model_resolution(names), where)
    mid = switch_position(resolution, level)
    out: dict[str, float | None] = {}
    for name in names:
        pos = position_of(name)
        out[name] = None if pos is None else weight_of(pos - mid, width, config)
    return out


def check_topology(low: Mapping[str, Any], high: Mapping[str, Any], where: str = "toonify.blend",
                   labels: tuple[str, str] = ("low", "high")) -> None:
    """Both generators must have the same names and shapes; the error names the first mismatch.

    The order is ``low``'s (canonical order when it comes from ``param_shapes``).

    Raises:
        CheckpointError: ``"<where>: expected two generators of one topology; got <name> ..."``.
    """
    a, b = labels
    for name, value in low.items():
        if name not in high:
            raise CheckpointError(expected(where, "two generators of one topology",
                                           f"{name!r} in {a} but not in {b}"))
        sa, sb = tuple(getattr(value, "shape", ())), tuple(getattr(high[name], "shape", ()))
        if sa != sb:
            raise CheckpointError(expected(where, "two generators of one topology",
                                           f"{name!r} of shape {sa} in {a} and {sb} in {b}"))
    for name in high:
        if name not in low:
            raise CheckpointError(expected(where, "two generators of one topology",
                                           f"{name!r} in {b} but not in {a}"))


__all__ = ["OFFICIAL_CODE", "PAPER", "BlendConfig", "blend_weights", "check_switch",
           "check_topology", "model_resolution", "position_of", "switch_position", "weight_of"]
