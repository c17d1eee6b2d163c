"""Real runs (``tenfold train <target>``): one module per method id, each a CliPlugin.

A module ``tenfold.runs.<id>`` sets ``NAMES = {"<id>-digits": {}}`` and offers
``add_arguments(parser)`` and ``run(args) -> int``. Data comes from packages
(scikit-learn's digits, the ``data`` extra); nothing is downloaded.
"""
