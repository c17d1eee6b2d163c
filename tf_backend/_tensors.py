"""Input checks shared by the TensorFlow backend (messages come from the spec)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tenfold.spec.dtypes import array_like, check_numeric
from tenfold.spec.errors import DTypeError, expected


def dtype_name(dtype: tf.dtypes.DType) -> str:
    """Canonical dtype name (``tf.float32`` -> ``"float32"``, ``tf.string`` -> ``"str"``)."""
    return "str" if dtype == tf.string else dtype.name


def as_tensor(where: str, x: object) -> tf.Tensor:
    """``x`` itself if it is a TF tensor, else ``x`` converted by NumPy's rules.

    Lists, NumPy arrays and scalars get the dtype NumPy gives them (a list of
    floats is float64) and the same errors as in the NumPy and PyTorch layers
    (:func:`tenfold.spec.dtypes.array_like`).

    Raises:
        DTypeError: For ``None``, ragged lists, strings (string tensors too) and objects.
    """
    if isinstance(x, (tf.Tensor, tf.Variable)):
        if x.dtype == tf.string:
            check_numeric(where, "U")
        return x
    arr = array_like(where, x)
    try:
        return tf.convert_to_tensor(arr)
    except (TypeError, ValueError):
        raise DTypeError(expected(where, "a dtype TensorFlow has", f"dtype {arr.dtype}")) from None


class ArrayInput:
    """Mixin of single-input Keras layers: ``None``, lists and scalars converted (or refused) before Keras sees them.

    Keras itself refuses a nested list as "not an input tensor" before the
    layer's ``call`` runs; with this mixin a layer takes the same array-likes,
    and gives the same errors, as the NumPy and PyTorch layers
    (:func:`tenfold.spec.dtypes.array_like`). ``INPUT_WHERE`` names the layer in messages.
    """

    INPUT_WHERE = "layer"

    def __call__(self, inputs=None, *args, **kwargs):
        if not isinstance(inputs, (tf.Tensor, tf.Variable, tf.__internal__.CompositeTensor, np.ndarray,
                                   keras.KerasTensor)):
            inputs = as_tensor(self.INPUT_WHERE, inputs)  # None, lists, scalars, strings, other objects
        return super().__call__(inputs, *args, **kwargs)
