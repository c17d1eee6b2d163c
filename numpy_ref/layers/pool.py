"""Pooling in plain NumPy, NCHW (PyTorch's semantics)."""

from __future__ import annotations

import numpy as np


def max_pool2d(x: np.ndarray, kernel: int = 3, stride: int = 2, padding: int = 1) -> np.ndarray:
    """Max pooling with ``-inf`` padding (PyTorch's ``MaxPool2d`` semantics)."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=-np.inf)
    ho, wo = (h + 2 * padding - kernel) // stride + 1, (w + 2 * padding - kernel) // stride + 1
    out = np.full((n, c, ho, wo), -np.inf, dtype=x.dtype)
    for i in range(kernel):
        for j in range(kernel):
            out = np.maximum(out, xp[:, :, i:i + stride * (ho - 1) + 1:stride, j:j + stride * (wo - 1) + 1:stride])
    return out


def global_avg_pool(x: np.ndarray) -> np.ndarray:
    """Mean over the spatial axes: ``(N, C, H, W) -> (N, C)``."""
    return x.mean(axis=(2, 3))


__all__ = ["global_avg_pool", "max_pool2d"]
