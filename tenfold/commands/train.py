"""``tenfold train TARGET``: real training runs on data that ships in a package (``tenfold.runs.<id>``)."""

from __future__ import annotations

import argparse

from . import dispatch

NAMES = {"train": {}}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    dispatch.add_targets(parser, "tenfold.runs")


def run(args: argparse.Namespace) -> int:
    return dispatch.run(args)
