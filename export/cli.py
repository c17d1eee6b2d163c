"""``tenfold export <method> ...``: build a model, export it to ONNX, check it, optionally quantize it.

Each exportable method contributes a sub-command: its ``tenfold.export.<id>``
module defines ``add_cli_arguments(parser)`` and ``cli_export(args) -> int``
(ViT does; SAN and FReLU plug in the same way).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util

from tenfold import spec


def exportable() -> tuple[str, ...]:
    """Method ids whose export module offers a command line."""
    out = []
    for m in spec.METHOD_IDS:
        if importlib.util.find_spec(f"{__package__}.{m}") is None:
            continue
        module = importlib.import_module(f"{__package__}.{m}")
        if hasattr(module, "cli_export") and hasattr(module, "add_cli_arguments"):
            out.append(m)
    return tuple(out)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="method", required=True, metavar="METHOD")
    for method in exportable():
        module = importlib.import_module(f"{__package__}.{method}")
        p = sub.add_parser(method, help=(module.__doc__ or method).strip().splitlines()[0])
        module.add_cli_arguments(p)
        p.set_defaults(export_fn=module.cli_export)


def run(args: argparse.Namespace) -> int:
    return args.export_fn(args)
