"""Toonify in NumPy: the StyleGAN2 generator (:mod:`.generator`), the blend (:mod:`.blend`), checkpoints.

Checkpoints are canonical dicts written as ``.npz`` (never pickled); a
rosinality ``.pt`` file is read and written through
:mod:`tenfold.torch_backend.toonify` (``torch.load(weights_only=True)``) when
PyTorch is installed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from tenfold.spec.checkpoints import load_npz, save_npz
from tenfold.spec.errors import CheckpointError, expected
from tenfold.spec.toonify import generator as _spec

from . import blend as blend_module
from . import generator
from .blend import blend
from .generator import (
    equalized_linear,
    fused_leaky_relu,
    generate,
    init_params,
    mapping,
    mean_latent,
    modulated_conv2d,
    pixel_norm,
    styled_conv,
    synthesis,
    to_rgb,
)

#: File suffixes of rosinality (PyTorch) checkpoints.
TORCH_SUFFIXES = (".pt", ".pth")


def load_checkpoint(path: str | os.PathLike, where: str = "toonify.load_checkpoint"
                    ) -> tuple[dict[str, np.ndarray], _spec.StyleGAN2Config]:
    """Read a generator: ``.npz`` (canonical names) or a rosinality ``.pt`` (``g_ema`` + ``latent_avg``).

    Returns:
        ``(params, config)``, the config inferred from the shapes.
    """
    path = Path(path)
    if path.suffix in TORCH_SUFFIXES:
        from tenfold.torch_backend.toonify import rosinality_params

        params = rosinality_params(path, where)
    else:
        params = load_npz(path, where)
    return params, _spec.infer_config(params, where)


def save_checkpoint(params: Mapping[str, np.ndarray], path: str | os.PathLike) -> Path:
    """Write canonical params atomically: ``.npz``, or a rosinality ``.pt`` for a ``.pt``/``.pth`` suffix."""
    path = Path(path)
    if not isinstance(params, Mapping):
        raise CheckpointError(expected("toonify.save_checkpoint", "a dict of name -> array", type(params).__name__))
    if path.suffix in TORCH_SUFFIXES:
        from tenfold.torch_backend.toonify import save_rosinality

        return save_rosinality(params, path)
    return save_npz(params, path)


__all__ = ["TORCH_SUFFIXES", "blend", "blend_module", "equalized_linear", "fused_leaky_relu", "generate", "generator",
           "init_params", "load_checkpoint", "mapping", "mean_latent", "modulated_conv2d", "pixel_norm",
           "save_checkpoint", "styled_conv", "synthesis", "to_rgb"]
