"""The StyleGAN2 generator for TensorFlow / Keras 3: latents in, NHWC images out.

Paper: Karras et al., CVPR 2020; official code NVlabs/stylegan2
``training/networks_stylegan2.py`` (TF1). Written from the equations of
:mod:`tenfold.spec.toonify.generator` with plain TensorFlow ops (no custom
kernels): runs eagerly and inside ``tf.function``, in float32 and float64.

Variables are kept in TensorFlow layouts and named by their canonical
(rosinality) names; :func:`load_params` / :func:`get_params` convert:
dense weights ``(out, in)`` -> ``(in, out)``; modulated conv weights
``(1, C_out, C_in, k, k)`` -> ``(k, k, C_in, C_out)``; the constant, the
noise buffers and the toRGB biases NCHW -> NHWC. The FIR taps, noise buffers
and ``latent_avg`` are non-trainable.

Differences from the official implementation: the modulated conv scales the
input by ``s`` and the output by the demodulation coefficients around one
shared conv (the official ``fused_modconv=False`` form); the upsampling conv is
``conv2d_transpose`` followed by the blur (rosinality's order; the official
code folds the blur into ``upsample_conv_2d``, the same operator); truncation
applies to every W+ entry; noise is ``"const"``, ``"zero"``, ``"random"``
(``tf.random``, or a ``tf.random.Generator``) or a list of NHWC tensors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import keras
import numpy as np
import tensorflow as tf

from tenfold.spec.contracts import check_params
from tenfold.spec.dtypes import check_float_dtype
from tenfold.spec.toonify import generator as spec

from .._tensors import as_tensor, dtype_name
from ..layers.upfirdn import upfirdn2d


def _tag(name: str) -> str:
    """How a canonical entry is laid out in TensorFlow."""
    if name.endswith("modulation.weight") or (name.startswith("style.") and name.endswith(".weight")):
        return "dense"
    if name.endswith("conv.weight"):
        return "modconv"
    if name == "input.input" or name.startswith("noises.") or (
            name.startswith("to_rgb") and name.endswith(".bias") and "modulation" not in name):
        return "nchw"
    return "same"


def to_tf(name: str, value: np.ndarray) -> np.ndarray:
    """Canonical layout -> TensorFlow layout."""
    tag = _tag(name)
    if tag == "dense":
        return np.transpose(value)
    if tag == "modconv":
        return np.transpose(value[0], (2, 3, 1, 0))  # (1, O, I, k, k) -> (k, k, I, O)
    if tag == "nchw":
        return np.transpose(value, (0, 2, 3, 1))
    return value


def to_canonical(name: str, value: np.ndarray) -> np.ndarray:
    """TensorFlow layout -> canonical layout."""
    tag = _tag(name)
    if tag == "dense":
        return np.transpose(value)
    if tag == "modconv":
        return np.transpose(value, (3, 2, 0, 1))[None]
    if tag == "nchw":
        return np.transpose(value, (0, 3, 1, 2))
    return value


def _lrelu(x: tf.Tensor, slope: float, gain: float) -> tf.Tensor:
    """``lrelu(x, slope) * gain`` in ``x``'s dtype (``tf.nn.leaky_relu`` rounds ``alpha`` to float32;
    ``tf.cast`` of a Python float too)."""
    return tf.where(x >= 0, x, x * tf.constant(slope, x.dtype)) * tf.constant(gain, x.dtype)


def _tf_shape(name: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    return to_tf(name, np.empty(shape, dtype=np.int8)).shape


def modulated_conv2d(x: tf.Tensor, weight: tf.Tensor, style: tf.Tensor, *, demodulate: bool = True,
                     upsample: bool = False, blur_kernel: tf.Tensor | None = None, blur_pad: tuple[int, int] = (1, 1),
                     eps: float = 1e-8) -> tf.Tensor:
    """Modulated conv, NHWC: ``x * s`` -> one conv shared by the batch -> demodulation.

    Args:
        x: ``(N, H, W, C_in)``.
        weight: ``(k, k, C_in, C_out)`` (the TF layout of the canonical ``(1, C_out, C_in, k, k)``),
            unit-variance storage.
        style: ``(N, C_in)``, the modulation ``s``.
        demodulate, upsample, blur_kernel, blur_pad, eps: As :func:`tenfold.numpy_ref.toonify.modulated_conv2d`.
    """
    k, _, c_in, c_out = weight.shape
    kernel = weight * (1.0 / math.sqrt(c_in * k * k))
    x = x * style[:, None, None, :]
    if upsample:
        n, h, wd = tf.shape(x)[0], x.shape[1], x.shape[2]
        ho, wo = 2 * (h - 1) + k, 2 * (wd - 1) + k
        y = tf.nn.conv2d_transpose(x, tf.transpose(kernel, (0, 1, 3, 2)), tf.stack([n, ho, wo, c_out]), 2, "VALID")
        y = tf.ensure_shape(y, (None, ho, wo, c_out))
        y = upfirdn2d(y, blur_kernel, pad=blur_pad)  # (N, 2H, 2W, C_out)
    else:
        p = k // 2
        if p:
            x = tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]])
        y = tf.nn.conv2d(x, kernel, 1, "VALID")  # (N, H, W, C_out)
    if demodulate:
        norm2 = tf.matmul(style * style, tf.reduce_sum(kernel * kernel, axis=(0, 1)))  # (N, C_out)
        y = y * tf.math.rsqrt(norm2 + eps)[:, None, None, :]
    return y


def to_rgb(y: tf.Tensor, bias: tf.Tensor, skip: tf.Tensor | None = None, upsample_kernel: tf.Tensor | None = None,
           pad: tuple[int, int] = (2, 1)) -> tf.Tensor:
    """``y + bias`` plus the skip upsampled by ``upfirdn2d(skip, kernel, up=2, pad)`` (``y``: the 1x1 modconv)."""
    rgb = y + tf.reshape(bias, (1, 1, 1, -1))  # (N, H, W, 3)
    return rgb if skip is None else rgb + upfirdn2d(skip, upsample_kernel, up=2, pad=pad)


@keras.saving.register_keras_serializable(package="tenfold")
class Generator(keras.Model):
    """StyleGAN2 generator: ``z`` ``(N, D)`` (or ``w`` / W+) -> images ``(N, R, R, 3)``.

    Args:
        config: The generator's configuration.
        **kwargs: Keras ``Model`` arguments, e.g. ``dtype="float64"``.
    """

    def __init__(self, config: spec.StyleGAN2Config, **kwargs) -> None:
        super().__init__(**kwargs)
        self.config = config
        self._layers_spec = spec.synthesis_layers(config)
        self._param_vars: dict[str, keras.Variable] = {}
        taps = spec.blur_taps(config)
        for name, shape in spec.param_shapes(config).items():
            buffer = spec.is_buffer(name)
            if name.endswith((".blur.kernel", ".upsample.kernel")):
                init = keras.initializers.Constant(taps)
            elif name.startswith("style.") and name.endswith(".weight"):
                init = keras.initializers.RandomNormal(stddev=1.0 / config.lr_mlp)
            elif name.endswith("modulation.bias"):
                init = "ones"
            elif name.endswith(("bias", "noise.weight")) or name == "latent_avg":
                init = "zeros"
            else:
                init = keras.initializers.RandomNormal(stddev=1.0)
            self._param_vars[name] = self.add_weight(name=name, shape=_tf_shape(name, shape), initializer=init,
                                                     trainable=not buffer)
        self.built = True

    def get_config(self) -> dict:
        return {**super().get_config(), "config": self.config.to_dict()}

    @classmethod
    def from_config(cls, config: dict) -> Generator:
        config = dict(config)
        c = dict(config.pop("config"))
        c["blur_kernel"] = tuple(c["blur_kernel"])
        return cls(spec.StyleGAN2Config.from_dict(c), **config)

    def _p(self, name: str) -> tf.Tensor:
        return tf.cast(self._param_vars[name], self.compute_dtype)

    def mapping(self, z: tf.Tensor) -> tf.Tensor:
        """``w = f(z)``, ``(N, D)``."""
        c = self.config
        x = z * tf.math.rsqrt(tf.reduce_mean(z * z, axis=-1, keepdims=True) + c.pixel_norm_eps)
        scale = c.lr_mlp / math.sqrt(c.style_dim)
        for i in range(1, c.n_mlp + 1):
            y = tf.matmul(x, self._p(f"style.{i}.weight") * scale) + self._p(f"style.{i}.bias") * c.lr_mlp
            x = _lrelu(y, c.negative_slope, c.act_gain)  # (N, D)
        return x

    def _modconv(self, x: tf.Tensor, w: tf.Tensor, prefix: str, demodulate: bool, upsample: bool) -> tf.Tensor:
        c = self.config
        s = tf.matmul(w, self._p(f"{prefix}.modulation.weight") * (1.0 / math.sqrt(c.style_dim)))
        s = s + self._p(f"{prefix}.modulation.bias")  # (N, C_in)
        blur = self._p(f"{prefix}.blur.kernel") if upsample else None
        return modulated_conv2d(x, self._p(f"{prefix}.weight"), s, demodulate=demodulate, upsample=upsample,
                                blur_kernel=blur, blur_pad=spec.upconv_blur_pad(c), eps=c.demod_eps)

    def _noises(self, noise: object, batch, seed: tf.random.Generator | None) -> list[tf.Tensor]:
        c, dt = self.config, self.compute_dtype
        if isinstance(noise, str) and noise == spec.RANDOM_NOISE:
            shapes = [(batch, r, r, 1) for r in (s[2] for s in spec.noise_shapes(c, 1))]
            if seed is not None:
                return [tf.cast(seed.normal(s), dt) for s in shapes]
            return [tf.random.normal(s, dtype=dt) for s in shapes]
        static = batch if isinstance(batch, int) else None
        noise = spec.check_noise(noise, c, static, "toonify.Generator", layout="NHWC")
        if noise == "const":
            return [self._p(f"noises.noise_{k}") for k in range(c.num_layers)]
        if noise == "zero":
            return [tf.zeros((1, s[2], s[3], 1), dt) for s in spec.noise_shapes(c, 1)]
        return [tf.cast(n, dt) for n in noise]

    def synthesis(self, wplus: tf.Tensor, noise: object = "const", seed: tf.random.Generator | None = None
                  ) -> tf.Tensor:
        """Images ``(N, R, R, 3)`` from W+ ``(N, n_latent, D)``."""
        c = self.config
        n = tf.shape(wplus)[0]
        noises = self._noises(noise, wplus.shape[0] if wplus.shape[0] is not None else n, seed)
        x = tf.tile(self._p("input.input"), tf.stack([n, 1, 1, 1]))  # (N, 4, 4, C)
        skip = None
        for layer in self._layers_spec:
            w = wplus[:, layer.latent]  # (N, D)
            p = layer.name
            if layer.kind == "conv":
                y = self._modconv(x, w, f"{p}.conv", True, layer.upsample)
                y = y + self._p(f"{p}.noise.weight") * noises[layer.noise]
                x = _lrelu(y + self._p(f"{p}.activate.bias"), c.negative_slope, c.act_gain)
            else:
                kernel = self._p(f"{p}.upsample.kernel") if skip is not None else None
                skip = to_rgb(self._modconv(x, w, f"{p}.conv", False, False), self._p(f"{p}.bias"), skip, kernel,
                              spec.upsample_pad(c))
        return skip

    def call(self, x, input_is_latent: bool = False, truncation: float = 1.0, noise: object = "const",
             seed: tf.random.Generator | None = None, training: bool = False):
        """``z`` ``(N, D)`` (or ``w`` / W+ ``(N, n_latent, D)`` with ``input_is_latent``) -> ``(N, R, R, 3)``.

        Args:
            x: Latents.
            input_is_latent: Skip the mapping network.
            truncation: ``psi`` (``latent_avg + psi (w - latent_avg)`` when ``psi != 1``).
            noise: ``"const"``, ``"zero"``, ``"random"`` or ``num_layers`` NHWC tensors ``(N|1, r, r, 1)``.
            seed: A ``tf.random.Generator`` for ``noise="random"``.
            training: Unused (no train-mode behaviour).
        """
        where = "toonify.Generator"
        x = as_tensor(where, x)
        check_float_dtype(where, dtype_name(x.dtype), ("float16", "bfloat16", "float32", "float64"))
        spec.check_latents(tuple(x.shape), self.config, input_is_latent, where)
        psi = spec.check_truncation(truncation, True, where)
        if x.dtype != self.compute_dtype:
            x = tf.cast(x, self.compute_dtype)
        w = x if input_is_latent else self.mapping(x)
        if psi != 1.0:
            avg = self._p("latent_avg")
            w = avg + psi * (w - avg)
        if w.shape.rank == 2:
            w = tf.tile(w[:, None, :], (1, self.config.n_latent, 1))  # (N, n_latent, D)
        return self.synthesis(w, noise, seed)


def load_params(model: Generator, params: Mapping[str, object]) -> Generator:
    """Assign canonical params to ``model``'s variables (converted to TF layouts).

    A missing ``latent_avg`` becomes the mean of the mapped :func:`tenfold.spec.toonify.mean_latent_z` draws.

    Raises:
        CheckpointError: Listing every missing, unexpected and mis-shaped key.
    """
    check_params(params, spec.param_shapes(model.config), "toonify.load_params", optional=("latent_avg",))
    for name, var in model._param_vars.items():
        if name in params:
            value = params[name]
            value = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
            var.assign(to_tf(name, value).astype(var.dtype))
    if "latent_avg" not in params:
        z = spec.mean_latent_z(model.config)
        model._param_vars["latent_avg"].assign(tf.reduce_mean(model.mapping(tf.cast(z, model.compute_dtype)), 0))
    return model


def get_params(model: Generator) -> dict[str, np.ndarray]:
    """The model's variables as canonical params (NumPy, canonical layouts)."""
    return {name: to_canonical(name, np.asarray(var.numpy())) for name, var in model._param_vars.items()}


def from_params(params: Mapping[str, object], dtype: str = "float32") -> Generator:
    """A :class:`Generator` of the config the params' shapes imply, with the params loaded."""
    return load_params(Generator(spec.infer_config(params, "toonify.from_params"), dtype=dtype), params)


__all__ = ["Generator", "from_params", "get_params", "load_params", "modulated_conv2d", "to_canonical", "to_rgb",
           "to_tf"]
