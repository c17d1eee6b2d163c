"""onnxruntime against torch eager for one exported model: what each optimisation gives, and int8.

Shared by ``tenfold bench vit`` and ``tenfold bench frelu``. Three parts:

1. *Graph variants, CPU time, one thread* (:func:`variant_table`): torch eager and the export in
   onnxruntime at each graph optimisation level, with transformer fusions, another opset, and the
   optimised graph saved offline. Every call is timed in **CPU seconds of the calling thread**
   (``time.thread_time``) with one intra-op thread in both frameworks: the figure is the work a
   call costs, and holds on a shared machine where wall-clock times move by 2x with the load of
   other processes. Each variant's output is checked against ``numpy_ref`` (float64) with the
   spec's ONNX tolerance (absolute part scaled by ``max(1, max |logit|)``), so a speed-up that
   broke the model shows as ``NOT EXACT``.
2. *Wall clock* (:func:`wall_table`): torch eager and the chosen onnxruntime file interleaved
   call by call (the same moment of a noisy machine for both) with the frameworks' default thread
   counts (or ``threads``), idle onnxruntime workers not spinning (so they leave the cores to torch).
3. *int8* (:func:`quant_table`): fp32 and int8 files, CPU time per batch, size, and top-1 agreement
   of int8 with fp32 on ``n`` images, plus the largest logit difference.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Variant:
    """One onnxruntime configuration of one file."""

    label: str
    path: Path
    level: str = "all"
    note: str = ""
    session_s: float = field(default=0.0, init=False)


def say(text: str) -> None:
    """A progress line on stderr (the report itself goes to stdout)."""
    import sys

    print(f"[onnx bench] {text}", file=sys.stderr, flush=True)


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (the ratios depend on it: MKL and MLAS differ by vendor)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def _times(fn: Callable[[], object], repeat: int, clock: Callable[[], float], warmup: int = 1) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        start = clock()
        fn()
        out.append(clock() - start)
    return out


def _session(path: Path, level: str, threads: int | None, spinning: bool | None = None, provider: str = "cpu"):
    from tenfold.export.optimize import session_options
    from tenfold.export.runtime import runner

    start = time.perf_counter()
    run = runner(path, provider, session_options(threads=threads, level=level, spinning=spinning))
    return run, time.perf_counter() - start


def torch_callable(model, x, device: str):
    """A zero-argument call of ``model(x)`` on ``device`` that returns once the result is ready (CUDA synchronised)."""
    import torch

    if device != "cuda":
        return lambda: model(x)
    gpu_model, xg = model.to("cuda"), x.to("cuda")

    def call():
        y = gpu_model(xg)
        torch.cuda.synchronize()
        return y
    return call


def pick_device(device: str) -> tuple[str, str]:
    """``("cuda" | "cpu", why)``: CUDA when asked for (or ``auto``) and both torch and onnxruntime have it."""
    import onnxruntime as ort

    ort_cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    try:
        import torch

        torch_cuda = torch.cuda.is_available()
    except ImportError:
        torch_cuda = False
    if device == "cpu":
        return "cpu", "CPU (asked for)"
    if torch_cuda and ort_cuda:
        import torch

        return "cuda", f"GPU {torch.cuda.get_device_name(0)} (torch cuda, onnxruntime CUDAExecutionProvider, TF32 off)"
    why = "CPU: " + ", ".join(w for w, ok in (("torch has no CUDA device", torch_cuda),
                                            ("onnxruntime has no CUDAExecutionProvider", ort_cuda)) if not ok)
    if device == "cuda":
        from tenfold.spec.errors import TenfoldError, expected

        raise TenfoldError(expected("bench --device cuda", "torch with a CUDA device and onnxruntime-gpu", why))
    return "cpu", why


def exact(y: np.ndarray, expected: np.ndarray, atol: float, rtol: float) -> tuple[bool, float]:
    """The verify rule: ``|y - e| <= atol * max(1, max |e|) + rtol * |e|``; also the max abs error."""
    scale = max(1.0, float(np.abs(expected).max()))
    diff = np.abs(np.asarray(y, np.float64) - expected)
    return bool(np.all(diff <= atol * scale + rtol * np.abs(expected))), float(diff.max())


def variant_table(torch_fn: Callable[[], object], variants: Iterable[Variant], x: np.ndarray,
                  expected: np.ndarray, atol: float, rtol: float, repeat: int) -> list[dict]:
    """CPU time per call, one thread, for torch eager and each onnxruntime variant (one session at a time)."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            t_torch = _times(torch_fn, repeat, time.thread_time)
    finally:
        torch.set_num_threads(old)
    rows = [{"part": "cpu", "variant": "torch eager (fp32)", "ms": 1e3 * statistics.median(t_torch),
             "best_ms": 1e3 * min(t_torch), "note": ""}]
    for v in variants:
        say(f"timing {v.label} (CPU time, one thread)")
        run, v.session_s = _session(v.path, v.level, threads=1)
        ok, err = exact(run(x)[0], expected, atol, rtol)
        ts = _times(lambda r=run: r(x), repeat, time.thread_time)
        rows.append({"part": "cpu", "variant": v.label, "ms": 1e3 * statistics.median(ts), "best_ms": 1e3 * min(ts),
                     "session_s": v.session_s, "exact": ok, "max_abs_err": err, "note": v.note})
        del run
    base = rows[0]["ms"]
    for r in rows:
        r["x_torch"] = base / r["ms"]
    return rows


