"""Rounding float64 case data to a tested dtype, independently of any framework."""

from __future__ import annotations

import numpy as np


def round_to(x: np.ndarray, dtype: str) -> np.ndarray:
    """Round float64 ``x`` to ``dtype`` and return the rounded values as float64.

    bfloat16 (absent from NumPy) is rounded from float32 to nearest-even on
    the upper 16 bits; NaN stays NaN and overflow goes to infinity, as in
    every framework's cast.
    """
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore"):
        if dtype in ("float16", "float32", "float64"):
            return x.astype(dtype).astype(np.float64)
        if dtype == "bfloat16":
            bits = x.astype(np.float32).view(np.uint32).astype(np.uint64)
            rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
            out = rounded.astype(np.uint32).view(np.float32)
            out = np.where(np.isnan(x), np.float32(np.nan), out)
            return out.astype(np.float64)
    raise ValueError(f"round_to: expected a float dtype name; got {dtype!r}")


def storage_dtype(dtype: str) -> str:
    """The NumPy dtype that carries ``dtype`` values exactly (float32 for bfloat16)."""
    return "float32" if dtype == "bfloat16" else dtype
