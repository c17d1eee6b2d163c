"""The SAN networks (SAN10/15/19, pairwise or patchwise) in plain NumPy, from a canonical parameter dict.

Structure: :mod:`tenfold.spec.san.nets` (official hszhao/SAN ``model/san.py``,
classes ``SAN`` and ``Bottleneck``). Eval mode uses the running BatchNorm
statistics; train mode uses batch statistics and writes every updated running
statistic (and ``num_batches_tracked`` where given) to ``updates``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tenfold.spec.contracts import check_params
from tenfold.spec.san import nets as spec
from tenfold.spec.san import ops as ops_spec

from .._arrays import as_array, dtype_name
from ..layers.activations import relu
from ..layers.pool import max_pool2d
from .ops import _BN, aggregation, attention_weights, conv1x1, random_params


def _check(where: str, x: object, params: Mapping[str, np.ndarray], config: spec.SANConfig) -> np.ndarray:
    x = as_array(where, x)
    ops_spec.check_dtype(dtype_name(x.dtype), where)
    spec.check_input(where, x.shape, config)
    shapes = spec.param_shapes(config)
    check_params(params, shapes, where, optional=tuple(k for k in shapes if ops_spec.is_counter(k)))
    return x


def block(x: np.ndarray, params: Mapping[str, np.ndarray], b: spec.Block, bn: _BN) -> np.ndarray:
    """One bottleneck: ``x + conv(ReLU(bn2(SAM(ReLU(bn1(x))))))``."""
    p = b.name + "."
    out = relu(bn(x, p + "bn1."))
    w = attention_weights(out, params, b.sam, bn, p + "sam.")  # (N, C_w, k^2, L)
    x3 = conv1x1(out, params[p + "sam.conv3.weight"], params[p + "sam.conv3.bias"])  # (N, C/4, H, W)
    out = relu(bn(aggregation(x3, w, b.sam.kernel_size, b.sam.padding), p + "bn2."))
    return x + conv1x1(out, params[p + "conv.weight"], params[p + "conv.bias"])  # (N, C, H, W)


def features(x: object, params: Mapping[str, np.ndarray], config: spec.SANConfig, *, training: bool = False,
             updates: dict | None = None) -> np.ndarray:
    """The last stage's activations ``(N, widths[-1], H / 2^S, W / 2^S)`` (before the pool and ``fc``)."""
    x = _check("san.features", x, params, config)
    bn = _BN(params, config.batchnorm, training, updates)
    x = relu(bn(conv1x1(x, params["conv_in.weight"]), "bn_in."))  # (N, 64, H, W)
    all_blocks = spec.blocks(config)
    for s in range(config.num_stages):
        x = max_pool2d(x, kernel=2, stride=2, padding=0)  # (N, C, H / 2^(s+1), W / 2^(s+1))
        x = conv1x1(x, params[f"conv{s}.weight"])
        for b in all_blocks:
            if b.stage == s:
                x = block(x, params, b, bn)
        x = relu(bn(x, f"bn{s}."))
    return x


def forward(x: object, params: Mapping[str, np.ndarray], config: spec.SANConfig, *, training: bool = False,
            updates: dict | None = None) -> np.ndarray:
    """Logits of a SAN (official ``SAN.forward``).

    Args:
        x: ``(N, in_channels, H, W)`` images (official: ImageNet mean/std normalised RGB).
        params: Canonical entries (:func:`tenfold.spec.san.nets.param_shapes`; ``num_batches_tracked`` optional).
        config: The network.
        training: BatchNorm with batch statistics; new running statistics go to ``updates``.
        updates: Receives every updated BatchNorm entry under its canonical name (train mode).

    Returns:
        ``(N, num_classes)`` logits.

    Raises:
        ShapeError: Wrong rank or channels, or an input too small for a stage (the
            message names the stage and the smallest input that works).
        CheckpointError: Missing, unexpected or mis-shaped parameters (one error listing all).
    """
    x = features(x, params, config, training=training, updates=updates)
    return x.mean(axis=(2, 3)) @ params["fc.weight"].T + params["fc.bias"]  # (N, num_classes)


def init_params(config: spec.SANConfig, rng: np.random.Generator, dtype: str = "float64") -> dict[str, np.ndarray]:
    """Random parameters of a SAN (He-normal convs, BatchNorm statistics away from the identity), for tests."""
    return random_params(spec.param_shapes(config), rng, dtype)


def calibrate(params: Mapping[str, np.ndarray], config: spec.SANConfig, x: np.ndarray) -> dict[str, np.ndarray]:
    """``params`` with every running statistic set to the statistics of a train-mode pass on ``x``.

    A train-mode forward with BatchNorm momentum 1 (running mean = batch mean,
    running var = unbiased batch variance); eval mode on ``x`` then stays of
    unit scale through any depth, which random statistics do not guarantee
    (patchwise weights are not normalised). For tests and demos.
    """
    updates: dict[str, np.ndarray] = {}
    forward(x, params, config.replace(bn_momentum=1.0), training=True, updates=updates)
    return {**params, **{k: v for k, v in updates.items() if not ops_spec.is_counter(k)}}


__all__ = ["block", "calibrate", "features", "forward", "init_params"]
