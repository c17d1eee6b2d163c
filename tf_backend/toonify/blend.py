"""Toonify's blend for Keras generators: the NumPy blend over canonical dicts, loaded into a new model.

Paper: Pinkney & Adler 2020; official code: justinpinkney/stylegan2
``blend_models.py``. The arithmetic is :func:`tenfold.numpy_ref.toonify.blend`.
"""

from __future__ import annotations

from tenfold.numpy_ref.toonify import blend_module as np_blend
from tenfold.spec.toonify.blend import BlendConfig

from .generator import Generator, get_params, load_params


def blend_models(low: Generator, high: Generator, resolution: int, *, level: int = 0, width: float | None = None,
                 config: BlendConfig | None = None) -> Generator:
    """A new generator (``low``'s config and dtype) with the blended weights; see ``numpy_ref.toonify.blend``."""
    params = np_blend.blend(get_params(low), get_params(high), resolution, level=level, width=width, config=config)
    return load_params(Generator(low.config, dtype=low.dtype_policy), params)


__all__ = ["blend_models"]
