"""Helpers of the ``tenfold show`` pictures: load an image (.npy, .png, or a scikit-learn digit), lay tiles out in a
labelled grid, write it as PNG (:mod:`tenfold.png`: no imaging library needed)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tenfold.spec.errors import ShapeError, TenfoldError, expected

BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)


def load_image(path: str | os.PathLike) -> np.ndarray:
    """An image file as (C, H, W) uint8, C in {1, 3}.

    ``.png``: 8-bit gray, RGB or RGBA (alpha dropped). ``.npy`` (loaded without
    pickle): (H, W), (H, W, C) or (C, H, W) with C in {1, 3, 4}; uint8, or
    floats in [0, 1] (as AugMix's official conversion, ``uint8(clip(x * 255))``).
    """
    from tenfold.png import decode_png

    p = Path(path)
    where = "tenfold show"
    if not p.is_file():
        raise TenfoldError(expected(where, "an existing .npy or .png file", str(p)))
    if p.suffix.lower() == ".png":
        a = decode_png(p.read_bytes())
    elif p.suffix.lower() == ".npy":
        a = np.load(p, allow_pickle=False)
    else:
        raise TenfoldError(expected(where, "a .npy or .png image", str(p)))
    if a.dtype.kind == "f":
        a = np.clip(a * 255, 0, 255).astype(np.uint8)
    elif a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    if a.ndim == 2:
        return a[None]
    if a.ndim == 3 and a.shape[2] in (1, 3, 4) and a.shape[0] not in (1, 3):
        return np.ascontiguousarray(a[..., :3].transpose(2, 0, 1) if a.shape[2] != 1 else a.transpose(2, 0, 1))
    if a.ndim == 3 and a.shape[0] in (1, 3):
        return np.ascontiguousarray(a)
    if a.ndim == 3 and a.shape[2] in (1, 3, 4):
        return np.ascontiguousarray(a[..., :3].transpose(2, 0, 1))
    raise ShapeError(expected(where, "an image (H, W), (H, W, C) or (C, H, W) with C in 1, 3, 4", a.shape))


def digit(index: int) -> np.ndarray:
    """scikit-learn's 8x8 digit ``index`` as (1, 8, 8) uint8 (its 0-16 levels scaled to 0-255)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise TenfoldError(expected("tenfold show --digits", "scikit-learn (pip install 'tenfold[data]')",
                                    "it is not installed")) from None
    images = load_digits().images
    if not 0 <= index < len(images):
        raise TenfoldError(expected("tenfold show --digits", f"an index in [0, {len(images)})", index))
    return np.round(images[index] * (255.0 / 16.0)).astype(np.uint8)[None]


def to_rgb(tile: np.ndarray) -> np.ndarray:
    """(C, H, W) uint8 -> (H, W, 3)."""
    return np.repeat(tile, 3, axis=0).transpose(1, 2, 0) if tile.shape[0] == 1 else tile.transpose(1, 2, 0)


def grid(rows: list[list[tuple[np.ndarray, list[str]]]], min_tile: int = 128, pad: int = 8) -> np.ndarray:
    """Lay out tiles (C, H, W) uint8, each with text lines under it, in rows; nearest-neighbour upscaling.

    Returns:
        The picture (H, W, 3) uint8.
    """
    from tenfold.png import text_size

    h, w = rows[0][0][0].shape[1:]
    scale = max(1, -(-min_tile // max(h, w)))
    th, tw = h * scale, w * scale
    line_h = text_size("A")[1] + 3
    longest = max((text_size(t)[0] for row in rows for _, lines in row for t in lines), default=0)
    cell_w = max(tw, longest) + pad
    n_lines = max(len(lines) for row in rows for _, lines in row)
    cell_h = th + n_lines * line_h + 2 * pad
    ncol = max(len(r) for r in rows)
    out = np.full((len(rows) * cell_h + pad, ncol * cell_w + pad, 3), BACKGROUND, dtype=np.uint8)
    for r, row in enumerate(rows):
        for c, (tile, lines) in enumerate(row):
            y, x = pad + r * cell_h, pad + c * cell_w
            big = np.kron(to_rgb(tile), np.ones((scale, scale, 1), dtype=np.uint8))
            out[y:y + th, x:x + tw] = big
            for i, text in enumerate(lines):
                draw(out, x, y + th + 4 + i * line_h, text)
    return out


def draw(image: np.ndarray, x: int, y: int, text: str) -> None:
    from tenfold.png import draw_text

    draw_text(image, x, y, text, INK)


def save(path: str | os.PathLike, picture: np.ndarray) -> Path:
    from tenfold.png import write_png

    return write_png(path, picture)


__all__ = ["digit", "grid", "load_image", "save", "to_rgb"]
