"""Benchmark of ViT inference on the CPU: tenfold PyTorch, TensorFlow and onnxruntime, and timm.

Default: ViT-B/16 at 224 px, batch 8, float32 (and bfloat16 autocast). Every
variant runs in its own fresh process, images per second are the median of
repeats after warm-up, and each figure is also given as achieved GFLOP/s
(matrix-product FLOPs of :func:`tenfold.spec.vit.flops_per_image`) over the
matrix-multiply peak measured in the same run (a 2048^3 ``torch.matmul`` in
float32, and in bfloat16 for the bfloat16 rows). Variants:

* ``torch-fp32``, ``torch-bf16``: ``tenfold.torch_backend.vit.ViT`` under
  ``inference_mode`` (bf16: ``torch.autocast("cpu", torch.bfloat16)``);
* ``tf-fp32``: ``tenfold.tf_backend.vit.ViT`` in a ``tf.function``;
* ``onnx-fp32``: our torch export run by onnxruntime (CPU provider);
* ``onnx-suite``: what each onnxruntime optimisation gives, in one process
  (:mod:`tenfold.benchmarks.onnx_speed`): graph optimisation levels, transformer fusions
  (SkipLayerNorm, BiasGelu), opset 23 (native Attention), the optimised graph saved offline
  (start-up time), CPU time on one thread and wall clock interleaved with torch eager, each file
  checked against numpy_ref; and the int8 dynamic quantization table (speed, size, top-1 agreement
  with fp32 on ``--quant-images`` images);
* ``timm-fp32``, ``timm-bf16``: timm ``vit_base_patch16_224`` (random init),
  run with the optional ``.venv-peers`` interpreter; skipped when absent. The
  same process also times tenfold's torch module (``torch-*-peer`` rows),
  interleaved with timm, so that the tenfold/timm ratio compares the same
  torch build at the same moment of a noisy machine.

Targets: torch >= timm, onnxruntime >= torch eager, float32 at 70 %+ of the
matmul peak, bfloat16 3x float32. Run with ``tenfold bench vit``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .common import emit, in_subprocess, median_seconds, peers_python

VARIANTS = ("peak", "torch-fp32", "torch-bf16", "tf-fp32", "onnx-fp32", "onnx-suite")
PEER_VARIANTS = ("timm-fp32", "timm-bf16")
ROOT = Path(__file__).resolve().parent.parent


def _images(preset: str, batch: int):
    import numpy as np

    from tenfold.spec import vit as spec

    config = spec.ViTConfig.preset(preset, gelu="exact")  # timm's GELU, for like-for-like rows
    x = np.random.default_rng(0).standard_normal((batch, 3, config.image_size, config.image_size)).astype(np.float32)
    return config, x


def _params(config):
    import numpy as np

    from tenfold.numpy_ref import vit as ref

    return {k: v.astype(np.float32) for k, v in ref.init_params(config, np.random.default_rng(0)).items()}


def measure(variant: str, preset: str, batch: int, repeat: int, quant_images: int = 1000,
            threads: int | None = None, device: str = "auto") -> dict:
    """Seconds per batch of one variant (run inside a fresh process)."""
    if variant == "peak":
        import torch

        a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
        t32 = median_seconds(lambda: a @ b, repeat=max(repeat, 5))
        a16, b16 = a.bfloat16(), b.bfloat16()
        t16 = median_seconds(lambda: a16 @ b16, repeat=max(repeat, 5))
        flops = 2 * 2048 ** 3
        return {"variant": variant, "fp32_gflops": flops / t32 / 1e9, "bf16_gflops": flops / t16 / 1e9}
    if variant == "onnx-suite":
        return {"variant": variant, "rows": onnx_suite(preset, batch, repeat, quant_images, threads, device)}
    config, x = _images(preset, batch)
    if variant.startswith("torch"):
        import torch

        from tenfold.torch_backend import vit as tb

        model = tb.load_params(tb.ViT(config).eval(), _params(config))
        xt = torch.from_numpy(x)

        def step():
            with torch.inference_mode():
                if variant == "torch-bf16":
                    with torch.autocast("cpu", dtype=torch.bfloat16):
                        return model(xt)
                return model(xt)
    elif variant == "tf-fp32":
        import tensorflow as tf

        from tenfold.tf_backend import vit as tfb

        model = tfb.load_params(tfb.ViT(config), _params(config))
        fn = tf.function(lambda t: model(t, training=False))
        xt = tf.constant(x.transpose(0, 2, 3, 1))

        def step():
            return fn(xt).numpy()
    elif variant == "onnx-fp32":
        from tenfold.export import vit as ex
        from tenfold.export.runtime import runner

        tmp = Path(tempfile.mkdtemp()) / "vit.onnx"
        ex.export_vit(config, _params(config), tmp, backend="torch", check=False, verbose=False)
        run = runner(tmp, "cpu")
        tmp.unlink()

        def step():
            return run(x)
    else:
        raise SystemExit(f"unknown variant {variant}")
    seconds = median_seconds(step, repeat=repeat, warmup=2)
    return {"variant": variant, "seconds": seconds}


def onnx_suite(preset: str, batch: int, repeat: int, quant_images: int, threads: int | None,
               device: str = "auto") -> list[dict]:
    """The onnxruntime rows of :mod:`tenfold.benchmarks.onnx_speed` for ViT (exports into a temporary folder)."""
    import numpy as np
    import torch

    from tenfold.export import optimize
    from tenfold.export import vit as ex
    from tenfold.export.quantize import quantize_int8
    from tenfold.numpy_ref import vit as ref
    from tenfold.spec import vit as spec
    from tenfold.spec.contracts import ExportMetadata
    from tenfold.torch_backend import vit as tb

    from . import onnx_speed as ox

    config, _ = _images(preset, batch)
    params = _params(config)
    s = config.image_size
    batches = ox.image_batches(max(quant_images, batch), batch, (s, s),
                               ExportMetadata.from_props(ex.vit_metadata(config, "torch")))
    x = next(iter(batches()))  # (B, 3, S, S) real-range inputs: random smooth images, normalised
    model = tb.load_params(tb.ViT(config).eval(), params)
    xt = torch.from_numpy(x)
    expected = ref.vit(x.astype(np.float64), {k: v.astype(np.float64) for k, v in params.items()}, config)
    tol = spec.TOLERANCES.onnx["float32"]
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        ox.say("exporting at opsets 18 and 23, transformer fusions, offline optimisation")
        ex.export_vit(config, params, d / "o18.onnx", opset=18, check=False, verbose=False)
        ex.export_vit(config, params, d / "o23.onnx", opset=23, check=False, verbose=False)
        fused = optimize.fuse_transformer(d / "o18.onnx", d / "fused.onnx", config.num_heads, config.hidden_size)
        optimize.optimize_offline(d / "o18.onnx", d / "offline.onnx", level="extended")
        V = ox.Variant
        variants = [
            V("opset 18 export, no graph optimisation", d / "o18.onnx", "disable"),
            V("+ level basic (constant folding, redundant nodes)", d / "o18.onnx", "basic"),
            V("+ level extended (Gemm, LayerNorm, GELU fusions)", d / "o18.onnx", "extended"),
            V("+ level all (CPU layouts; the runner's default)", d / "o18.onnx", "all"),
            V("+ transformer fusions", d / "fused.onnx", "all",
              ", ".join(f"{k} x{v}" for k, v in fused.items()) + " (onnxruntime.transformers, opt_level 0)"),
            V("opset 23 export (native Attention op), level all", d / "o23.onnx", "all"),
            V("optimised graph saved offline (extended), level all", d / "offline.onnx", "all",
              "start-up without the optimisation passes"),
        ]
        rows = ox.variant_table(lambda: model(xt), variants, x, expected, tol.atol, tol.rtol, repeat)
        best = max(rows[1:], key=lambda r: r["x_torch"])
        next(r for r in rows if r["variant"].startswith("+ level all"))["headline"] = True
        wall_variants = [v for v in variants if v.label.startswith(("+ level all", "optimised graph"))]
        dev = ox.pick_device(device)
        torch_fn = ox.torch_callable(model, xt, dev[0])
        wall = ox.wall_table(torch_fn, wall_variants, x, repeat, threads, dev)
        model = model.cpu()
        wall[1]["headline"] = True
        rows += wall
        for r in rows:
            r["best_variant"] = best["variant"]
        if quant_images > 0:
            ox.say("quantizing (dynamic int8)")
            quantize_int8(d / "o18.onnx", d / "int8.onnx", x, provider="cpu", mode="dynamic")
            rows += ox.quant_table(d / "o18.onnx", {"int8 dynamic (MatMulInteger)": d / "int8.onnx"},
                                   x, batches, quant_images, repeat)
    return rows


_TIMM = r"""
import json, statistics, sys, time, torch, timm
batch, repeat, bf16 = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
models = {"timm": timm.create_model("vit_base_patch16_224", pretrained=False).eval()}
try:  # tenfold's module under the same torch, timed interleaved with timm (fair on a noisy machine)
    from tenfold.spec import vit as spec
    from tenfold.torch_backend import vit as tb
    models["tenfold"] = tb.ViT(spec.ViTConfig.preset("B/16", gelu="exact")).eval()
