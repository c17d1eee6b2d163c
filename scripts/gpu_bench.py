"""GPU timings: SAN10/15/19 (pair, patch) beside torchvision's ResNet-50 on one CUDA device, same run.

fp32 (TF32 off), eval mode, batch 8 at 224 by default: images/s (median of
``--repeat`` timed batches after warm-up, CUDA-synchronised) and the peak
memory the forward pass allocates. Usage: ``python scripts/gpu_bench.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args(argv)
    import torch
    import torchvision

    from tenfold.spec.san import nets
    from tenfold.torch_backend import san as tb

    if not torch.cuda.is_available():
        print("gpu_bench: no CUDA device", file=sys.stderr)
        return 2
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = torch.device("cuda")
    x = torch.randn(args.batch, 3, args.size, args.size, device=dev)
    names = ["resnet50", "san10-pair", "san10-patch", "san15-pair", "san15-patch", "san19-pair", "san19-patch"]
    rows = {}
    for name in names:
        model = (torchvision.models.resnet50() if name == "resnet50" else tb.SAN(nets.PRESETS[name]())).to(dev).eval()
        with torch.inference_mode():
            for _ in range(3):
                model(x)
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                model(x)
                torch.cuda.synchronize()
                times.append(time.perf_counter() - t0)
        peak = (torch.cuda.max_memory_allocated() - base) / 2**20
        rows[name] = (args.batch / statistics.median(times), peak)
        del model
        torch.cuda.empty_cache()
    r50, r50_mem = rows["resnet50"]
    print(f"{torch.cuda.get_device_name(0)}, fp32 (TF32 off), batch {args.batch} at {args.size}")
    print(f"{'network':<12} {'images/s':>9} {'x ResNet-50':>11} {'peak MiB':>9} {'x ResNet-50':>11}")
    for name, (ips, mem) in rows.items():
        print(f"{name:<12} {ips:>9.1f} {ips / r50:>11.2f} {mem:>9.0f} {mem / r50_mem:>11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
