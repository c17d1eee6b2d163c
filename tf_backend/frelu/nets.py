"""The FReLU networks for TensorFlow/Keras (NHWC): ResNet-50-FReLU, ShuffleNetV2-FReLU, CIFAR ResNet.

Paper: Ma, Zhang, Sun, ECCV 2020, Section 4.1. Official code:
megvii-model/FunnelAct ``resnet/resnet.py`` and ``shufflenetv2/shufflenet_v2.py``;
structures in :mod:`tenfold.spec.frelu.nets`. Each layer reports its
variables under the canonical (PyTorch-layout) names, so
``get_params``/``load_params`` exchange the same dict as the PyTorch backend.

Differences from the official implementation: channels last; global average
pooling instead of a fixed 7x7 window (equal at 224 px); Keras initialisers.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tenfold.numpy_ref.frelu import nets as ref_nets
from tenfold.spec.contracts import check_params
from tenfold.spec.errors import ConfigError, expected
from tenfold.spec.frelu import nets as spec

from .._tensors import ArrayInput
from ..layers.conv import Conv, to_canonical, to_tf_layout
from ..layers.norm import BatchNorm
from .act import FReLU, check_input


class ConvBN(keras.layers.Layer):
    """A conv followed by a BatchNorm (or only the conv, with a bias, when folded)."""

    def __init__(self, c_in, c_out, k, stride, bias, config, depthwise=False, **kwargs):
        super().__init__(**kwargs)
        self.conv = Conv(c_in, c_out, k, stride, bias or config.folded, depthwise, dtype=self.dtype_policy)
        self.bn = None if config.folded else BatchNorm(c_out, config.batchnorm, dtype=self.dtype_policy)

    def call(self, x, training=None):
        x = self.conv(x)
        return x if self.bn is None else self.bn(x, training=training)


def _bn_vars(bn: BatchNorm) -> dict:
    return {k: (getattr(bn, k), "vec") for k in ("weight", "bias", "running_mean", "running_var")}


def _conv_bn_vars(cb: ConvBN, conv: str, norm: str) -> dict:
    out = {f"{conv}.{k}": v for k, v in cb.conv.canonical().items()}
    if cb.bn is not None:
        out.update({f"{norm}.{k}": v for k, v in _bn_vars(cb.bn).items()})
    return out


def _sub(prefix: str, d: dict) -> dict:
    return {f"{prefix}.{k}": v for k, v in d.items()}


def _act(use_frelu, channels, config, policy):
    return FReLU.from_spec(channels, config.frelu, config.folded, dtype=policy) if use_frelu else None


def _apply_act(layer, x, training):
    return tf.nn.relu(x) if layer is None else layer(x, training=training)


class ResBlock(keras.layers.Layer):
    """A bottleneck or basic residual block with FReLU or ReLU."""

    def __init__(self, config: spec.ResNetFReLUConfig, block: spec.ResBlock, **kwargs):
        super().__init__(**kwargs)
        self.block = block
        self.convs = []
        self.acts = []
        for idx, c_in, c_out, k, stride in spec.block_convs(config, block):
            self.convs.append((idx, ConvBN(c_in, c_out, k, stride, config.conv_bias, config, dtype=self.dtype_policy)))
            self.acts.append(_act(block.frelu, c_out, config, self.dtype_policy))
        self.downsample = ConvBN(block.in_channels, block.out_channels, 1, block.stride, config.conv_bias, config,
                                  dtype=self.dtype_policy) if block.downsample else None

    def call(self, x, training=None):
        identity = x
        for n, ((_, cb), act) in enumerate(zip(self.convs, self.acts, strict=True)):
            x = cb(x, training=training)
            if n == len(self.convs) - 1:
                x = x + (identity if self.downsample is None else self.downsample(identity, training=training))
            x = _apply_act(act, x, training)
        return x

    def canonical(self) -> dict:
        out = {}
        for (idx, cb), act in zip(self.convs, self.acts, strict=True):
            out.update(_conv_bn_vars(cb, f"conv{idx}", f"bn{idx}"))
            if act is not None:
                out.update(_sub(f"frelu{idx}", act.canonical()))
        if self.downsample is not None:
            out.update(_conv_bn_vars(self.downsample, "downsample.0", "downsample.1"))
        return out


def _max_pool_3x3_s2(x: tf.Tensor) -> tf.Tensor:
    """3x3/2 max-pool with padding 1 (``-inf`` padding, PyTorch's ``MaxPool2d(3, 2, 1)``)."""
    x = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], constant_values=float("-inf"))
    return tf.nn.max_pool2d(x, 3, 2, "VALID")


