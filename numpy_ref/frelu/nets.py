"""The FReLU networks' forward passes in plain NumPy, from a canonical parameter dict.

See :mod:`tenfold.spec.frelu.nets` for the structures (official code:
megvii-model/FunnelAct ``resnet/resnet.py``, ``shufflenetv2/shufflenet_v2.py``).
Networks run in eval mode here (running BatchNorm statistics; dropout is
the identity); train mode is specified and checked layer by layer
(:func:`tenfold.numpy_ref.frelu.frelu`, :func:`tenfold.numpy_ref.layers.norm.batch_norm`).
"""

from __future__ import annotations

import numpy as np

from tenfold.spec import frelu as act_spec
from tenfold.spec.contracts import check_params as contract_check
from tenfold.spec.errors import CheckpointError, ConfigError, expected
from tenfold.spec.frelu import nets as spec

from .._arrays import as_array, dtype_name
from ..layers.activations import relu
from ..layers.conv import conv2d
from ..layers.norm import batch_norm_params, fold
from ..layers.pool import max_pool2d
from .act import frelu


class _Pass:
    """One forward pass: parameters, mode, and where train mode writes the new running statistics."""

    def __init__(self, params: dict, config: spec.NetConfig, training: bool, updates: dict | None):
        self.params, self.bn, self.frelu = params, config.batchnorm, config.frelu
        self.training, self.updates = training, updates

    def conv_bn(self, x: np.ndarray, conv: str, norm: str, stride: int = 1, padding: int = 0,
                groups: int = 1) -> np.ndarray:
        p = self.params
        y = conv2d(x, p[f"{conv}.weight"], p.get(f"{conv}.bias"), stride, padding, groups)
        if f"{norm}.weight" in p:  # absent when folded
            y = batch_norm_params(y, p, f"{norm}.", training=self.training, config=self.bn, updates=self.updates)
        return y

    def act(self, x: np.ndarray, prefix: str) -> np.ndarray:
        return frelu(x, self.params, self.frelu, training=self.training, updates=self.updates, prefix=prefix)


def _check_input(where: str, x: object, channels: int) -> np.ndarray:
    x = as_array(where, x)
    act_spec.check_dtype(dtype_name(x.dtype), where)
    act_spec.check_input(where, x.shape, channels)  # the message of every layer
    return x


def check_params(params: dict[str, np.ndarray], config: spec.NetConfig, where: str) -> None:
    """:func:`tenfold.spec.contracts.check_params` against ``param_shapes(config)``: one :class:`CheckpointError`."""
    contract_check(params, spec.param_shapes(config), where, what=f"the parameters of {type(config).__name__}")


def _check_mode(where: str, config: spec.NetConfig, training: bool) -> None:
    if training and config.folded:
        raise ConfigError(expected(where, "an unfolded network in train mode (folding is for inference)",
                                   "folded=True"))
    if training and getattr(config, "dropout", 0.0) > 0:
        raise ConfigError(expected(where, "dropout 0 in train mode (dropout masks are random; the reference "
                                   "is deterministic)", f"dropout {config.dropout}"))


