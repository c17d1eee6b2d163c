"""Errors raised by every layer of tenfold.

Every argument check in tenfold raises one of these classes, never ``assert``
and never a framework-specific error. All of them derive from ``ValueError``
so that callers who already catch ``ValueError`` keep working, and messages
follow the form ``"<where>: expected <what>; got <what arrived>"`` so that the
same bad input produces the same message in NumPy, PyTorch and TensorFlow.
"""

from __future__ import annotations


class TenfoldError(ValueError):
    """Base class of every error tenfold raises on bad input or configuration.

    Raised inside ``tf.function`` or a Keras layer's ``call``, it reaches the
    caller unchanged (same class, same message as eagerly): TensorFlow's
    autograph passes through exceptions that carry ``ag_pass_through``, and
    Keras adds its call-argument context only to exceptions not yet marked
    ``_keras_call_info_injected``.
    """

    ag_pass_through = True
    _keras_call_info_injected = True


class ShapeError(TenfoldError):
    """An array has the wrong rank, size or layout."""


class DTypeError(TenfoldError, TypeError):
    """An array has a dtype the operation does not accept (also a ``TypeError``)."""


class ConfigError(TenfoldError):
    """A configuration value is out of range or inconsistent."""


class CheckpointError(TenfoldError):
    """A weights file or dict has missing, unexpected or mis-shaped entries."""


class ExportError(TenfoldError):
    """An export failed or its result disagrees with the reference."""


class BackendUnavailableError(TenfoldError):
    """A requested backend (torch, tensorflow, onnxruntime) is not installed."""


def expected(where: str, what: str, got: object) -> str:
    """Format the standard message ``"<where>: expected <what>; got <got>"``."""
    return f"{where}: expected {what}; got {got}"


__all__ = [
    "BackendUnavailableError",
    "CheckpointError",
    "ConfigError",
    "DTypeError",
    "ExportError",
    "ShapeError",
    "TenfoldError",
    "expected",
]
