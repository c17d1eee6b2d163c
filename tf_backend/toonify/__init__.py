"""Toonify for TensorFlow / Keras: the StyleGAN2 :class:`Generator` (NHWC images) and the blend."""

from __future__ import annotations

from . import blend as blend_module
from . import generator
from .blend import blend_models
from .generator import Generator, from_params, get_params, load_params, modulated_conv2d, to_canonical, to_rgb, to_tf

__all__ = ["Generator", "blend_models", "blend_module", "from_params", "generator", "get_params", "load_params",
           "modulated_conv2d", "to_canonical", "to_rgb", "to_tf"]
