"""The SimCLR projection head in plain NumPy (float64): forward and initialisation from canonical params.

Paper: Chen et al., ICML 2020, Sec. 2.1; SimCLRv2 Sec. 2. Official code:
google-research/simclr ``model_util.py`` ``projection_head``. The layout and
names are in :mod:`tenfold.spec.simclr.head`; BatchNorm is the shared
:func:`tenfold.numpy_ref.layers.norm.batch_norm` on ``(B, C, 1, 1)``.
"""

from __future__ import annotations

import numpy as np

from tenfold.spec.contracts import check_params
from tenfold.spec.dtypes import check_float_dtype
from tenfold.spec.simclr import head as spec

from .._arrays import as_array, dtype_name
from ..layers import norm
from ..layers.activations import relu


def forward(x: object, params: dict[str, np.ndarray], config: spec.HeadConfig, *, training: bool = False,
            updates: dict | None = None) -> np.ndarray:
    """``z = g(h)``: Dense (no bias) + BatchNorm per layer, ReLU between, no beta on the last BatchNorm.

    Args:
        x: (B, in_dim) features.
        params: Canonical parameters (:func:`tenfold.spec.simclr.head.param_shapes`).
        config: The head's :class:`~tenfold.spec.simclr.head.HeadConfig`.
        training: Batch statistics (and running-average updates) or the running statistics.
        updates: In train mode, receives the new running statistics under their canonical names.

    Returns:
        (B, out_dim) float64.

    Raises:
        ShapeError, DTypeError, CheckpointError: On bad input or parameters.
    """
    where = "simclr projection head"
    check_params(params, spec.param_shapes(config), where)
    x = as_array(where, x)
    check_float_dtype(where, dtype_name(x.dtype))
    spec.check_input(where, x.shape, config, training)
    y = x.astype(np.float64)
    last = config.num_layers - 1
    for j in range(config.num_layers):
        p = spec.layer_prefix(j)
        bn = p + "batch_normalization/"
        y = y @ np.asarray(params[p + "dense/kernel"], np.float64)  # (B, out_j)
        beta = params[bn + "beta"] if j != last else np.zeros(y.shape[1])
        y4, mean, var = norm.batch_norm(y[:, :, None, None], np.asarray(params[bn + "gamma"], np.float64),
                                   np.asarray(beta, np.float64), np.asarray(params[bn + "moving_mean"], np.float64),
                                   np.asarray(params[bn + "moving_variance"], np.float64), training=training,
                                   config=config.bn, where=where)
        y = y4[:, :, 0, 0]
        if training and updates is not None:
            updates[bn + "moving_mean"], updates[bn + "moving_variance"] = mean, var
        if j != last:
            y = relu(y)
    return y


def init_params(config: spec.HeadConfig, rng: np.random.Generator, dtype: str = "float64") -> dict[str, np.ndarray]:
    """The official initialisation: kernels ~ N(0, init_std^2), gamma 1, beta 0, mean 0, variance 1."""
    out = {}
    for name, shape in spec.param_shapes(config).items():
        if name.endswith("kernel"):
            v = rng.normal(0.0, config.init_std, size=shape)
        elif name.endswith(("gamma", "moving_variance")):
            v = np.ones(shape)
        else:
            v = np.zeros(shape)
        out[name] = v.astype(dtype)
    return out


__all__ = ["forward", "init_params"]
