"""``tenfold show ID IMAGE --out grid.png``: a method's effect on an image as a PNG grid (``tenfold.show.<id>``)."""

from __future__ import annotations

import argparse

from . import dispatch

NAMES = {"show": {}}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    dispatch.add_targets(parser, "tenfold.show")


def run(args: argparse.Namespace) -> int:
    return dispatch.run(args)
