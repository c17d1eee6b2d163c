"""The conformance matrix (method x backend x dtype) as text and as JSON."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

from tenfold.spec.checkpoints import atomic_write

from .case import Result


def _fmt(v: float) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2e}"


def matrix_rows(results: Sequence[Result]) -> list[dict]:
    """One row per (method, backend, dtype): worst errors, the tolerance band and the verdict."""
    rows: dict[tuple[str, str, str], dict] = {}
    for r in results:
        row = rows.setdefault((r.method, r.backend, r.dtype), {
            "method": r.method, "backend": r.backend, "dtype": r.dtype, "checks": 0, "failed": 0,
            "max_abs_err": 0.0, "max_rel_err": 0.0, "rtol": 0.0, "modes": set()})
        row["checks"] += 1
        row["failed"] += not r.passed
        row["max_abs_err"] = max(row["max_abs_err"], r.max_abs_err)
        row["max_rel_err"] = max(row["max_rel_err"], r.max_rel_err)
        if not math.isnan(r.rtol):
            row["rtol"] = max(row["rtol"], r.rtol)
        row["modes"].add(r.mode)
    return list(rows.values())


def format_matrix(results: Sequence[Result]) -> str:
    """The text matrix, then one line per failure with the command that reproduces it."""
    head = f"{'method':<8} {'backend':<7} {'dtype':<9} {'checks':>6} {'max abs':>9} {'max rel':>9} {'rtol<=':>9}  " \
           f"{'result':<6} modes"
    lines = [head, "-" * len(head)]
    for row in matrix_rows(results):
        verdict = "PASS" if not row["failed"] else f"FAIL {row['failed']}"
        lines.append(f"{row['method']:<8} {row['backend']:<7} {row['dtype']:<9} {row['checks']:>6} "
                     f"{_fmt(row['max_abs_err']):>9} {_fmt(row['max_rel_err']):>9} {_fmt(row['rtol']):>9}  "
                     f"{verdict:<6} {','.join(sorted(row['modes']))}")
    failed = [r for r in results if not r.passed]
    lines.append("")
    lines.append(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    for r in failed:
        lines.append(f"FAILED {r.method}/{r.backend}/{r.mode}/{r.dtype}/{r.case} seed={r.seed}: {r.detail}")
        lines.append(f"  reproduce: {r.repro}")
    return "\n".join(lines)


def to_json(results: Sequence[Result]) -> dict:
    """``{"results": [...], "summary": {"passed": n, "failed": m}}`` with JSON-safe floats."""
    def clean(v):
        return None if isinstance(v, float) and math.isnan(v) else (str(v) if v in (math.inf, -math.inf) else v)
    entries = [{k: clean(v) for k, v in r.to_dict().items()} for r in results]
    failed = sum(not r.passed for r in results)
    return {"results": entries, "summary": {"passed": len(results) - failed, "failed": failed}}


def write_json(results: Sequence[Result], path: str | os.PathLike) -> Path:
    """Write :func:`to_json` to ``path`` (via a temporary file and a rename)."""
    text = json.dumps(to_json(results), indent=1).encode()
    return atomic_write(path, lambda fh: fh.write(text))
