"""The ``tenfold`` command: ``conformance``, ``bench``, ``export`` and ``run-onnx`` subcommands."""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tenfold`` console script and ``python -m tenfold``."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # our tool, our logs: no oneDNN banners
    from tenfold import __version__
    from tenfold.benchmarks import cli as bench_cli
    from tenfold.conformance import cli as conformance_cli
    from tenfold.export import cli as export_cli
    from tenfold.export import run_cli

    parser = argparse.ArgumentParser(prog="tenfold", description="tenfold: ten methods of 2020, proved equal "
                                     "across NumPy, PyTorch, TensorFlow and ONNX.")
    parser.add_argument("--version", action="version", version=f"tenfold {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    conf = sub.add_parser("conformance", help="run the conformance suite and print the matrix")
    conformance_cli.add_arguments(conf)
    conf.set_defaults(func=conformance_cli.run)
    bench = sub.add_parser("bench", help="run a method's benchmark against its peers")
    bench_cli.add_arguments(bench)
    bench.set_defaults(func=bench_cli.run)
    export = sub.add_parser("export", help="export a model to ONNX, check it in onnxruntime, optionally quantize")
    export_cli.add_arguments(export)
    export.set_defaults(func=export_cli.run)
    run_onnx = sub.add_parser("run-onnx", help="classify images with an exported model (onnxruntime only)")
    run_cli.add_arguments(run_onnx)
    run_onnx.set_defaults(func=run_cli.run)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
