"""Spectral normalisation in plain NumPy: the power iteration and ``W / sigma`` (float64-exact).

Paper: Miyato et al., ICLR 2018, Algorithm 1; conventions of
:mod:`tenfold.spec.spectral_norm` (PyTorch's ``torch.nn.utils.spectral_norm``
by default: ``normalize(a) = a / max(||a||, eps)``, ``v`` then ``u``).
"""

from __future__ import annotations

import numpy as np

from tenfold.spec.errors import ShapeError, expected
from tenfold.spec.spectral_norm import SpectralNormConfig


def normalize(a: np.ndarray, eps: float) -> np.ndarray:
    """``a / max(||a||_2, eps)`` (``torch.nn.functional.normalize``)."""
    return a / max(float(np.sqrt((a * a).sum())), eps)


def weight_matrix(weight: np.ndarray) -> np.ndarray:
    """``W.reshape(out, -1)``: rows are the output units (dim 0 of PyTorch's layout)."""
    return weight.reshape(weight.shape[0], -1)


def power_iteration(weight: np.ndarray, u: np.ndarray, v: np.ndarray,
                    config: SpectralNormConfig | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n_power_iterations`` steps of the power method from ``(u, v)``; returns the new ``(u, v)``."""
    config = config or SpectralNormConfig()
    w = weight_matrix(weight)
    if u.shape != (w.shape[0],) or v.shape != (w.shape[1],):
        raise ShapeError(expected("spectral_norm", f"u of shape ({w.shape[0]},) and v of shape ({w.shape[1]},)",
                                  f"{u.shape} and {v.shape}"))
    for _ in range(config.n_power_iterations):
        if config.order == "vu":
            v = normalize(w.T @ u, config.eps)
            u = normalize(w @ v, config.eps)
        else:
            u = normalize(w @ v, config.eps)
            v = normalize(w.T @ u, config.eps)
    return u, v


def sigma(weight: np.ndarray, u: np.ndarray, v: np.ndarray) -> float:
    """The spectral-norm estimate ``u . (W_mat v)``."""
    return float(u @ (weight_matrix(weight) @ v))


def spectral_norm(weight: np.ndarray, u: np.ndarray, v: np.ndarray, config: SpectralNormConfig | None = None, *,
                  training: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The normalised weight of one call, and the state after it.

    Args:
        weight: The raw weight (``weight_orig``), any rank, output units first.
        u: ``(out,)``; v: ``(prod(rest),)``: the stored power-iteration state.
        config: Iterations, eps and order (PyTorch's defaults when None).
        training: Advance the state first (a training-mode call) or use it as is.

    Returns:
        ``(weight / sigma, u, v)`` with the (new) state.
    """
    if training:
        u, v = power_iteration(weight, u, v, config)
    return weight / sigma(weight, u, v), u, v


__all__ = ["normalize", "power_iteration", "sigma", "spectral_norm", "weight_matrix"]
