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


#: What every layer accepts where an array is expected (its own tensors, NumPy arrays, nested lists).
ARRAY = "an array of numbers"


def array_like(where: str, value: object):
    """``value`` as a NumPy array by NumPy's rules, or the one :class:`DTypeError` every layer raises.

    Every layer converts what is not already its own tensor through this
    function, so the same list, ``None`` or string gets the same dtype (a list
    of Python floats is float64, of ints int64) and the same error in NumPy,
    PyTorch and TensorFlow.

    Raises:
        DTypeError: ``"<where>: expected an array of numbers; got <None | type | dtype str | dtype object>"``
            for ``None``, ragged lists, strings and objects.
    """
    import numpy as np

    if value is None:
        raise DTypeError(expected(where, ARRAY, "None"))
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise DTypeError(expected(where, ARRAY, f"a ragged or mixed {type(value).__name__}")) from None
    check_numeric(where, arr.dtype.kind, type(value).__name__ if arr.ndim == 0 else None)
    return arr


def check_numeric(where: str, kind: str, type_name: str | None = None) -> None:
    """Refuse strings, bytes, objects and records (NumPy dtype ``kind``) with the one message of :func:`array_like`."""
    if kind in "US":
        raise DTypeError(expected(where, ARRAY, "dtype str"))
    if kind in "OV":
        raise DTypeError(expected(where, ARRAY, type_name if kind == "O" and type_name else "dtype object"))
