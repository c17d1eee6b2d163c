"""The StyleGAN2 generator in plain NumPy, from the equations of :mod:`tenfold.spec.toonify.generator`.

Readable and float64-exact: the modulated convolution builds each sample's
weight ``W''`` literally (modulate, demodulate) and convolves with it (one
matrix product per kernel offset); the upsampling conv is a transposed conv
followed by :func:`~tenfold.numpy_ref.layers.upfirdn.upfirdn2d`. Parameters
are the canonical (rosinality) dict of :func:`tenfold.spec.toonify.param_shapes`.

Paper: Karras et al., CVPR 2020, Section 2.2 (Eq. 1-3) and Appendix B; official
code NVlabs/stylegan2 ``training/networks_stylegan2.py``; names from
rosinality/stylegan2-pytorch ``model.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from tenfold.spec.contracts import check_params
from tenfold.spec.dtypes import check_float_dtype
from tenfold.spec.errors import CheckpointError, expected
from tenfold.spec.toonify import generator as spec

from .._arrays import as_array, dtype_name
from ..layers.activations import leaky_relu
from ..layers.conv import conv_transpose2d
from ..layers.upfirdn import upfirdn2d

Params = Mapping[str, np.ndarray]


def equalized_linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, lr_mul: float = 1.0) -> np.ndarray:
    """``x (W c)^T + b lr_mul`` with ``c = lr_mul / sqrt(in)``: the equalized-learning-rate dense layer.

    Args:
        x: ``(N, in)``.
        weight: ``(out, in)`` stored at unit variance (rosinality ``EqualLinear.weight``).
        bias: ``(out,)`` or None.
        lr_mul: Learning-rate multiplier (0.01 in the mapping network).
    """
    scale = lr_mul / math.sqrt(weight.shape[1])
    y = x @ (weight * scale).T  # (N, out)
    return y if bias is None else y + bias * lr_mul


def fused_leaky_relu(x: np.ndarray, bias: np.ndarray, slope: float = 0.2, gain: float = math.sqrt(2.0)) -> np.ndarray:
    """``lrelu(x + b, slope) * gain``, ``b`` along axis 1 (rosinality ``fused_leaky_relu``)."""
    b = bias.reshape((1, -1) + (1,) * (x.ndim - 2))
    return leaky_relu(x + b, slope) * gain


def pixel_norm(z: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """``z / sqrt(mean_c z^2 + eps)`` over the last axis."""
    return z / np.sqrt(np.mean(z * z, axis=-1, keepdims=True) + eps)


def mapping(z: np.ndarray, params: Params, config: spec.StyleGAN2Config) -> np.ndarray:
    """``w = f(z)``: PixelNorm then ``n_mlp`` equalized dense layers with the fused leaky ReLU. ``(N, D)``."""
    x = pixel_norm(z, config.pixel_norm_eps)
    for i in range(1, config.n_mlp + 1):
        y = equalized_linear(x, params[f"style.{i}.weight"], None, config.lr_mlp)  # (N, D)
        x = fused_leaky_relu(y, params[f"style.{i}.bias"] * config.lr_mlp, config.negative_slope, config.act_gain)
    return x


def _conv_same(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """One sample's stride-1 conv with zero padding ``k // 2``: ``(C_in, H, W)`` x ``(C_out, C_in, k, k)``."""
    c_out, c_in, k, _ = w.shape
    p = k // 2
    _, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (p, p), (p, p)))
    out = np.zeros((c_out, h * wd), dtype=np.result_type(x, w))
    for i in range(k):
        for j in range(k):
            out += w[:, :, i, j] @ xp[:, i:i + h, j:j + wd].reshape(c_in, h * wd)  # (C_out, H*W)
    return out.reshape(c_out, h, wd)