except ImportError:
    pass
x = torch.randn(batch, 3, 224, 224)
def step(m):
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        return m(x)
for m in models.values():
    step(m); step(m)
times = {k: [] for k in models}
for _ in range(repeat):
    for k, m in models.items():
        t = time.perf_counter(); step(m); times[k].append(time.perf_counter() - t)
print(json.dumps({"torch": torch.__version__, **{k: statistics.median(v) for k, v in times.items()}}))
"""


def _tenfold_tree(tmp: Path) -> Path:
    """A folder that makes ``tenfold.spec`` and ``tenfold.torch_backend`` importable in another venv (symlinks)."""
    pkg = tmp / "tenfold"
    pkg.mkdir()
    (pkg / "__init__.py").symlink_to(ROOT / "tenfold" / "__init__.py")
    for sub in ("spec", "torch_backend", "numpy_ref"):
        (pkg / sub).symlink_to(ROOT / sub, target_is_directory=True)
    return tmp


def measure_timm(variant: str, batch: int, repeat: int) -> list[dict]:
    """timm in the peer venv, and tenfold's torch module in the same process (same torch), interleaved."""
    exe = peers_python()
    if exe is None:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, PYTHONPATH=str(_tenfold_tree(Path(tmp))))
        proc = subprocess.run([str(exe), "-c", _TIMM, str(batch), str(repeat), "1" if variant == "timm-bf16" else "0"],
                              capture_output=True, text=True, check=False, env=env, cwd=tmp)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        print(f"note: {variant} failed: {proc.stderr[-500:]}", file=sys.stderr)
        return []
    data = json.loads(lines[-1])
    dtype = variant.split("-")[1]
    rows = [{"variant": variant, "seconds": data["timm"], "torch": data["torch"]}]
    if "tenfold" in data:
        rows.append({"variant": f"torch-{dtype}-peer", "seconds": data["tenfold"], "torch": data["torch"]})
    return rows


