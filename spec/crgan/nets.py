r"""A small DCGAN/SNGAN-style generator and spectrally normalised discriminator.

Structure: the "standard CNN" of Miyato et al., "Spectral Normalization for
GANs", ICLR 2018, Table 3 (named "SNDCGAN" in the CR and ICR papers' unconditional
CIFAR-10 tables, per the project's research notes), with the widths and depth as parameters.

Generator, ``g_channels = (c_0, ..., c_n)``, ``bottom`` = b::

    z (B, z_dim)
    fc:        (B, c_0 * b * b) -> reshape (B, c_0, b, b) -> bn0 -> ReLU       (BatchNorm2d per channel)
    deconv k:  ConvTranspose 4x4, stride 2, padding 1: (B, c_{k-1}, s, s) -> (B, c_k, 2s, 2s)
               -> bn k -> ReLU                                               k = 1 .. n
    conv_out:  Conv 3x3, stride 1, padding 1 -> (B, image_channels, S, S) -> tanh,   S = b * 2^n

Discriminator, ``d_channels = (d_0, ..., d_m)``, every weight spectrally normalised::

    conv{2k}:    Conv 3x3, stride 1, padding 1 -> d_k channels, LeakyReLU(slope)     k = 0 .. m
    conv{2k+1}:  Conv 4x4, stride 2, padding 1 -> d_k channels, LeakyReLU(slope)     k = 0 .. m-1
    fc:          flatten (NCHW order, C then H then W) -> Linear(d_m * s * s, 1),  s = S / 2^m

Miyato's Table 3: z in R^128, b = 4, g_channels (512, 256, 128, 64), d_channels
(64, 128, 256, 512), LeakyReLU slope 0.1 (:meth:`GANConfig.sndcgan`). Every
layer has a bias. BatchNorm follows :mod:`tenfold.spec.batchnorm` (PyTorch's
conventions), spectral norm :mod:`tenfold.spec.spectral_norm`; the
generator has no spectral norm (as Miyato's).

Canonical names (PyTorch layouts: Linear ``(out, in)``, Conv ``(out, in, kh, kw)``,
ConvTranspose ``(in, out, kh, kw)``)::

    G: fc.weight, fc.bias, bn0.{weight,bias,running_mean,running_var},
       deconv{k}.weight, deconv{k}.bias, bn{k}.*, conv_out.weight, conv_out.bias
    D: conv{j}.weight_orig, conv{j}.weight_u, conv{j}.weight_v, conv{j}.bias,
       fc.weight_orig, fc.weight_u, fc.weight_v, fc.bias

Differences from Miyato's Table 3: the widths, depth and image size are
parameters; the BatchNorm after the dense layer is per channel after the
reshape.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import batchnorm as bn
from .. import spectral_norm as sn
from ..config import Config, param, require
from ..errors import ShapeError, expected

_T3 = "Miyato et al. 2018, Table 3 (standard CNN)"


@dataclass(frozen=True)
class GANConfig(Config):
    """Sizes and numeric conventions of the generator and the discriminator.

    Presets: :meth:`sndcgan` (Miyato's 32x32 standard CNN), :meth:`digits`
    (8x8 grey images, the ``tenfold train crgan-digits`` networks), :meth:`tiny`
    (8x8 with a handful of channels, for tests).
    """

    PRESETS = ("sndcgan", "digits", "tiny")

    z_dim: int = param(128, _T3 + ": z in R^128, N(0, I)")
    image_channels: int = param(3, "CIFAR-10 RGB")
    bottom: int = param(4, _T3 + ": M_g = 4 for 32x32 images")
    g_channels: tuple[int, ...] = param((512, 256, 128, 64), _T3 + ": dense 512, deconv 256, 128, 64")
    d_channels: tuple[int, ...] = param((64, 128, 256, 512), _T3 + ": conv 64, 128, 256, 512")
    lrelu_slope: float = param(0.1, _T3 + ": lReLU with slope 0.1")
    bn_eps: float = param(1e-5, "PyTorch nn.BatchNorm2d default eps")
    bn_momentum: float = param(0.1, "PyTorch nn.BatchNorm2d default momentum (weight of the new batch)")
    sn_power_iterations: int = param(1, "Miyato et al. 2018 Algorithm 1; torch.nn.utils.spectral_norm default")
    sn_eps: float = param(1e-12, "torch.nn.utils.spectral_norm default eps")
    sn_order: str = param("vu", "Miyato et al. 2018 Algorithm 1 / torch.nn.utils.spectral_norm: v, then u")

    def __post_init__(self) -> None:
        for name in ("g_channels", "d_channels"):
            if isinstance(getattr(self, name), list):  # JSON round trip
                object.__setattr__(self, name, tuple(getattr(self, name)))
        super().__post_init__()

    @classmethod
    def sndcgan(cls) -> GANConfig:
        """Miyato's standard CNN for 32x32 RGB images (the default)."""
        return cls()

    @classmethod
    def digits(cls) -> GANConfig:
        """scikit-learn's 8x8 grey digits at their own size: z 32, G widths (64, 32), D widths (32, 64)."""
        return cls(z_dim=32, image_channels=1, bottom=4, g_channels=(64, 32), d_channels=(32, 64))

    @classmethod
    def tiny(cls) -> GANConfig:
        """8x8 grey images with a handful of channels (conformance and tests)."""
        return cls(z_dim=5, image_channels=1, bottom=4, g_channels=(6, 4), d_channels=(3, 4))

    def validate(self) -> None:
        for name in ("z_dim", "image_channels", "bottom"):
            v = getattr(self, name)
            require(isinstance(v, int) and not isinstance(v, bool) and v >= 1, f"GANConfig.{name}", "an int >= 1",
                    repr(v))
        for name in ("g_channels", "d_channels"):
            v = getattr(self, name)
            require(isinstance(v, tuple) and len(v) >= 1 and all(isinstance(c, int) and c >= 1 for c in v),
                    f"GANConfig.{name}", "a non-empty tuple of ints >= 1", repr(v))
        require(self.image_size % (2 ** (len(self.d_channels) - 1)) == 0, "GANConfig.d_channels",
                f"at most log2 of the image size ({self.image_size}) stride-2 stages + 1", repr(self.d_channels))
        require(isinstance(self.lrelu_slope, (int, float)) and 0 <= self.lrelu_slope < 1, "GANConfig.lrelu_slope",
                "a slope in [0, 1)", repr(self.lrelu_slope))
        bn.BatchNormConfig(self.bn_eps, self.bn_momentum)
        self.spectral_norm  # noqa: B018 -- validates the three SN fields

    @property
    def image_size(self) -> int:
        """``S = bottom * 2^(len(g_channels) - 1)``."""
        return self.bottom * 2 ** (len(self.g_channels) - 1)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, S, S)`` of one image."""
        return (self.image_channels, self.image_size, self.image_size)

    @property
    def d_bottom(self) -> int:
        """The discriminator's last spatial size ``S / 2^(len(d_channels) - 1)``."""
        return self.image_size // 2 ** (len(self.d_channels) - 1)

    @property
    def batchnorm(self) -> bn.BatchNormConfig:
        return bn.BatchNormConfig(self.bn_eps, self.bn_momentum)

    @property
    def spectral_norm(self) -> sn.SpectralNormConfig:
        return sn.SpectralNormConfig(self.sn_power_iterations, self.sn_eps, self.sn_order)


