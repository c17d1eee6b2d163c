"""``tenfold export <target> ...``: build a model, export it to ONNX, check it, optionally quantize it.

Each exportable method is a :class:`~tenfold.spec.contracts.CliPlugin`:
``tenfold.export.<id>`` (or ``tenfold.export.<id>.cli`` for a subpackage)
defines ``NAMES`` (``{"frelu": {}, "frelu-resnet50": {"preset": "resnet50"}}``),
``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse

from tenfold.commands import dispatch


def exportable() -> tuple[str, ...]:
    """Method ids whose export module offers a command line."""
    return tuple(m.__name__.removesuffix(".cli").rsplit(".", 1)[1] for m in dispatch.plugins(__package__))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    dispatch.add_targets(parser, __package__, dest="method")


def run(args: argparse.Namespace) -> int:
    return dispatch.run(args)