def run(preset: str = "B/16", batch: int = 8, repeat: int = 5, variants: tuple[str, ...] = VARIANTS + PEER_VARIANTS,
        quant_images: int = 1000, threads: int | None = None, device: str = "auto") -> list[dict]:
    rows = []
    for v in variants:
        if v in PEER_VARIANTS:
            peer_rows = measure_timm(v, batch, repeat) if preset == "B/16" else []
            if not peer_rows:
                print(f"note: {v} skipped (no .venv-peers with timm, or preset is not B/16)", file=sys.stderr)
            rows += peer_rows
        else:
            rows.append(in_subprocess("tenfold.benchmarks.vit", "--worker", v, "--preset", preset, "--batch",
                                      str(batch), "--repeat", str(repeat), "--quant-images", str(quant_images),
                                      "--threads", str(threads or 0), "--device", device))
    return rows


def report(rows: list[dict], preset: str, batch: int) -> str:
    from tenfold.spec import vit as spec

    config = spec.ViTConfig.preset(preset, gelu="exact")
    gflop_per_batch = spec.flops_per_image(config) * batch / 1e9
    by = {r["variant"]: r for r in rows}
    peak = by.get("peak", {})
    lines = [f"ViT-{preset} (exact GELU, as timm) at {config.image_size} px, batch {batch}, "
             f"CPU ({os.cpu_count()} cores), "
             f"{gflop_per_batch / batch:.1f} GFLOP/image; matmul peak fp32 {peak.get('fp32_gflops', float('nan')):.0f}"
             f" GFLOP/s, bf16 {peak.get('bf16_gflops', float('nan')):.0f} GFLOP/s",
             f"{'variant':<16} {'ms/batch':>9} {'images/s':>9} {'GFLOP/s':>8} {'of peak':>8}"]
    for r in rows:
        if "seconds" not in r:
            continue
        gf = gflop_per_batch / r["seconds"]
        ref_peak = peak.get("bf16_gflops" if "-bf16" in r["variant"] else "fp32_gflops")
        share = f"{100 * gf / ref_peak:7.0f}%" if ref_peak else "      -"
        lines.append(f"{r['variant']:<16} {1e3 * r['seconds']:>9.0f} {batch / r['seconds']:>9.2f} {gf:>8.0f} {share}")

    def ratio(a: str, b: str, text: str) -> None:
        if a in by and b in by and "seconds" in by[a] and "seconds" in by[b]:
            lines.append(f"{text}: x{by[b]['seconds'] / by[a]['seconds']:.2f}")

    torch_peer = next((r["torch"] for r in rows if "torch" in r), "?")
    ratio("torch-fp32-peer", "timm-fp32", f"speed tenfold torch / timm, fp32, same process, torch {torch_peer} "
          "(target >= 1)")
    ratio("torch-bf16-peer", "timm-bf16", f"speed tenfold torch / timm, bf16 autocast, same process, "
          f"torch {torch_peer}")
    ratio("torch-fp32", "timm-fp32", "speed tenfold torch (this venv) / timm (peer venv), fp32")
    ratio("onnx-fp32", "torch-fp32", "speed onnxruntime / tenfold torch eager (target >= 1)")
    ratio("tf-fp32", "torch-fp32", "speed tenfold TF / tenfold torch")
    ratio("torch-bf16", "torch-fp32", "speed bf16 autocast / fp32 (target >= 3)")
    suite = by.get("onnx-suite")
    if suite:
        from .onnx_speed import format_report

        lines += ["", format_report(suite["rows"], f"onnxruntime vs torch eager, ViT-{preset}, batch {batch}, fp32")]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tenfold bench vit", description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="B/16")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--variant", action="append", choices=VARIANTS + PEER_VARIANTS)
    parser.add_argument("--quant-images", type=int, default=1000, help="images of the int8 top-1 agreement "
                        "(onnx-suite; 0 skips the int8 table; default 1000)")
    parser.add_argument("--threads", type=int, default=0, help="threads of the wall-clock comparison (onnx-suite; "
                        "default 0: the frameworks' defaults)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="device of the wall-clock "
                        "comparison (onnx-suite; auto: CUDA when torch and onnxruntime both have it)")
    parser.add_argument("--json", help="also write the measurements to this file")
    parser.add_argument("--worker", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(measure(args.worker, args.preset, args.batch, args.repeat, args.quant_images,
                                 args.threads or None, args.device)))
        return 0
    variants = tuple(args.variant or VARIANTS + PEER_VARIANTS)
    if "peak" not in variants:
        variants = ("peak", *variants)
    rows = run(args.preset, args.batch, args.repeat, variants, args.quant_images, args.threads or None, args.device)
    return emit(report(rows, args.preset, args.batch), rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
