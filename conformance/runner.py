"""Planning and running conformance checks; shared by pytest and ``tenfold conformance``."""

from __future__ import annotations

import importlib
import inspect
import traceback
from collections.abc import Callable, Iterable
from types import ModuleType

import numpy as np

from tenfold import spec
from tenfold.spec.errors import ConfigError, expected

from . import backends
from .case import Check, Result, Suite
from .compare import errors, tolerance_ratio

API_MODE = "api"


def method_module(method: str) -> ModuleType:
    """The conformance module of ``method`` (``tenfold.conformance.<id>``)."""
    spec.get(method)  # validates the id
    return importlib.import_module(f"{__package__}.{method}")


def _api_suite(method: str, backend: str) -> Suite:
    def run(case, dtype):
        raise NotImplementedError
    return Suite(backend, API_MODE, ("-",), ("names",), run)


def plan(methods: Iterable[str] | None = None, backends_: Iterable[str] | None = None,
         dtypes: Iterable[str] | None = None, modes: Iterable[str] | None = None,
         cases: Iterable[str] | None = None, seed: int = 0) -> list[Check]:
    """Every check selected by the filters (``None`` selects all), without running any.

    Raises:
        ConfigError: If a ``dtypes``, ``modes`` or ``cases`` value is no
            method's (a typo such as ``--dtype int8`` never yields a green run
            of the other rows), or if one of these filters selects no check of
            the selected methods and backends.
    """
    methods = list(methods or spec.METHOD_IDS)
    picked_backends = set(backends_ or backends.BACKENDS)
    dtypes, modes, cases = (set(v) if v else None for v in (dtypes, modes, cases))
    seen: dict[str, set[str]] = {"dtype": set(), "mode": set(), "case": set()}  # after the mode filter
    offered: dict[str, set[str]] = {"dtype": set(), "mode": set(), "case": set()}  # before it (for messages)
    checks = []
    for method in methods:
        module = method_module(method)
        exports = spec.get(method).EXPORTS
        suites = [*module.SUITES,
                  *(_api_suite(method, b) for b, (layer, _) in backends.BACKENDS.items() if layer in exports)]
        for suite in suites:
            if suite.backend not in picked_backends or any(r not in picked_backends for r in suite.requires):
                continue
            for where in (offered, seen) if not modes or suite.mode in modes else (offered,):
                where["mode"].add(suite.mode)
                where["dtype"].update(d for d in suite.dtypes if d != "-")
                where["case"].update(suite.cases)
            if modes and suite.mode not in modes:
                continue
            for dtype in suite.dtypes:
                if dtypes and dtype not in dtypes and dtype != "-":
                    continue
                for case in suite.cases:
                    if cases and case not in cases:
                        continue
                    checks.append(Check(method, suite.backend, suite.mode, dtype, case, seed, suite))
    for label, wanted in (("dtype", dtypes), ("mode", modes), ("case", cases)):
        if not wanted:
            continue
        anywhere = _filter_values(label, picked_backends) if wanted - seen[label] else seen[label]
        unknown = sorted(wanted - anywhere)
        if unknown or not wanted & seen[label]:
            known = sorted(offered[label])
            shown = ", ".join(known[:20]) + (" ..." if len(known) > 20 else "")
            raise ConfigError(expected(f"conformance --{label}", f"values with checks in {', '.join(methods)} "
                                       f"({shown})", ", ".join(repr(u) for u in unknown or sorted(wanted))))
    return checks


def _filter_values(label: str, picked_backends: set[str]) -> set[str]:
    """Every ``dtype``, ``mode`` or ``case`` of any method's suites on the picked backends."""
    values: set[str] = set()
    for method in spec.METHOD_IDS:
        for suite in method_module(method).SUITES:
            if suite.backend in picked_backends:
                values.update({"dtype": [d for d in suite.dtypes if d != "-"], "mode": [suite.mode],
                               "case": suite.cases}[label])
    return values


#: Parameters that are a framework's own business and never compared across layers.
FRAMEWORK_PARAMS = frozenset({"self", "args", "kwargs", "dtype", "device", "name"})