def wall_table(torch_fn: Callable[[], object], variants: Iterable[Variant], x: np.ndarray, repeat: int,
               threads: int | None, device: tuple[str, str] = ("cpu", "CPU")) -> list[dict]:
    """Wall-clock seconds per call, torch eager and each variant interleaved call by call.

    ``device``: from :func:`pick_device`; with ``"cuda"``, ``torch_fn`` must run on the GPU and
    synchronise, and onnxruntime uses its CUDA provider (the same runner, another provider).
    """
    import torch

    if threads:
        torch.set_num_threads(threads)
    fns = {"torch eager (fp32)": torch_fn}
    for v in variants:
        run, _ = _session(v.path, v.level, threads=threads, spinning=False, provider=device[0])
        fns[v.label] = lambda r=run: r(x)
    times: dict[str, list[float]] = {k: [] for k in fns}
    with torch.inference_mode():
        for fn in fns.values():
            fn()
        for _ in range(repeat):
            for k, fn in fns.items():
                start = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - start)
    label = f"{threads} thread(s)" if threads else f"default threads (torch {torch.get_num_threads()})"
    label = device[1] if device[0] == "cuda" else f"{device[1]}; {label}"
    base = statistics.median(times["torch eager (fp32)"])
    return [{"part": "wall", "variant": k, "ms": 1e3 * statistics.median(ts), "best_ms": 1e3 * min(ts),
             "x_torch": base / statistics.median(ts), "note": label} for k, ts in times.items()]


def quant_table(fp32: Path, quantized: dict[str, Path], x: np.ndarray, batches: Callable[[], Iterable[np.ndarray]],
                n_images: int, repeat: int) -> list[dict]:
    """Speed (CPU time, one thread, on ``x``), size and top-1 agreement with fp32 over ``batches()``."""
    files = {"fp32": fp32, **quantized}
    runs = {k: _session(p, "all", threads=None)[0] for k, p in files.items()}
    one = {k: _session(p, "all", threads=1)[0] for k, p in files.items()}
    rows = []
    for k, p in files.items():
        ts = _times(lambda r=one[k]: r(x), repeat, time.thread_time)
        rows.append({"part": "int8", "variant": k, "ms": 1e3 * statistics.median(ts), "best_ms": 1e3 * min(ts),
                     "mb": p.stat().st_size / 1e6, "agree": 0, "n": 0, "max_logit_diff": 0.0})
    del one
    say(f"top-1 agreement of {', '.join(quantized)} with fp32 on {n_images} images")
    for xb in batches():
        y = runs["fp32"](xb)[0].astype(np.float64)
        for r in rows:
            yq = y if r["variant"] == "fp32" else runs[r["variant"]](xb)[0].astype(np.float64)
            r["agree"] += int(np.sum(yq.argmax(1) == y.argmax(1)))
            r["n"] += len(xb)
            r["max_logit_diff"] = max(r["max_logit_diff"], float(np.abs(yq - y).max()))
            r["logit_std"] = float(y.std())
        if rows[0]["n"] >= n_images:
            break
    for r in rows:
        r["x_fp32"] = rows[0]["ms"] / r["ms"]
        r["size_x"] = rows[0]["mb"] / r["mb"]
    return rows


