"""Benchmark of FReLU: the price of the funnel in ResNet-50, and onnxruntime vs PyTorch eager.

Inference throughput (images/s) at batch 8, 224 x 224, float32, on the CPU, for

* ResNet-50-FReLU (official structure) in PyTorch eager mode;
* the same network with ReLU everywhere (``ResNetFReLUConfig.resnet50_relu``):
  the FReLU / ReLU throughput ratio is the price of the funnel condition;
* ResNet-50-FReLU with BatchNorm folded, PyTorch eager;
* its ONNX export (from PyTorch, BatchNorm folded) in onnxruntime.

Ratios are taken within the same run. Run with ``tenfold bench frelu`` or
``python -m tenfold.benchmarks.frelu``; ``--size 64 --repeat 3`` for a quick look.
One intra-op thread by default (``--threads``), for figures that hold on a shared machine.

Then (unless ``--no-onnx``) what each onnxruntime optimisation gives, in CPU time on one thread
(:mod:`tenfold.benchmarks.onnx_speed`): graph optimisation levels (``all`` converts the
convolutions to the blocked NCHWc layout), the optimised graph saved offline, each file checked
against numpy_ref; and the int8 table: dynamic quantization (ConvInteger) and static QDQ
quantization calibrated on 32 images (QLinearConv), with speed, size and top-1 agreement with fp32
on ``--quant-images`` images. The weights are random, with BatchNorm statistics re-estimated on
the images (as training leaves them), so that activations and logits have realistic scales.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from .common import emit


def _torch_model(preset: str, fold: bool):
    import numpy as np
    import torch

    from tenfold.numpy_ref.frelu.nets import init_params
    from tenfold.spec.frelu import nets as nets
    from tenfold.torch_backend.frelu import nets as tb

    config = nets.PRESETS[preset]()
    model = tb.load_params(tb.build(config, torch.float32), init_params(config, np.random.default_rng(0))).eval()
    return tb.fold_batchnorm(model) if fold else model


def measure(batch: int, size: int, repeat: int, onnx: bool, threads: int | None) -> list[dict]:
    """Time every variant in this process, interleaved (one call of each per round, so that load
    from elsewhere on a shared machine hits every variant alike); one row per variant."""
    import statistics
    import time

    import numpy as np
    import torch

    if threads:
        torch.set_num_threads(threads)
    from tenfold import progress

    say = progress.Steps("bench frelu")
    x = torch.from_numpy(np.random.default_rng(0).normal(size=(batch, 3, size, size)).astype(np.float32))
    fns = {}
    say("building the torch models (FReLU, ReLU, FReLU folded)")
    for name, preset, fold in (("torch-frelu", "resnet50", False), ("torch-relu", "resnet50-relu", False),
                               ("torch-frelu-folded", "resnet50", True)):
        model = _torch_model(preset, fold)
        fns[name] = lambda m=model: m(x)
    provider = ""
    if onnx:
        from tenfold.export import frelu as ex
        from tenfold.export.runtime import runner

        xn = x.numpy()
        say("exporting ResNet-50-FReLU to ONNX")
        with tempfile.TemporaryDirectory() as tmp:
            path = ex.export_torch(_torch_model("resnet50", False), os.path.join(tmp, "frelu.onnx"),
                                   (batch, 3, size, size))
            if threads:  # the same thread count as torch (export.runtime.runner uses onnxruntime's default)
                import onnxruntime as ort

                opts = ort.SessionOptions()
                opts.intra_op_num_threads = threads
                session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
                provider = f"CPUExecutionProvider, {threads} thread(s)"
                fns["onnxruntime-frelu"] = lambda: session.run(None, {"x": xn})
            else:
                run = runner(path, "cpu")
                provider = run.provider
                fns["onnxruntime-frelu"] = lambda: run(xn)
    times: dict[str, list[float]] = {name: [] for name in fns}
    with torch.inference_mode():
        say("warm-up")
        for fn in fns.values():  # warm-up: kernel selection, allocator
            fn()
        for i in range(repeat):
            say(f"timing round {i + 1} of {repeat} ({len(fns)} variants)")
            for name, fn in fns.items():
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    say.close()
    rows = []
    for name, ts in times.items():
        sec = statistics.median(ts)
        label = f"{name} ({provider})" if name.startswith("onnxruntime") else name
        rows.append({"variant": label, "ms": 1e3 * sec, "best_ms": 1e3 * min(ts), "img_per_s": batch / sec,
                     "repeat": repeat})
    return rows


def _calibrated(preset: str, images: np.ndarray):
    """ResNet-50-FReLU with random weights and BatchNorm statistics estimated on ``images`` (cumulative average)."""
    import torch

    model = _torch_model(preset, fold=False)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches
    model.train()
    with torch.no_grad():
        for i in range(0, len(images), 8):
            model(torch.from_numpy(images[i:i + 8]))
    return model.eval()


def onnx_suite(batch: int, size: int, repeat: int, quant_images: int, threads: int, device: str = "auto"
               ) -> list[dict]:
    """The onnxruntime rows of :mod:`tenfold.benchmarks.onnx_speed` for ResNet-50-FReLU."""
    import torch

    from tenfold.export import frelu as ex
    from tenfold.export import optimize
    from tenfold.export.quantize import quantize_int8
    from tenfold.numpy_ref.frelu import nets as ref_nets
    from tenfold.spec.frelu import nets
    from tenfold.torch_backend.frelu import nets as tb

    from . import onnx_speed as ox

    config = nets.PRESETS["resnet50"]()
    meta = ex.input_convention(config, (size, size))
    batches = ox.image_batches(max(quant_images, 32, batch), batch, (size, size), meta)
    calib = np.concatenate(list(_take(batches(), 32)))[:32]
    model = _calibrated("resnet50", calib)
    params = {k: v.astype(np.float64) for k, v in tb.get_params(model).items()}
    x = calib[:batch]
    xt = torch.from_numpy(x)
    expected = ref_nets.forward(x.astype(np.float64), params, config)
    tol = nets.TOLERANCES.onnx["float32"]
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        ex.export_torch(model, d / "o18.onnx", (batch, 3, size, size))
        optimize.optimize_offline(d / "o18.onnx", d / "offline.onnx", level="extended")
        optimize.optimize_offline(d / "o18.onnx", d / "offline_all.onnx", level="all")
        V = ox.Variant
        variants = [
            V("opset 18 export (BatchNorm folded), no graph optimisation", d / "o18.onnx", "disable"),
            V("+ level basic (constant folding, redundant nodes)", d / "o18.onnx", "basic"),
            V("+ level extended (Conv+Add/Relu fusions)", d / "o18.onnx", "extended"),
            V("+ level all (NCHWc layout; the runner's default)", d / "o18.onnx", "all"),
            V("optimised graph saved offline (extended), level all", d / "offline.onnx", "all",
              "portable file; the NCHWc passes run at start-up"),
            V("optimised graph saved offline (all), no passes at load", d / "offline_all.onnx", "disable",
              "this CPU only (onnxruntime warns: hardware-specific layouts)"),
        ]
        rows = ox.variant_table(lambda: model(xt), variants, x, expected, tol.atol, tol.rtol, repeat)
        next(r for r in rows if r["variant"].startswith("+ level all"))["headline"] = True
        dev = ox.pick_device(device)
        torch_fn = ox.torch_callable(model, xt, dev[0])
        wall = ox.wall_table(torch_fn, [v for v in variants if v.label.startswith("+ level all")], x, repeat,
                             threads or None, dev)
        model = model.cpu()
        wall[1]["headline"] = True
        rows += wall
        if quant_images > 0:
            quantize_int8(d / "o18.onnx", d / "dyn.onnx", x, provider="cpu", mode="dynamic")
            quantize_int8(d / "o18.onnx", d / "qdq.onnx", x, provider="cpu", mode="static", calibration=calib)
            rows += ox.quant_table(d / "o18.onnx", {"int8 dynamic (ConvInteger)": d / "dyn.onnx",
                                                    "int8 static QDQ (QLinearConv)": d / "qdq.onnx"},
                                   x, batches, quant_images, repeat)
    return rows


def _take(gen, n: int):
    got = 0
    for xb in gen:
        yield xb
        got += len(xb)
        if got >= n:
            return


def report(rows: list[dict], batch: int, size: int) -> str:
    """A table of the measurements and the ratios."""
    by = {r["variant"].split(" ")[0]: r for r in rows if "part" not in r}
    lines = [f"ResNet-50, batch {batch} at {size}x{size}, float32, CPU inference (interleaved rounds)",
             f"{'variant':<54} {'median ms':>9} {'best ms':>8} {'img/s':>7}"]
    lines += [f"{r['variant']:<54} {r['ms']:>9.1f} {r['best_ms']:>8.1f} {r['img_per_s']:>7.1f}" for r in rows
              if "part" not in r]
    f, r = by["torch-frelu"], by["torch-relu"]
    lines.append(f"price of the funnel: FReLU / ReLU throughput x{f['img_per_s'] / r['img_per_s']:.2f} "
                 f"(time x{f['ms'] / r['ms']:.2f}; best-of times x{f['best_ms'] / r['best_ms']:.2f})")
    lines.append(f"BatchNorm folded / unfolded (torch eager): throughput "
                 f"x{by['torch-frelu-folded']['img_per_s'] / f['img_per_s']:.2f}")
    if "onnxruntime-frelu" in by:
        lines.append(f"onnxruntime / torch eager (FReLU): throughput "
                     f"x{by['onnxruntime-frelu']['img_per_s'] / f['img_per_s']:.2f}")
    suite = [r for r in rows if "part" in r]
    if suite:
        from .onnx_speed import format_report

        lines += ["", format_report(suite, f"onnxruntime vs torch eager, ResNet-50-FReLU, batch {batch} at "
                                           f"{size}x{size}, fp32")]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tenfold bench frelu", description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1,
                        help="intra-op threads of torch and onnxruntime (default 1: on a shared, loaded machine "
                             "two spinning OpenMP threads slow every variant by large, erratic factors; 0 keeps "
                             "the frameworks' defaults)")
    parser.add_argument("--no-onnx", action="store_true", help="skip the ONNX export and onnxruntime run")
    parser.add_argument("--quant-images", type=int, default=1000, help="images of the int8 top-1 agreement "
                        "(0 skips the int8 table; default 1000)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="device of the onnxruntime "
                        "wall-clock comparison (auto: CUDA when torch and onnxruntime both have it)")
    parser.add_argument("--json", help="also write the measurements to this file")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    rows = measure(args.batch, args.size, args.repeat, not args.no_onnx, args.threads)
    if not args.no_onnx:
        rows += onnx_suite(args.batch, args.size, args.repeat, args.quant_images, args.threads, args.device)
    return emit(report(rows, args.batch, args.size), rows, args.json)


if __name__ == "__main__":
    sys.exit(main())
