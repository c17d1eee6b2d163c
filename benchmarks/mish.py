"""Benchmark of Mish: tenfold against the framework's own Mish, in one run.

1e7 float32 elements on the CPU: forward time, forward + backward time and the
peak memory growth of one forward + backward step (TensorFlow: its allocator's
own peak counter; PyTorch: resident set size sampled every millisecond), for

* tenfold's torch ``mish`` vs ``torch.nn.functional.mish``;
* tenfold's TF ``mish`` vs ``keras.activations.mish`` (eager, GradientTape).

Ratios are tenfold / peer (time: below 1 is faster; memory: below 1 is leaner).
Run with ``tenfold bench mish`` or ``python -m tenfold.benchmarks.mish``.
"""

from __future__ import annotations

import argparse
import json
import sys

from .common import emit, in_subprocess, median_seconds, peak_extra_bytes

N = 10_000_000
VARIANTS = ("torch-tenfold", "torch-peer", "tf-tenfold", "tf-peer")


def _torch_fns(variant: str, n: int):
    import torch

    from tenfold.torch_backend.mish import mish

    fn = mish if variant == "torch-tenfold" else torch.nn.functional.mish
    x = torch.randn(n, generator=torch.Generator().manual_seed(0)) * 3
    xg = x.clone().requires_grad_(True)
    dy = torch.ones_like(x)

    def train():
        xg.grad = None
        fn(xg).backward(dy)

    return (lambda: fn(x)), train


def _tf_fns(variant: str, n: int):
    import keras
    import tensorflow as tf

    from tenfold.tf_backend.mish import mish

    fn = mish if variant == "tf-tenfold" else keras.activations.mish
    x = tf.random.stateless_normal([n], seed=[0, 0]) * 3

    def train():
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        return tape.gradient(y, x).numpy()[:1]

    return (lambda: fn(x).numpy()[:1]), train


def _tf_peak_extra_bytes(fn) -> int:
    """Peak growth of TensorFlow's own CPU allocator during ``fn()`` (exact, no sampling)."""
    import tensorflow as tf

    tf.config.experimental.reset_memory_stats("CPU:0")
    base = tf.config.experimental.get_memory_info("CPU:0")["current"]
    fn()
    return tf.config.experimental.get_memory_info("CPU:0")["peak"] - base


def measure(variant: str, repeat: int, n: int = N) -> dict:
    """Time and peak memory of one variant (run inside a fresh process)."""
    is_torch = variant.startswith("torch")
    forward, train = (_torch_fns if is_torch else _tf_fns)(variant, n)
    train()  # warm-up: kernel selection and XLA compilation are not the step's memory
    mem = peak_extra_bytes(train) if is_torch else _tf_peak_extra_bytes(train)
    return {"variant": variant, "n": n, "train_peak_mb": mem / 2**20,
            "forward_ms": 1e3 * median_seconds(forward, repeat), "train_ms": 1e3 * median_seconds(train, repeat)}


def run(repeat: int = 7, frameworks: tuple[str, ...] = ("torch", "tf"), n: int = N) -> list[dict]:
    """Measure every variant, each in its own subprocess."""
    return [in_subprocess("tenfold.benchmarks.mish", "--worker", v, "--repeat", str(repeat), "--size", str(n))
            for v in VARIANTS if v.split("-")[0] in frameworks]


def report(rows: list[dict]) -> str:
    """A table of the measurements and the tenfold / peer ratios."""
    by = {r["variant"]: r for r in rows}
    lines = [f"Mish, {rows[0]['n']:.0e} float32 elements, CPU "
             "(median of repeats; memory: peak growth in one fwd+bwd step)",
             f"{'variant':<14} {'forward ms':>10} {'fwd+bwd ms':>10} {'peak MB':>8}"]
    lines += [f"{r['variant']:<14} {r['forward_ms']:>10.1f} {r['train_ms']:>10.1f} {r['train_peak_mb']:>8.0f}"
              for r in rows]
    for fw, peer in (("torch", "torch.nn.functional.mish"), ("tf", "keras.activations.mish")):
        ours, theirs = by.get(f"{fw}-tenfold"), by.get(f"{fw}-peer")
        if ours and theirs:
            lines.append(f"{fw}: tenfold / {peer}: forward x{ours['forward_ms'] / theirs['forward_ms']:.2f}, "
                         f"fwd+bwd x{ours['train_ms'] / theirs['train_ms']:.2f}, "
                         f"peak memory x{ours['train_peak_mb'] / max(theirs['train_peak_mb'], 1e-9):.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tenfold bench mish", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--size", type=int, default=N, help="number of elements (default 1e7)")
    parser.add_argument("--framework", action="append", choices=("torch", "tf"))
    parser.add_argument("--json", help="also write the measurements to this file")
    parser.add_argument("--worker", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(measure(args.worker, args.repeat, args.size)))
        return 0
    rows = run(args.repeat, tuple(args.framework or ("torch", "tf")), args.size)
    return emit(report(rows), rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
