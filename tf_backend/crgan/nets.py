"""The CR-GAN generator and spectrally normalised discriminator as Keras models (NHWC).

Structure, canonical names and conventions: :mod:`tenfold.spec.crgan.nets`.
Every layer reports its variables under the canonical (PyTorch-layout) names,
so :func:`get_params` / :func:`load_params` exchange the same dict as the
PyTorch backend. The dense layer after the generator's input and the
discriminator's flatten use PyTorch's NCHW order (a transpose at each end), so
the weights are the canonical ones unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping

import keras
import numpy as np
import tensorflow as tf

from tenfold.spec.contracts import check_params
from tenfold.spec.crgan import nets as spec
from tenfold.spec.dtypes import check_float_dtype

from .._tensors import as_tensor, dtype_name
from ..layers.conv import Conv, ConvTranspose, to_canonical, to_tf_layout
from ..layers.norm import BatchNorm
from ..layers.spectral_norm import SNConv, SNDense


def _bn_vars(bn: BatchNorm) -> dict:
    return {k: (getattr(bn, k), "vec") for k in ("weight", "bias", "running_mean", "running_var")}


class Generator(keras.Model):
    """z (B, z_dim) -> images (B, S, S, C) in [-1, 1] (NHWC)."""

    def __init__(self, config: spec.GANConfig, **kwargs):
        super().__init__(**kwargs)
        self.net_config = config
        g, b, p = config.g_channels, config.bottom, self.dtype_policy
        self.fc = keras.layers.Dense(g[0] * b * b, dtype=p, name="fc")
        self.fc.build((None, config.z_dim))
        bn = config.batchnorm
        self.bns = [BatchNorm(c, bn, dtype=p, name=f"bn{k}") for k, c in enumerate(g)]
        self.deconvs = [ConvTranspose(g[k - 1], g[k], 4, 2, 1, dtype=p, name=f"deconv{k}") for k in range(1, len(g))]
        self.conv_out = Conv(g[-1], config.image_channels, 3, 1, dtype=p, name="conv_out")

    def call(self, z: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        where = "crgan.Generator"
        z = as_tensor(where, z)
        check_float_dtype(where, dtype_name(z.dtype))
        spec.check_latents(where, tuple(z.shape), self.net_config)
        c = self.net_config
        h = tf.reshape(self.fc(z), (-1, c.g_channels[0], c.bottom, c.bottom))  # (B, g0, b, b) NCHW
        h = tf.transpose(h, (0, 2, 3, 1))  # (B, b, b, g0)
        h = tf.nn.relu(self.bns[0](h, training=training))
        for deconv, bn in zip(self.deconvs, self.bns[1:], strict=True):
            h = tf.nn.relu(bn(deconv(h), training=training))  # (B, 2s, 2s, g_k)
        return tf.tanh(self.conv_out(h))  # (B, S, S, C)

    def canonical(self) -> dict[str, tuple[keras.Variable, str]]:
        out = {"fc.weight": (self.fc.kernel, "dense"), "fc.bias": (self.fc.bias, "vec")}
        for k, bn in enumerate(self.bns):
            out.update({f"bn{k}.{n}": v for n, v in _bn_vars(bn).items()})
        for k, deconv in enumerate(self.deconvs, start=1):
            out.update({f"deconv{k}.{n}": v for n, v in deconv.canonical().items()})
        out.update({f"conv_out.{n}": v for n, v in self.conv_out.canonical().items()})
        return out


class Discriminator(keras.Model):
    """Images (B, S, S, C) -> logits (B, 1); every weight spectrally normalised (one power iteration per call)."""

    def __init__(self, config: spec.GANConfig, **kwargs):
        super().__init__(**kwargs)
        self.net_config = config
        snc, p = config.spectral_norm, self.dtype_policy
        self.layer_names = [layer.name for layer in spec.discriminator_layers(config)]
        self.convs = [SNConv(layer.c_in, layer.c_out, layer.kernel, layer.stride, layer.padding, snc, dtype=p,
                             name=layer.name) for layer in spec.discriminator_layers(config)]
        self.fc = SNDense(spec.d_features(config), 1, snc, dtype=p, name="fc")

    def call(self, x: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        where = "crgan.Discriminator"
        x = as_tensor(where, x)
        check_float_dtype(where, dtype_name(x.dtype))
        spec.check_images(where, tuple(x.shape), self.net_config, layout="NHWC")
        h, slope = x, self.net_config.lrelu_slope
        for conv in self.convs:
            h = conv(h, training=training)  # (B, s, s, d_k)
            h = tf.where(h > 0, h, h * slope)  # LeakyReLU; tf.nn.leaky_relu keeps alpha as a float32 attribute
        h = tf.reshape(tf.transpose(h, (0, 3, 1, 2)), (tf.shape(h)[0], -1))  # (B, d_m * s * s), NCHW order
        return self.fc(h, training=training)  # (B, 1)

    def canonical(self) -> dict[str, tuple[keras.Variable, str]]:
        out = {}
        for name, conv in zip(self.layer_names, self.convs, strict=True):
            out.update({f"{name}.{n}": v for n, v in conv.canonical().items()})
        out.update({f"fc.{n}": v for n, v in self.fc.canonical().items()})
        return out


def _shapes(model: keras.Model) -> dict[str, tuple[int, ...]]:
    if isinstance(model, Generator):
        return spec.generator_param_shapes(model.net_config)
    return spec.discriminator_param_shapes(model.net_config)


def get_params(model: Generator | Discriminator) -> dict[str, np.ndarray]:
    """The canonical (PyTorch-layout) parameters and state of a model as NumPy arrays."""
    return {k: to_canonical(np.asarray(v.numpy()), tag) for k, (v, tag) in model.canonical().items()}


def load_params(model: Generator | Discriminator, params: Mapping[str, object]) -> Generator | Discriminator:
    """Assign canonical ``params`` (converted to TF layouts and the model's dtype), in place; returns the model."""
    check_params(params, _shapes(model), f"crgan.load_params({type(model).__name__})")
    for k, (var, tag) in model.canonical().items():
        var.assign(tf.cast(to_tf_layout(np.asarray(params[k]), tag), var.dtype))
    return model


def canonical_grads(model: Generator | Discriminator, grads: list) -> dict[str, np.ndarray]:
    """Gradients aligned with ``model.trainable_variables``, by canonical name and in canonical layout (float64)."""
    by_var = {id(v): g for v, g in zip(model.trainable_variables, grads, strict=True)}
    out = {}
    for k, (var, tag) in model.canonical().items():
        if id(var) in by_var:
            g = by_var[id(var)]
            out[k] = to_canonical(np.zeros(var.shape) if g is None else tf.cast(g, tf.float64).numpy(), tag)
    return out


def build(config: spec.GANConfig, params: tuple[Mapping, Mapping] | None = None,
          dtype: str | None = None) -> tuple[Generator, Discriminator]:
    """Both networks (variables created), optionally loaded with ``(g_params, d_params)``."""
    g, d = Generator(config, dtype=dtype), Discriminator(config, dtype=dtype)
    if params is not None:
        load_params(g, params[0])
        load_params(d, params[1])
    return g, d


__all__ = ["Discriminator", "Generator", "build", "canonical_grads", "get_params", "load_params"]
