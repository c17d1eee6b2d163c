"""Position-embedding resize for another image size: the official bilinear zoom and timm's.

Official: ``vit_jax/checkpoint.py: interpolate_posembed``, ``scipy.ndimage.zoom(order=1)`` on
the grid without the class token (corners aligned). timm: ``F.interpolate(bilinear,
align_corners=False)`` in ``_load_weights``. See :mod:`tenfold.spec.vit`.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError, ShapeError, expected
from .model import RESIZE_METHODS, ViTConfig


def _interp_matrix(n_in: int, n_out: int, method: str) -> np.ndarray:
    """(n_out, n_in) matrix of 1-D linear interpolation weights."""
    out = np.arange(n_out, dtype=np.float64)
    if method == "official":  # scipy.ndimage.zoom(order=1, grid_mode=False): corners aligned
        src = out * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(1)
    else:  # torch F.interpolate(bilinear, align_corners=False, antialias=False)
        src = np.maximum((out + 0.5) * (n_in / n_out) - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = src - lo
    w = np.zeros((n_out, n_in))
    np.add.at(w, (np.arange(n_out), lo), 1.0 - frac)
    np.add.at(w, (np.arange(n_out), hi), frac)
    return w


def resize_pos_embedding(posemb: np.ndarray, new_grid: int | tuple[int, int], num_prefix_tokens: int = 1,
                         old_grid: tuple[int, int] | None = None, method: str = "official") -> np.ndarray:
    """Resize a ``(1, prefix + gh*gw, D)`` position embedding to another patch grid (bilinear).

    Args:
        posemb: The embedding; its first ``num_prefix_tokens`` rows (the class
            token's) are kept as they are.
        new_grid: Patches per side of the new grid (or ``(gh, gw)``).
        num_prefix_tokens: 1 with a class token, 0 for the "gap" classifier.
        old_grid: ``(gh, gw)`` of the old grid; default: square.
        method: ``"official"`` -- ``scipy.ndimage.zoom(order=1)`` as in
            vit_jax/checkpoint.py ``interpolate_posembed`` (corners aligned);
            ``"timm"`` -- ``F.interpolate(mode="bilinear", align_corners=False)``
            as in timm's ``_load_weights``.

    Returns:
        The resized embedding, ``(1, prefix + gh'*gw', D)``, in ``posemb``'s dtype.

    Raises:
        ShapeError: If ``posemb`` is not ``(1, prefix + gh*gw, D)``.
        ConfigError: For an unknown method or a non-positive grid.
    """
    if method not in RESIZE_METHODS:
        raise ConfigError(expected("resize_pos_embedding", "method among " + ", ".join(RESIZE_METHODS),
                                   repr(method)))
    posemb = np.asarray(posemb)
    gh2, gw2 = (new_grid, new_grid) if isinstance(new_grid, int) else tuple(new_grid)
    if min(gh2, gw2) <= 0:
        raise ConfigError(expected("resize_pos_embedding", "a positive new grid", (gh2, gw2)))
    if posemb.ndim != 3 or posemb.shape[0] != 1 or posemb.shape[1] <= num_prefix_tokens:
        raise ShapeError(expected("resize_pos_embedding", "a (1, tokens, D) embedding", f"shape {posemb.shape}"))
    n = posemb.shape[1] - num_prefix_tokens
    if old_grid is None:
        g = math.isqrt(n)
        if g * g != n:
            raise ShapeError(expected("resize_pos_embedding", f"{num_prefix_tokens} prefix tokens plus a square grid",
                                      f"{n} grid tokens"))
        old_grid = (g, g)
    gh, gw = old_grid
    if gh * gw != n:
        raise ShapeError(expected("resize_pos_embedding", f"{gh}x{gw} = {gh * gw} grid tokens", n))
    prefix, grid = posemb[:, :num_prefix_tokens], posemb[0, num_prefix_tokens:].astype(np.float64)
    grid = grid.reshape(gh, gw, -1)  # (gh, gw, D)
    wh, ww = _interp_matrix(gh, gh2, method), _interp_matrix(gw, gw2, method)
    new = np.einsum("ai,bj,ijd->abd", wh, ww, grid).reshape(1, gh2 * gw2, -1)  # (1, gh'*gw', D)
    return np.concatenate([prefix, new.astype(posemb.dtype)], axis=1)


def resized_config(config: ViTConfig, image_size: int) -> ViTConfig:
    """``config`` at another image size (the position embedding must then be resized)."""
    return config.replace(image_size=image_size)


# -- tolerances and exports -----------------------------------------------------------

#: Forward tolerances on the logits of small test models (unit-scale logits).
#: float32: a handful of matrix products of width <= 768 accumulate ~1e-6
#: relative error per layer; 1e-4 leaves room for 12-24 layers (the export
#: check applies it to ViT-B). bfloat16 is torch.autocast (matrix products in


__all__ = ["resize_pos_embedding", "resized_config"]
