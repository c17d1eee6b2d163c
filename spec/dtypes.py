"""Framework-agnostic dtype validation shared by every layer.

Each backend reduces its own dtype object to a canonical *name* (``"float32"``,
``"int64"``, ``"bool"``, ``"complex64"``, ``"str"``, ...) and calls
:func:`check_float_dtype`; the spec decides what is accepted and words the
error, so one bad input gives the same error class and message everywhere.
"""

from __future__ import annotations

from .errors import DTypeError, expected

#: Floating dtypes, in the order tenfold lists them in messages.
FLOAT_DTYPES: tuple[str, ...] = ("float16", "bfloat16", "float32", "float64")


def check_float_dtype(where: str, dtype_name: str, allowed: tuple[str, ...] = FLOAT_DTYPES) -> str:
    """Raise :class:`DTypeError` unless ``dtype_name`` is one of ``allowed``.

    Args:
        where: Name of the caller, used as the message prefix (``"mish"``).
        dtype_name: Canonical dtype name of the input, as the backend sees it.
        allowed: The floating dtypes the caller accepts.

    Returns:
        ``dtype_name`` unchanged, for chaining.

    Raises:
        DTypeError: If the dtype is not one of ``allowed``.
    """
    if dtype_name not in allowed:
        what = "a floating-point array (" + ", ".join(allowed) + ")"
        raise DTypeError(expected(where, what, f"dtype {dtype_name}"))
    return dtype_name


def not_an_array(where: str, wanted: str, value: object) -> DTypeError:
    """Build the error for an argument that is not an array at all."""
    return DTypeError(expected(where, wanted, type(value).__name__))
