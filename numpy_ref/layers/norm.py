"""Normalisation layers in plain NumPy, float64-exact: BatchNorm (see :mod:`tenfold.spec.batchnorm`) and LayerNorm.

Paper: Ioffe & Szegedy, ICML 2015. Conventions: PyTorch's (momentum is the
weight of the new batch; the running variance takes the unbiased batch variance).
"""

from __future__ import annotations

import numpy as np

from tenfold.spec import batchnorm as spec
from tenfold.spec.dtypes import check_float_dtype

from .._arrays import as_array, dtype_name


def batch_norm(x: object, weight: np.ndarray, bias: np.ndarray, running_mean: np.ndarray,
               running_var: np.ndarray, *, training: bool, config: spec.BatchNormConfig | None = None,
               where: str = "batch_norm") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BatchNorm of NCHW ``x`` over (N, H, W) per channel.

    Args:
        x: ``(N, C, H, W)`` floating-point array.
        weight, bias, running_mean, running_var: ``(C,)`` arrays.
        training: Batch statistics and a running-average update (True) or the
            running statistics (False).
        config: Epsilon and momentum (default: :class:`BatchNormConfig`).
        where: Message prefix of errors.

    Returns:
        ``(y, new_running_mean, new_running_var)``; in eval mode the running
        statistics come back unchanged.

    Raises:
        ShapeError: Non-4-D input, another channel count, or one value per
            channel in train mode.
        DTypeError: Non-float input.
    """
    config = spec.BatchNormConfig() if config is None else spec.BatchNormConfig.coerce(config, where)
    x = as_array(where, x)
    check_float_dtype(where, dtype_name(x.dtype))
    spec.check_input(where, x.shape, len(running_mean), training)
    c = (1, -1, 1, 1)
    if training:
        n = x.shape[0] * x.shape[2] * x.shape[3]
        mean = x.mean(axis=(0, 2, 3))  # (C,)
        var = ((x - mean.reshape(c)) ** 2).mean(axis=(0, 2, 3))  # (C,) biased
        m = config.momentum
        new_mean = (1 - m) * running_mean + m * mean
        new_var = (1 - m) * running_var + m * var * (n / (n - 1))
    else:
        mean, var, new_mean, new_var = running_mean, running_var, running_mean, running_var
    y = (x - mean.reshape(c)) / np.sqrt(var.reshape(c) + config.eps) * weight.reshape(c) + bias.reshape(c)
    return y.astype(x.dtype, copy=False), new_mean, new_var


def batch_norm_params(x: object, params: dict[str, np.ndarray], prefix: str, *, training: bool,
                      config: spec.BatchNormConfig, updates: dict | None = None) -> np.ndarray:
    """:func:`batch_norm` with its four entries read from ``params[prefix + name]``.

    In train mode the new running statistics are written to ``updates`` (when given) under the same names.
    """
    y, mean, var = batch_norm(x, *(params[prefix + n] for n in spec.PARAM_NAMES), training=training, config=config,
                              where=prefix.rstrip(".") or "batch_norm")
    if training and updates is not None:
        updates[prefix + "running_mean"] = mean
        updates[prefix + "running_var"] = var
    return y


def fold(conv_weight: np.ndarray, conv_bias: np.ndarray | None, weight: np.ndarray, bias: np.ndarray,
         running_mean: np.ndarray, running_var: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Fold an eval-mode BatchNorm into the convolution before it: ``(weight', bias')``."""
    s = weight / np.sqrt(running_var + eps)  # (C_out,)
    b = np.zeros_like(running_mean) if conv_bias is None else conv_bias
    return conv_weight * s.reshape(-1, 1, 1, 1), (b - running_mean) * s + bias


def layer_norm(x: np.ndarray, scale: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis (biased variance, as Flax, PyTorch and Keras); ``eps`` always explicit."""
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * scale + bias


__all__ = ["batch_norm", "batch_norm_params", "fold", "layer_norm"]
