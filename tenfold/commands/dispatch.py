"""A subcommand whose targets are plug-in modules of one package (``tenfold train simclr-digits``).

Every module ``<package>.<id>`` (``id`` in :data:`tenfold.spec.ALL_METHOD_IDS`),
or ``<package>.<id>.cli`` when ``<id>`` is a subpackage, is a
:class:`~tenfold.spec.contracts.CliPlugin`; each name in its
``NAMES`` becomes a target with the argument defaults given there.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util

from tenfold import progress, spec
from tenfold.spec.contracts import plugin_names


def plugin_module(package: str, method: str):
    """``<package>.<method>`` when it is a plug-in itself, else ``<package>.<method>.cli``; None if neither."""
    name = f"{package}.{method}"
    if importlib.util.find_spec(name) is None:
        return None
    try:
        module = importlib.import_module(name)
    except ImportError:  # not a plug-in (plug-ins import their frameworks lazily, inside run())
        return None
    if hasattr(module, "add_arguments") and hasattr(module, "run"):
        return module
    if hasattr(module, "__path__") and importlib.util.find_spec(f"{name}.cli") is not None:
        return importlib.import_module(f"{name}.cli")
    return None


def plugins(package: str) -> list:
    """The plug-in modules of ``package``, in the order of the method ids."""
    return [m for m in (plugin_module(package, i) for i in spec.ALL_METHOD_IDS) if m is not None]


def add_targets(parser: argparse.ArgumentParser, package: str, dest: str = "target") -> None:
    """One sub-parser per name of every plug-in of ``package``."""
    sub = parser.add_subparsers(dest=dest, required=True, metavar="TARGET")
    for module in plugins(package):
        first_line = (module.__doc__ or module.__name__).strip().splitlines()[0]
        for name, defaults in plugin_names(module, module.__name__.removesuffix(".cli").rsplit(".", 1)[1]).items():
            p = sub.add_parser(name, help=first_line, description=module.__doc__,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
            module.add_arguments(p)
            if "--quiet" not in p._option_string_actions:
                p.add_argument("--quiet", action="store_true", help="no progress lines (errors and the result only)")
            p.set_defaults(plugin_run=module.run, **defaults)


def run(args: argparse.Namespace) -> int:
    """Run the chosen target; ``--quiet`` silences :mod:`tenfold.progress` while it runs."""
    if not getattr(args, "quiet", False):
        return args.plugin_run(args)
    before = progress.get_mode()
    progress.set_mode("none")
    try:
        return args.plugin_run(args)
    finally:
        progress.set_mode(before)


__all__ = ["add_targets", "plugin_module", "plugins", "run"]
