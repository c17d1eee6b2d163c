"""The ``tenfold`` command: ``conformance``, ``bench``, ``export``, ``run-onnx``, ``info``... subcommands.

Exit status (the same for every subcommand, listed in ``tenfold --help``):
:data:`EXIT_OK` 0, :data:`EXIT_FAILED` 1 (checks ran and some failed),
:data:`EXIT_USAGE` 2 (bad arguments, an unknown id, a backend or optional
package that is not installed, a bad input file, a failed export),
:data:`EXIT_INTERNAL` 3 (an unexpected error: a bug), 130 (interrupted), 141
(output pipe closed, as ``head`` does).

Every failure is one line on stderr, never a traceback (``TENFOLD_DEBUG=1``
shows the traceback of an internal error). Only the module of the subcommand
being run is imported, so ``tenfold X --help`` and ``tenfold X`` need only the
extras ``X`` needs (``run-onnx`` needs onnxruntime, never onnx, torch or TensorFlow).
"""

from __future__ import annotations

import argparse
import importlib
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
       installed, an unreadable or invalid input file, an unwritable output, a failed export
  3    internal error (a bug: one line; TENFOLD_DEBUG=1 prints its traceback)
  130  interrupted (Ctrl-C); 141: the output pipe was closed (e.g. `tenfold info | head`)

environment: TENFOLD_PROGRESS=auto|bar|plain|none (progress display; -q is none)"""

#: name -> (module offering ``add_arguments(parser)`` and ``run(args) -> int``, help line).
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("conformance", "tenfold.conformance.cli", "run the conformance suite and print the matrix"),
    ("bench", "tenfold.benchmarks.cli", "run a method's benchmark against its peers"),
    ("export", "tenfold.export.cli", "export a model to ONNX, check it in onnxruntime, optionally quantize"),
    ("run-onnx", "tenfold.export.run_cli", "classify images with an exported model (onnxruntime only)"),
    ("verify", "tenfold.commands.verify", "check any ONNX classifier against numpy_ref on your weights and images"),
    ("demo", "tenfold.commands.demo", "end to end on scikit-learn's digits: train, export, verify, serve"),
    ("train", "tenfold.commands.train", "real training runs on the digits set of scikit-learn"),
    ("show", "tenfold.commands.show", "draw a method's effect on an image as a PNG grid"),
    ("info", "tenfold.commands.info", "the methods; for one id: paper, presets and the source of every default, "
     "tolerances"),
    ("toonify", "tenfold.commands.toonify", "blend two StyleGAN2 generators by resolution; draw samples as a PNG "
     "grid"),
)

#: Optional Python packages -> the extra of tenfold that installs them.
_EXTRAS = {"torch": "torch", "tensorflow": "tf", "keras": "tf", "onnx": "onnx", "onnxruntime": "onnx",
           "onnxscript": "onnx", "tf2onnx": "onnx", "rich": "progress", "sklearn": "data", "PIL": "data"}


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line on stderr (exit status 2)."""

    def error(self, message: str) -> None:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {' '.join(message.split())} (see '{self.prog} --help')\n")


def _missing_package(err: ImportError) -> str | None:
    top = (err.name or "").split(".")[0]
    if top in _EXTRAS:
        return f"needs the optional package {top!r}: pip install 'tenfold[{_EXTRAS[top]}]'"
    return None


def error_line(command: str, err: BaseException | str) -> str:
    """``"tenfold <command>: <message>"`` on one line.

    A message whose ``where`` already names the command (``"run-onnx: ..."``,
    ``"export vit --out: ..."``, ``"tenfold show: ..."``, ``"tenfold toonify sample: ..."``) is not prefixed twice.
    """
    text = " ".join(str(err).split())[:2000] or type(err).__name__
    if text.startswith((f"tenfold {command}: ", f"tenfold {command} ")):
        return text
    if text.startswith((f"{command}: ", f"{command} -")):
        return f"tenfold {text}"
    return f"tenfold {command}: {text}"


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


def _command_of(argv: list[str]) -> str | None:
    return next((a for a in argv if not a.startswith("-")), None)


def _main(argv: list[str] | None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # our tool, our logs: no oneDNN banners
    from tenfold import __version__

    argv = sys.argv[1:] if argv is None else list(argv)
    parser = Parser(prog="tenfold", description="tenfold: ten methods of 2020, proved equal across NumPy, PyTorch, "
                    "TensorFlow and ONNX.", epilog=EXIT_STATUS, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"tenfold {__version__}")
    parser.add_argument("-q", "--quiet", dest="no_progress", action="store_true",
                        help="no progress output from any command (also: TENFOLD_PROGRESS=none)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = _command_of(argv)
    for name, module_name, help_text in COMMANDS:
        command = sub.add_parser(name, help=help_text, description=help_text, epilog=EXIT_STATUS,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
        if name != chosen:
            continue  # only the chosen subcommand's module is imported
        try:
            module = importlib.import_module(module_name)
            module.add_arguments(command)
        except ImportError as err:
            print(f"tenfold {name}: {_missing_package(err) or f'cannot import {err.name or err}'}", file=sys.stderr)
            return EXIT_USAGE
        command.set_defaults(func=module.run)
    args = parser.parse_args(argv)
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    """Run a subcommand: every exception becomes one line on stderr and an exit status (see the module doc)."""
    from tenfold import progress
    from tenfold.spec.errors import TenfoldError

    before = progress.get_mode()
    if args.no_progress:
        progress.set_mode("none")
    try:
        return args.func(args)
    except (TenfoldError, OSError) as err:  # a bad input or file the command did not catch itself
        if isinstance(err, BrokenPipeError):
            raise
        print(error_line(args.command, err), file=sys.stderr)
        return EXIT_USAGE
    except ImportError as err:
        hint = _missing_package(err)
        if hint is None:
            return _internal(args.command, err)
        print(f"tenfold {args.command}: {hint}", file=sys.stderr)
        return EXIT_USAGE
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as err:
        return _internal(args.command, err)
    finally:
        progress.close_all()
        progress.set_mode(before)


def _internal(command: str, err: BaseException) -> int:
    if os.environ.get("TENFOLD_DEBUG"):
        traceback.print_exception(err)
    print(error_line(command, f"internal error (a bug; TENFOLD_DEBUG=1 prints the traceback; please report it): "
                              f"{type(err).__name__}: {err}"), file=sys.stderr)
    return EXIT_INTERNAL


__all__ = ["COMMANDS", "EXIT_FAILED", "EXIT_INTERNAL", "EXIT_OK", "EXIT_STATUS", "EXIT_USAGE", "error_line", "main"]


if __name__ == "__main__":
    sys.exit(main())
