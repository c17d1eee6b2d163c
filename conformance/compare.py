"""Error metrics of one comparison under the spec's allclose rule."""

from __future__ import annotations

import numpy as np

from tenfold.spec.tolerance import Tolerance


def errors(actual: np.ndarray, expected: np.ndarray, tol: Tolerance) -> tuple[float, float, bool, str]:
    """Compare ``actual`` with ``expected`` (both converted to float64).

    NaN must meet NaN and an infinity the same infinity; elsewhere
    ``|a - e| <= atol + rtol * |e|``. The relative error is taken over the
    finite elements where the relative term governs (``rtol * |e| >= atol``),
    so that values flushed to zero far below ``atol`` do not read as 100 %.

    Returns:
        ``(max_abs_err, max_rel_err, passed, detail)``; ``detail`` describes the
        worst element when the comparison fails.
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        return float("inf"), float("inf"), False, f"shape {a.shape} != expected {e.shape}"
    a, e = a.reshape(-1), e.reshape(-1)
    finite = np.isfinite(e)
    special_ok = np.where(np.isnan(e), np.isnan(a), a == e)  # inf==inf, -inf==-inf
    bad_special = ~finite & ~special_ok
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(finite, np.abs(a - e), 0.0)
        diff = np.where(finite & ~np.isfinite(a), np.inf, diff)
        nonzero = finite & (e != 0) & (tol.rtol * np.abs(e) >= tol.atol)
        rel = np.where(nonzero, diff / np.where(nonzero, np.abs(e), 1.0), 0.0)
        bad = bad_special | (finite & ~(diff <= tol.atol + tol.rtol * np.abs(e)))
    max_abs = float(diff.max(initial=0.0)) if not bad_special.any() else float("inf")
    max_rel = float(rel.max(initial=0.0)) if not bad_special.any() else float("inf")
    if not bad.any():
        return max_abs, max_rel, True, ""
    i = int(np.flatnonzero(bad)[np.argmax(np.where(bad, diff, -1.0)[bad])]) if not bad_special.any() else int(
        np.flatnonzero(bad_special)[0])
    detail = f"{int(bad.sum())} of {e.size} elements off; worst at flat index {i}: got {a[i]!r}, expected {e[i]!r}"
    return max_abs, max_rel, False, detail


def tolerance_ratio(actual: np.ndarray, expected: np.ndarray, tol: Tolerance) -> float:
    """The worst error as a share of what the tolerance allows: ``max |a - e| / (atol + rtol * |e|)``.

    At most 1 exactly when :func:`errors` passes (0 for a perfect match);
    ``inf`` for a shape mismatch, a wrong NaN or infinity, a non-finite value
    where a finite one is expected, or any difference under a zero tolerance.
    The conformance report colours its heat map by this number.
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        return float("inf")
    a, e = a.reshape(-1), e.reshape(-1)
    finite = np.isfinite(e)
    if not np.all(np.where(np.isnan(e), np.isnan(a), a == e)[~finite]):
        return float("inf")
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        diff = np.abs(a[finite] - e[finite])
        diff = np.where(np.isfinite(a[finite]), diff, np.inf)
        allowed = tol.atol + tol.rtol * np.abs(e[finite])
        ratio = np.where(diff == 0, 0.0, diff / allowed)  # x / 0 = inf: any difference under a zero tolerance
    return float(ratio.max(initial=0.0))