@dataclass(frozen=True)
class DLayer:
    """One discriminator convolution: name, channels in and out, kernel, stride, padding."""

    name: str
    c_in: int
    c_out: int
    kernel: int
    stride: int
    padding: int


def discriminator_layers(config: GANConfig) -> list[DLayer]:
    """The convolutions of the discriminator in order (the single source of its structure)."""
    layers, c_in, j = [], config.image_channels, 0
    for k, c in enumerate(config.d_channels):
        layers.append(DLayer(f"conv{j}", c_in, c, 3, 1, 1))
        j, c_in = j + 1, c
        if k < len(config.d_channels) - 1:
            layers.append(DLayer(f"conv{j}", c, c, 4, 2, 1))
            j += 1
    return layers


def d_features(config: GANConfig) -> int:
    """Inputs of the discriminator's final Linear: ``d_m * s * s``."""
    return config.d_channels[-1] * config.d_bottom ** 2


def generator_param_shapes(config: GANConfig) -> dict[str, tuple[int, ...]]:
    """Canonical names and shapes of the generator's parameters and BatchNorm state."""
    g = config.g_channels
    shapes: dict[str, tuple[int, ...]] = {"fc.weight": (g[0] * config.bottom ** 2, config.z_dim),
                                          "fc.bias": (g[0] * config.bottom ** 2,)}
    shapes.update(bn.param_shapes(g[0], "bn0."))
    for k in range(1, len(g)):
        shapes[f"deconv{k}.weight"] = (g[k - 1], g[k], 4, 4)
        shapes[f"deconv{k}.bias"] = (g[k],)
        shapes.update(bn.param_shapes(g[k], f"bn{k}."))
    shapes["conv_out.weight"] = (config.image_channels, g[-1], 3, 3)
    shapes["conv_out.bias"] = (config.image_channels,)
    return shapes


