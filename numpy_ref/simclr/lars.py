"""LARS as a pure NumPy step function: the float64 oracle of the optimizer backends.

Paper: You, Gitman, Ginsburg, arXiv:1708.03888; SimCLR Sec. B.1. Official
code: google-research/simclr ``lars_optimizer.py``. The math, the exclusions
and the presets are in :mod:`tenfold.spec.simclr.lars`.

Usage::

    state = init_state(params)
    for grads in stream:
        params, state = step(params, grads, state, LARSConfig.official().replace(lr=lr_t))

Exclusions are decided by the parameter's name (the dict key) and rank.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tenfold.spec.errors import CheckpointError, expected
from tenfold.spec.simclr import lars as spec

from .._arrays import as_array, dtype_name


@dataclass(frozen=True)
class LARSState:
    """The momentum buffer of every parameter (float64), keyed by name."""

    momentum: dict[str, np.ndarray] = field(default_factory=dict)


def init_state(params: dict[str, np.ndarray]) -> LARSState:
    """Zero momentum for every parameter."""
    return LARSState({k: np.zeros(np.shape(v), dtype=np.float64) for k, v in params.items()})


def _param(where: str, x: object) -> np.ndarray:
    x = as_array(where, x)
    spec.check_dtype(dtype_name(x.dtype), where)
    return x.astype(np.float64)


def step(params: dict[str, np.ndarray], grads: dict[str, np.ndarray | None], state: LARSState,
         config: spec.LARSConfig) -> tuple[dict[str, np.ndarray], LARSState]:
    """One LARS step over every parameter that has a gradient (``None`` or absent: unchanged).

    Returns:
        ``(new_params, new_state)``, float64; the inputs are not modified.

    Raises:
        DTypeError, ShapeError, CheckpointError: On bad parameters, gradients or state.
    """
    missing = sorted(set(params) - set(state.momentum))
    unknown = sorted(set(grads) - set(params))
    if missing or unknown:
        raise CheckpointError(expected("lars.step", "state and gradients for exactly the given parameters",
                                       f"missing state {missing}, gradients of unknown parameters {unknown}"))
    new_params, new_v = dict(params), dict(state.momentum)
    mu = config.momentum
    for name, p in params.items():
        g = grads.get(name)
        if g is None:
            continue
        w = _param(f"lars.step: params[{name!r}]", p)
        g = _param(f"lars.step: grads[{name!r}]", g)
        spec.check_grad_shape(f"lars.step: grads[{name!r}]", w.shape, g.shape)
        use_wd, use_adapt = spec.exclusions(name, w.ndim, config)
        if use_wd:
            g = g + config.weight_decay * w
        v = state.momentum[name]
        if config.classic_momentum:
            trust = spec.trust_ratio(float(np.linalg.norm(w)), float(np.linalg.norm(g)), config.eta) \
                if use_adapt else 1.0
            scaled = config.lr * trust
            v = mu * v + scaled * g
            w = w - (mu * v + scaled * g if config.nesterov else v)
        else:
            v = mu * v + g
            u = mu * v + g if config.nesterov else v
            trust = spec.trust_ratio(float(np.linalg.norm(w)), float(np.linalg.norm(u)), config.eta) \
                if use_adapt else 1.0
            w = w - config.lr * trust * u
        new_params[name], new_v[name] = w, v
    return new_params, LARSState(new_v)


__all__ = ["LARSState", "init_state", "step"]
