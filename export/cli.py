"""``tenfold export <method> ...``: build a model, export it to ONNX, check it, optionally quantize it.

Each exportable method contributes a sub-command: its ``tenfold.export.<id>``
module defines ``add_cli_arguments(parser)`` and ``cli_export(args) -> int``
(ViT and FReLU do; SAN plugs in the same way), and optionally
``CLI_ALIASES = {"name": {"option": default}}`` for shortcuts such as
``tenfold export frelu-resnet50`` (= ``tenfold export frelu --preset resnet50``).
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
        first_line = (module.__doc__ or method).strip().splitlines()[0]
        commands = {method: {}, **getattr(module, "CLI_ALIASES", {})}  # e.g. frelu-resnet50 -> preset resnet50
        for name, defaults in commands.items():
            p = sub.add_parser(name, help=first_line if not defaults else f"{method} with {defaults}")
            module.add_cli_arguments(p)
            p.set_defaults(export_fn=module.cli_export, **defaults)


def run(args: argparse.Namespace) -> int:
    return args.export_fn(args)
