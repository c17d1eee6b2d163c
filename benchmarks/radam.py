"""Benchmark of RAdam: one optimizer step on a ResNet-50-sized parameter list, in one run.

The parameter list has ResNet-50's shapes (161 tensors, 25.56M float32
parameters; built here from the architecture, no torchvision needed), with
random gradients, timed in the rectified phase (after warm-up steps). For

* tenfold's torch ``RAdam`` (``impl="fused"``, the default, and ``"foreach"``)
  vs ``torch.optim.RAdam(foreach=True)``;
* tenfold's Keras ``RAdam`` vs ``keras.optimizers.Adam`` (``apply_gradients``
  inside ``tf.function``);
* a plain copy of a tensor of the same size (``dst.copy_(src)``), the
  bandwidth yardstick,

it reports the median step time (the variants of one framework timed
round-robin in one process, so that all see the same machine load), the peak
memory growth during one step (each variant in a fresh process; PyTorch:
resident set size sampled every millisecond; TensorFlow: its allocator's
peak counter) and the achieved bandwidth. A step must read
parameters, gradients and both moments and write three of them back:
``7 * 4 * N`` bytes (about 0.72 GB); a copy moves ``2 * 4 * N`` bytes.
Run with ``tenfold bench radam`` (``--threads 1`` for stable figures on a
busy machine).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from .common import emit, in_subprocess, peak_extra_bytes

VARIANTS = ("copy", "torch-tenfold", "torch-tenfold-foreach", "torch-peer", "tf-tenfold", "tf-peer")
WARMUP_STEPS = 7  # past the switch into rectification (t = 6 for the default preset)


def resnet50_shapes() -> list[tuple[int, ...]]:
    """Parameter shapes of torchvision's ResNet-50 in ``named_parameters`` order."""
    shapes: list[tuple[int, ...]] = [(64, 3, 7, 7), (64,), (64,)]
    inplanes = 64
    for planes, blocks in ((64, 3), (128, 4), (256, 6), (512, 3)):
        for b in range(blocks):
            shapes += [(planes, inplanes, 1, 1), (planes,), (planes,), (planes, planes, 3, 3), (planes,), (planes,),
                       (planes * 4, planes, 1, 1), (planes * 4,), (planes * 4,)]
            if b == 0:
                shapes += [(planes * 4, inplanes, 1, 1), (planes * 4,), (planes * 4,)]
            inplanes = planes * 4
    return [*shapes, (1000, 2048), (1000,)]


def numel() -> int:
    total = 0
    for s in resnet50_shapes():
        n = 1
        for d in s:
            n *= d
        total += n
    return total


def _torch_step(variant: str):
    import torch

    from tenfold.torch_backend.radam import RAdam

    gen = torch.Generator().manual_seed(0)
    if variant == "copy":
        src = torch.randn(numel(), generator=gen)
        dst = torch.empty_like(src)
        return lambda: dst.copy_(src)
    params = [torch.nn.Parameter(torch.randn(s, generator=gen)) for s in resnet50_shapes()]
    for p in params:
        p.grad = torch.randn(p.shape, generator=gen)
    if variant == "torch-peer":
        opt = torch.optim.RAdam(params, lr=1e-3, foreach=True)
    else:
        opt = RAdam(params, lr=1e-3, impl="foreach" if variant.endswith("foreach") else "fused")
    for _ in range(WARMUP_STEPS):
        opt.step()
    return opt.step


def _tf_step(variant: str):
    import keras
    import tensorflow as tf

    from tenfold.tf_backend.radam import RAdam

    variables = [tf.Variable(tf.random.stateless_normal(s, seed=[0, i])) for i, s in enumerate(resnet50_shapes())]
    grads = [tf.random.stateless_normal(s, seed=[1, i]) for i, s in enumerate(resnet50_shapes())]
    opt = RAdam(learning_rate=1e-3) if variant == "tf-tenfold" else keras.optimizers.Adam(learning_rate=1e-3)
    apply = tf.function(lambda: opt.apply_gradients(zip(grads, variables, strict=True)))

    def step():
        apply()
        return variables[0][0, 0, 0, 0].numpy()  # wait for the step

    for _ in range(WARMUP_STEPS):
        step()
    return step


def _tf_peak_extra_bytes(fn) -> int:
    import tensorflow as tf

    tf.config.experimental.reset_memory_stats("CPU:0")
    base = tf.config.experimental.get_memory_info("CPU:0")["current"]
    fn()
    return tf.config.experimental.get_memory_info("CPU:0")["peak"] - base


def _set_threads(variant: str, threads: int) -> None:
    if threads <= 0:
        return
    if variant.startswith("tf"):
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    else:
        import torch

        torch.set_num_threads(threads)


def _make_step(variant: str):
    return (_tf_step if variant.startswith("tf") else _torch_step)(variant)