def signature_of(obj: object) -> tuple[tuple[str, str], ...] | None:
    """``(name, kind)`` of each parameter of a function or a class's constructor (framework ones dropped)."""
    try:
        sig = inspect.signature(obj.__init__ if inspect.isclass(obj) else obj)
    except (TypeError, ValueError):
        return None
    return tuple((p.name, p.kind.name) for p in sig.parameters.values() if p.name not in FRAMEWORK_PARAMS)


def signature_mismatches(method: str, layer: str) -> list[str]:
    """Names ``layer`` exports whose signature differs from another layer's export of the same name.

    A difference is allowed only where the spec's ``API_DIFFERENCES`` names it with a reason
    (a framework idiom such as an optimizer's constructor).
    """
    method_spec = spec.get(method)
    exports, allowed = method_spec.EXPORTS, getattr(method_spec, "API_DIFFERENCES", {})
    mine = importlib.import_module(f"tenfold.{layer}.{method}")
    out = []
    for other in ("numpy_ref", "torch_backend", "tf_backend"):
        if other == layer or other not in exports:
            continue
        theirs = importlib.import_module(f"tenfold.{other}.{method}")
        for name in sorted(set(exports.get(layer, ())) & set(exports[other])):
            if name in allowed or not hasattr(mine, name) or not hasattr(theirs, name):
                continue
            a, b = signature_of(getattr(mine, name)), signature_of(getattr(theirs, name))
            if a != b:
                out.append(f"{name}{tuple(p for p, _ in a or ())} != {other}.{name}{tuple(p for p, _ in b or ())}")
    return out


def _api_result(check: Check) -> Result:
    layer = backends.BACKENDS[check.backend][0]
    wanted = spec.get(check.method).EXPORTS.get(layer, ())
    module = importlib.import_module(f"tenfold.{layer}.{check.method}")
    missing = [name for name in wanted if not hasattr(module, name)]
    problems = [f"tenfold.{layer}.{check.method} lacks {missing}"] if missing else []
    if layer != "export":
        problems += signature_mismatches(check.method, layer)
    detail = "; ".join(problems)
    return _result(check, 0.0 if not problems else float("inf"), 0.0, 0.0, 0.0, not problems, detail)


def _result(check: Check, abs_err: float, rel_err: float, atol: float, rtol: float, passed: bool,
            detail: str, ratio: float | None = None) -> Result:
    ratio = (0.0 if passed else float("inf")) if ratio is None else ratio
    return Result(check.method, check.backend, check.dtype, check.mode, check.case, check.seed, abs_err, rel_err,
                  atol, rtol, passed, detail, "" if passed else check.repro, ratio)


def run_check(check: Check) -> Result:
    """Run one check; an exception inside the backend is a failure, not a crash."""
    for backend in (check.backend, *check.suite.requires):
        backends.require(backend)
        backends.prepare(backend)
    try:
        if check.mode == API_MODE:
            return _api_result(check)
        case = check.factory() if check.factory else method_module(check.method).make_case(check.case, check.seed)
        worst, ratio = (0.0, 0.0, None, True, ""), 0.0
        for comp in check.suite.run(case, check.dtype):
            abs_err, rel_err, ok, detail = errors(comp.actual, comp.expected, comp.tolerance)
            ratio = max(ratio, tolerance_ratio(comp.actual, comp.expected, comp.tolerance))
            if not ok and worst[3]:
                worst = (abs_err, rel_err, comp.tolerance, False, f"{comp.label}: {detail}")
            elif worst[3] or not ok:
                worst = (max(worst[0], abs_err), max(worst[1], rel_err), comp.tolerance, worst[3] and ok, worst[4])
        abs_err, rel_err, tol, ok, detail = worst
        return _result(check, abs_err, rel_err, tol.atol if tol else np.nan, tol.rtol if tol else np.nan, ok, detail,
                       ratio)
    except Exception as err:
        tb = traceback.format_exception_only(type(err), err)[-1].strip()
        return _result(check, float("inf"), float("inf"), np.nan, np.nan, False, f"raised {tb}", float("inf"))


def run(checks: Iterable[Check], on_result: Callable[[Result], None] | None = None) -> list[Result]:
    """Run every check in order; ``on_result(result)`` is called after each (progress reporting)."""
    results = []
    for check in checks:
        results.append(run_check(check))
        if on_result is not None:
            on_result(results[-1])
    return results