class FReLUResNet(ArrayInput, keras.Model):
    """A ResNet with FReLU in chosen stages (NHWC); ``FReLUResNet(ResNetFReLUConfig.resnet50())`` is the official.

    Paper: Ma, Zhang, Sun, ECCV 2020. Official code: FunnelAct ``resnet/resnet.py``.

    Args:
        config: The network (:class:`tenfold.spec.frelu.nets.ResNetFReLUConfig`).
        dtype: Keras dtype (policy) of the weights and computation.
    """

    INPUT_WHERE = "FReLUResNet"

    def __init__(self, config: spec.ResNetFReLUConfig | None = None, **kwargs):
        super().__init__(**kwargs)
        self.config = config = spec.ResNetFReLUConfig() if config is None else \
            spec.ResNetFReLUConfig.coerce(config, "FReLUResNet")
        k, s = (7, 2) if config.stem == "imagenet" else (3, 1)
        self.stem = ConvBN(config.in_channels, config.stem_width, k, s, config.conv_bias, config,
                            dtype=self.dtype_policy)
        self.blocks = [ResBlock(config, b, dtype=self.dtype_policy) for b in spec.resnet_blocks(config)]
        self.dropout = keras.layers.Dropout(config.dropout, dtype=self.dtype_policy)
        self.fc = Conv(config.out_features, config.num_classes, 1, 1, True, dtype=self.dtype_policy)

    def call(self, inputs, training=None):
        x = check_input("FReLUResNet", inputs, self.config.in_channels)
        x = tf.nn.relu(self.stem(x, training=training))
        if self.config.stem == "imagenet":
            x = _max_pool_3x3_s2(x)  # (N, H/4, W/4, 64)
        for block in self.blocks:
            x = block(x, training=training)
        x = tf.reduce_mean(x, axis=[1, 2], keepdims=True)  # (N, 1, 1, C)
        x = self.dropout(x, training=training)
        return tf.squeeze(self.fc(x), axis=[1, 2])  # (N, num_classes)

    def canonical(self) -> dict:
        out = _conv_bn_vars(self.stem, "conv1", "bn1")
        for b, layer in zip(spec.resnet_blocks(self.config), self.blocks, strict=True):
            out.update(_sub(b.name, layer.canonical()))
        out["fc.weight"], out["fc.bias"] = (self.fc.kernel, "fc"), (self.fc.bias, "vec")
        return out


class ShuffleV2Block(keras.layers.Layer):
    """One ShuffleNetV2 block with FReLU (official ``ShuffleV2Block``), NHWC."""

    def __init__(self, config: spec.ShuffleNetV2FReLUConfig, b: spec.ShuffleBlock, **kwargs):
        super().__init__(**kwargs)
        p = self.dtype_policy
        self.stride = b.stride
        self.main = [ConvBN(b.inp, b.mid, 1, 1, False, config, dtype=p), _act(True, b.mid, config, p),
                     ConvBN(b.mid, b.mid, 3, b.stride, False, config, depthwise=True, dtype=p),
                     ConvBN(b.mid, b.main_out, 1, 1, False, config, dtype=p), _act(True, b.main_out, config, p)]
        self.proj = [ConvBN(b.inp, b.inp, 3, 2, False, config, depthwise=True, dtype=p),
                     ConvBN(b.inp, b.inp, 1, 1, False, config, dtype=p),
                     _act(True, b.inp, config, p)] if b.stride == 2 else []

    def call(self, x, training=None):
        if self.stride == 1:
            passed, x = x[..., 0::2], x[..., 1::2]  # the official channel shuffle: even / odd channels
        else:
            passed = x
            for layer in self.proj:
                passed = layer(passed, training=training)
        for layer in self.main:
            x = layer(x, training=training)
        return tf.concat([passed, x], axis=-1)  # (N, H', W', oup)

    def canonical(self) -> dict:
        m = self.main
        out = {**_conv_bn_vars(m[0], "branch_main.0", "branch_main.1"), **_sub("branch_main.2", m[1].canonical()),
               **_conv_bn_vars(m[2], "branch_main.3", "branch_main.4"),
               **_conv_bn_vars(m[3], "branch_main.5", "branch_main.6"), **_sub("branch_main.7", m[4].canonical())}
        if self.proj:
            p = self.proj
            out.update({**_conv_bn_vars(p[0], "branch_proj.0", "branch_proj.1"),
                        **_conv_bn_vars(p[1], "branch_proj.2", "branch_proj.3"),
                        **_sub("branch_proj.4", p[2].canonical())})
        return out


