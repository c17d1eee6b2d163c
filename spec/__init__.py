"""tenfold.spec: the framework-agnostic contract of every method.

The registry is the explicit tuple :data:`METHOD_IDS`; :func:`get` imports the
spec module of one id on demand. Importing this package imports nothing but
the standard library and NumPy-free helpers.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import TenfoldError, expected

#: Every method id, in the order the project implements them. A method is
#: listed here once its spec module exists; conformance iterates over this.
METHOD_IDS: tuple[str, ...] = ("mish", "radam", "frelu", "cutmix", "vit", "augmix", "simclr", "toonify", "crgan", "san")

#: The ten ids of the mission, implemented or not (for messages and docs).
ALL_METHOD_IDS: tuple[str, ...] = (
    "mish", "augmix", "simclr", "radam", "frelu", "crgan", "cutmix", "san", "toonify", "vit",
)

#: The layers a method is implemented in, as sub-packages of ``tenfold``.
LAYERS: tuple[str, ...] = ("numpy_ref", "torch_backend", "tf_backend", "export")


def get(method_id: str) -> ModuleType:
    """Return the spec module ``tenfold.spec.<method_id>``.

    Raises:
        TenfoldError: If the id is not registered.
    """
    if method_id not in METHOD_IDS:
        raise TenfoldError(expected("tenfold.spec.get", "a method id among " + ", ".join(METHOD_IDS), repr(method_id)))
    return importlib.import_module(f"{__name__}.{method_id}")


__all__ = ["ALL_METHOD_IDS", "LAYERS", "METHOD_IDS", "get"]
