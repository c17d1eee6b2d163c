r"""The StyleGAN2 generator behind Toonify: structure, names, shapes and validation.

Paper: T. Karras et al., "Analyzing and Improving the Image Quality of
StyleGAN", CVPR 2020 (Sections 2.2 and 4.1, Fig. 2 and 7: modulation,
demodulation, skip generator). Official code: NVlabs/stylegan2
``training/networks_stylegan2.py`` (TF1); the canonical names and layouts are
those of rosinality/stylegan2-pytorch ``model.py`` (MIT), so its checkpoints
(``{"g_ema": state_dict, "latent_avg": tensor}`` from ``convert_weight.py``)
load with no renaming. Toonify (Pinkney & Adler 2020) blends two such
generators: :mod:`tenfold.spec.toonify.blend`.

Math (NCHW; ``D`` = ``style_dim``; every weight is stored at unit variance and
scaled at run time, the *equalized learning rate*)::

    mapping     w = f(z):  z <- z / sqrt(mean_c z_c^2 + 1e-8)                     PixelNorm
                           z <- lrelu(z (A_l c_l)^T + b_l lr_mul) * sqrt(2),       l = 1..n_mlp
                           c_l = lr_mul / sqrt(D),  lr_mul = 0.01,  lrelu slope 0.2
    truncation  w <- w_avg + psi (w - w_avg)                    (only when psi != 1)
    W+          w_i, i = 0..n_latent-1, n_latent = 2 log2(R) - 2 (a single w is repeated)

    styled conv s   = w_i M^T / sqrt(D) + m_b                 (modulation: EqualLinear, bias init 1)
                W'  = W s_in / sqrt(C_in k^2)                  per sample, W: (C_out, C_in, k, k)
                W'' = W' / sqrt(sum_{in,kh,kw} W'^2 + 1e-8)    demodulation
                y   = W'' * x                                  3x3, padding 1
                y   = blur(conv_transpose(x, W'', stride 2))   upsampling conv: 2H+1 then the
                                                               [1,3,3,1] FIR (x 4), pads (1, 1) -> 2H
                y   = y + n * noise,   noise (N|1, 1, H, W),  n a learnt scalar
                y   = lrelu(y + b) * sqrt(2)                   fused leaky ReLU
    toRGB       rgb = W' * x + b   (1x1, modulated, *no* demodulation)
                rgb = rgb + upfirdn(rgb_prev, [1,3,3,1] x 4, up 2, pads (2, 1))   skip
    image       the last rgb, (N, 3, R, R), roughly in [-1, 1]

    upfirdn(x, k, up, down, pads): insert up-1 zeros after every sample, pad (negative
    pads crop), convolve with k (a true convolution: k flipped), keep every down-th sample.

Layer order and W+ indices (rosinality ``Generator.forward``)::

    input.input  (1, C_4, 4, 4)          the constant
    conv1        3x3 at 4x4              w_0, noise_0
    to_rgb1                              w_1
    for i = 1 .. log2(R) - 2:            resolution r = 4 * 2^i
        convs.{2i-2}   upsampling conv   w_{2i-1}, noise_{2i-1}
        convs.{2i-1}   3x3               w_{2i},   noise_{2i}
        to_rgbs.{i-1}  toRGB + skip      w_{2i+1}

Channels: ``C_r = min(channel_max, 16 * channel_multiplier * 1024 / r)``
(rosinality's table: 512 up to 32 px, then 256 m, 128 m, 64 m, 32 m, 16 m for
64..1024 px; ``channel_max`` generalises its fixed 512 to small models).

Canonical parameters (:func:`param_shapes`) are exactly the keys of
rosinality's ``Generator.state_dict()`` -- including the buffers
``*.conv.blur.kernel``, ``to_rgbs.*.upsample.kernel`` (the FIR taps) and
``noises.noise_k`` (the fixed noise used with ``randomize_noise=False``) --
plus ``latent_avg`` (``D``,), the ``w_avg`` of truncation, which rosinality
stores beside ``g_ema``. Linear weights are ``(out, in)``; modulated conv
weights ``(1, C_out, C_in, k, k)``.

Differences from the official implementation:

* The official TF code stores ``mod_bias`` without the +1 and ``Conv0_up``
  kernels flipped; rosinality's names and values are canonical here (its
  ``convert_weight.py`` does the conversion; blending commutes with it because
  both maps are affine per parameter).
* Truncation applies to every W+ entry (rosinality); the official
  ``truncation_cutoff`` (only the first layers) is not modelled.
* Style mixing with two latents (``inject_index``) is left to the caller: every
  layer accepts a W+ array, which expresses any mixing.
* Random noise is drawn by :func:`sample_noise` into a :class:`NoisePlan` so
  that every layer can be fed identical draws; backends can also draw their own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import Config, param, require
from ..errors import ConfigError, ShapeError, expected

PAPER = ("Karras et al., Analyzing and Improving the Image Quality of StyleGAN, CVPR 2020; Pinkney & Adler, "
         "Resolution Dependent GAN Interpolation for Controllable Image Synthesis Between Domains, "
         "NeurIPS 2020 workshop")
#: Toonify; the blend script is justinpinkney/stylegan2 blend_models.py, StyleGAN2 itself NVlabs/stylegan2.
OFFICIAL_CODE = "https://github.com/justinpinkney/toonify"

#: The noise modes every layer accepts besides an explicit list of arrays.
NOISE_MODES: tuple[str, ...] = ("const", "zero")
#: Extra mode of the backends (their own RNG); NumPy draws through :func:`sample_noise`.
RANDOM_NOISE = "random"

_UNIT_GAIN = math.sqrt(2.0)


@dataclass(frozen=True)
class StyleGAN2Config(Config):
    """Configuration of a StyleGAN2 generator (defaults: config-f at 1024 px, FFHQ)."""

    PRESETS = ("ffhq", "ffhq256", "tiny", "digits")

    resolution: int = param(1024, "official config-f FFHQ; rosinality Generator(size)")
    style_dim: int = param(512, "official latent_size = dlatent_size = 512; rosinality style_dim")
    n_mlp: int = param(8, "official mapping_layers = 8; rosinality n_mlp")
    channel_multiplier: int = param(2, "official config-f fmap_base 16 << 10; rosinality channel_multiplier=2")
    channel_max: int = param(512, "official fmap_max = 512; rosinality's channel table")
    lr_mlp: float = param(0.01, "official mapping_lrmul = 0.01; rosinality lr_mlp")
    blur_kernel: tuple[int, ...] = param((1, 3, 3, 1), "official resample_kernel [1,3,3,1]; rosinality blur_kernel")
    negative_slope: float = param(0.2, "official lrelu alpha 0.2; rosinality FusedLeakyReLU negative_slope")
    act_gain: float = param(_UNIT_GAIN, "official lrelu def_gain sqrt(2); rosinality FusedLeakyReLU scale")
    pixel_norm_eps: float = param(1e-8, "official normalize_2nd_moment epsilon 1e-8; rosinality PixelNorm")
    demod_eps: float = param(1e-8, "official modulated_conv2d_layer 1e-8; rosinality ModulatedConv2d eps")

    @classmethod
    def ffhq(cls) -> StyleGAN2Config:
        """Config-f at 1024 px (the FFHQ model that Toonify fine-tunes)."""
        return cls()

    @classmethod
    def ffhq256(cls) -> StyleGAN2Config:
        """Config-f at 256 px (rosinality's FFHQ-256 training config; the benchmark's model)."""
        return cls(resolution=256)

    @classmethod
    def tiny(cls) -> StyleGAN2Config:
        """16 px, 8 channels, 8-dim latents, 2 mapping layers: for tests and conformance."""
        return cls(resolution=16, style_dim=8, n_mlp=2, channel_max=8)

    @classmethod
    def digits(cls) -> StyleGAN2Config:
        """16 px, 32 channels, 32-dim latents, 4 mapping layers: the digits demo."""
        return cls(resolution=16, style_dim=32, n_mlp=4, channel_max=32)

    def validate(self) -> None:
        r = self.resolution
        require(isinstance(r, int) and r >= 4 and r & (r - 1) == 0, "StyleGAN2Config.resolution",
                "a power of two >= 4", r)
        for name in ("style_dim", "channel_multiplier", "channel_max"):
            v = getattr(self, name)
            require(isinstance(v, int) and not isinstance(v, bool) and v >= 1, f"StyleGAN2Config.{name}",
                    "an integer >= 1", v)
        require(isinstance(self.n_mlp, int) and self.n_mlp >= 0, "StyleGAN2Config.n_mlp", "an integer >= 0",
                self.n_mlp)
        require(all(math.isfinite(v) and v > 0 for v in (self.lr_mlp, self.act_gain)),
                "StyleGAN2Config.lr_mlp/act_gain", "finite values > 0", (self.lr_mlp, self.act_gain))
        require(math.isfinite(self.negative_slope), "StyleGAN2Config.negative_slope", "a finite slope",
                self.negative_slope)
        require(all(math.isfinite(v) and v >= 0 for v in (self.pixel_norm_eps, self.demod_eps)),
                "StyleGAN2Config.pixel_norm_eps/demod_eps", "finite values >= 0",
                (self.pixel_norm_eps, self.demod_eps))
        k = self.blur_kernel
        require(isinstance(k, tuple) and len(k) >= 2 and all(isinstance(v, int | float) for v in k)
                and sum(k) > 0, "StyleGAN2Config.blur_kernel", "a tuple of >= 2 taps with a positive sum", k)
        require(min(self.channels.values()) >= 1, "StyleGAN2Config", "at least one channel at every resolution",
                self.channels)

    @property
    def log_size(self) -> int:
        return self.resolution.bit_length() - 1

    @property
    def n_latent(self) -> int:
        """Entries of W+ (18 at 1024 px)."""
        return 2 * self.log_size - 2

    @property
    def num_layers(self) -> int:
        """Styled convs = noise inputs (17 at 1024 px)."""
        return 2 * (self.log_size - 2) + 1

    @property
    def resolutions(self) -> tuple[int, ...]:
        """4, 8, ..., resolution."""
        return tuple(4 * 2 ** i for i in range(self.log_size - 1))

    @property
    def channels(self) -> dict[int, int]:
        """Feature channels per resolution (rosinality's table, capped at ``channel_max``)."""
        return {r: min(self.channel_max, 16 * self.channel_multiplier * 1024 // r) for r in self.resolutions}


@dataclass(frozen=True)
class SynthLayer:
    """One modulated layer of the synthesis network, in execution order.

    Attributes:
        name: Canonical prefix (``"conv1"``, ``"convs.3"``, ``"to_rgbs.1"``).
        kind: ``"conv"`` (styled 3x3 conv) or ``"torgb"``.
        c_in, c_out: Channels.
        resolution: Output resolution.
        upsample: Upsampling conv (``kind == "conv"``) or a toRGB with a skip input.
        latent: Index into W+.
        noise: Index of its noise input (``None`` for toRGB).
    """

    name: str
    kind: str
    c_in: int
    c_out: int
    resolution: int
    upsample: bool
    latent: int
    noise: int | None


def synthesis_layers(config: StyleGAN2Config) -> list[SynthLayer]:
    """The modulated layers in execution order (the one source of the structure for every layer)."""
    ch = config.channels
    layers = [SynthLayer("conv1", "conv", ch[4], ch[4], 4, False, 0, 0),
              SynthLayer("to_rgb1", "torgb", ch[4], 3, 4, False, 1, None)]
    for i in range(1, config.log_size - 1):
        r = 4 * 2 ** i
        c_in, c_out = ch[r // 2], ch[r]
        layers += [SynthLayer(f"convs.{2 * i - 2}", "conv", c_in, c_out, r, True, 2 * i - 1, 2 * i - 1),
                   SynthLayer(f"convs.{2 * i - 1}", "conv", c_out, c_out, r, False, 2 * i, 2 * i),
                   SynthLayer(f"to_rgbs.{i - 1}", "torgb", c_out, 3, r, True, 2 * i + 1, None)]
    return layers


def noise_resolution(k: int) -> int:
    """Side of ``noises.noise_k`` (rosinality: ``2 ** ((k + 5) // 2)``)."""
    return 2 ** ((k + 5) // 2)


def blur_taps(config: StyleGAN2Config, factor: int = 2) -> np.ndarray:
    """The 2-D FIR taps of a [1,3,3,1] blur: outer product, normalised to sum 1, times ``factor**2``.

    rosinality ``make_kernel`` then ``* factor ** 2`` for the upsampling conv's
    blur and ``Upsample`` (the zeros inserted by upsampling keep the gain at 1).
    """
    k = np.asarray(config.blur_kernel, dtype=np.float64)
    k2 = np.outer(k, k)
    return k2 / k2.sum() * factor ** 2


def upconv_blur_pad(config: StyleGAN2Config, kernel_size: int = 3, factor: int = 2) -> tuple[int, int]:
    """Pads of the blur after the stride-2 transposed conv (rosinality ``ModulatedConv2d``): (1, 1)."""
    p = (len(config.blur_kernel) - factor) - (kernel_size - 1)
    return (p + 1) // 2 + factor - 1, p // 2 + 1


def upsample_pad(config: StyleGAN2Config, factor: int = 2) -> tuple[int, int]:
    """Pads of the skip path's ``upfirdn(up=2)`` (rosinality ``Upsample``): (2, 1)."""
    p = len(config.blur_kernel) - factor
    return (p + 1) // 2 + factor - 1, p // 2


def param_shapes(config: StyleGAN2Config) -> dict[str, tuple[int, ...]]:
    """Canonical names and shapes: rosinality's ``Generator.state_dict()`` plus ``latent_avg``."""
    d, nk = config.style_dim, len(config.blur_kernel)
    shapes: dict[str, tuple[int, ...]] = {}
    for i in range(1, config.n_mlp + 1):
        shapes[f"style.{i}.weight"] = (d, d)
        shapes[f"style.{i}.bias"] = (d,)
    shapes["input.input"] = (1, config.channels[4], 4, 4)
    layers = synthesis_layers(config)
    ordered = layers[:2] + sorted(layers[2:], key=lambda la: la.kind != "conv")  # stable: convs, then to_rgbs
    for layer in ordered:  # rosinality's state_dict order: conv1, to_rgb1, convs.*, to_rgbs.*
        p = layer.name
        if layer.kind == "conv":
            shapes[f"{p}.conv.weight"] = (1, layer.c_out, layer.c_in, 3, 3)
            if layer.upsample:
                shapes[f"{p}.conv.blur.kernel"] = (nk, nk)
            shapes[f"{p}.conv.modulation.weight"] = (layer.c_in, d)
            shapes[f"{p}.conv.modulation.bias"] = (layer.c_in,)
            shapes[f"{p}.noise.weight"] = (1,)
            shapes[f"{p}.activate.bias"] = (layer.c_out,)
        else:
            shapes[f"{p}.bias"] = (1, 3, 1, 1)
            if layer.upsample:
                shapes[f"{p}.upsample.kernel"] = (nk, nk)
            shapes[f"{p}.conv.weight"] = (1, 3, layer.c_in, 1, 1)
            shapes[f"{p}.conv.modulation.weight"] = (layer.c_in, d)
            shapes[f"{p}.conv.modulation.bias"] = (layer.c_in,)
    for k in range(config.num_layers):
        r = noise_resolution(k)
        shapes[f"noises.noise_{k}"] = (1, 1, r, r)
    shapes["latent_avg"] = (d,)
    return shapes


#: Suffixes of canonical entries that are fixed buffers, never trained (FIR taps, fixed noise, w_avg).
BUFFER_SUFFIXES: tuple[str, ...] = (".blur.kernel", ".upsample.kernel")


def is_buffer(name: str) -> bool:
    """True for the non-trainable entries: FIR taps, ``noises.*`` and ``latent_avg``."""
    return name.endswith(BUFFER_SUFFIXES) or name.startswith("noises.") or name == "latent_avg"


def trainable_names(config: StyleGAN2Config) -> list[str]:
    """Canonical names of the trainable parameters, in canonical order."""
    return [n for n in param_shapes(config) if not is_buffer(n)]


def num_params(config: StyleGAN2Config) -> int:
    """Trainable parameters."""
    shapes = param_shapes(config)
    return sum(int(np.prod(shapes[n])) for n in trainable_names(config))


def infer_config(params: Mapping[str, Any], where: str = "infer_config", **overrides: Any) -> StyleGAN2Config:
    """The :class:`StyleGAN2Config` whose :func:`param_shapes` a weights dict has (resolution, widths, depth).

    Numeric conventions (``lr_mlp``, slopes, epsilons) are not visible in
    weights: they take the defaults unless given in ``overrides``.

    Raises:
        CheckpointError: When no config reproduces the dict's names and shapes.
    """
    from ..contracts import check_params
    from ..errors import CheckpointError

    def shape(name: str) -> tuple[int, ...] | None:
        v = params.get(name)
        return None if v is None or not hasattr(v, "shape") else tuple(int(s) for s in v.shape)

    inp, w = shape("input.input"), shape("conv1.conv.modulation.weight")
    if inp is None or w is None or len(inp) != 4 or len(w) != 2:
        raise CheckpointError(expected(where, "a StyleGAN2 generator dict (rosinality names: input.input, "
                                              "conv1.conv.*, ...)", f"{len(params)} entries without them"))
    n_rgb = sum(1 for k in params if re.fullmatch(r"to_rgbs\.\d+\.bias", k))
    n_mlp = sum(1 for k in params if re.fullmatch(r"style\.\d+\.weight", k))
    style_dim, c4 = w[1], inp[1]
    fine = shape(f"to_rgbs.{n_rgb - 1}.conv.weight") if n_rgb else None
    base = dict(resolution=4 * 2 ** n_rgb, style_dim=style_dim, n_mlp=n_mlp, channel_max=c4)
    base.update(overrides)
    candidates = [base]
    if fine is not None and "channel_multiplier" not in overrides:
        m = max(1, (fine[2] * base["resolution"]) // (16 * 1024))  # exact when the top width is below the cap
        candidates = [dict(base, channel_multiplier=v) for v in dict.fromkeys((2, m, 1))]
    last_error = None
    for cand in candidates:
        try:
            config = StyleGAN2Config(**cand)
            check_params(params, param_shapes(config), where, optional=("latent_avg",))
            return config
        except (ConfigError, CheckpointError) as err:
            last_error = err
    raise CheckpointError(str(last_error)) from None


# -- input validation (every layer calls these) ------------------------------------


def check_latents(shape: Sequence[int | None], config: StyleGAN2Config, input_is_latent: bool,
                  where: str = "toonify.generate") -> int:
    """Validate ``z`` ``(N, D)``, or ``w`` ``(N, D)`` / W+ ``(N, n_latent, D)``; returns the rank.

    Raises:
        ShapeError: One message in every layer.
    """
    d, n = config.style_dim, config.n_latent
    shape = tuple(shape)
    ok_2d = len(shape) == 2 and shape[1] in (d, None)
    ok_3d = input_is_latent and len(shape) == 3 and shape[1] in (n, None) and shape[2] in (d, None)
    if not (ok_2d or ok_3d):
        what = f"z of shape (N, {d})" if not input_is_latent else f"w of shape (N, {d}) or W+ (N, {n}, {d})"
        raise ShapeError(expected(where, what, f"shape {shape}"))
    if shape[0] == 0:
        raise ShapeError(expected(where, "a batch of at least one latent", f"shape {shape}"))
    return len(shape)


def check_truncation(truncation: float, has_avg: bool, where: str = "toonify.generate") -> float:
    """``psi`` must be finite; ``psi != 1`` needs ``latent_avg``."""
    try:
        psi = float(truncation)
    except (TypeError, ValueError):
        raise ConfigError(expected(where, "a finite truncation psi", repr(truncation))) from None
    if not math.isfinite(psi):
        raise ConfigError(expected(where, "a finite truncation psi", psi))
    if psi != 1.0 and not has_avg:
        raise ConfigError(expected(where, "params with 'latent_avg' for truncation psi != 1", "none"))
    return psi


def noise_shapes(config: StyleGAN2Config, batch: int) -> list[tuple[int, int, int, int]]:
    """Shapes of the noise inputs, NCHW ``(batch, 1, r, r)`` in layer order."""
    return [(batch, 1, noise_resolution(k), noise_resolution(k)) for k in range(config.num_layers)]


def check_noise(noise: object, config: StyleGAN2Config, batch: int | None,
                where: str = "toonify.generate", layout: str = "NCHW") -> str | list:
    """A noise mode (``"const"``, ``"zero"``) or a list of ``num_layers`` arrays ``(N|1, 1, r, r)``.

    TensorFlow passes ``layout="NHWC"`` (arrays ``(N|1, r, r, 1)``). Returns the
    mode string or the list unchanged.
    """
    if isinstance(noise, str):
        if noise not in NOISE_MODES:
            raise ConfigError(expected(where, "noise among " + ", ".join(NOISE_MODES) + " or a list of arrays",
                                       repr(noise)))
        return noise
    if isinstance(noise, NoisePlan):
        noise = list(noise.noises)
    if not isinstance(noise, Sequence) or len(noise) != config.num_layers:
        got = f"{len(noise)} arrays" if isinstance(noise, Sequence) else type(noise).__name__
        raise ShapeError(expected(where, f"{config.num_layers} noise arrays", got))
    for k, arr in enumerate(noise):
        r = noise_resolution(k)
        s = tuple(getattr(arr, "shape", ()))
        s = tuple(None if v is None else int(v) for v in s)
        want = (1, r, r) if layout == "NCHW" else (r, r, 1)
        if len(s) != 4 or s[1:] != want or (batch is not None and s[0] not in (1, batch, None)):
            b = "N|1" if batch is None else f"{batch}|1"
            shown = f"(N|1, 1, {r}, {r})" if layout == "NCHW" else f"(N|1, {r}, {r}, 1)"
            raise ShapeError(expected(f"{where} (noise {k})", f"shape {shown.replace('N|1', b)}", f"shape {s}"))
    return list(noise)


# -- random noise as a plan -----------------------------------------------------------------


@dataclass(frozen=True)
class NoisePlan:
    """Every noise image of one forward pass, NCHW ``(N, 1, r, r)`` float64, in layer order."""

    noises: tuple[np.ndarray, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"noises": [n.tolist() for n in self.noises]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NoisePlan:
        return cls(tuple(np.asarray(n, dtype=np.float64) for n in data["noises"]))


def sample_noise(rng: np.random.Generator, config: StyleGAN2Config, batch: int = 1) -> NoisePlan:
    """Draw N(0, 1) noise for every styled conv (rosinality ``make_noise`` for ``batch=1``)."""
    return NoisePlan(tuple(rng.standard_normal(s) for s in noise_shapes(config, batch)))


#: Draws of ``f(z)`` averaged for a missing ``latent_avg`` (rosinality ``generate.py``: ``mean_latent(4096)``).
MEAN_LATENT_SAMPLES = 4096


def mean_latent_z(config: StyleGAN2Config, n: int = MEAN_LATENT_SAMPLES, seed: int = 0) -> np.ndarray:
    """The ``z`` draws ``(n, D)`` every layer maps and averages for ``latent_avg`` (one NumPy stream)."""
    return np.random.default_rng(seed).standard_normal((n, config.style_dim))


# -- cost --------------------------------------------------------------------------------


def flops_per_image(config: StyleGAN2Config, mapping: bool = True) -> int:
    """Multiply-add FLOPs (2 per MAC) of one image: convs, modulations, mapping; no element-wise ops."""
    macs, d = 0, config.style_dim
    for layer in synthesis_layers(config):
        k = 3 if layer.kind == "conv" else 1
        positions = (layer.resolution // 2) ** 2 if layer.upsample and layer.kind == "conv" else layer.resolution ** 2
        macs += positions * layer.c_in * layer.c_out * k * k + d * layer.c_in
    if mapping:
        macs += config.n_mlp * d * d
    return 2 * macs


__all__ = ["BUFFER_SUFFIXES", "MEAN_LATENT_SAMPLES", "NOISE_MODES", "OFFICIAL_CODE", "PAPER", "RANDOM_NOISE",
           "NoisePlan", "StyleGAN2Config", "SynthLayer", "blur_taps", "check_latents", "check_noise",
           "check_truncation", "flops_per_image", "infer_config", "is_buffer", "mean_latent_z", "noise_resolution",
           "noise_shapes", "num_params", "param_shapes", "sample_noise", "synthesis_layers", "trainable_names",
           "upconv_blur_pad", "upsample_pad"]
