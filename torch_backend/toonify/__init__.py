"""Toonify for PyTorch: the StyleGAN2 :class:`Generator` (rosinality names), rosinality checkpoints, the blend."""

from __future__ import annotations

from . import blend as blend_module
from . import generator
from .blend import blend_models
from .generator import (
    EqualLinear,
    Generator,
    ModulatedConv2d,
    StyledConv,
    ToRGB,
    from_params,
    get_params,
    load_params,
    load_rosinality,
    modulated_conv2d,
    rosinality_params,
    save_rosinality,
)

__all__ = ["EqualLinear", "Generator", "ModulatedConv2d", "StyledConv", "ToRGB", "blend_models", "blend_module",
           "from_params", "generator", "get_params", "load_params", "load_rosinality", "modulated_conv2d",
           "rosinality_params", "save_rosinality"]