def modulated_conv2d(x: np.ndarray, weight: np.ndarray, style: np.ndarray, *, demodulate: bool = True,
                     upsample: bool = False, blur_kernel: np.ndarray | None = None,
                     blur_pad: tuple[int, int] = (1, 1), eps: float = 1e-8) -> np.ndarray:
    """Modulated (and demodulated) convolution, one weight per sample.

    ``W' = W s / sqrt(C_in k^2)``, ``W'' = W' / sqrt(sum_{in,kh,kw} W'^2 + eps)``
    (with ``demodulate``); then a ``k x k`` conv with padding ``k // 2``, or, with
    ``upsample``, a stride-2 transposed conv followed by the blur
    ``upfirdn2d(y, blur_kernel, pad=blur_pad)``.

    Args:
        x: ``(N, C_in, H, W)``.
        weight: ``(1, C_out, C_in, k, k)`` (canonical) or ``(C_out, C_in, k, k)``.
        style: ``(N, C_in)``, the modulation ``s`` (the affine layer's output).
        demodulate: Divide by the per-output-channel norm.
        upsample: Transposed conv (stride 2) + blur; output ``2H x 2W``.
        blur_kernel: ``(K, K)`` taps of the blur (with ``upsample``).
        blur_pad: Pads of the blur (rosinality: ``(1, 1)`` for [1,3,3,1] and ``k = 3``).
        eps: Demodulation epsilon.

    Returns:
        ``(N, C_out, H, W)`` or ``(N, C_out, 2H, 2W)``.
    """
    w = weight.reshape(weight.shape[-4:])
    _, c_in, k, _ = w.shape
    w = w * (1.0 / math.sqrt(c_in * k * k))
    wn = w[None] * style[:, None, :, None, None]  # (N, C_out, C_in, k, k)
    if demodulate:
        wn = wn / np.sqrt(np.sum(wn * wn, axis=(2, 3, 4), keepdims=True) + eps)
    if not upsample:
        return np.stack([_conv_same(x[n], wn[n]) for n in range(x.shape[0])])
    y = np.concatenate([conv_transpose2d(x[n:n + 1], wn[n].transpose(1, 0, 2, 3), stride=2)
                        for n in range(x.shape[0])])  # (N, C_out, 2H + k - 2, 2W + k - 2)
    return upfirdn2d(y, blur_kernel, pad=blur_pad)


def _modulation(params: Params, prefix: str, w: np.ndarray) -> np.ndarray:
    return equalized_linear(w, params[f"{prefix}.modulation.weight"], params[f"{prefix}.modulation.bias"])


def styled_conv(x: np.ndarray, w: np.ndarray, params: Params, layer: spec.SynthLayer, config: spec.StyleGAN2Config,
                noise: np.ndarray) -> np.ndarray:
    """Modulated conv -> ``+ strength * noise`` -> fused leaky ReLU (rosinality ``StyledConv``)."""
    p = layer.name
    kernel = params[f"{p}.conv.blur.kernel"] if layer.upsample else None
    y = modulated_conv2d(x, params[f"{p}.conv.weight"], _modulation(params, f"{p}.conv", w), demodulate=True,
                         upsample=layer.upsample, blur_kernel=kernel, blur_pad=spec.upconv_blur_pad(config),
                         eps=config.demod_eps)
    y = y + params[f"{p}.noise.weight"] * noise  # (N, C, H, W) + (1) * (N|1, 1, H, W)
    return fused_leaky_relu(y, params[f"{p}.activate.bias"], config.negative_slope, config.act_gain)


def to_rgb(x: np.ndarray, w: np.ndarray, params: Params, layer: spec.SynthLayer, config: spec.StyleGAN2Config,
           skip: np.ndarray | None = None) -> np.ndarray:
    """1x1 modulated conv without demodulation, ``+ bias``, plus the upsampled ``skip`` (rosinality ``ToRGB``)."""
    p = layer.name
    y = modulated_conv2d(x, params[f"{p}.conv.weight"], _modulation(params, f"{p}.conv", w), demodulate=False,
                         eps=config.demod_eps)
    y = y + params[f"{p}.bias"]  # (N, 3, H, W)
    if skip is not None:
        y = y + upfirdn2d(skip, params[f"{p}.upsample.kernel"], up=2, pad=spec.upsample_pad(config))
    return y


def _noise_list(noise: str | Sequence[np.ndarray], params: Params, config: spec.StyleGAN2Config,
                batch: int, dtype: np.dtype, where: str) -> list[np.ndarray]:
    noise = spec.check_noise(noise, config, batch, where)
    if noise == "const":
        return [params[f"noises.noise_{k}"] for k in range(config.num_layers)]
    if noise == "zero":
        return [np.zeros(s, dtype) for s in spec.noise_shapes(config, 1)]
    return [np.asarray(n, dtype) for n in noise]


def synthesis(wplus: np.ndarray, params: Params, config: spec.StyleGAN2Config, *,
              noise: str | Sequence[np.ndarray] | spec.NoisePlan = "const") -> np.ndarray:
    """Images ``(N, 3, R, R)`` from W+ ``(N, n_latent, D)``.

    Args:
        wplus: One ``w`` per modulated layer (:data:`SynthLayer.latent` indexes it).
        params: Canonical params.
        config: The generator's config.
        noise: ``"const"`` (the ``noises.*`` buffers: rosinality ``randomize_noise=False``,
            as Toonify uses), ``"zero"``, or ``num_layers`` arrays ``(N|1, 1, r, r)``
            (a :class:`~tenfold.spec.toonify.NoisePlan` from ``sample_noise``).
    """
    n = wplus.shape[0]
    noises = _noise_list(noise, params, config, n, wplus.dtype, "toonify.synthesis")
    x = np.broadcast_to(params["input.input"], (n, *params["input.input"].shape[1:])).astype(wplus.dtype)
    skip = None
    for layer in spec.synthesis_layers(config):
        w = wplus[:, layer.latent]  # (N, D)
        if layer.kind == "conv":
            x = styled_conv(x, w, params, layer, config, noises[layer.noise])
        else:
            skip = to_rgb(x, w, params, layer, config, skip)
    return skip