def discriminator_param_shapes(config: GANConfig) -> dict[str, tuple[int, ...]]:
    """Canonical names and shapes of the discriminator's parameters and spectral-norm state."""
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in discriminator_layers(config):
        shapes.update(sn.param_shapes(layer.name, (layer.c_out, layer.c_in, layer.kernel, layer.kernel)))
        shapes[f"{layer.name}.bias"] = (layer.c_out,)
    shapes.update(sn.param_shapes("fc", (1, d_features(config))))
    shapes["fc.bias"] = (1,)
    return shapes


def param_shapes(config: GANConfig) -> dict[str, tuple[int, ...]]:
    """Both networks in one dict: generator names prefixed ``G.``, discriminator names ``D.``."""
    return {**{f"G.{k}": v for k, v in generator_param_shapes(config).items()},
            **{f"D.{k}": v for k, v in discriminator_param_shapes(config).items()}}


def state_names(shapes: dict[str, tuple[int, ...]]) -> tuple[str, ...]:
    """Entries that training updates without gradients: BatchNorm running statistics and SN ``u``, ``v``."""
    return tuple(k for k in shapes if k.endswith(("running_mean", "running_var", "weight_u", "weight_v")))


def trainable_names(shapes: dict[str, tuple[int, ...]]) -> tuple[str, ...]:
    """Entries that receive gradients (everything but :func:`state_names`)."""
    state = set(state_names(shapes))
    return tuple(k for k in shapes if k not in state)


def check_latents(where: str, shape: tuple[int, ...], config: GANConfig) -> int:
    """Latents are (B, z_dim), B >= 1; return B."""
    if not (len(shape) == 2 and shape[0] >= 1 and shape[1] == config.z_dim):
        raise ShapeError(expected(where, f"latents of shape (B, {config.z_dim})", f"shape {tuple(shape)}"))
    return int(shape[0])


def check_images(where: str, shape: tuple[int, ...], config: GANConfig, layout: str = "NCHW") -> int:
    """Discriminator inputs are (B, C, S, S) (NHWC in TF); return B."""
    c, s = config.image_channels, config.image_size
    want = (c, s, s) if layout == "NCHW" else (s, s, c)
    if not (len(shape) == 4 and shape[0] >= 1 and tuple(shape[1:]) == want):
        raise ShapeError(expected(where, f"images of shape (B, {', '.join(map(str, want))}) ({layout})",
                                  f"shape {tuple(shape)}"))
    return int(shape[0])


__all__ = ["DLayer", "GANConfig", "check_images", "check_latents", "d_features", "discriminator_layers",
           "discriminator_param_shapes", "generator_param_shapes", "param_shapes", "state_names",
           "trainable_names"]
