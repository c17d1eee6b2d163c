"""RAdam as a pure NumPy step function: the float64 oracle of the optimizer backends.

Paper: Liu et al., ICLR 2020, Algorithm 2. Official code: LiyuanLucasLiu/RAdam
(``radam/radam.py``). The math, the phases and every preset are described in
:mod:`tenfold.spec.radam`; this module writes them out plainly, one branch per
phase, with no fused factors.

Usage::

    state = init_state(params)
    for grads in stream:
        params, state = step(params, grads, state, RAdamConfig.official())

Parameter groups with different learning rates are separate calls, each with
its own config (``config.replace(lr=...)``) over its own parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from tenfold.spec import radam as spec
from tenfold.spec.errors import CheckpointError, TenfoldError, expected

from ._arrays import as_array, dtype_name


@dataclass(frozen=True)
class RAdamState:
    """Per-parameter step counts and moment estimates (float64), keyed by parameter name."""

    step: dict[str, int] = field(default_factory=dict)
    exp_avg: dict[str, np.ndarray] = field(default_factory=dict)
    exp_avg_sq: dict[str, np.ndarray] = field(default_factory=dict)


def init_state(params: dict[str, np.ndarray]) -> RAdamState:
    """The state before the first step: step 0 and zero moments for every parameter."""
    zeros = {k: np.zeros(np.shape(v), dtype=np.float64) for k, v in params.items()}
    return RAdamState({k: 0 for k in params}, zeros, {k: z.copy() for k, z in zeros.items()})


def check_state(state: RAdamState, shapes: dict[str, tuple[int, ...]], where: str) -> None:
    """Raise :class:`CheckpointError` unless the moments of ``state`` have the parameters' ``shapes``.

    A state saved from another model is refused when it is used, naming every
    mismatch, instead of failing inside the arithmetic.
    """
    bad = [f"{kind}[{n!r}] {np.shape(getattr(state, kind)[n])}, expected {tuple(shape)}"
           for n, shape in shapes.items() for kind in ("exp_avg", "exp_avg_sq")
           if n in getattr(state, kind) and np.shape(getattr(state, kind)[n]) != tuple(shape)]
    absent = [f"{kind}[{n!r}]" for n in shapes for kind in ("exp_avg", "exp_avg_sq") if n not in getattr(state, kind)]
    if bad or absent:
        raise CheckpointError(expected(where, "moments of the parameters' shapes (a state of this model)",
                                       "; ".join([*(f"mis-shaped {b}" for b in bad[:10]),
                                                  *(f"missing {a}" for a in absent[:10])])))


def _param(where: str, x: object) -> np.ndarray:
    x = as_array(where, x)
    spec.check_dtype(dtype_name(x.dtype), where)
    return x.astype(np.float64)


def step(params: dict[str, np.ndarray], grads: dict[str, np.ndarray | None], state: RAdamState,
         config: spec.RAdamConfig) -> tuple[dict[str, np.ndarray], RAdamState]:
    """One RAdam step over every parameter that has a gradient.

    A parameter whose gradient is ``None`` (or absent) is left unchanged and
    its step count does not advance, as in ``torch.optim`` optimizers.

    Args:
        params: Parameter arrays by name (any float dtype; computed in float64).
        grads: Gradients by name, each of its parameter's shape, or ``None``.
        state: The state returned by the previous call (or :func:`init_state`).
        config: Hyperparameters and the conventions to follow.

    Returns:
        ``(new_params, new_state)``, both float64; the inputs are not modified.

    Raises:
        DTypeError: If a parameter or gradient is not a float array.
        ShapeError: If a gradient's shape differs from its parameter's.
        CheckpointError: If ``state`` lacks a parameter, holds an unknown one,
            or holds moments of other shapes (a state from another model).
        TenfoldError: With ``config.nonfinite == "raise"``, if a gradient holds
            NaN or inf (nothing is changed; ``"skip"`` returns the inputs unchanged).
    """
    config = spec.RAdamConfig.coerce(config, "radam.step")
    if not isinstance(state, RAdamState):
        raise CheckpointError(expected("radam.step", "a RAdamState (init_state(params))", type(state).__name__))
    missing = sorted(set(params) - set(state.step))
    unknown = sorted(set(grads) - set(params))
    if missing or unknown:
        raise CheckpointError(expected("radam.step", "state and gradients for exactly the given parameters",
                                       f"missing state {missing}, gradients of unknown parameters {unknown}"))
    b1, b2 = config.betas
    checked = {}
    for name, p in params.items():
        g = grads.get(name)
        if g is None:
            continue
        p = _param(f"radam.step: params[{name!r}]", p)
        g = _param(f"radam.step: grads[{name!r}]", g)
        spec.check_grad_shape(f"radam.step: grads[{name!r}]", p.shape, g.shape)
        checked[name] = (p, g)
    check_state(state, {n: p.shape for n, (p, _) in checked.items()}, "radam.step")
    if config.nonfinite != "propagate":
        bad = [n for n, (_, g) in checked.items() if not np.all(np.isfinite(g))]
        if bad and config.nonfinite == "raise":
            raise TenfoldError(spec.nonfinite_message("radam.step", [f"grads[{n!r}]" for n in bad]))
        if bad:  # "skip": the whole step, as GradScaler does
            return dict(params), state
    new_params, steps = dict(params), dict(state.step)
    exp_avg, exp_avg_sq = dict(state.exp_avg), dict(state.exp_avg_sq)
    with np.errstate(invalid="ignore", over="ignore"):  # nonfinite="propagate": NaN and inf flow, silently
        for name, (p, g) in checked.items():
            t = steps[name] + 1
            if config.weight_decay_mode == "coupled" and config.weight_decay != 0:
                g = g + config.weight_decay * p
            m = b1 * exp_avg[name] + (1.0 - b1) * g
            v = b2 * exp_avg_sq[name] + (1.0 - b2) * g * g
            bc1, bc2 = 1.0 - b1**t, 1.0 - b2**t
            decoupled = config.weight_decay_mode == "decoupled" and config.weight_decay != 0
            if spec.rectified(t, config):
                if decoupled:
                    p = p * (1.0 - config.lr * config.weight_decay)
                r = spec.rectification(t, b2)
                if config.eps_mode == "raw":
                    p = p - config.lr * r * math.sqrt(bc2) / bc1 * m / (np.sqrt(v) + config.eps)
                else:
                    p = p - config.lr * r * (m / bc1) / (np.sqrt(v / bc2) + config.eps)
            elif config.early == "sgd":
                if decoupled:
                    p = p * (1.0 - config.lr * config.weight_decay)
                p = p - config.lr * m / bc1
            # early == "skip": the parameter does not change (no weight decay either)
            new_params[name], steps[name], exp_avg[name], exp_avg_sq[name] = p, t, m, v
    return new_params, RAdamState(steps, exp_avg, exp_avg_sq)