def _check_inputs(x: object, params: Params, config: spec.StyleGAN2Config, input_is_latent: bool,
                  where: str) -> np.ndarray:
    x = as_array(where, x)
    check_float_dtype(where, dtype_name(x.dtype), ("float32", "float64"))
    spec.check_latents(x.shape, config, input_is_latent, where)
    check_params(params, spec.param_shapes(config), where, optional=("latent_avg",))
    return x


def generate(x: np.ndarray, params: Params, config: spec.StyleGAN2Config, *, input_is_latent: bool = False,
             truncation: float = 1.0, noise: str | Sequence[np.ndarray] | spec.NoisePlan = "const",
             training: bool = False) -> np.ndarray:
    """The whole generator: ``z`` (or ``w`` / W+) -> images ``(N, 3, R, R)`` (rosinality ``Generator.forward``).

    Args:
        x: ``z`` ``(N, D)``; with ``input_is_latent``, ``w`` ``(N, D)`` or W+ ``(N, n_latent, D)``.
        params: Canonical params (``latent_avg`` needed only for ``truncation != 1``).
        config: The generator's config.
        input_is_latent: ``x`` is already in W (skip the mapping network).
        truncation: ``psi``: ``w <- latent_avg + psi (w - latent_avg)`` when ``psi != 1``.
        noise: See :func:`synthesis`.
        training: Unused (the generator has no train-mode behaviour); for the common forward signature.

    Raises:
        ShapeError, DTypeError, ConfigError, CheckpointError: From the spec's checks.
    """
    where = "toonify.generate"
    x = _check_inputs(x, params, config, input_is_latent, where)
    psi = spec.check_truncation(truncation, "latent_avg" in params, where)
    params = {k: np.asarray(v, x.dtype) for k, v in params.items()}
    w = x if input_is_latent else mapping(x, params, config)
    if psi != 1.0:
        w = params["latent_avg"] + psi * (w - params["latent_avg"])
    wplus = w if w.ndim == 3 else np.repeat(w[:, None, :], config.n_latent, axis=1)  # (N, n_latent, D)
    return synthesis(wplus, params, config, noise=noise)


def mean_latent(params: Params, config: spec.StyleGAN2Config, n: int = spec.MEAN_LATENT_SAMPLES,
                rng: np.random.Generator | None = None) -> np.ndarray:
    """``w_avg`` as the mean of ``f(z)`` over ``n`` draws (rosinality ``Generator.mean_latent``).

    Without ``rng`` the draws are :func:`tenfold.spec.toonify.mean_latent_z` (the same in every layer).
    """
    z = spec.mean_latent_z(config, n) if rng is None else rng.standard_normal((n, config.style_dim))
    return mapping(z, params, config).mean(axis=0)


def init_params(config: spec.StyleGAN2Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random params as rosinality initialises them (float64).

    Unit-normal weights (the mapping's divided by ``lr_mul``), modulation biases 1,
    other biases and noise strengths 0, unit-normal constant and noise buffers,
    the FIR taps, and ``latent_avg`` as the mean of 1024 mapped draws.
    """
    out: dict[str, np.ndarray] = {}
    taps = spec.blur_taps(config)
    for name, shape in spec.param_shapes(config).items():
        if name.endswith((".blur.kernel", ".upsample.kernel")):
            out[name] = taps.copy()
        elif name.startswith("style.") and name.endswith(".weight"):
            out[name] = rng.standard_normal(shape) / config.lr_mlp
        elif name.endswith("modulation.bias"):
            out[name] = np.ones(shape)
        elif name.endswith(("bias", "noise.weight")) or name == "latent_avg":
            out[name] = np.zeros(shape)
        else:  # conv and modulation weights, input.input, noises.*
            out[name] = rng.standard_normal(shape)
    out["latent_avg"] = mean_latent(out, config, 1024, rng)
    return out


def check_generator_params(params: Params, where: str) -> spec.StyleGAN2Config:
    """The config of a canonical dict (shapes only), or a :class:`CheckpointError`."""
    if not isinstance(params, Mapping):
        raise CheckpointError(expected(where, "a dict of name -> array", type(params).__name__))
    return spec.infer_config(params, where)


__all__ = ["check_generator_params", "equalized_linear", "fused_leaky_relu", "generate", "init_params", "mapping",
           "mean_latent", "modulated_conv2d", "pixel_norm", "styled_conv", "synthesis", "to_rgb"]
