"""``python -m tenfold.export.frelu``: export a FReLU network preset to ONNX and check it.

Builds the preset (weights from ``--weights`` — an ``.npz`` of canonical
names, as :func:`tenfold.spec.frelu_nets.param_shapes` lists them — or seeded
random ones), folds BatchNorm, exports from the chosen backend, writes the
file atomically, then (unless ``--no-check``) runs it in onnxruntime against
the float64 NumPy reference on a random batch. Meant to be wired as
``tenfold export frelu-<preset>``.

Exit status: 0 on success, 1 when the check fails, 2 on bad arguments or a failed export.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from tenfold.spec import frelu_nets as nets
from tenfold.spec.errors import TenfoldError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", choices=tuple(nets.PRESETS), default="resnet50", help="network (default resnet50)")
    parser.add_argument("--backend", choices=("torch", "tf"), default="torch", help="exporting framework")
    parser.add_argument("--out", required=True, help="path of the .onnx file to write")
    parser.add_argument("--weights", help=".npz of canonical parameters (default: seeded random weights)")
    parser.add_argument("--size", type=int, default=224, help="input height and width (default 224)")
    parser.add_argument("--batch", type=int, default=2, help="batch of the check run (the exported batch is dynamic)")
    parser.add_argument("--opset", type=int, help="ONNX opset (default 18)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights and check batch")
    parser.add_argument("--no-check", action="store_true", help="skip the onnxruntime vs numpy_ref check")


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from . import frelu as ex

    config = nets.PRESETS[args.preset]()
    shape = (args.batch, config.in_channels, args.size, args.size)
    try:
        start = time.perf_counter()
        model, params = ex.build_model(config, args.backend, args.weights, args.seed)
        if args.backend == "torch":
            path = ex.export_torch(model, args.out, shape, args.opset or ex.TORCH_OPSET)
        else:
            path = ex.export_tf(model, args.out, shape, args.opset or ex.TF_OPSET)
        took = time.perf_counter() - start
    except (TenfoldError, OSError) as err:
        print(f"tenfold export frelu-{args.preset}: {err}", file=sys.stderr)
        return 2
    size_mb = path.stat().st_size / 2**20
    print(f"wrote {path} ({size_mb:.1f} MB, frelu-{args.preset} from {args.backend}, BatchNorm folded, "
          f"float32, input x: (batch, {config.in_channels}, {args.size}, {args.size}), {took:.1f} s)")
    if args.no_check:
        return 0
    x = np.random.default_rng(args.seed).normal(size=shape)
    try:
        err = ex.verify(ex.onnx.load(str(path)), params, config, x)
    except TenfoldError as e:
        print(f"check FAILED: {e}", file=sys.stderr)
        return 1
    print(f"check passed: onnxruntime vs numpy_ref (float64) on batch {args.batch}, "
          f"max error {err:.2e} of max(1, max |logit|)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tenfold.export.frelu", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
