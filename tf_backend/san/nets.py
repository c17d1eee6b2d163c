"""The SAN networks for TensorFlow/Keras (SAN10/15/19, pairwise or patchwise), NHWC.

Paper: Zhao, Jia, Koltun, CVPR 2020. Official code: hszhao/SAN ``model/san.py``;
structure in :mod:`tenfold.spec.san.nets`. Every layer reports its variables
under the canonical (PyTorch-layout) names, so ``get_params``/``load_params``
exchange the same dict as the PyTorch backend (without BatchNorm's
``num_batches_tracked`` counters, which Keras does not keep).

Differences from the official implementation: channels last; Keras initialisers.
"""

from __future__ import annotations

from collections.abc import Mapping

import keras
import numpy as np
import tensorflow as tf

from tenfold.spec.contracts import check_params
from tenfold.spec.errors import ShapeError, expected
from tenfold.spec.san import nets as spec
from tenfold.spec.san import ops as ops_spec

from .._tensors import as_tensor, dtype_name
from ..layers.conv import Conv, to_canonical, to_tf_layout
from ..layers.norm import BatchNorm
from .ops import SAM, _bn_vars


def _sub(prefix: str, d: dict) -> dict:
    return {f"{prefix}.{k}": v for k, v in d.items()}


class Bottleneck(keras.layers.Layer):
    """The official pre-activation bottleneck: ``x + conv(ReLU(bn2(sam(ReLU(bn1(x))))))``, NHWC."""

    def __init__(self, block: spec.Block, config: spec.SANConfig, **kwargs):
        super().__init__(**kwargs)
        p = self.dtype_policy
        self.bn1 = BatchNorm(block.width, config.batchnorm, dtype=p)
        self.sam = SAM(block.sam, dtype=p)
        self.bn2 = BatchNorm(block.mid, config.batchnorm, dtype=p)
        self.conv = Conv(block.mid, block.width, 1, dtype=p)

    def call(self, x, training=None):
        out = tf.nn.relu(self.bn1(x, training=training))
        out = tf.nn.relu(self.bn2(self.sam(out, training=training), training=training))
        return x + self.conv(out)

    def canonical(self) -> dict:
        return {**_sub("bn1", _bn_vars(self.bn1)), **_sub("sam", self.sam.canonical()),
                **_sub("bn2", _bn_vars(self.bn2)), **_sub("conv", dict(self.conv.canonical()))}


