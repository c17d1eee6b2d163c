"""Checking an exported model in onnxruntime against a NumPy reference at several batch sizes.

Every tenfold export runs this before it is declared good: the ONNX file is
opened in onnxruntime (CUDA when available, else CPU), fed the same inputs as
the reference callable (usually ``numpy_ref`` in float64) at two or more
batch sizes (the batch axis is dynamic), and the export fails with
:class:`ExportError` if any output element is outside the spec's tolerance
``|a - e| <= atol + rtol * |e|``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import onnx

from tenfold.spec.errors import ExportError, expected
from tenfold.spec.tolerance import Tolerance

from .runtime import runner


@dataclass
class CheckReport:
    """What :func:`check_against_reference` measured."""

    provider: str
    batch_sizes: tuple[int, ...]
    max_abs_err: float
    max_rel_err: float
    tolerance: Tolerance
    per_batch: dict[int, float] = field(default_factory=dict)

    def summary(self) -> str:
        return (f"onnxruntime ({self.provider}) vs reference at batch sizes {list(self.batch_sizes)}: "
                f"max abs err {self.max_abs_err:.2e}, max rel err {self.max_rel_err:.2e} "
                f"(tolerance atol {self.tolerance.atol:g}, rtol {self.tolerance.rtol:g})")


def check_against_reference(model: onnx.ModelProto | str | os.PathLike, reference: Callable[[np.ndarray], np.ndarray],
                            make_input: Callable[[int], np.ndarray], tolerance: Tolerance,
                            batch_sizes: Sequence[int] = (1, 3), provider: str = "auto",
                            where: str = "onnx check") -> CheckReport:
    """Run ``model`` in onnxruntime and compare with ``reference`` at each batch size.

    Args:
        model: The exported model (proto or file).
        reference: ``reference(x) -> y`` on a float64 copy of the input
            (the float32 input the model gets, widened exactly).
        make_input: ``make_input(batch) -> x``, the float32 model input.
        tolerance: The spec's float32 tolerance.
        batch_sizes: At least two distinct batch sizes.
        provider: onnxruntime provider choice ("auto", "cuda", "cpu").
        where: Message prefix.

    Returns:
        A :class:`CheckReport`.

    Raises:
        ExportError: If fewer than two batch sizes are given, the model does
            not run, an output has the wrong shape, or the error exceeds the tolerance.
    """
    sizes = tuple(dict.fromkeys(int(b) for b in batch_sizes))
    if len(sizes) < 2 or min(sizes) < 1:
        raise ExportError(expected(where, "at least two distinct positive batch sizes", list(batch_sizes)))
    run = runner(model, provider)
    worst_abs, worst_rel, per_batch = 0.0, 0.0, {}
    for b in sizes:
        x = np.asarray(make_input(b), dtype=np.float32)
        try:
            y = np.asarray(run(x)[0], dtype=np.float64)
        except Exception as err:
            raise ExportError(expected(where, f"onnxruntime to run the model at batch {b}",
                                       f"{type(err).__name__}: {err}")) from err
        e = np.asarray(reference(x.astype(np.float64)), dtype=np.float64)
        if y.shape != e.shape:
            raise ExportError(expected(where, f"output shape {e.shape} at batch {b}", y.shape))
        diff = np.abs(y - e)
        if not np.all(np.isfinite(y)) or np.any(diff > tolerance.atol + tolerance.rtol * np.abs(e)):
            i = int(np.nanargmax(diff - tolerance.rtol * np.abs(e)))
            raise ExportError(expected(
                where, f"onnxruntime output within atol {tolerance.atol:g} + rtol {tolerance.rtol:g} of the reference",
                f"at batch {b} a max abs error of {float(np.nanmax(diff)):.3e}; worst element {i}: "
                f"{y.reshape(-1)[i]!r} vs {e.reshape(-1)[i]!r}"))
        rel = diff / np.maximum(np.abs(e), 1e-30)
        per_batch[b] = float(diff.max(initial=0.0))
        worst_abs = max(worst_abs, per_batch[b])
        worst_rel = max(worst_rel, float(np.where(np.abs(e) * tolerance.rtol >= tolerance.atol, rel, 0).max(
            initial=0.0)))
    return CheckReport(run.provider, sizes, worst_abs, worst_rel, tolerance, per_batch)


__all__ = ["CheckReport", "check_against_reference"]