def resnet_forward(x: object, params: dict[str, np.ndarray], config: spec.ResNetFReLUConfig, *,
                   training: bool = False, updates: dict | None = None) -> np.ndarray:
    """Logits of a FReLU ResNet.

    Args:
        x: ``(N, in_channels, H, W)`` images.
        params: Canonical entries (:func:`tenfold.spec.frelu.nets.resnet_param_shapes`).
        config: The network (``folded=True`` for BatchNorm-free parameters).
        training: BatchNorm in train mode (needs ``dropout == 0``: the reference draws no dropout masks).
        updates: In train mode, receives every updated running statistic under its canonical name.

    Returns:
        ``(N, num_classes)`` logits.
    """
    config = spec.coerce_config(config, "resnet_forward")
    x = _check_input("resnet_forward", x, config.in_channels)
    check_params(params, config, "resnet_forward")
    _check_mode("resnet_forward", config, training)
    run = _Pass(params, config, training, updates)
    if config.stem == "imagenet":
        x = relu(run.conv_bn(x, "conv1", "bn1", 2, 3))  # (N, 64, H/2, W/2)
        x = max_pool2d(x, 3, 2, 1)  # (N, 64, H/4, W/4)
    else:
        x = relu(run.conv_bn(x, "conv1", "bn1", 1, 1))
    for b in spec.resnet_blocks(config):
        identity = x
        convs = spec.block_convs(config, b)
        for n, (idx, _, _, k, stride) in enumerate(convs):
            x = run.conv_bn(x, f"{b.name}.conv{idx}", f"{b.name}.bn{idx}", stride, k // 2)
            if n == len(convs) - 1:
                if b.downsample:
                    identity = run.conv_bn(identity, f"{b.name}.downsample.0", f"{b.name}.downsample.1", b.stride)
                x = x + identity
            x = run.act(x, f"{b.name}.frelu{idx}.") if b.frelu else relu(x)
    x = x.mean(axis=(2, 3))  # (N, C) global average pool; dropout is the identity in eval mode
    return x @ params["fc.weight"].T + params["fc.bias"]


def channel_shuffle(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The official split: even channels (passed through) and odd channels (to branch_main)."""
    return x[:, 0::2], x[:, 1::2]


def shufflenet_forward(x: object, params: dict[str, np.ndarray], config: spec.ShuffleNetV2FReLUConfig, *,
                       training: bool = False, updates: dict | None = None) -> np.ndarray:
    """Logits of ShuffleNetV2-FReLU (arguments as :func:`resnet_forward`)."""
    config = spec.coerce_config(config, "shufflenet_forward")
    x = _check_input("shufflenet_forward", x, config.in_channels)
    check_params(params, config, "shufflenet_forward")
    _check_mode("shufflenet_forward", config, training)
    run = _Pass(params, config, training, updates)
    x = run.act(run.conv_bn(x, "first_conv.0", "first_conv.1", 2, 1), "first_conv.2.")  # (N, 24, H/2, W/2)
    x = max_pool2d(x, 3, 2, 1)  # (N, 24, H/4, W/4)
    for b in spec.shufflenet_blocks(config):
        if b.stride == 1:
            passed, x_main = channel_shuffle(x)
        else:
            p = f"{b.name}.branch_proj"
            passed = run.conv_bn(x, f"{p}.0", f"{p}.1", 2, 1, groups=b.inp)
            passed = run.act(run.conv_bn(passed, f"{p}.2", f"{p}.3"), f"{p}.4.")
            x_main = x
        m = f"{b.name}.branch_main"
        y = run.act(run.conv_bn(x_main, f"{m}.0", f"{m}.1"), f"{m}.2.")
        y = run.conv_bn(y, f"{m}.3", f"{m}.4", b.stride, 1, groups=b.mid)
        y = run.act(run.conv_bn(y, f"{m}.5", f"{m}.6"), f"{m}.7.")
        x = np.concatenate([passed, y], axis=1)  # (N, oup, H', W')
    x = run.act(run.conv_bn(x, "conv_last.0", "conv_last.1"), "conv_last.2.")
    return x.mean(axis=(2, 3)) @ params["classifier.0.weight"].T  # (N, num_classes)


def forward(x: object, params: dict[str, np.ndarray], config: spec.NetConfig, *, training: bool = False,
            updates: dict | None = None) -> np.ndarray:
    """Logits of any FReLU network config (eval mode by default; see :func:`resnet_forward`).

    ``config`` may also be a preset name of :data:`tenfold.spec.frelu.nets.PRESETS` (``"cifar"``).
    """
    config = spec.coerce_config(config, "forward")
    if isinstance(config, spec.ResNetFReLUConfig):
        return resnet_forward(x, params, config, training=training, updates=updates)
    return shufflenet_forward(x, params, config, training=training, updates=updates)


def fold_batchnorm(params: dict[str, np.ndarray], config: spec.NetConfig) -> tuple[dict[str, np.ndarray],
                                                                                  spec.NetConfig]:
    """Fold every BatchNorm into the convolution before it (inference only).

    Args:
        params: Canonical entries of an unfolded network.
        config: Its config (``folded=False``).

    Returns:
        ``(folded_params, config.replace(folded=True))``; the folded network's
        eval-mode output equals the original's up to rounding.
    """
    config = spec.coerce_config(config, "fold_batchnorm")
    if config.folded:
        raise CheckpointError(expected("fold_batchnorm", "an unfolded config", "folded=True"))
    check_params(params, config, "fold_batchnorm")
    out = dict(params)
    for conv, norm in spec.bn_pairs(config):
        w, b = fold(params[f"{conv}.weight"], params.get(f"{conv}.bias"),
                    *(out.pop(f"{norm}.{n}") for n in ("weight", "bias", "running_mean", "running_var")),
                    eps=config.bn_eps)
        out[f"{conv}.weight"], out[f"{conv}.bias"] = w, b
    folded = config.replace(folded=True)
    return {k: out[k] for k in spec.param_shapes(folded)}, folded


def from_megengine(arrays: dict[str, np.ndarray], config: spec.NetConfig) -> dict[str, np.ndarray]:
    """Canonical parameters from the arrays of an official MegEngine state dict (already loaded).

    MegEngine stores grouped and depthwise conv weights 5-D ``(groups, out/g, in/g, kh, kw)``
    and conv biases and BatchNorm entries as ``(1, C, 1, 1)``; the names are the canonical
    ones. Each array is reshaped to its canonical shape (same element order); tenfold never
    unpickles, so loading the official ``.model`` pickle is the caller's business.

    Raises:
        CheckpointError: Listing missing, unexpected or mis-sized entries.
    """
    config = spec.coerce_config(config, "from_megengine")
    shapes = spec.param_shapes(config)
    out = {}
    for k, v in arrays.items():
        v = np.asarray(v)
        out[k] = v.reshape(shapes[k]) if k in shapes and v.size == int(np.prod(shapes[k])) else v
    check_params(out, config, "from_megengine")
    return out


def init_params(config: spec.NetConfig, rng: np.random.Generator, dtype: str = "float64") -> dict[str, np.ndarray]:
    """Random parameters with BatchNorm statistics away from the identity (for tests and demos).

    Conv and linear weights are He-normal (fan-in); BatchNorm weight ``U(0.5, 1.5)``,
    bias ``N(0, 0.1)``, running mean ``N(0, 0.1)``, running var ``U(0.5, 1.5)``.
    """
    params = {}
    config = spec.coerce_config(config, "init_params")
    for name, shape in spec.param_shapes(config).items():
        if name.endswith("running_var") or (name.endswith(".weight") and len(shape) == 1):
            v = rng.uniform(0.5, 1.5, shape)
        elif name.endswith("running_mean") or len(shape) == 1:
            v = rng.normal(0.0, 0.1, shape)
        else:
            v = rng.normal(0.0, np.sqrt(2.0 / np.prod(shape[1:])), shape)
        params[name] = v.astype(dtype)
    return params


__all__ = ["channel_shuffle", "check_params", "fold_batchnorm", "forward", "from_megengine", "init_params",
           "resnet_forward", "shufflenet_forward"]