def measure_memory(variant: str, threads: int = 0) -> dict:
    """Peak memory growth during one step of one variant (run inside a fresh process)."""
    _set_threads(variant, threads)
    step = _make_step(variant)
    step()  # first touch of lazily mapped pages is not the step's memory
    mem = _tf_peak_extra_bytes(step) if variant.startswith("tf") else peak_extra_bytes(step)
    return {"variant": variant, "peak_mb": mem / 2**20}


def measure_times(variants: tuple[str, ...], repeat: int, threads: int = 0) -> dict:
    """Median step time of several variants of one framework, interleaved round-robin in one process.

    Interleaving exposes every variant to the same machine load (this matters
    on a shared machine, where the load drifts between separate runs).
    """
    _set_threads(variants[0], threads)
    steps = {v: _make_step(v) for v in variants}
    times: dict[str, list[float]] = {v: [] for v in variants}
    for _ in range(repeat):
        for v, step in steps.items():
            start = time.perf_counter()
            step()
            times[v].append(time.perf_counter() - start)
    rows = []
    for v in variants:
        seconds = statistics.median(times[v])
        moved = (2 if v == "copy" else 7) * 4 * numel()
        rows.append({"variant": v, "threads": threads, "step_ms": 1e3 * seconds, "gb_s": moved / seconds / 1e9})
    return {"rows": rows}


def run(repeat: int = 7, variants: tuple[str, ...] = VARIANTS, threads: int = 0) -> list[dict]:
    """Time the variants (per framework, interleaved in one subprocess), then measure each one's memory
    in its own subprocess (``threads`` > 0 pins the thread count)."""
    module = "tenfold.benchmarks.radam"
    common = ("--repeat", str(repeat), "--threads", str(threads))
    rows: dict[str, dict] = {}
    for group in (tuple(v for v in variants if not v.startswith("tf")), tuple(v for v in variants
                                                                              if v.startswith("tf"))):
        if group:
            for row in in_subprocess(module, "--worker", "times:" + ",".join(group), *common)["rows"]:
                rows[row["variant"]] = row
    for v in variants:
        rows[v].update(in_subprocess(module, "--worker", f"memory:{v}", *common))
    return [rows[v] for v in variants]


def report(rows: list[dict]) -> str:
    """A table of the measurements and the tenfold / peer ratios."""
    by = {r["variant"]: r for r in rows}
    n = numel()
    threads = rows[0].get("threads", 0) if rows else 0
    lines = [f"RAdam step, ResNet-50 parameter list ({len(resnet50_shapes())} tensors, {n / 1e6:.2f}M float32), CPU"
             f" ({threads or 'default'} threads); "
             f"a step moves {7 * 4 * n / 1e9:.2f} GB (median of repeats; memory: peak growth in one step)",
             f"{'variant':<22} {'step ms':>8} {'peak MB':>8} {'GB/s':>6} {'of copy':>8}"]
    copy = by.get("copy")
    for r in rows:
        frac = f"{r['gb_s'] / copy['gb_s']:.2f}" if copy else "-"
        lines.append(f"{r['variant']:<22} {r['step_ms']:>8.1f} {r['peak_mb']:>8.0f} {r['gb_s']:>6.1f} {frac:>8}")
    for ours, theirs, peer in (("torch-tenfold", "torch-peer", "torch.optim.RAdam(foreach=True)"),
                               ("torch-tenfold-foreach", "torch-peer", "torch.optim.RAdam(foreach=True)"),
                               ("tf-tenfold", "tf-peer", "keras.optimizers.Adam")):
        a, b = by.get(ours), by.get(theirs)
        if a and b:
            lines.append(f"{ours} vs {peer}: {b['step_ms'] / a['step_ms']:.2f}x faster, "
                         f"peak memory x{a['peak_mb'] / max(b['peak_mb'], 1e-9):.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tenfold bench radam", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--variant", action="append", choices=VARIANTS, help="variant (repeatable); default all")
    parser.add_argument("--threads", type=int, default=0,
                        help="intra-op threads of every variant (default 0: the framework's own choice); "
                             "1 gives stable figures on a busy machine")
    parser.add_argument("--json", help="also write the measurements to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # "times:v1,v2,..." or "memory:v"
    args = parser.parse_args(argv)
    if args.worker:
        kind, _, names = args.worker.partition(":")
        picked = tuple(names.split(","))
        if kind not in ("times", "memory") or not set(picked) <= set(VARIANTS):
            parser.error(f"--worker: expected times:<variants> or memory:<variant>; got {args.worker!r}")
        result = measure_times(picked, args.repeat, args.threads) if kind == "times" else \
            measure_memory(picked[0], args.threads)
        print(json.dumps(result))
        return 0
    rows = run(args.repeat, tuple(args.variant or VARIANTS), args.threads)
    return emit(report(rows), rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
