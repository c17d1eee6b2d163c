"""Model conformance on a user's weights: ``tenfold conformance --method vit --weights W.npz``.

The ordinary cases use tiny models with random weights; this runs the
model-level suites of a method (its ``WEIGHTS_MODES``: forwards in every
backend and dtype, loaders, ONNX exports) once on the user's weights and
config, on a small batch of images drawn from the seed in the method's input
range (``make_weights_case``). The weights and the config are read as
``tenfold verify`` reads them (:func:`tenfold.export.verify.method_spec`).

The spec's tolerances are written for unit-scale outputs; trained or large
weights give larger logits, and float32 rounding grows with them, so here the
absolute tolerance of each comparison is scaled by ``max(1, max |expected|)``
(the rule of ``tenfold verify``); the relative one is kept.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from tenfold.spec.errors import ConfigError, expected
from tenfold.spec.tolerance import Tolerance

from .case import Case, Check, Comparison, Suite
from .runner import method_module

CASE_NAME = "weights"


def _scaled(run):
    def wrapped(case: Case, dtype: str) -> list[Comparison]:
        out = []
        for comp in run(case, dtype):
            s = max(1.0, float(np.max(np.abs(np.asarray(comp.expected, np.float64)), initial=0.0)))
            out.append(replace(comp, tolerance=Tolerance(comp.tolerance.atol * s, comp.tolerance.rtol)))
        return out
    return wrapped


def load(method: str, weights: str | os.PathLike, preset: str | None = None,
         overrides: Mapping[str, Any] | None = None) -> tuple[Any, dict[str, np.ndarray]]:
    """``(config, float64 params)`` from a weights file, as ``tenfold verify`` reads it."""
    from tenfold.export.verify import method_spec

    ms = method_spec(method)
    config = ms.config_from(preset, dict(overrides or {}), None)
    return ms.read_weights(weights, config)


def plan(method: str, weights: str | os.PathLike, preset: str | None = None,
         overrides: Mapping[str, Any] | None = None, backends_: Iterable[str] | None = None,
         dtypes: Iterable[str] | None = None, modes: Iterable[str] | None = None, seed: int = 0,
         batch: int = 2) -> list[Check]:
    """The checks of ``method``'s ``WEIGHTS_MODES`` on the weights in ``weights`` (one case, ``"weights"``).

    Raises:
        ConfigError: If the method has no model suites.
        CheckpointError: If the weights do not fit the config.
    """
    module = method_module(method)
    allowed = getattr(module, "WEIGHTS_MODES", None)
    if not allowed or not hasattr(module, "make_weights_case"):
        raise ConfigError(expected("tenfold conformance --weights", "a method with model weights (vit, frelu)",
                                   repr(method)))
    config, params = load(method, weights, preset, overrides)

    @functools.cache
    def factory() -> Case:
        return module.make_weights_case(params, config, seed, batch)

    picked = set(backends_) if backends_ else None
    dtypes, modes = (set(v) if v else None for v in (dtypes, modes))
    extra = f" --weights {weights}" + (f" --preset {preset}" if preset else "")
    if overrides:
        import json

        extra += f" --config '{json.dumps(dict(overrides))}'"
    checks = []
    for suite in module.SUITES:
        if suite.mode not in allowed or (modes and suite.mode not in modes):
            continue
        if picked is not None and (suite.backend not in picked or any(r not in picked for r in suite.requires)):
            continue
        scaled = Suite(suite.backend, suite.mode, suite.dtypes, (CASE_NAME,), _scaled(suite.run), suite.requires)
        for dtype in suite.dtypes:
            if dtypes and dtype not in dtypes:
                continue
            checks.append(Check(method, suite.backend, suite.mode, dtype, CASE_NAME, seed, scaled, factory, extra))
    return checks


def describe(method: str, weights: str | os.PathLike, checks: list[Check]) -> str:
    """One line saying what runs."""
    return f"{method} conformance on the weights {Path(weights).name}: {len(checks)} checks (one case, seed " \
           f"{checks[0].seed if checks else '-'}); absolute tolerances scaled by max(1, max |expected|)"


__all__ = ["CASE_NAME", "describe", "load", "plan"]
