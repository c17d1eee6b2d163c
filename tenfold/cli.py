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
    from tenfold.commands import info, show, train
    from tenfold.conformance import cli as conformance_cli
    from tenfold.export import cli as export_cli
    from tenfold.export import run_cli

    parser = argparse.ArgumentParser(prog="tenfold", description="tenfold: ten methods of 2020, proved equal "
                                     "across NumPy, PyTorch, TensorFlow and ONNX.")
    parser.add_argument("--version", action="version", version=f"tenfold {__version__}")
    parser.add_argument("-q", "--quiet", dest="no_progress", action="store_true",
                        help="no progress output from any command (also: TENFOLD_PROGRESS=none)")
    sub = parser.add_subparsers(dest="command", required=True)
    commands = (  # each command's module offers add_arguments(parser) and run(args) -> exit status
        ("conformance", conformance_cli, "run the conformance suite and print the matrix"),
        ("bench", bench_cli, "run a method's benchmark against its peers"),
        ("export", export_cli, "export a model to ONNX, check it in onnxruntime, optionally quantize"),
        ("run-onnx", run_cli, "classify images with an exported model (onnxruntime only)"),
        ("train", train, "real training runs on the digits set of scikit-learn"),
        ("show", show, "draw a method's effect on an image as a PNG grid"),
        ("info", info, "the methods; for one id: paper, presets and the source of every default, tolerances"),
    )
    for name, module, help_text in commands:
        command = sub.add_parser(name, help=help_text)
        module.add_arguments(command)
        command.set_defaults(func=module.run)
    args = parser.parse_args(argv)
    from tenfold import progress

    before = progress.get_mode()
    if args.no_progress:
        progress.set_mode("none")
    try:
        return args.func(args)
    finally:
        progress.set_mode(before)


if __name__ == "__main__":
    sys.exit(main())