class SAN(keras.Model):
    """A self-attention network, NHWC; ``SAN(SANConfig.san10_patch())`` is the official SAN10 patchwise.

    Paper: Zhao, Jia, Koltun, CVPR 2020, Table 1. Official code: hszhao/SAN ``model/san.py``.

    Args:
        config: The network (:class:`tenfold.spec.san.nets.SANConfig`).
        **kwargs: Keras model arguments (``dtype="float64"``).
    """

    def __init__(self, config: spec.SANConfig | None = None, **kwargs):
        super().__init__(**kwargs)
        self.net_config = c = config or spec.SANConfig()
        p = self.dtype_policy
        self.conv_in = Conv(c.in_channels, c.stem_width, 1, bias=False, dtype=p)
        self.bn_in = BatchNorm(c.stem_width, c.batchnorm, dtype=p)
        blocks = spec.blocks(c)
        self.transitions = [Conv(c_in, c.widths[s], 1, bias=False, dtype=p)
                            for s, c_in in enumerate(spec.stage_inputs(c))]
        self.norms = [BatchNorm(w, c.batchnorm, dtype=p) for w in c.widths]
        self.stages = [[Bottleneck(b, c, dtype=p) for b in blocks if b.stage == s] for s in range(c.num_stages)]
        self.fc = Conv(c.widths[-1], c.num_classes, 1, dtype=p)

    def features(self, inputs, training=None) -> tf.Tensor:
        """``(N, H, W, C_in) -> (N, H / 2^S, W / 2^S, widths[-1])`` (after the last ``bn``/ReLU)."""
        c = self.net_config
        x = as_tensor("SAN", inputs)
        ops_spec.check_dtype(dtype_name(x.dtype), "SAN")
        shape = tuple(x.shape)
        if len(shape) != 4:
            raise ShapeError(expected("SAN", f"a 4-D input (N, H, W, {c.in_channels})", f"shape {shape}"))
        spec.check_input("SAN", (shape[0], shape[3], shape[1], shape[2]), c)
        x = tf.nn.relu(self.bn_in(self.conv_in(x), training=training))  # (N, H, W, 64)
        for s in range(c.num_stages):
            x = tf.nn.max_pool2d(x, 2, 2, "VALID")  # floor mode, as MaxPool2d(2, 2)
            x = self.transitions[s](x)
            for block in self.stages[s]:
                x = block(x, training=training)
            x = tf.nn.relu(self.norms[s](x, training=training))
        return x

    def call(self, inputs, training=None):
        x = tf.reduce_mean(self.features(inputs, training), axis=[1, 2], keepdims=True)  # (N, 1, 1, C)
        return tf.squeeze(self.fc(x), axis=[1, 2])  # (N, num_classes)

    def canonical(self) -> dict:
        c = self.net_config
        out = {"conv_in.weight": self.conv_in.canonical()["weight"], **_sub("bn_in", _bn_vars(self.bn_in))}
        blocks = spec.blocks(c)
        for s in range(c.num_stages):
            out[f"conv{s}.weight"] = self.transitions[s].canonical()["weight"]
            out.update(_sub(f"bn{s}", _bn_vars(self.norms[s])))
            for b, layer in zip((b for b in blocks if b.stage == s), self.stages[s], strict=True):
                out.update(_sub(b.name, layer.canonical()))
        out["fc.weight"], out["fc.bias"] = (self.fc.kernel, "fc"), (self.fc.bias, "vec")
        # the official state_dict order (conv_s, bn_s, layer_s)
        order = list(spec.param_shapes(c))
        return {k: out[k] for k in order if k in out}


def build(config: spec.SANConfig | ops_spec.SAMConfig, dtype: str | None = None) -> keras.layers.Layer:
    """A ``SAN`` for a network config, a ``SAM`` for an operator config (weights created, NHWC)."""
    if isinstance(config, ops_spec.SAMConfig):
        return SAM(config, dtype=dtype)
    return SAN(config, dtype=dtype)


def _to_canonical(value: np.ndarray, tag: str) -> np.ndarray:
    if tag == "fc":  # a 1x1 conv kernel (1, 1, in, out) -> (out, in)
        return np.transpose(value[0, 0])
    return to_canonical(value, tag)


def _to_tf(value: np.ndarray, tag: str) -> np.ndarray:
    if tag == "fc":
        return np.transpose(value)[None, None]
    return to_tf_layout(value, tag)


def _shapes(model) -> dict[str, tuple[int, ...]]:
    if isinstance(model, SAM):
        return ops_spec.sam_param_shapes(model.config)
    return spec.param_shapes(model.net_config)


def get_params(model: keras.layers.Layer) -> dict[str, np.ndarray]:
    """Canonical (PyTorch-layout) parameters and BatchNorm statistics of a ``SAN`` or ``SAM`` (no counters)."""
    return {k: _to_canonical(np.asarray(v.numpy()), tag) for k, (v, tag) in model.canonical().items()}


def load_params(model: keras.layers.Layer, params: Mapping[str, object]) -> keras.layers.Layer:
    """Assign canonical ``params`` to ``model`` (TF layouts, its dtype), in place; counters are ignored.

    Raises:
        CheckpointError: One error listing every missing, unexpected, mis-shaped or non-real entry.
    """
    shapes = _shapes(model)
    check_params(params, shapes, "load_params", optional=tuple(k for k in shapes if ops_spec.is_counter(k)))
    for k, (var, tag) in model.canonical().items():
        var.assign(tf.cast(_to_tf(np.asarray(params[k]), tag), var.dtype))
    return model


__all__ = ["SAN", "Bottleneck", "build", "get_params", "load_params"]
