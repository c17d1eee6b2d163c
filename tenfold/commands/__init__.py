"""Subcommands of ``tenfold`` that are not a layer's own (``train``, ``show``, ...).

Each module here is a :class:`tenfold.spec.contracts.CliPlugin`: ``NAMES``
(the subcommand names it serves), ``add_arguments(parser)`` and
``run(args) -> int``. :mod:`tenfold.cli` lists them in one tuple.
"""
