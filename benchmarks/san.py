"""Benchmark of SAN on the CPU: SAN10/15/19 against torchvision's ResNet-50, and onnxruntime against torch eager.

Inference at batch 8, 224 x 224, float32, for the six released SAN networks
(tenfold's PyTorch ``SAN`` in eval mode under ``inference_mode``: the lean
operator path) and torchvision's ResNet-50 (random weights: speed and memory
do not depend on them):

* **speed**: images/s, with ResNet-50 and the SANs timed in interleaved
  rounds *in one process of the peer environment* (``.venv-peers``: torch
  2.14 + torchvision; tenfold's modules are imported there from this tree
  through a folder of symlinks), so that every ratio compares the same torch
  build at the same moments of a shared, noisy machine;
* **peak memory**: the growth of the resident set size during the first
  forward pass, each network in its own fresh process (tenfold's in this
  environment, ResNet-50 in the peer one);
* **onnxruntime vs torch eager**: the torch export (:mod:`tenfold.export.san`)
  run by onnxruntime's CPU provider, interleaved with the eager model in one
  process of this environment.

Targets (issue 10): SAN10-patch at least as fast as ResNet-50 (1.9 against
4.1 GFLOPs per image), peak memory at most 2x ResNet-50's, onnxruntime at
least torch eager. Run ``tenfold bench san`` (``--size 128 --repeat 1 --networks
san10-patch`` for a quick look; ``--threads 0`` keeps the frameworks' thread
defaults).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import emit, in_subprocess, peak_extra_bytes, peers_python

NETWORKS = ("san10-pair", "san10-patch", "san15-pair", "san15-patch", "san19-pair", "san19-patch")
#: Official README: GFLOPs per 224 px image (ResNet-50: 4.1).
README_GFLOPS = {"san10-pair": 2.2, "san10-patch": 1.9, "san15-pair": 3.0, "san15-patch": 2.6, "san19-pair": 3.8,
                 "san19-patch": 3.3, "resnet50": 4.1}
ROOT = Path(__file__).resolve().parent.parent

# Runs in the peer interpreter: ResNet-50 (torchvision) and tenfold's SANs, interleaved, one JSON line out.
_PEER = r"""
import json, statistics, sys, time, torch, torchvision
batch, size, repeat, threads = (int(v) for v in sys.argv[1:5])
names = [n for n in sys.argv[5].split(",") if n]
if threads:
    torch.set_num_threads(threads)
models = {"resnet50": torchvision.models.resnet50().eval()}
from tenfold.spec.san import nets
from tenfold.torch_backend import san as tb
for n in names:
    models[n] = tb.SAN(nets.PRESETS[n]()).eval()
x = torch.randn(batch, 3, size, size)
times = {k: [] for k in models}
with torch.inference_mode():
    for m in models.values():
        m(x)
    for _ in range(repeat):
        for k, m in models.items():
            t = time.perf_counter(); m(x); times[k].append(time.perf_counter() - t)
print(json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__,
                  "threads": torch.get_num_threads(), "times": times}))
"""

# Runs in the peer interpreter: peak RSS growth of ResNet-50's first forward pass.
_PEER_MEMORY = r"""
import json, os, sys, threading, time, torch, torchvision
batch, size, threads = (int(v) for v in sys.argv[1:4])
if threads:
    torch.set_num_threads(threads)
page = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * page
m = torchvision.models.resnet50().eval()
x = torch.randn(batch, 3, size, size)
base = peak = rss(); done = threading.Event()
def sample():
    global peak
    while not done.is_set():
        peak = max(peak, rss()); time.sleep(0.001)
th = threading.Thread(target=sample, daemon=True); th.start()
with torch.inference_mode():
    m(x)
