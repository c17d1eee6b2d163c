"""Toonify's blend for PyTorch generators: the NumPy blend over canonical dicts, loaded into a new model.

Paper: Pinkney & Adler 2020; official code: justinpinkney/stylegan2
``blend_models.py``. The arithmetic is :func:`tenfold.numpy_ref.toonify.blend`
(one implementation for every backend).
"""

from __future__ import annotations

import copy

from tenfold.numpy_ref.toonify import blend_module as np_blend
from tenfold.spec.toonify.blend import BlendConfig

from .generator import Generator, get_params, load_params


def blend_models(low: Generator, high: Generator, resolution: int, *, level: int = 0, width: float | None = None,
                 config: BlendConfig | None = None) -> Generator:
    """A new generator (a copy of ``low``: its dtype and device) with the blended weights.

    Args:
        low: Model whose coarse layers, mapping, ``conv1``, noise and ``latent_avg`` are kept (official ``model_1``).
        high: Model the fine layers come from (official ``model_2``).
        resolution, level, width, config: As :func:`tenfold.numpy_ref.toonify.blend`.
    """
    params = np_blend.blend(get_params(low), get_params(high), resolution, level=level, width=width, config=config)
    return load_params(copy.deepcopy(low), params)


__all__ = ["blend_models"]
