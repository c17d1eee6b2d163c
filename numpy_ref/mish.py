"""Mish in plain NumPy, float64-exact (see :mod:`tenfold.spec.mish` for the math).

Paper: Misra, BMVC 2020. Official code: digantamisra98/Mish.

Differences from the official implementation: the official ``x*tanh(softplus(x))``
returns NaN at ``x = -inf``; here the limit 0 is returned, and the derivative
takes its limits 1 and 0 at ``+inf`` and ``-inf``.
"""

from __future__ import annotations

import numpy as np

from tenfold.spec import mish as spec

from ._arrays import as_array, dtype_name
from .layers.activations import softplus as _softplus


def _validated(x: object, where: str) -> np.ndarray:
    arr = as_array(where, x)
    spec.check_dtype(dtype_name(arr.dtype), where)
    return arr


def mish(x: object) -> np.ndarray:
    """Mish activation ``x * tanh(softplus(x))``, element-wise.

    Args:
        x: Floating-point array (float16, float32 or float64; NumPy has no
            bfloat16). float16 is computed in float32 and rounded once, as
            the backends do; other dtypes in their own precision.

    Returns:
        Array of the same shape and dtype. Finite for every finite input;
        ``mish(+inf) = +inf``, ``mish(-inf) = 0``, NaN propagates.

    Raises:
        DTypeError: If ``x`` is not a floating-point array.
    """
    x = _validated(x, "mish")
    if x.dtype == np.float16:
        return mish(x.astype(np.float32)).astype(np.float16)
    with np.errstate(invalid="ignore"):  # -inf * 0 is repaired below
        y = x * np.tanh(_softplus(x))
    return np.where(x == -np.inf, np.zeros((), x.dtype), y)


def mish_grad(x: object) -> np.ndarray:
    """Derivative of Mish, ``tanh(sp) + x * sigmoid(x) * sech^2(sp)``.

    ``sigmoid(x) = exp(-softplus(-x))`` and ``sech^2(s) = (2 e^-s / (1 + e^-2s))^2``
    (``s = softplus(x) > 0``) are used because neither loses precision nor
    overflows anywhere.

    Args:
        x: Floating-point array.

    Returns:
        ``f'(x)`` with the same shape and dtype; 1 at ``+inf``, 0 at ``-inf``.

    Raises:
        DTypeError: If ``x`` is not a floating-point array.
    """
    x = _validated(x, "mish_grad")
    sp = _softplus(x)
    sigmoid = np.exp(-_softplus(-x))
    e = np.exp(-sp)
    sech2 = (2.0 * e / (1.0 + e * e)) ** 2
    with np.errstate(invalid="ignore"):  # inf * 0 at the infinities, repaired below
        g = np.tanh(sp) + x * (sigmoid * sech2)
    g = np.where(x == np.inf, np.ones((), x.dtype), g)
    return np.where(x == -np.inf, np.zeros((), x.dtype), g)


__all__ = ["mish", "mish_grad"]
