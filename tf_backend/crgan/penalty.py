"""The consistency penalty ``pen(a, b)`` for TensorFlow (math: :mod:`tenfold.spec.crgan.penalty`)."""

from __future__ import annotations

import tensorflow as tf

from tenfold.spec.crgan import penalty as spec
from tenfold.spec.errors import ConfigError, expected

from .._tensors import as_tensor


def cr_penalty(a: tf.Tensor, b: tf.Tensor, reduction: str = "sum") -> tf.Tensor:
    """``(1/B) sum_i ||a_i - b_i||^2`` (``"sum"``) or the mean of every ``(a - b)^2`` (``"mean"``), a 0-d tensor.

    Layout-free (images may be NHWC): both reductions sum or average over every element.
    """
    where = "cr_penalty"
    a, b = as_tensor(where, a), as_tensor(where, b)
    n = spec.check_pair(where, tuple(a.shape), tuple(b.shape))
    if reduction not in spec.REDUCTIONS:
        raise ConfigError(expected(where, "a reduction among " + ", ".join(spec.REDUCTIONS), repr(reduction)))
    d2 = tf.square(a - b)
    return tf.reduce_sum(d2) / tf.cast(n, d2.dtype) if reduction == "sum" else tf.reduce_mean(d2)


__all__ = ["cr_penalty"]
