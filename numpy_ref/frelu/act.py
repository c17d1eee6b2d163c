"""FReLU in plain NumPy, float64-exact (see :mod:`tenfold.spec.frelu`).

Paper: Ma, Zhang, Sun, ECCV 2020. Official code: megvii-model/FunnelAct
(``resnet/frelu.py``: depthwise 3x3 conv with bias, BatchNorm, ``F.maximum``).
Convolutions are sums over kernel offsets of strided slices (one ``einsum``
per offset), so each output is an exact dot product in the input's dtype.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tenfold.spec import frelu as spec
from tenfold.spec.batchnorm import PARAM_NAMES
from tenfold.spec.contracts import check_params
from tenfold.spec.errors import CheckpointError, expected

from .._arrays import as_array, dtype_name
from ..layers.conv import depthwise_conv2d, depthwise_conv2d_vjp
from ..layers.norm import batch_norm_params


def _validated(x: object, params: dict, config: spec.FReLUConfig, prefix: str, where: str,
               folded: bool | None = None) -> np.ndarray:
    """Check ``x`` and the layer's entries of ``params`` (one :class:`CheckpointError` for every bad entry).

    The layer counts as folded only when none of its ``bn_*`` entries is
    present; one missing BatchNorm entry is reported, never taken as folding.
    """
    x = as_array(where, x)
    spec.check_dtype(dtype_name(x.dtype), where)
    if not isinstance(params, Mapping):
        raise CheckpointError(expected(where, "a dict of name -> array", type(params).__name__))
    conv = f"{prefix}{spec.conv_names(config)[0][0]}.weight"
    weight_shape = np.shape(params[conv]) if conv in params else ()
    channels = weight_shape[0] if len(weight_shape) == 4 else (x.shape[1] if x.ndim == 4 else 1)
    spec.check_input(where, x.shape, channels)
    if folded is None:
        folded = not any(f"{prefix}{norm}.{n}" in params for _, norm, _ in spec.conv_names(config)
                         for n in PARAM_NAMES)
    check_params(params, spec.param_shapes(channels, config, prefix, folded), where, allow_unexpected=bool(prefix))
    return x


def _branches(x: np.ndarray, params: dict, config: spec.FReLUConfig, prefix: str, training: bool,
              updates: dict | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(conv output, BN output)`` of each branch of the funnel condition."""
    out = []
    for conv, norm, (kh, kw) in spec.conv_names(config):
        z = depthwise_conv2d(x, params[f"{prefix}{conv}.weight"], params.get(f"{prefix}{conv}.bias"),
                             padding=(kh // 2, kw // 2))  # (N, C, H, W)
        if f"{prefix}{norm}.weight" in params:
            out.append((z, batch_norm_params(z, params, f"{prefix}{norm}.", training=training,
                                             config=config.batchnorm, updates=updates)))
        else:  # folded: the conv already holds the BatchNorm
            out.append((z, z))
    return out


def funnel_condition(x: object, params: dict[str, np.ndarray], config: spec.FReLUConfig | None = None, *,
                     training: bool = False, updates: dict | None = None, prefix: str = "") -> np.ndarray:
    """The spatial condition ``T(x)`` (BN of the depthwise conv; light: sum of two branches)."""
    config = spec.FReLUConfig() if config is None else spec.FReLUConfig.coerce(config, "funnel_condition")
    x = _validated(x, params, config, prefix, "funnel_condition")
    return sum(bnz for _, bnz in _branches(x, params, config, prefix, training, updates))


def frelu(x: object, params: dict[str, np.ndarray], config: spec.FReLUConfig | None = None, *,
          training: bool = False, updates: dict | None = None, prefix: str = "") -> np.ndarray:
    """FReLU ``max(x, T(x))`` (paper Eq. (2)).

    Args:
        x: ``(N, C, H, W)`` floating-point array.
        params: Canonical entries (:func:`tenfold.spec.frelu.param_shapes`),
            looked up as ``prefix + name``; without ``bn_*`` entries the
            layer is taken as folded.
        config: Variant, kernel size, BatchNorm epsilon and momentum.
        training: BatchNorm in train mode (batch statistics).
        updates: In train mode, receives the updated running statistics.
        prefix: Name prefix of the layer's entries.

    Returns:
        ``(N, C, H, W)`` array of ``x``'s dtype.

    Raises:
        ShapeError: Non-4-D input or another channel count.
        DTypeError: Non-float input.
    """
    config = spec.FReLUConfig() if config is None else spec.FReLUConfig.coerce(config, "frelu")
    x = _validated(x, params, config, prefix, "frelu")
    t = sum(bnz for _, bnz in _branches(x, params, config, prefix, training, updates))
    return np.maximum(x, t)


def frelu_vjp(x: object, params: dict[str, np.ndarray], w: np.ndarray, config: spec.FReLUConfig | None = None,
              mask: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Gradients of ``sum(w * frelu(x))`` in eval mode, by the chain rule written out.

    Args:
        x, params, config: As :func:`frelu` (eval mode, unfolded parameters).
        w: Cotangent, shape of ``x``.
        mask: Where the output is ``x`` (default ``x >= T(x)``). A backend
            computing in a reduced precision may pick the other side of a
            near tie; its own mask isolates the rest of the gradient.

    Returns:
        ``{"x": dx, "<conv>.weight": ..., "<conv>.bias": ... (full variant),
        "<bn>.weight": ..., "<bn>.bias": ...}``.
    """
    config = spec.FReLUConfig() if config is None else spec.FReLUConfig.coerce(config, "frelu_vjp")
    x = _validated(x, params, config, "", "frelu_vjp", folded=False)
    branches = _branches(x, params, config, "", False, None)
    t = sum(bnz for _, bnz in branches)
    mask = (x >= t) if mask is None else mask
    gx = np.where(mask, w, 0.0)
    gt = np.where(mask, 0.0, w)  # cotangent of T(x)
    grads: dict[str, np.ndarray] = {}
    for (conv, norm, (kh, kw)), (z, _) in zip(spec.conv_names(config), branches, strict=True):
        gamma, var = params[f"{norm}.weight"], params[f"{norm}.running_var"]
        s = gamma / np.sqrt(var + config.bn_eps)  # (C,)
        xhat = (z - params[f"{norm}.running_mean"].reshape(1, -1, 1, 1)) / np.sqrt(var + config.bn_eps).reshape(
            1, -1, 1, 1)
        grads[f"{norm}.weight"] = (gt * xhat).sum(axis=(0, 2, 3))
        grads[f"{norm}.bias"] = gt.sum(axis=(0, 2, 3))
        dx, dw, db = depthwise_conv2d_vjp(x, params[f"{conv}.weight"], gt * s.reshape(1, -1, 1, 1), (kh // 2, kw // 2))
        gx = gx + dx
        grads[f"{conv}.weight"] = dw
        if f"{conv}.bias" in params:
            grads[f"{conv}.bias"] = db
    grads["x"] = gx
    return grads


__all__ = ["frelu", "frelu_vjp", "funnel_condition"]
