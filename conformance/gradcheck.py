"""Central finite differences of the float64 NumPy reference (the gradient oracle)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def elementwise_derivative(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, rel_step: float = 1e-5) -> np.ndarray:
    """``f'(x)`` of an element-wise ``f`` by central differences, step ``rel_step * max(1, |x|)``.

    The step is rounded so that ``x + h`` and ``x - h`` are exact, which removes
    the representation error of the step from the quotient.
    """
    x = np.asarray(x, dtype=np.float64)
    h = rel_step * np.maximum(1.0, np.abs(x))
    h = (x + h) - x
    return (f(x + h) - f(x - h)) / (2.0 * h)


def directional_derivative(loss: Callable[[np.ndarray], float], x: np.ndarray, v: np.ndarray,
                           step: float = 1e-6) -> float:
    """``d/dt loss(x + t v)`` at ``t = 0`` by a central difference (for models)."""
    x = np.asarray(x, dtype=np.float64)
    return (loss(x + step * v) - loss(x - step * v)) / (2.0 * step)