done.set(); th.join()
print(json.dumps({"peak_extra_bytes": max(peak, rss()) - base}))
"""


def _tenfold_tree(tmp: Path) -> Path:
    """A folder that makes ``tenfold.spec``, ``tenfold.numpy_ref`` and ``tenfold.torch_backend`` of this tree
    importable in the peer environment (symlinks)."""
    pkg = tmp / "tenfold"
    pkg.mkdir()
    (pkg / "__init__.py").symlink_to(ROOT / "tenfold" / "__init__.py")
    for sub in ("spec", "torch_backend", "numpy_ref"):
        (pkg / sub).symlink_to(ROOT / sub, target_is_directory=True)
    return tmp


def _peer(script: str, *args: str) -> dict | None:
    exe = peers_python()
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, PYTHONPATH=str(_tenfold_tree(Path(tmp))))
        proc = subprocess.run([str(exe), "-c", script, *args], capture_output=True, text=True, check=False, env=env,
                              cwd=tmp)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        print(f"note: the peer run failed: {proc.stderr[-800:]}", file=sys.stderr)
        return None
    return json.loads(lines[-1])


def _local_speed(names: list[str], batch: int, size: int, repeat: int, threads: int) -> dict:
    """The SANs alone in this environment (when there is no peer environment)."""
    import torch

    from tenfold.spec.san import nets
    from tenfold.torch_backend import san as tb

    if threads:
        torch.set_num_threads(threads)
    models = {n: tb.SAN(nets.PRESETS[n]()).eval() for n in names}
    x = torch.randn(batch, 3, size, size)
    times: dict[str, list[float]] = {k: [] for k in models}
    with torch.inference_mode():
        for m in models.values():
            m(x)
        for _ in range(repeat):
            for k, m in models.items():
                start = time.perf_counter()
                m(x)
                times[k].append(time.perf_counter() - start)
    return {"torch": torch.__version__, "threads": torch.get_num_threads(), "times": times}


def memory_worker(name: str, batch: int, size: int, threads: int) -> dict:
    """Peak RSS growth of one SAN's first forward pass (in a fresh process)."""
    import torch

    from tenfold.spec.san import nets
    from tenfold.torch_backend import san as tb

    if threads:
        torch.set_num_threads(threads)
    model = tb.SAN(nets.PRESETS[name]()).eval()
    x = torch.randn(batch, 3, size, size)

    def step():
        with torch.inference_mode():
            model(x)

    return {"peak_extra_bytes": peak_extra_bytes(step)}


def onnx_worker(name: str, batch: int, size: int, repeat: int, threads: int) -> dict:
    """Torch eager and onnxruntime (the torch export, CPU provider), interleaved in one process."""
    import numpy as np
    import onnxruntime as ort
    import torch

    from tenfold.export import san as ex
    from tenfold.spec.san import nets
    from tenfold.torch_backend import san as tb

    if threads:
        torch.set_num_threads(threads)
    config = nets.PRESETS[name]()
    model = tb.SAN(config).eval()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        path = Path(tmp) / f"{name}.onnx"
        ex.onnx_model_torch(model, (batch, 3, size, size), path=path)
        export_s = time.perf_counter() - start
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).normal(size=(batch, 3, size, size)).astype(np.float32)
    xt = torch.from_numpy(x)
    fns = {"torch": lambda: model(xt), "onnxruntime": lambda: session.run(None, {"input": x})}
    times: dict[str, list[float]] = {k: [] for k in fns}
    with torch.inference_mode():
        err = float(np.abs(fns["onnxruntime"]()[0] - fns["torch"]().numpy()).max())
        for _ in range(repeat):
            for k, fn in fns.items():
                start = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - start)
    return {"network": name, "export_s": export_s, "max_abs_diff": err, "onnxruntime_version": ort.__version__,
            "torch_version": torch.__version__, **{f"{k}_s": statistics.median(v) for k, v in times.items()}}


