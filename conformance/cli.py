"""``tenfold conformance``: run the suite and print the method x backend x dtype matrix."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections import Counter

from tenfold import progress, spec
from tenfold.spec.checkpoints import check_writable
from tenfold.spec.errors import BackendUnavailableError

from . import backends, report, runner


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--method", action="append", choices=spec.METHOD_IDS, help="method id (repeatable)")
    parser.add_argument("--backend", action="append", choices=tuple(backends.BACKENDS),
                        help="backend (repeatable); default: every installed one")
    parser.add_argument("--dtype", action="append", help="dtype (repeatable), e.g. float32")
    parser.add_argument("--mode", action="append", help="mode (repeatable), e.g. eager, graph, grad, api")
    parser.add_argument("--case", action="append", help="case name (repeatable)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the case generator (default 0)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--report", metavar="PATH", help="also write an HTML report (heat map of error over "
                        "tolerance, failures with their repro commands) and a PNG of the heat map next to it")
    parser.add_argument("--quiet", action="store_true", help="no progress; print only the summary and failures")
    parser.add_argument("--sensitivity", action="store_true",
                        help="instead: flip each documented convention in the reference and show that the suite "
                             "then fails (exit 1 if a convention is not guarded)")
    parser.add_argument("--weights", metavar="W", help="run the model suites of one --method (vit, frelu) on these "
                        "weights instead of random tiny models (ViT: official .npz or timm .pth; FReLU: .npz)")
    parser.add_argument("--preset", help="with --weights: config preset (ViT: B/16, ..., tiny; FReLU: resnet50, ...)")
    parser.add_argument("--config", help="with --weights: config fields as a JSON object or file")


def _run_sensitivity(args: argparse.Namespace) -> int:
    from . import sensitivity

    rows = [sensitivity.run_flipped(c, args.seed) for c in sensitivity.CONVENTIONS
            if not args.method or c.method in args.method]
    print(sensitivity.format_table(rows))
    for s in rows:
        if s.guarded:
            print(f"  {s.convention.id}: e.g. {s.example}  (fails with the flip, passes without)")
    return 0 if all(s.guarded for s in rows) else 1


def run(args: argparse.Namespace) -> int:
    for flag, path in (("--json", args.json), ("--report", getattr(args, "report", None))):
        if path:
            check_writable(path, f"conformance {flag}")  # before the suite runs, not after
    if getattr(args, "sensitivity", False):
        return _run_sensitivity(args)
    if args.backend:
        try:
            for b in args.backend:
                backends.require(b)
        except BackendUnavailableError as err:
            print(f"tenfold conformance: {err}", file=sys.stderr)
            return 2
        picked = args.backend
    else:
        picked = [b for b in backends.BACKENDS if backends.available(b)]
        missing = sorted(set(backends.BACKENDS) - set(picked))
        if missing:
            print(f"note: not installed, skipped: {', '.join(missing)}", file=sys.stderr)
    if args.weights:
        from tenfold.spec.errors import TenfoldError

        from . import weights

        if not args.method or len(args.method) != 1:
            print("tenfold conformance: --weights needs exactly one --method", file=sys.stderr)
            return 2
        try:
            from tenfold.export.verify import parse_config

            checks = weights.plan(args.method[0], args.weights, args.preset, parse_config(args.config), picked,
                                  args.dtype, args.mode, args.seed)
        except (TenfoldError, OSError) as err:
            print(f"tenfold conformance: {err}", file=sys.stderr)
            return 2
        if checks:
            print(weights.describe(args.method[0], args.weights, checks), flush=True)
    else:
        checks = runner.plan(args.method, picked, args.dtype, args.mode, args.case, args.seed)
    if not checks:
        print("tenfold conformance: no check matches the filters", file=sys.stderr)
        return 2
    groups = Counter(c.method for c in checks)
    with progress.Progress(len(checks), "conformance", groups=groups, mode="none" if args.quiet else None) as bar:
        results = runner.run(checks, on_result=lambda r: bar.advance(r.method, ok=r.passed))
    text = report.format_matrix(results)
    if args.quiet:
        text = text[text.index("\n\n") + 2:]
    print(text)
    if args.json:
        report.write_json(results, args.json)
        print(f"wrote {args.json}")
    if args.report:
        from . import html_report

        command = "tenfold conformance " + " ".join(shlex.quote(a) for a in sys.argv[2:]) \
            if sys.argv[1:2] == ["conformance"] else ""
        html_file, png_file = html_report.write_report(results, args.report, command=command)
        print(f"wrote {html_file} and {png_file}")
    return 0 if all(r.passed for r in results) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tenfold conformance", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