def image_batches(n: int, batch: int, size: tuple[int, int], convention, seed: int = 1):
    """``n`` random smooth images (:func:`tenfold.export.verify.random_images`), preprocessed as the model
    expects them (``convention``: its ExportMetadata), in batches."""
    from tenfold.export.run_cli import preprocess
    from tenfold.export.verify import random_images

    def gen():
        for start in range(0, n, batch):
            k = min(batch, n - start)
            pics = random_images(k, size, seed + start)
            yield np.stack([preprocess(p, size[0], size[1], convention) for p in pics])
    return gen


def _ms(v: float) -> str:
    return f"{v:>8.0f}" if v >= 100 else f"{v:>8.2f}"


def format_report(rows: list[dict], title: str) -> str:
    """The three tables and the headline ratios."""
    lines = [title, f"CPU: {cpu_name()} ({os.cpu_count()} logical cores)"]
    cpu = [r for r in rows if r["part"] == "cpu"]
    if cpu:
        lines += ["", "graph variants -- CPU time per batch, one thread (robust to other load on the machine):",
                  f"  {'variant':<58} {'ms':>8} {'best':>8} {'x torch':>8} {'start s':>8}  exact vs numpy_ref"]
        for r in cpu:
            ex = "" if "exact" not in r else (f"yes ({r['max_abs_err']:.1e})" if r["exact"] else
                                               f"NOT EXACT ({r['max_abs_err']:.1e})")
            start = f"{r['session_s']:>8.2f}" if "session_s" in r else f"{'':>8}"
            lines.append(f"  {r['variant']:<58} {_ms(r['ms'])} {_ms(r['best_ms'])} {r['x_torch']:>8.2f} {start}  "
                         f"{ex}")
            if r.get("note"):
                lines.append(f"      {r['note']}")
    wall = [r for r in rows if r["part"] == "wall"]
    if wall:
        lines += ["", f"wall clock, interleaved, {wall[0]['note']}:",
                  f"  {'variant':<58} {'ms':>8} {'best':>8} {'x torch':>8}"]
        lines += [f"  {r['variant']:<58} {_ms(r['ms'])} {_ms(r['best_ms'])} {r['x_torch']:>8.2f}" for r in wall]
    quant = [r for r in rows if r["part"] == "int8"]
    if quant:
        n = quant[0]["n"]
        lines += ["", f"int8 quantization -- CPU time per batch (one thread), size, agreement with fp32 on {n} images:",
                  f"  {'model':<34} {'ms':>8} {'x fp32':>7} {'MB':>8} {'smaller':>8} {'top-1 = fp32':>13} "
                  f"{'max |dlogit|':>12}"]
        for r in quant:
            agree = f"{r['agree']}/{r['n']} ({100 * r['agree'] / max(r['n'], 1):.1f}%)"
            lines.append(f"  {r['variant']:<34} {_ms(r['ms'])} {r['x_fp32']:>7.2f} {r['mb']:>8.1f} "
                         f"{r['size_x']:>7.1f}x {agree:>13} {r['max_logit_diff']:>12.3g}")
        lines.append(f"  (logit std of fp32: {quant[0].get('logit_std', float('nan')):.3g})")
    for r in cpu + wall:
        if r.get("headline"):
            how = "CPU time, one thread" if r["part"] == "cpu" else "wall clock"
            lines.append(f"speed onnxruntime ({r['variant']}) / torch eager, {how}: x{r['x_torch']:.2f} (target >= 1)")
    return "\n".join(lines)


__all__ = ["Variant", "cpu_name", "exact", "format_report", "image_batches", "pick_device", "quant_table", "say",
           "variant_table", "wall_table"]
