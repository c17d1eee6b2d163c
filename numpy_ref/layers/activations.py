"""Element-wise activations and softmax in plain NumPy, numerically stable, dtype-preserving.

Stable forms: softplus through ``logaddexp`` (never overflows), sigmoid
through ``exp(-softplus(-x))``, softmax and log-softmax with max subtraction.
"""

from __future__ import annotations

import math

import numpy as np

GELU_FORMS: tuple[str, ...] = ("tanh", "exact")
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def relu(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)``."""
    return np.maximum(x, np.zeros((), x.dtype))


def leaky_relu(x: np.ndarray, slope: float = 0.2) -> np.ndarray:
    """``x`` for ``x >= 0``, ``slope * x`` otherwise."""
    return np.where(x >= 0, x, x * slope)


def softplus(x: np.ndarray) -> np.ndarray:
    """``ln(1 + e^x)`` through ``logaddexp``: finite for every finite ``x``; NaN propagates silently."""
    with np.errstate(invalid="ignore"):
        return np.logaddexp(np.zeros((), x.dtype), x)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + e^-x)`` as ``exp(-softplus(-x))`` (no overflow at either end)."""
    return np.exp(-softplus(-x))


def _erf(x: np.ndarray) -> np.ndarray:
    """Error function without SciPy (``math.erf`` element-wise; exact to double precision)."""
    return np.vectorize(math.erf, otypes=[np.float64])(x).astype(x.dtype)


def gelu(x: np.ndarray, form: str = "tanh") -> np.ndarray:
    """GELU: ``x * Phi(x)`` (``"exact"``) or the tanh approximation (``"tanh"``, Flax's default)."""
    if form == "exact":
        return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))
    return 0.5 * x * (1.0 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x ** 3)))


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax along ``axis`` with max subtraction."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Log-softmax along ``axis`` with max subtraction (finite for any finite input)."""
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


__all__ = ["GELU_FORMS", "gelu", "leaky_relu", "log_softmax", "relu", "sigmoid", "softmax", "softplus"]
