"""``tenfold bench <id>``: run the benchmark of one method (``tenfold.benchmarks.<id>``)."""

from __future__ import annotations

import argparse
import importlib
import importlib.util

from tenfold import spec


def benchmarked() -> tuple[str, ...]:
    """The method ids that have a benchmark module."""
    return tuple(m for m in spec.METHOD_IDS if importlib.util.find_spec(f"{__package__}.{m}") is not None)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="no progress lines (give it before the id)")
    parser.add_argument("method", choices=benchmarked(), help="method id")
    parser.add_argument("rest", nargs=argparse.REMAINDER, help="options of that benchmark (see --help after the id)")


def run(args: argparse.Namespace) -> int:
    from tenfold import progress

    before = progress.get_mode()
    if args.quiet:
        progress.set_mode("none")
    try:
        return importlib.import_module(f"{__package__}.{args.method}").main(args.rest)
    finally:
        progress.set_mode(before)
