"""The ``tenfold`` command: ``conformance``, ``bench``, ``export``, ``run-onnx``, ``info``... subcommands.

Exit status (the same for every subcommand, listed in ``tenfold --help``):
:data:`EXIT_OK` 0, :data:`EXIT_FAILED` 1 (checks ran and some failed),
:data:`EXIT_USAGE` 2 (bad arguments, an unknown id, a backend or optional
package that is not installed, a bad input file, a failed export),
:data:`EXIT_INTERNAL` 3 (an unexpected error: a bug, reported with its
traceback), 130 (interrupted), 141 (output pipe closed, as ``head`` does).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 130, 141

EXIT_STATUS = """\
exit status:
  0    success (conformance: every check passed)
  1    checks ran and some failed (each failure is printed with the command that reproduces it)
  2    usage: bad arguments, an unknown method id, a backend or optional package that is not
       installed, an unreadable or invalid input file, a failed export
  3    internal error (a bug; the traceback is printed)
  130  interrupted (Ctrl-C); 141: the output pipe was closed (e.g. `tenfold info | head`)

environment: TENFOLD_PROGRESS=auto|bar|plain|none (progress display; -q is none)"""

#: Optional Python packages -> the extra of tenfold that installs them.
_EXTRAS = {"torch": "torch", "tensorflow": "tf", "onnx": "onnx", "onnxruntime": "onnx", "onnxscript": "onnx",
           "tf2onnx": "onnx", "rich": "progress", "sklearn": "data", "PIL": "data"}


def _missing_package(err: ImportError) -> str | None:
    top = (err.name or "").split(".")[0]
    if top in _EXTRAS:
        return f"needs the optional package {top!r}: pip install 'tenfold[{_EXTRAS[top]}]'"
    return None


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tenfold`` console script and ``python -m tenfold``; returns the exit status."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("tenfold: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        try:  # no second error when Python flushes stdout at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):  # stdout is not a file (captured)
            pass
        return EXIT_BROKEN_PIPE


def _main(argv: list[str] | None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # our tool, our logs: no oneDNN banners
    from tenfold import __version__
    from tenfold.benchmarks import cli as bench_cli
    from tenfold.commands import info, show, train
    from tenfold.conformance import cli as conformance_cli
    from tenfold.export import cli as export_cli
    from tenfold.export import run_cli

    parser = argparse.ArgumentParser(prog="tenfold", description="tenfold: ten methods of 2020, proved equal "
                                     "across NumPy, PyTorch, TensorFlow and ONNX.", epilog=EXIT_STATUS,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
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
        command = sub.add_parser(name, help=help_text, description=help_text, epilog=EXIT_STATUS,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(command)
        command.set_defaults(func=module.run)
    args = parser.parse_args(argv)
    from tenfold import progress
    from tenfold.spec.errors import TenfoldError

    before = progress.get_mode()
    if args.no_progress:
        progress.set_mode("none")
    try:
        return args.func(args)
    except TenfoldError as err:  # a bad input the command did not catch itself
        print(f"tenfold {args.command}: {err}", file=sys.stderr)
        return EXIT_USAGE
    except ImportError as err:
        hint = _missing_package(err)
        if hint is None:
            raise
        print(f"tenfold {args.command}: {hint}", file=sys.stderr)
        return EXIT_USAGE
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception:
        traceback.print_exc()
        print(f"tenfold {args.command}: internal error (a bug): please report it with the traceback above",
              file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        progress.close_all()
        progress.set_mode(before)


__all__ = ["EXIT_FAILED", "EXIT_INTERNAL", "EXIT_OK", "EXIT_STATUS", "EXIT_USAGE", "main"]


if __name__ == "__main__":
    sys.exit(main())
