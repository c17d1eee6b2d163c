"""Toonify's blend of two generators in NumPy, over canonical weight dicts (serves every backend).

``out = y high + (1 - y) low`` per blended parameter, with ``y`` from
:func:`tenfold.spec.toonify.blend_weights`; everything else is copied from
``low`` (the official ``model_out = model_1.clone()``). Paper: Pinkney & Adler
2020, Section 2; official code: justinpinkney/stylegan2 ``blend_models.py``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tenfold.spec.toonify import blend as spec

from .generator import check_generator_params


def blend(low: Mapping[str, np.ndarray], high: Mapping[str, np.ndarray], resolution: int, *, level: int = 0,
          width: float | None = None, config: spec.BlendConfig | None = None) -> dict[str, np.ndarray]:
    """Blend two generators of one topology, layer by layer, by resolution.

    Args:
        low: Canonical params of the model whose coarse layers are kept (official
            ``model_1``, the "low res pkl": in Toonify the fine-tuned cartoon model).
        high: Canonical params of the model the fine layers come from (official
            ``model_2``: FFHQ).
        resolution: Switch resolution (4, 8, ... up to the models').
        level: 0 (switch at the Const / upsampling conv) or 1 (at Conv1 / ToRGB).
        width: ``None`` for the hard switch, else the logistic's width.
        config: The switch rule; ``BlendConfig.official()`` by default.

    Returns:
        A new canonical dict in ``low``'s dtypes (arithmetic as the official
        script: ``high * y + low * (1 - y)``).

    Raises:
        CheckpointError: Not generator dicts, or two topologies (the first mismatch named).
        ConfigError: A resolution or level the models do not have, or a bad width.
    """
    where = "toonify.blend"
    check_generator_params(low, where)
    spec.check_topology(low, high, where, labels=("low", "high"))
    ys = spec.blend_weights(low.keys(), resolution, level, width, config, where)
    out: dict[str, np.ndarray] = {}
    for name, lo in low.items():
        lo = np.asarray(lo)
        y = ys[name]
        if y is None:
            out[name] = lo.copy()
        else:
            hi = np.asarray(high[name], dtype=lo.dtype)
            out[name] = (hi * np.asarray(y, lo.dtype) + lo * np.asarray(1.0 - y, lo.dtype)).astype(lo.dtype)
    return out


__all__ = ["blend"]
