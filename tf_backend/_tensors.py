"""Input checks shared by the TensorFlow backend (messages come from the spec)."""

from __future__ import annotations

import tensorflow as tf

from tenfold.spec.dtypes import not_an_array


def dtype_name(dtype: tf.dtypes.DType) -> str:
    """Canonical dtype name (``tf.float32`` -> ``"float32"``, ``tf.string`` -> ``"str"``)."""
    return "str" if dtype == tf.string else dtype.name


def as_tensor(where: str, x: object) -> tf.Tensor:
    """Convert ``x`` to a ``tf.Tensor`` (Python and NumPy values are accepted).

    Raises:
        DTypeError: If ``x`` cannot be converted to a tensor at all.
    """
    if isinstance(x, (tf.Tensor, tf.Variable)):
        return x
    try:
        return tf.convert_to_tensor(x)
    except (TypeError, ValueError):
        raise not_an_array(where, "a tensor or array-like of floats", x) from None