class ShuffleNetV2FReLU(ArrayInput, keras.Model):
    """ShuffleNetV2 with (light) FReLU, NHWC; ``ShuffleNetV2FReLU(ShuffleNetV2FReLUConfig.x0_5())`` is the official.

    Paper: Ma, Zhang, Sun, ECCV 2020. Official code: FunnelAct ``shufflenetv2/shufflenet_v2.py``.
    """

    INPUT_WHERE = "ShuffleNetV2FReLU"

    def __init__(self, config: spec.ShuffleNetV2FReLUConfig | None = None, **kwargs):
        super().__init__(**kwargs)
        self.config = config = spec.ShuffleNetV2FReLUConfig() if config is None else \
            spec.ShuffleNetV2FReLUConfig.coerce(config, "ShuffleNetV2FReLU")
        ch, p = config.stage_out_channels, self.dtype_policy
        self.first_conv = ConvBN(config.in_channels, ch[0], 3, 2, False, config, dtype=p)
        self.first_act = _act(True, ch[0], config, p)
        self.blocks = [ShuffleV2Block(config, b, dtype=p) for b in spec.shufflenet_blocks(config)]
        self.conv_last = ConvBN(ch[-2], ch[-1], 1, 1, False, config, dtype=p)
        self.last_act = _act(True, ch[-1], config, p)
        self.classifier = Conv(ch[-1], config.num_classes, 1, 1, False, dtype=p)

    def call(self, inputs, training=None):
        x = check_input("ShuffleNetV2FReLU", inputs, self.config.in_channels)
        x = self.first_act(self.first_conv(x, training=training), training=training)
        x = _max_pool_3x3_s2(x)  # (N, H/4, W/4, 24)
        for block in self.blocks:
            x = block(x, training=training)
        x = self.last_act(self.conv_last(x, training=training), training=training)
        x = tf.reduce_mean(x, axis=[1, 2], keepdims=True)  # (N, 1, 1, 1024)
        return tf.squeeze(self.classifier(x), axis=[1, 2])  # (N, num_classes)

    def canonical(self) -> dict:
        out = {**_conv_bn_vars(self.first_conv, "first_conv.0", "first_conv.1"),
               **_sub("first_conv.2", self.first_act.canonical())}
        for b, layer in zip(spec.shufflenet_blocks(self.config), self.blocks, strict=True):
            out.update(_sub(b.name, layer.canonical()))
        out.update({**_conv_bn_vars(self.conv_last, "conv_last.0", "conv_last.1"),
                    **_sub("conv_last.2", self.last_act.canonical())})
        out["classifier.0.weight"] = (self.classifier.kernel, "fc")
        return out


def build(config: spec.NetConfig, dtype: str | None = None) -> keras.Model:
    """The Keras model of any FReLU network config or preset name (weights created, NHWC)."""
    config = spec.coerce_config(config, "build")
    if isinstance(config, spec.ResNetFReLUConfig):
        return FReLUResNet(config, dtype=dtype)
    if isinstance(config, spec.ShuffleNetV2FReLUConfig):
        return ShuffleNetV2FReLU(config, dtype=dtype)
    raise ConfigError(expected("build", "a ResNetFReLUConfig or ShuffleNetV2FReLUConfig", type(config).__name__))


def _to_canonical(value: np.ndarray, tag: str) -> np.ndarray:
    if tag == "fc":  # a 1x1 conv kernel (1, 1, in, out) -> (out, in)
        return np.transpose(value[0, 0])
    return to_canonical(value, tag)


def _to_tf(value: np.ndarray, tag: str) -> np.ndarray:
    if tag == "fc":
        return np.transpose(value)[None, None]
    return to_tf_layout(value, tag)


def get_params(model: keras.layers.Layer) -> dict[str, np.ndarray]:
    """Canonical (PyTorch-layout) parameters and BatchNorm state of a tenfold Keras network or FReLU layer."""
    return {k: _to_canonical(np.asarray(v.numpy()), tag) for k, (v, tag) in model.canonical().items()}


def load_params(model: keras.layers.Layer, params: dict[str, np.ndarray]) -> keras.layers.Layer:
    """Assign canonical ``params`` to ``model`` (converted to TF layouts and its dtype), in place.

    Raises:
        CheckpointError: One error listing every missing, unexpected or mis-shaped entry.
    """
    variables = model.canonical()
    shapes = {k: tuple(_to_canonical(np.broadcast_to(np.False_, tuple(var.shape)), tag).shape)  # views, no copy
              for k, (var, tag) in variables.items()}
    check_params(params, shapes, "load_params", what="the entries of the model's param_shapes")
    for k, (var, tag) in variables.items():
        var.assign(tf.cast(_to_tf(np.asarray(params[k]), tag), var.dtype))
    return model


def fold_batchnorm(model: keras.Model) -> keras.Model:
    """A new Keras network with every BatchNorm folded into its convolution (inference only)."""
    params = {k: v.astype(np.float64) for k, v in get_params(model).items()}
    folded_params, folded_config = ref_nets.fold_batchnorm(params, model.config)
    return load_params(build(folded_config, dtype=model.dtype_policy.name), folded_params)


__all__ = ["FReLUResNet", "ShuffleNetV2FReLU", "build", "fold_batchnorm", "get_params", "load_params"]
