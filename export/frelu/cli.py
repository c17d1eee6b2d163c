"""``tenfold export frelu[-PRESET]``: export a FReLU network preset to ONNX and check it.

Builds the preset (weights from ``--weights`` — an ``.npz`` of canonical
names, as :func:`tenfold.spec.frelu.nets.param_shapes` lists them — or seeded
random ones), folds BatchNorm, exports from the chosen backend, writes the
file atomically, then (unless ``--no-check``) runs it in onnxruntime against
the float64 NumPy reference on a random batch. Meant to be wired as
``tenfold export frelu-<preset>``.

Exit status: 0 on success, 2 on bad arguments, a failed export or a failed check.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from tenfold import progress
from tenfold.spec.checkpoints import check_writable
from tenfold.spec.errors import TenfoldError
from tenfold.spec.frelu import nets as nets

#: ``tenfold export frelu`` and ``tenfold export frelu-<preset>`` for every preset (``frelu-resnet50`` ...).
NAMES = {"frelu": {}, **{f"frelu-{name}": {"preset": name} for name in nets.PRESETS}}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", choices=tuple(nets.PRESETS), default="resnet50", help="network (default resnet50)")
    parser.add_argument("--backend", choices=("torch", "tf"), default="torch", help="exporting framework")
    parser.add_argument("--out", required=True, help="path of the .onnx file to write")
    parser.add_argument("--weights", help=".npz of canonical parameters (default: seeded random weights)")
    parser.add_argument("--size", type=int, default=224, help="input height and width (default 224)")
    parser.add_argument("--batch-sizes", default="1,3", help="batch sizes of the check run (the batch is dynamic)")
    parser.add_argument("--opset", type=int, help="ONNX opset (default 18)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights and check batch")
    parser.add_argument("--no-check", action="store_true", help="skip the onnxruntime vs numpy_ref check")


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from tenfold.cli import error_line

    from .. import frelu as ex

    name = f"frelu-{args.preset}"
    config = nets.PRESETS[args.preset]()
    say = progress.Steps(f"{name} export", stream=sys.stdout)
    try:
        check_writable(args.out, f"export {name} --out")  # before building or exporting anything
        sizes = tuple(int(b) for b in args.batch_sizes.split(","))
        shape = (max(sizes), config.in_channels, args.size, args.size)
        start = time.perf_counter()
        source = args.weights or f"random init (seed {args.seed}), for a trial of the pipeline only"
        say(f"building the {args.backend} model; weights: {source}")
        model, params = ex.build_model(config, args.backend, args.weights, args.seed)
        say(f"folding BatchNorm and exporting from {args.backend}")
        export, opset = (ex.export_torch, ex.TORCH_OPSET) if args.backend == "torch" else (ex.export_tf, ex.TF_OPSET)
        path = export(model, args.out, shape, args.opset or opset)
        say(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MB, float32, "
            f"input x: (batch, {config.in_channels}, {args.size}, {args.size}))")
        if not args.no_check:
            rng = np.random.default_rng(args.seed)
            say(f"checking in onnxruntime against numpy_ref (float64) at batch sizes {list(sizes)}")
            err = ex.verify(path, params, config, lambda b: rng.normal(size=(b, *shape[1:])).astype(np.float32), sizes)
            say(f"check passed: onnxruntime vs numpy_ref (float64) at batch sizes {list(sizes)}, "
                f"max error {err:.2e} of max(1, max |logit|)")
    except (TenfoldError, OSError, ValueError) as err:
        say.close()
        print(error_line(f"export {name}", err), file=sys.stderr)
        return 2
    say.close()
    print(f"[{name} export] done in {time.perf_counter() - start:.1f} s: {path}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tenfold.export.frelu", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