def measure(names: list[str], onnx_names: list[str], batch: int, size: int, repeat: int, threads: int) -> dict:
    """Every measurement of the benchmark (see the module docstring)."""
    common = ("--batch", str(batch), "--size", str(size), "--threads", str(threads))
    speed = _peer(_PEER, str(batch), str(size), str(repeat), str(threads), ",".join(names))
    if speed is None:
        print("note: no peer environment (.venv-peers with torchvision): ResNet-50 is not measured; "
              "run `bash scripts/peers.sh`", file=sys.stderr)
        speed = _local_speed(names, batch, size, repeat, threads)
    memory = {n: in_subprocess("tenfold.benchmarks.san", "--worker", f"memory:{n}", *common)["peak_extra_bytes"]
              for n in names}
    peer_mem = _peer(_PEER_MEMORY, str(batch), str(size), str(threads))
    if peer_mem is not None:
        memory["resnet50"] = peer_mem["peak_extra_bytes"]
    onnx = [in_subprocess("tenfold.benchmarks.san", "--worker", f"onnx:{n}", "--repeat", str(repeat), *common)
            for n in onnx_names]
    return {"batch": batch, "size": size, "speed": speed, "memory": memory, "onnx": onnx}


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(data: dict) -> str:
    """Tables and the target ratios."""
    batch, size, speed, memory = data["batch"], data["size"], data["speed"], data["memory"]
    med = {k: statistics.median(v) for k, v in speed["times"].items()}
    r50 = med.get("resnet50")
    lines = [f"SAN vs ResNet-50: batch {batch} at {size}x{size}, float32, CPU, {speed['threads']} thread(s), "
             f"torch {speed['torch']}" + (f" + torchvision {speed['torchvision']} (peer env)" if r50 else "")
             + f", {len(next(iter(speed['times'].values())))} interleaved rounds",
             f"{'network':<12} {'GFLOPs':>6} {'ms/batch':>9} {'images/s':>9} {'vs R50':>7} {'peak MB':>8} "
             f"{'vs R50':>7}"]
    for name, sec in med.items():
        mem = memory.get(name)
        rs = f"x{r50 / sec:.2f}" if r50 else "-"
        rm = f"x{mem / memory['resnet50']:.2f}" if mem is not None and memory.get("resnet50") else "-"
        lines.append(f"{name:<12} {README_GFLOPS.get(name, float('nan')):>6.1f} {1e3 * sec:>9.0f} {batch / sec:>9.2f} "
                     f"{rs:>7} {mem / 2 ** 20 if mem is not None else float('nan'):>8.0f} {rm:>7}")
    if r50 and "san10-patch" in med:
        s = r50 / med["san10-patch"]
        lines.append(f"target SAN10-patch speed >= ResNet-50: x{s:.2f} ({_verdict(s >= 1)})")
    if memory.get("resnet50"):
        worst = max((memory[n] / memory["resnet50"], n) for n in memory if n != "resnet50")
        lines.append(f"target peak memory <= 2x ResNet-50: worst x{worst[0]:.2f} ({worst[1]}; "
                     f"{_verdict(worst[0] <= 2)})")
    for row in data["onnx"]:
        s = row["torch_s"] / row["onnxruntime_s"]
        lines.append(f"onnxruntime {row['onnxruntime_version']} / torch {row['torch_version']} eager, "
                     f"{row['network']}: {1e3 * row['onnxruntime_s']:.0f} vs {1e3 * row['torch_s']:.0f} ms/batch, "
                     f"speed x{s:.2f} "
                     f"(target >= 1: {_verdict(s >= 1)}; export {row['export_s']:.0f} s, max |diff| "
                     f"{row['max_abs_diff']:.1e})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tenfold bench san", description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=224, help="input size (>= 128 for the released networks)")
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds (default 3)")
    parser.add_argument("--threads", type=int, default=1,
                        help="intra-op threads of torch and onnxruntime (default 1: figures that hold on a shared "
                             "machine; 0 keeps the frameworks' defaults)")
    parser.add_argument("--networks", default=",".join(NETWORKS), help="comma-separated SAN networks")
    parser.add_argument("--onnx", default="san10-patch",
                        help="networks to compare in onnxruntime (comma-separated; '' for none; each export "
                             "takes about a minute)")
    parser.add_argument("--json", help="also write the measurements to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.worker:
        kind, name = args.worker.split(":", 1)
        if kind == "memory":
            out = memory_worker(name, args.batch, args.size, args.threads)
        else:
            out = onnx_worker(name, args.batch, args.size, args.repeat, args.threads)
        print(json.dumps(out))
        return 0
    names = [n for n in args.networks.split(",") if n]
    onnx_names = [n for n in args.onnx.split(",") if n]
    bad = [n for n in names + onnx_names if n not in NETWORKS]
    if bad:
        parser.error(f"unknown networks {bad}; choose among {', '.join(NETWORKS)}")
    data = measure(names, onnx_names, args.batch, args.size, args.repeat, args.threads)
    return emit(report(data), data, args.json)


if __name__ == "__main__":
    sys.exit(main())
