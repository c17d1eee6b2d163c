"""ViT for TensorFlow / Keras 3: a Keras model taking NHWC images, weights in the canonical layout.

Paper: Dosovitskiy et al., ICLR 2021. Official code: google-research/vision_transformer
(``vit_jax/models_vit.py``). The variables *are* the official ``.npz`` arrays
(the patch kernel is HWIO, Dense kernels ``(in, out)``, attention kernels
``(D, heads, head_dim)``), so loading is a plain assignment; Keras variable
names replace ``/`` by ``__``.

The forward pass is written with TensorFlow ops that tf2onnx converts:
LayerNorm through ``tf.nn.moments``, exact GELU through ``tf.math.erf``
(``tf.nn.gelu(approximate=False)`` lowers to ``Erfc``, which has no ONNX
operator), q, k and v as one ``(D, 3D)`` matrix product.

Differences from the official implementation: none in inference; dropout
uses ``tf.nn.dropout`` in training mode.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

import keras
import numpy as np
import tensorflow as tf

from tenfold.spec import vit as spec
from tenfold.spec.vit import checkpoint as ckpt

from ._tensors import ArrayInput, as_tensor, dtype_name
from .layers.activations import gelu
from .layers.norm import layer_norm


def _var_name(name: str) -> str:
    return name.replace("/", "__")


@keras.saving.register_keras_serializable(package="tenfold")
class ViT(ArrayInput, keras.Model):
    """Vision Transformer classifier taking NHWC images ``(B, S, S, C)``; returns ``(B, classes)`` logits.

    Paper: Dosovitskiy et al., ICLR 2021. Official code: google-research/vision_transformer.

    Args:
        config: The model configuration (:class:`tenfold.spec.vit.ViTConfig`).
        **kwargs: Keras ``Model`` arguments, e.g. ``dtype="float64"``.
    """

    INPUT_WHERE = "ViT"

    def __init__(self, config: spec.ViTConfig, **kwargs) -> None:
        super().__init__(**kwargs)
        self.config = config = spec.ViTConfig.coerce(config, "ViT")
        self._param_vars: dict[str, keras.Variable] = {}
        for name, shape in spec.param_shapes(config).items():
            init = "ones" if name.endswith("/scale") else "zeros"
            if name.endswith("kernel") and not name.startswith("head"):
                init = keras.initializers.LecunNormal()
            elif name.endswith("pos_embedding"):
                init = keras.initializers.RandomNormal(stddev=0.02)
            self._param_vars[name] = self.add_weight(name=_var_name(name), shape=shape, initializer=init)
        self.built = True

    def get_config(self) -> dict:
        return {**super().get_config(), "config": self.config.to_dict()}

    @classmethod
    def from_config(cls, config: dict) -> ViT:
        config = dict(config)
        return cls(spec.ViTConfig.from_dict(config.pop("config")), **config)

    def _p(self, name: str) -> tf.Tensor:
        return tf.cast(self._param_vars[name], self.compute_dtype)  # identity when the dtypes agree

    def _dropout(self, x: tf.Tensor, rate: float, training: bool) -> tf.Tensor:
        return tf.nn.dropout(x, rate=rate) if training and rate > 0 else x

    def _block(self, x: tf.Tensor, i: int, training: bool) -> tf.Tensor:
        c, p, b = self.config, self._p, spec.block_prefix(i)
        d, h, dh = c.hidden_size, c.num_heads, c.head_dim
        att = f"{b}/MultiHeadDotProductAttention_1"
        bsz, n = tf.shape(x)[0], tf.shape(x)[1]
        y = layer_norm(x, p(f"{b}/LayerNorm_0/scale"), p(f"{b}/LayerNorm_0/bias"), c.layer_norm_eps)
        w = tf.concat([tf.reshape(p(f"{att}/{m}/kernel"), (d, d)) for m in ("query", "key", "value")], axis=1)
        bias = tf.concat([tf.reshape(p(f"{att}/{m}/bias"), (d,)) for m in ("query", "key", "value")], axis=0)
        qkv = tf.matmul(tf.reshape(y, (-1, d)), w) + bias  # (B*N, 3D)
        qkv = tf.transpose(tf.reshape(qkv, (bsz, n, 3, h, dh)), (2, 0, 3, 1, 4))  # (3, B, H, N, dh)
        q, k, v = qkv[0] * (1.0 / math.sqrt(dh)), qkv[1], qkv[2]
        a = tf.nn.softmax(tf.matmul(q, k, transpose_b=True), axis=-1)  # (B, H, N, N)
        a = self._dropout(a, c.attention_dropout_rate, training)
        y = tf.reshape(tf.transpose(tf.matmul(a, v), (0, 2, 1, 3)), (-1, d))  # (B*N, D)
        y = tf.matmul(y, tf.reshape(p(f"{att}/out/kernel"), (d, d))) + p(f"{att}/out/bias")
        x = x + self._dropout(tf.reshape(y, (bsz, n, d)), c.dropout_rate, training)
        y = layer_norm(x, p(f"{b}/LayerNorm_2/scale"), p(f"{b}/LayerNorm_2/bias"), c.layer_norm_eps)
        y = tf.matmul(tf.reshape(y, (-1, d)), p(f"{b}/MlpBlock_3/Dense_0/kernel")) + p(f"{b}/MlpBlock_3/Dense_0/bias")
        y = self._dropout(gelu(y, c.gelu), c.dropout_rate, training)  # (B*N, mlp)
        y = tf.matmul(y, p(f"{b}/MlpBlock_3/Dense_1/kernel")) + p(f"{b}/MlpBlock_3/Dense_1/bias")
        return x + self._dropout(tf.reshape(y, (bsz, n, d)), c.dropout_rate, training)

    def forward_features(self, images: tf.Tensor, training: bool = False) -> tf.Tensor:
        """Pooled features before the head, ``(B, width)``."""
        c, p = self.config, self._p
        x = tf.nn.conv2d(images, p("embedding/kernel"), strides=c.patch_size, padding="VALID")  # (B, gh, gw, D)
        x = tf.reshape(x + p("embedding/bias"), (tf.shape(x)[0], -1, c.hidden_size))  # (B, N, D)
        if c.classifier == "token":
            cls = tf.tile(p("cls"), (tf.shape(x)[0], 1, 1))
            x = tf.concat([cls, x], axis=1)  # (B, N+1, D)
        x = self._dropout(x + p("Transformer/posembed_input/pos_embedding"), c.dropout_rate, training)
        for i in range(c.num_layers):
            x = self._block(x, i, training)
        x = layer_norm(x, p("Transformer/encoder_norm/scale"), p("Transformer/encoder_norm/bias"), c.layer_norm_eps)
        x = x[:, 0] if c.classifier == "token" else tf.reduce_mean(x, axis=1)  # (B, D)
        if c.representation_size is not None:
            x = tf.math.tanh(tf.matmul(x, p("pre_logits/kernel")) + p("pre_logits/bias"))
        return x

    def call(self, images, training: bool = False):
        x = as_tensor("ViT", images)
        spec.check_images(tuple(x.shape), dtype_name(x.dtype), self.config, "NHWC", "ViT")
        if x.dtype != self.compute_dtype:
            x = tf.cast(x, self.compute_dtype)
        h = self.forward_features(x, training=bool(training))
        return tf.matmul(h, self._p("head/kernel")) + self._p("head/bias")  # (B, classes)


def load_params(model: ViT, params: Mapping[str, np.ndarray]) -> ViT:
    """Assign canonical params (official ``.npz`` layout) to ``model``'s variables.

    Raises:
        CheckpointError: Listing every missing, unexpected and mis-shaped key.
    """
    ckpt.check_params(params, model.config, "load_params")
    for name, var in model._param_vars.items():
        var.assign(np.asarray(params[name]).astype(var.dtype))
    return model


def get_params(model: ViT) -> dict[str, np.ndarray]:
    """The model's variables as canonical params (NumPy arrays)."""
    return {name: np.asarray(var.numpy()) for name, var in model._param_vars.items()}


def load_npz(model: ViT, path: str | os.PathLike, resize: str | None = "official") -> ViT:
    """Load an official ``.npz`` checkpoint (no pickle); resize the position embedding if needed."""
    return load_params(model, ckpt.load_npz(path, model.config, resize))


def load_timm_state_dict(model: ViT, state_dict: Mapping[str, object], resize: str | None = "timm") -> ViT:
    """Load a timm ``vit_*`` state_dict given as NumPy arrays (or objects with ``.numpy()``)."""
    arrays = {k: np.asarray(v.numpy() if hasattr(v, "numpy") else v) for k, v in state_dict.items()}
    return load_params(model, ckpt.from_timm(arrays, model.config, resize, where="load_timm_state_dict"))


__all__ = ["ViT", "get_params", "load_npz", "load_params", "load_timm_state_dict"]
