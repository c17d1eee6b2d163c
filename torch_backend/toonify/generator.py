"""The StyleGAN2 generator as PyTorch modules whose ``state_dict`` is the canonical (rosinality) dict.

Module names and parameter shapes follow rosinality/stylegan2-pytorch
``model.py`` (``style``, ``input``, ``conv1``, ``to_rgb1``, ``convs``,
``to_rgbs``, ``noises``), so ``Generator(config).state_dict()`` has exactly the
keys of :func:`tenfold.spec.toonify.param_shapes` and a rosinality checkpoint
loads with no renaming. The code is written from the equations of
:mod:`tenfold.spec.toonify.generator`, with plain PyTorch ops only (no custom
CUDA kernels), so it runs on any device.

Differences from rosinality's implementation (same results up to rounding):

* The modulated conv scales the *input* by ``s`` and the output by the
  demodulation coefficients around one conv shared by the batch (the official
  TF ``fused_modconv=False`` form) instead of a grouped conv with per-sample
  weights: one large convolution, faster on CPUs.
* ``upfirdn2d`` is :func:`tenfold.torch_backend.layers.upfirdn.upfirdn2d`.
* Noise is ``"const"`` (the ``noises`` buffers, rosinality ``randomize_noise=False``),
  ``"zero"``, ``"random"`` (``torch.randn``, optionally from a ``torch.Generator``)
  or a list of tensors; W+ input expresses style mixing.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tenfold.spec.checkpoints import atomic_write
from tenfold.spec.contracts import check_params
from tenfold.spec.dtypes import check_float_dtype
from tenfold.spec.errors import CheckpointError, expected
from tenfold.spec.toonify import generator as spec

from .._tensors import as_tensor, dtype_name
from ..checkpoints import load_file
from ..layers.upfirdn import upfirdn2d


class PixelNorm(nn.Module):
    """``z / sqrt(mean_c z^2 + eps)`` over the last axis."""

    def __init__(self, eps: float = 1e-8):
        super().__init__()
        self.eps = eps

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z * torch.rsqrt(torch.mean(z * z, dim=-1, keepdim=True) + self.eps)


class EqualLinear(nn.Module):
    """Equalized-lr dense layer: ``x (W lr_mul / sqrt(in))^T + b lr_mul``, optionally a fused leaky ReLU."""

    def __init__(self, in_dim: int, out_dim: int, bias_init: float = 0.0, lr_mul: float = 1.0,
                 activation: tuple[float, float] | None = None):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init)))
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul = lr_mul
        self.activation = activation  # (slope, gain) or None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.linear(x, self.weight * self.scale)  # (N, out)
        y = y + self.bias * self.lr_mul
        if self.activation is not None:
            slope, gain = self.activation
            y = F.leaky_relu(y, slope) * gain
        return y


class ConstantInput(nn.Module):
    """The learnt 4x4 constant, ``input`` ``(1, C, 4, 4)``."""

    def __init__(self, channels: int):
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, channels, 4, 4))

    def forward(self, batch: int) -> torch.Tensor:
        return self.input.expand(batch, -1, -1, -1)


class _Taps(nn.Module):
    """An FIR filter held as the buffer ``kernel`` (``blur`` / ``upsample`` in rosinality)."""

    def __init__(self, taps: np.ndarray, pad: tuple[int, int], up: int):
        super().__init__()
        self.register_buffer("kernel", torch.from_numpy(np.asarray(taps, np.float32)))
        self.pad, self.up = pad, up

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, up=self.up, pad=self.pad)


class ModulatedConv2d(nn.Module):
    """Modulated conv (``weight`` ``(1, C_out, C_in, k, k)``, ``modulation`` an EqualLinear with bias 1)."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, config: spec.StyleGAN2Config,
                 demodulate: bool = True, upsample: bool = False):
        super().__init__()
        self.fused = False  # rosinality's grouped form (set by Generator(fused=True))
        if upsample:
            self.blur = _Taps(spec.blur_taps(config), spec.upconv_blur_pad(config, kernel_size), up=1)
        self.weight = nn.Parameter(torch.randn(1, c_out, c_in, kernel_size, kernel_size))
        self.modulation = EqualLinear(config.style_dim, c_in, bias_init=1.0)
        self.demodulate, self.upsample, self.eps = demodulate, upsample, config.demod_eps

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        blur = self.blur.kernel if self.upsample else None
        pad = self.blur.pad if self.upsample else (1, 1)
        return modulated_conv2d(x, self.weight, self.modulation(w), demodulate=self.demodulate,
                                upsample=self.upsample, blur_kernel=blur, blur_pad=pad, eps=self.eps, fused=self.fused)


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, style: torch.Tensor, *, demodulate: bool = True,
                     upsample: bool = False, blur_kernel: torch.Tensor | None = None,
                     blur_pad: tuple[int, int] = (1, 1), eps: float = 1e-8, fused: bool = False) -> torch.Tensor:
    """Modulated conv: ``x * s`` -> one conv shared by the batch -> ``* rsqrt(sum (W s)^2 + eps)`` (demodulation).

    Args:
        x: ``(N, C_in, H, W)``.
        weight: ``(1, C_out, C_in, k, k)`` (canonical) or ``(C_out, C_in, k, k)``, unit-variance storage.
        style: ``(N, C_in)``, the modulation ``s``.
        demodulate, upsample, blur_kernel, blur_pad, eps: As :func:`tenfold.numpy_ref.toonify.modulated_conv2d`.
        fused: rosinality's form instead: per-sample weights ``W''`` and one grouped conv (``groups = N``).
    """
    weight = weight.reshape(weight.shape[-4:])
    _, c_in, k, _ = weight.shape
    weight = weight * (1.0 / math.sqrt(c_in * k * k))  # (C_out, C_in, k, k)
    if fused:
        return _fused_modulated_conv2d(x, weight, style, demodulate, upsample, blur_kernel, blur_pad, eps)
    x = x * style[:, :, None, None]
    if upsample:
        y = F.conv_transpose2d(x, weight.transpose(0, 1), stride=2)  # (N, C_out, 2H+k-2, 2W+k-2)
        y = upfirdn2d(y, blur_kernel, pad=blur_pad)  # (N, C_out, 2H, 2W)
    else:
        y = F.conv2d(x, weight, padding=k // 2)  # (N, C_out, H, W)
    if demodulate:
        norm2 = (style * style) @ (weight * weight).sum(dim=(2, 3)).T  # (N, C_out): sum_{i,kh,kw} (W s)^2
        y = y * torch.rsqrt(norm2 + eps)[:, :, None, None]
    return y


def _fused_modulated_conv2d(x, weight, style, demodulate, upsample, blur_kernel, blur_pad, eps):
    n, c_in, h, w = x.shape
    c_out, _, k, _ = weight.shape
    wn = weight[None] * style[:, None, :, None, None]  # (N, C_out, C_in, k, k)
    if demodulate:
        wn = wn * torch.rsqrt(wn.pow(2).sum(dim=(2, 3, 4), keepdim=True) + eps)
    x = x.reshape(1, n * c_in, h, w)
    if upsample:
        wt = wn.transpose(1, 2).reshape(n * c_in, c_out, k, k)
        y = F.conv_transpose2d(x, wt, stride=2, groups=n)  # (1, N*C_out, 2H+k-2, 2W+k-2)
        return upfirdn2d(y.reshape(n, c_out, *y.shape[2:]), blur_kernel, pad=blur_pad)
    y = F.conv2d(x, wn.reshape(n * c_out, c_in, k, k), padding=k // 2, groups=n)  # (1, N*C_out, H, W)
    return y.reshape(n, c_out, h, w)


class NoiseInjection(nn.Module):
    """``y + weight * noise`` with a learnt scalar ``weight`` ``(1,)``."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, y: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return y + self.weight * noise


class FusedLeakyReLU(nn.Module):
    """``lrelu(x + bias, slope) * gain`` with ``bias`` ``(C,)``."""

    def __init__(self, channels: int, slope: float, gain: float):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))
        self.slope, self.gain = slope, gain

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x + self.bias[None, :, None, None], self.slope) * self.gain


class StyledConv(nn.Module):
    """Modulated 3x3 conv (optionally upsampling) -> noise -> fused leaky ReLU."""

    def __init__(self, layer: spec.SynthLayer, config: spec.StyleGAN2Config):
        super().__init__()
        self.conv = ModulatedConv2d(layer.c_in, layer.c_out, 3, config, upsample=layer.upsample)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(layer.c_out, config.negative_slope, config.act_gain)

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        return self.activate(self.noise(self.conv(x, w), noise))


class ToRGB(nn.Module):
    """1x1 modulated conv without demodulation, ``+ bias`` ``(1, 3, 1, 1)``, plus the upsampled skip."""

    def __init__(self, layer: spec.SynthLayer, config: spec.StyleGAN2Config):
        super().__init__()
        if layer.upsample:
            self.upsample = _Taps(spec.blur_taps(config), spec.upsample_pad(config), up=2)
        self.conv = ModulatedConv2d(layer.c_in, 3, 1, config, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x: torch.Tensor, w: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        y = self.conv(x, w) + self.bias  # (N, 3, H, W)
        return y if skip is None else y + self.upsample(skip)


class Generator(nn.Module):
    """The StyleGAN2 generator; ``state_dict()`` keys are the canonical (rosinality) names plus ``latent_avg``.

    Paper: Karras et al., CVPR 2020; official code NVlabs/stylegan2; names
    from rosinality/stylegan2-pytorch ``model.py``.

    Args:
        config: The generator's configuration.
        dtype: Parameter dtype (float32 default; float64 works).
        device: Where to allocate.
        fused: Modulated convs in rosinality's form (per-sample weights, grouped conv) instead of one conv
            shared by the batch; the same results up to rounding.
    """

    def __init__(self, config: spec.StyleGAN2Config, dtype: torch.dtype | None = None,
                 device: torch.device | str | None = None, fused: bool = False):
        super().__init__()
        self.config = config
        act = (config.negative_slope, config.act_gain)
        self.style = nn.Sequential(PixelNorm(config.pixel_norm_eps), *(
            EqualLinear(config.style_dim, config.style_dim, lr_mul=config.lr_mlp, activation=act)
            for _ in range(config.n_mlp)))
        self.input = ConstantInput(config.channels[4])
        layers = spec.synthesis_layers(config)
        self._layers = layers
        self.conv1 = StyledConv(layers[0], config)
        self.to_rgb1 = ToRGB(layers[1], config)
        self.convs = nn.ModuleList(StyledConv(la, config) for la in layers[2:] if la.kind == "conv")
        self.to_rgbs = nn.ModuleList(ToRGB(la, config) for la in layers[2:] if la.kind == "torgb")
        self.noises = nn.Module()
        for k, shape in enumerate(spec.noise_shapes(config, 1)):
            self.noises.register_buffer(f"noise_{k}", torch.randn(*shape))
        self.register_buffer("latent_avg", torch.zeros(config.style_dim))
        for module in self.modules():
            if isinstance(module, ModulatedConv2d):
                module.fused = fused
        self.to(device=device, dtype=dtype or torch.float32)

    def _modules_in_order(self) -> list[nn.Module]:
        convs, rgbs = iter(self.convs), iter(self.to_rgbs)
        return [self.conv1, self.to_rgb1] + [next(convs) if la.kind == "conv" else next(rgbs)
                                             for la in self._layers[2:]]

    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        """``w = f(z)``, ``(N, D)``."""
        return self.style(z)

    @torch.no_grad()
    def mean_latent(self, n: int = spec.MEAN_LATENT_SAMPLES, seed: int = 0) -> torch.Tensor:
        """``w_avg`` as the mean of ``f(z)`` over the draws :func:`tenfold.spec.toonify.mean_latent_z`."""
        z = torch.from_numpy(spec.mean_latent_z(self.config, n, seed))
        return self.style(z.to(self.latent_avg.device, self.latent_avg.dtype)).mean(0)

    def _noises(self, noise: object, batch: int, like: torch.Tensor,
                generator: torch.Generator | None) -> list[torch.Tensor]:
        if isinstance(noise, str) and noise == spec.RANDOM_NOISE:
            return [torch.randn(s, generator=generator, dtype=like.dtype, device=generator.device if generator
                                else like.device).to(like.device) for s in spec.noise_shapes(self.config, batch)]
        noise = spec.check_noise(noise, self.config, batch, "toonify.Generator")
        if noise == "const":
            return [getattr(self.noises, f"noise_{k}") for k in range(self.config.num_layers)]
        if noise == "zero":
            return [like.new_zeros(s) for s in spec.noise_shapes(self.config, 1)]
        return [torch.as_tensor(np.asarray(n) if not isinstance(n, torch.Tensor) else n, dtype=like.dtype,
                                device=like.device) for n in noise]

    def synthesis(self, wplus: torch.Tensor, noise: object = "const",
                  generator: torch.Generator | None = None) -> torch.Tensor:
        """Images ``(N, 3, R, R)`` from W+ ``(N, n_latent, D)``."""
        n = wplus.shape[0]
        noises = self._noises(noise, n, wplus, generator)
        x = self.input(n)
        skip = None
        for layer, module in zip(self._layers, self._modules_in_order(), strict=True):
            w = wplus[:, layer.latent]  # (N, D)
            if layer.kind == "conv":
                x = module(x, w, noises[layer.noise])
            else:
                skip = module(x, w, skip)
        return skip

    def forward(self, x: torch.Tensor, *, input_is_latent: bool = False, truncation: float = 1.0,
                noise: object = "const", generator: torch.Generator | None = None) -> torch.Tensor:
        """``z`` ``(N, D)`` (or ``w`` / W+ with ``input_is_latent``) -> images ``(N, 3, R, R)``.

        Args:
            x: Latents, in the model's dtype.
            input_is_latent: ``x`` is ``w`` ``(N, D)`` or W+ ``(N, n_latent, D)``.
            truncation: ``psi`` (``latent_avg + psi (w - latent_avg)`` when ``psi != 1``).
            noise: ``"const"``, ``"zero"``, ``"random"`` or ``num_layers`` tensors ``(N|1, 1, r, r)``.
            generator: RNG of ``noise="random"``.
        """
        where = "toonify.Generator"
        x = as_tensor(where, x)
        check_float_dtype(where, dtype_name(x.dtype), ("float32", "float64", "float16", "bfloat16"))
        spec.check_latents(tuple(x.shape), self.config, input_is_latent, where)
        psi = spec.check_truncation(truncation, True, where)
        w = x if input_is_latent else self.style(x)
        if psi != 1.0:
            w = self.latent_avg + psi * (w - self.latent_avg)
        wplus = w if w.ndim == 3 else w[:, None, :].expand(-1, self.config.n_latent, -1)  # (N, n_latent, D)
        return self.synthesis(wplus, noise, generator)


# -- canonical params ----------------------------------------------------------------------


def load_params(model: Generator, params: Mapping[str, object]) -> Generator:
    """Copy canonical params into ``model`` (dtype and device kept).

    ``latent_avg`` may be missing (rosinality ``train.py`` checkpoints): it is
    then the mean of 4096 mapped draws (rosinality ``generate.py``'s
    ``mean_latent(4096)``; the draws of :func:`tenfold.spec.toonify.mean_latent_z`),
    computed after the other weights are in.

    Raises:
        CheckpointError: Listing every missing, unexpected and mis-shaped key.
    """
    check_params(params, spec.param_shapes(model.config), "toonify.load_params", optional=("latent_avg",))
    ref = model.state_dict()
    with torch.no_grad():
        for key, value in params.items():
            v = value if isinstance(value, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(value))
            ref[key].copy_(v.to(ref[key].dtype))
        if "latent_avg" not in params:
            model.latent_avg.copy_(model.mean_latent())
    return model


def get_params(model: Generator) -> dict[str, np.ndarray]:
    """The model's weights and buffers as canonical params (NumPy, the model's dtype; bfloat16 as float32)."""
    out = {}
    for k, v in model.state_dict().items():
        v = v.detach().cpu()
        out[k] = (v.float() if v.dtype == torch.bfloat16 else v).numpy().copy()
    return out


# -- rosinality checkpoints ------------------------------------------------------------------


def rosinality_params(path: str | os.PathLike, where: str = "toonify.rosinality_params") -> dict[str, np.ndarray]:
    """Canonical params from a rosinality ``.pt``: ``{"g_ema": state_dict, "latent_avg": tensor}`` or a bare state_dict.

    Read with ``torch.load(weights_only=True)`` (never unpickling code); a
    ``train.py`` checkpoint, which also pickles ``args``, is refused with the
    way out.

    Raises:
        CheckpointError: Missing file, not a tensor-only checkpoint, or no generator in it.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(expected(where, "an existing rosinality .pt file", f"{path} (no such file)"))
    ckpt = load_file(path, where, "a checkpoint of tensors only (torch.load weights_only=True); save "
                                  "{'g_ema': g_ema.state_dict(), 'latent_avg': latent_avg} to convert a train.py "
                                  "checkpoint")
    if not isinstance(ckpt, Mapping):
        raise CheckpointError(expected(where, "a dict with 'g_ema' or a state_dict", type(ckpt).__name__))
    sd = ckpt.get("g_ema", ckpt)
    if not isinstance(sd, Mapping) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise CheckpointError(expected(where, "'g_ema' holding a state_dict of tensors", type(sd).__name__))
    out = {k: v.detach().float().numpy() if v.dtype == torch.bfloat16 else v.detach().numpy() for k, v in sd.items()}
    avg = ckpt.get("latent_avg") if "g_ema" in ckpt else None
    if isinstance(avg, torch.Tensor):
        out["latent_avg"] = avg.detach().reshape(-1).numpy()
    spec.infer_config(out, where)  # a generator with canonical names and consistent shapes
    return out


def save_rosinality(params: Mapping[str, object], path: str | os.PathLike) -> Path:
    """Write canonical params as rosinality's ``{"g_ema": state_dict, "latent_avg": tensor}`` (atomically)."""
    spec.infer_config(params, "toonify.save_rosinality")

    def tensor(v: object) -> torch.Tensor:
        return v.detach().cpu() if isinstance(v, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(v))

    ckpt: dict[str, object] = {"g_ema": {k: tensor(v) for k, v in params.items() if k != "latent_avg"}}
    if "latent_avg" in params:
        ckpt["latent_avg"] = tensor(params["latent_avg"])
    return atomic_write(path, lambda fh: torch.save(ckpt, fh))


def load_rosinality(model: Generator, path: str | os.PathLike) -> Generator:
    """Load a rosinality ``.pt`` generator checkpoint into ``model``."""
    return load_params(model, rosinality_params(path, "toonify.load_rosinality"))


def from_params(params: Mapping[str, object], dtype: torch.dtype | None = None,
                device: torch.device | str | None = None) -> Generator:
    """A :class:`Generator` of the config the params' shapes imply, with the params loaded."""
    return load_params(Generator(spec.infer_config(params, "toonify.from_params"), dtype, device), params)


__all__ = ["EqualLinear", "Generator", "ModulatedConv2d", "StyledConv", "ToRGB", "from_params", "get_params",
           "load_params", "load_rosinality", "modulated_conv2d", "rosinality_params", "save_rosinality"]
