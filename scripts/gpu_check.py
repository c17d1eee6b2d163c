"""GPU check: the PyTorch conformance suites of every method, run on a CUDA device.

The torch backends are device-agnostic code; this runs the same conformance
checks the CPU suite runs (float32 and float64 against the float64 NumPy
reference, gradients, train steps) with every tensor on the GPU. It does so
without touching the suites: tensors the suites make (``torch.from_numpy``,
factory functions, module parameters) go to the device, and ``.numpy()``
comes back through the host. TF32 is off (``conformance.backends.prepare``).

Usage (on a machine with a GPU)::

    python scripts/gpu_check.py [--device cuda] [--method ID ...] [--seconds 300] [--json out.json]

Prints one line per method (checks passed / run, worst error over tolerance,
seconds) and every failure with its check id; exits 1 on any failure.
TensorFlow and onnxruntime suites are not run here (``--backend torch`` only).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def _send_to(device: str) -> None:
    """Make the suites' tensors live on ``device`` and read back through the host."""
    import torch

    torch.set_default_device(device)
    from_numpy = torch.from_numpy
    to_numpy = torch.Tensor.numpy
    torch.from_numpy = lambda a: from_numpy(a).to(device)
    torch.Tensor.numpy = lambda self, *a, **k: to_numpy(self.cpu() if self.device.type != "cpu" else self, *a, **k)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--method", action="append")
    parser.add_argument("--seconds", type=float, default=300.0, help="stop starting new methods after this long")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import torch

    from tenfold import spec
    from tenfold.conformance import backends, runner

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("gpu_check: no CUDA device; nothing checked", file=sys.stderr)
        return 2
    name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else args.device
    print(f"torch {torch.__version__} on {name}", flush=True)
    backends.prepare("torch")
    _send_to(args.device)
    start, failed, summary = time.perf_counter(), [], {}
    for method in args.method or spec.METHOD_IDS:
        if time.perf_counter() - start > args.seconds:
            print(f"{method}: skipped (time budget spent)", flush=True)
            continue
        t0 = time.perf_counter()
        checks = [c for c in runner.plan([method], ["torch"]) if c.mode != runner.API_MODE]
        results = runner.run(checks)
        bad = [r for r in results if not r.passed]
        worst = max((r.worst_ratio for r in results if r.passed), default=0.0)
        summary[method] = {"passed": len(results) - len(bad), "run": len(results), "worst_ratio": worst,
                           "seconds": time.perf_counter() - t0}
        print(f"{method:<8} {len(results) - len(bad):>4}/{len(results):<4} passed on {args.device}, worst err/tol "
              f"{worst:.3g}, {time.perf_counter() - t0:.1f} s", flush=True)
        failed += [f"{r.method}/{r.mode}/{r.dtype}/{r.case}: {r.detail[:300]}" for r in bad]
    for line in failed:
        print("FAILED", line)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"device": name, "summary": summary, "failures": failed}, fh, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
