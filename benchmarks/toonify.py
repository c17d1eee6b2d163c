"""Benchmark of the StyleGAN2 generator behind Toonify on the CPU: PyTorch, TensorFlow and numpy_ref.

Default: config-f at 256 px (``StyleGAN2Config.ffhq256()``, about 90 GFLOP per image), batch 1, float32,
constant noise. Every variant runs in its own fresh process; images per second are the median over repeats
after a warm-up, and each figure is also given as achieved GFLOP/s (multiply-adds of
:func:`tenfold.spec.toonify.flops_per_image`) over the *conv peak* measured in the same run: the model's
dominant layer alone (a plain 3x3 conv, 512 -> 512 channels at 64x64, batch 1) in the same framework.

Variants:

* ``torch``: :class:`tenfold.torch_backend.toonify.Generator` under ``inference_mode`` (one conv per
  layer shared by the batch: input scaling and demodulation around it);
* ``torch-grouped``: the same module with rosinality's fused form (per-sample weights, a grouped conv),
  the design of the common PyTorch port, for comparison;
* ``tf``: :class:`tenfold.tf_backend.toonify.Generator` inside ``tf.function``;
* ``numpy``: :func:`tenfold.numpy_ref.toonify.generate` (the float64-exact reference, run in float32 here).

Peaks: ``torch.nn.functional.conv2d``, ``tf.nn.conv2d`` and, for NumPy, the same conv as 9 matrix
products (what numpy_ref does). No peer library is installed for StyleGAN2 (rosinality's port needs its
custom CUDA ops or falls back to the same plain ops), so the grouped variant stands for its design.
One intra-op thread by default (``--threads``), for figures that hold on a shared machine.
Run with ``tenfold bench toonify``; ``--resolution 64 --repeat 2`` for a quick look.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from .common import emit, in_subprocess, median_seconds

VARIANTS = ("peak-torch", "peak-tf", "peak-numpy", "torch", "torch-grouped", "tf", "numpy")
_PEAK_SHAPE = (1, 512, 64, 64)  # N, C, H, W of the peak conv (512 -> 512, 3x3)


def _config(resolution: int):
    from tenfold.spec import toonify as spec

    return spec.StyleGAN2Config.ffhq256().replace(resolution=resolution)


def _params(config):
    import numpy as np

    from tenfold.numpy_ref import toonify as ref

    return {k: v.astype(np.float32) for k, v in ref.init_params(config, np.random.default_rng(0)).items()}


def _threads(n: int) -> None:
    if n:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(n)


def measure(variant: str, resolution: int, batch: int, repeat: int, threads: int) -> dict:
    """Seconds per batch (or per peak conv) of one variant, in this process."""
    import numpy as np

    config = _config(resolution)
    z = np.random.default_rng(1).standard_normal((batch, config.style_dim)).astype(np.float32)
    n, c, h, w = _PEAK_SHAPE
    if variant.startswith("torch") or variant == "peak-torch":
        import torch

        if threads:
            torch.set_num_threads(threads)
        if variant == "peak-torch":
            x, k = torch.randn(n, c, h, w), torch.randn(c, c, 3, 3)
            step = lambda: torch.nn.functional.conv2d(x, k, padding=1)  # noqa: E731
        else:
            from tenfold.torch_backend import toonify as tb

            model = tb.load_params(tb.Generator(config, fused=variant == "torch-grouped"), _params(config)).eval()
            zt = torch.from_numpy(z)

            def step():
                with torch.inference_mode():
                    return model(zt)
    elif variant in ("tf", "peak-tf"):
        import tensorflow as tf

        if threads:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        if variant == "peak-tf":
            x, k = tf.random.normal((n, h + 2, w + 2, c)), tf.random.normal((3, 3, c, c))
            fn = tf.function(lambda: tf.nn.conv2d(x, k, 1, "VALID"))
            step = lambda: fn().numpy()  # noqa: E731
        else:
            from tenfold.tf_backend import toonify as tfb

            model = tfb.load_params(tfb.Generator(config), _params(config))
            fn = tf.function(lambda t: model(t))
            zt = tf.constant(z)
            step = lambda: fn(zt).numpy()  # noqa: E731
    elif variant == "peak-numpy":
        x = np.random.default_rng(0).standard_normal((c, h + 2, w + 2)).astype(np.float32)
        k = np.random.default_rng(1).standard_normal((c, c, 3, 3)).astype(np.float32)

        def step():
            out = np.zeros((c, h * w), np.float32)
            for i in range(3):
                for j in range(3):
                    out += k[:, :, i, j] @ x[:, i:i + h, j:j + w].reshape(c, h * w)
            return out
    elif variant == "numpy":
        from tenfold.numpy_ref import toonify as ref

        params = _params(config)
        step = lambda: ref.generate(z, params, config)  # noqa: E731
    else:
        raise SystemExit(f"unknown variant {variant}")
    seconds = median_seconds(step, repeat=repeat, warmup=1)
    flops = 2 * n * c * c * 9 * h * w if variant.startswith("peak") else batch * _flops(config)
    return {"variant": variant, "seconds": seconds, "gflops": flops / seconds / 1e9}


def _flops(config) -> int:
    from tenfold.spec import toonify as spec

    return spec.flops_per_image(config)


def report(rows: list[dict], resolution: int, batch: int, threads: int) -> str:
    by = {r["variant"]: r for r in rows}
    gflop = _flops(_config(resolution)) / 1e9
    peaks = {v: by[f"peak-{v.split('-')[0]}"]["gflops"] for v in by if not v.startswith("peak")
             if f"peak-{v.split('-')[0]}" in by}
    lines = [f"StyleGAN2 generator, config-f at {resolution} px, batch {batch}, float32, CPU, "
             f"{threads or 'default'} thread(s); {gflop:.1f} GFLOP/image",
             "conv peak (3x3, 512->512 at 64x64): " + ", ".join(
                 f"{v[5:]} {r['gflops']:.1f} GFLOP/s" for v, r in by.items() if v.startswith("peak")),
             f"{'variant':<14} {'s/batch':>8} {'images/s':>9} {'GFLOP/s':>8} {'of its peak':>12}"]
    for v, r in by.items():
        if v.startswith("peak"):
            continue
        share = f"{100 * r['gflops'] / peaks[v]:11.0f}%" if v in peaks else "           -"
        lines.append(f"{v:<14} {r['seconds']:>8.3f} {batch / r['seconds']:>9.3f} {r['gflops']:>8.1f} {share}")
    if "torch" in by and "torch-grouped" in by:
        lines.append(f"shared conv / rosinality's grouped form (torch): throughput "
                     f"x{by['torch-grouped']['seconds'] / by['torch']['seconds']:.2f}")
    for other in ("tf", "numpy"):
        if "torch" in by and other in by:
            lines.append(f"{other} / torch: throughput x{by['torch']['seconds'] / by[other]['seconds']:.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tenfold bench toonify", description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads (0: the frameworks' defaults)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of " +
                        ", ".join(VARIANTS))
    parser.add_argument("--variant", help=argparse.SUPPRESS)  # inside the per-variant subprocess
    parser.add_argument("--json", help="also write the measurements to this file")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    _threads(args.threads)
    if args.variant:
        print(json.dumps(measure(args.variant, args.resolution, args.batch, args.repeat, args.threads)))
        return 0
    rows = []
    for v in [v for v in args.variants.split(",") if v]:
        if v not in VARIANTS:
            parser.error(f"unknown variant {v!r}; expected some of {', '.join(VARIANTS)}")
        rows.append(in_subprocess(__name__, "--variant", v, "--resolution", str(args.resolution), "--batch",
                                  str(args.batch), "--repeat", str(args.repeat), "--threads", str(args.threads)))
    return emit(report(rows, args.resolution, args.batch, args.threads), rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
