"""Benchmark of CutMix: tenfold against torchvision and timm, and its overhead in a tf.data pipeline.

Batches of 128 x 3 x 224 x 224 on the CPU (NCHW for PyTorch, NHWC for TF), float32 and
uint8, 1000 classes. Times are medians per batch; each group runs in a fresh process:

* ``torch``: tenfold ``CutMix`` per batch (official mode) and per sample, keeping the
  input or in place, next to two plain copies of the batch: ``clone()`` (a fresh buffer,
  as a transform that keeps its input must make) and ``copy_`` into a preallocated
  buffer (the memory bandwidth); and, when the optional ``.venv-peers`` with torchvision
  and timm exists, ``torchvision.transforms.v2.CutMix`` and
  ``timm.data.Mixup(mixup_alpha=0, cutmix_alpha=1)`` (which works in place). All of them
  in one process, timed in interleaved rounds so that a drifting load hits all alike.
* ``tf``: a ``tf.data`` pipeline ``from_tensors(batch).repeat()`` iterated as is, and the
  same pipeline with ``.map(CutMix(...))``; the difference is CutMix's overhead per batch.
  Autotuning and injected prefetching are off, so every ``next`` runs the map in the
  caller and is timed as such (in training it would run in tf.data's threads).

Throughput is reported as GB/s = 2 x batch bytes / time (what a copy reads and writes), so
a transform's figure reads directly against the copies'. Ratios compare the medians of
the same run. Run with ``tenfold bench cutmix`` or ``python -m tenfold.benchmarks.cutmix``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from .common import in_subprocess, peers_python

B, C, H, W = 128, 3, 224, 224
NUM_CLASSES = 1000
DTYPES = ("float32", "uint8")
GROUPS = ("torch", "tf")


def _torch_batch(dtype: str):
    import torch

    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (B, C, H, W), generator=g, dtype=torch.uint8).to(getattr(torch, dtype))
    y = torch.randint(0, NUM_CLASSES, (B,), generator=g)
    return x, y


def _interleaved(fns: dict, repeat: int, warmup: int = 2) -> dict:
    """Median seconds of each function, timed in interleaved rounds (fair under a drifting load)."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times: dict = {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in times.items()}


def _peer_fns(x, y) -> dict:
    """torchvision and timm CutMix on the batch, when importable here."""
    fns: dict = {}
    try:
        import torchvision
        from torchvision.transforms import v2

        tv = v2.CutMix(alpha=1.0, num_classes=NUM_CLASSES)
        fns[f"torchvision {torchvision.__version__.split('+')[0]} v2.CutMix"] = lambda: tv(x, y)
    except ImportError:
        pass
    try:
        from timm.data import Mixup

        mix = Mixup(mixup_alpha=0.0, cutmix_alpha=1.0, label_smoothing=0.0, num_classes=NUM_CLASSES)
        xi = x.clone()  # timm mixes in place
        fns["timm Mixup(cutmix) inplace"] = lambda: mix(xi, y)
    except ImportError:
        pass
    return fns


def _worker_torch(repeat: int) -> list[dict]:
    import torch

    from tenfold.torch_backend.cutmix import CutMix

    rows = []
    for dtype in DTYPES:
        x, y = _torch_batch(dtype)
        buf = torch.empty_like(x)
        xi = x.clone()  # the in-place variants work on their own copy
        fns = {"copy clone()": lambda x=x: x.clone(), "copy copy_ into buffer": lambda x=x, b=buf: b.copy_(x)}
        for name, kw in (("tenfold batch", {}), ("tenfold batch inplace", {"inplace": True}),
                         ("tenfold elem", {"granularity": "elem"}),
                         ("tenfold elem inplace", {"granularity": "elem", "inplace": True})):
            t = CutMix(NUM_CLASSES, seed=0, **kw)
            src = xi if kw.get("inplace") else x
            fns[name] = lambda t=t, x=src, y=y: t(x, y)
        fns.update(_peer_fns(x, y))
        times = _interleaved(fns, repeat)
        rows += [{"group": "torch", "dtype": dtype, "variant": k, "ms": 1e3 * v, "bytes": x.nbytes}
                 for k, v in times.items()]
    return rows


def _synchronous(tf):
    """tf.data options under which each ``next`` runs the map in the caller (no work done ahead)."""
    options = tf.data.Options()
    options.autotune.enabled = False
    options.experimental_optimization.inject_prefetch = False
    return options


def _worker_tf(repeat: int) -> list[dict]:
    import tensorflow as tf

    from tenfold.tf_backend.cutmix import CutMix

    rows = []
    for dtype in DTYPES:
        x = tf.cast(tf.random.stateless_uniform([B, H, W, C], [0, 0], 0, 256, dtype=tf.int32), dtype)
        y = tf.random.stateless_uniform([B], [0, 1], 0, NUM_CLASSES, dtype=tf.int64)
        fns = {"tf copy (x + 0, eager)": lambda x=x: (x + tf.zeros((), x.dtype)).shape}
        for name, layer in (("tf.data without CutMix", None),
                            ("tf.data + CutMix batch", CutMix(NUM_CLASSES, seed=0)),
                            ("tf.data + CutMix elem", CutMix(NUM_CLASSES, seed=0, granularity="elem"))):
            ds = tf.data.Dataset.from_tensors((x, y)).repeat()
            if layer is not None:
                ds = ds.map(layer)
            it = iter(ds.with_options(_synchronous(tf)))
            fns[name] = lambda it=it: next(it)[0].shape
        times = _interleaved(fns, repeat)
        rows += [{"group": "tf", "dtype": dtype, "variant": k, "ms": 1e3 * v, "bytes": x.shape.num_elements()
                  * x.dtype.size} for k, v in times.items()]
    return rows


WORKERS = {"torch": _worker_torch, "tf": _worker_tf}


def run(repeat: int = 11, groups: tuple[str, ...] = GROUPS) -> tuple[list[dict], list[str]]:
    """Measure every group in its own process; returns the rows and notes on what was skipped.

    The torch group runs under the peer venv's interpreter when there is one (it shares
    this torch and imports tenfold), so tenfold and the peers are timed in one process.
    """
    rows, notes = [], []
    for group in groups:
        py = peers_python() if group == "torch" else None
        if group == "torch" and py is None:
            notes.append("torchvision and timm skipped: no .venv-peers next to the repo "
                         "(or set TENFOLD_PEERS_PYTHON); they are never installed in the test venv")
        if py is None:
            rows += in_subprocess("tenfold.benchmarks.cutmix", "--worker", group, "--repeat", str(repeat))["rows"]
            continue
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        proc = subprocess.run([str(py), "-m", "tenfold.benchmarks.cutmix", "--worker", group, "--repeat",
                               str(repeat)], capture_output=True, text=True, env=env, check=False)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"the {group} worker failed under {py}:\n{proc.stderr[-2000:]}")
        rows += json.loads(lines[-1])["rows"]
        if not any(r["variant"].startswith(("torchvision", "timm")) for r in rows):
            notes.append(f"torchvision and timm not importable under {py}")
    return rows, notes


def _gbs(row: dict) -> float:
    return 2 * row["bytes"] / (row["ms"] * 1e-3) / 1e9


def report(rows: list[dict], notes: list[str]) -> str:
    """A table of every measurement and the ratios against the peers."""
    lines = [f"CutMix, batch {B} x {C} x {H} x {W}, {NUM_CLASSES} classes, CPU "
             f"(median ms per batch; GB/s = 2 x batch bytes / time)",
             f"{'group':<6} {'dtype':<8} {'variant':<36} {'ms':>8} {'GB/s':>7}"]
    lines += [f"{r['group']:<6} {r['dtype']:<8} {r['variant']:<36} {r['ms']:>8.2f} {_gbs(r):>7.2f}" for r in rows]
    by = {(r["group"], r["dtype"], r["variant"]): r["ms"] for r in rows}
    for dtype in DTYPES:
        ours = by.get(("torch", dtype, "tenfold batch"))
        ours_in = by.get(("torch", dtype, "tenfold batch inplace"))
        for (g, d, v), ms in by.items():
            if g != "torch" or d != dtype or not v.startswith(("torchvision", "timm")):
                continue
            mine = ours_in if "inplace" in v else ours
            if mine:
                kind = "in place" if "inplace" in v else "keeping the input"
                lines.append(f"{dtype}: tenfold batch ({kind}) is x{ms / mine:.2f} the throughput of {v}")
        clone = by.get(("torch", dtype, "copy clone()"))
        if ours and clone:
            lines.append(f"{dtype}: tenfold batch takes x{ours / clone:.2f} the time of clone() in the same process")
        base = by.get(("tf", dtype, "tf.data without CutMix"))
        for v in ("tf.data + CutMix batch", "tf.data + CutMix elem"):
            if base is not None and ("tf", dtype, v) in by:
                lines.append(f"{dtype}: {v}: overhead {by[('tf', dtype, v)] - base:.2f} ms per batch")
    lines += [f"note: {n}" for n in notes]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tenfold bench cutmix", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--group", action="append", choices=GROUPS, help="torch (with the peers), tf (repeatable)")
    parser.add_argument("--json", help="also write the measurements to this file")
    parser.add_argument("--worker", choices=GROUPS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps({"rows": WORKERS[args.worker](args.repeat)}))
        return 0
    rows, notes = run(args.repeat, tuple(args.group or GROUPS))
    print(report(rows, notes))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"rows": rows, "notes": notes}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
