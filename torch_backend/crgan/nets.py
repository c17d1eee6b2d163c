"""The CR-GAN generator and spectrally normalised discriminator as PyTorch modules (NCHW).

Structure, names and conventions: :mod:`tenfold.spec.crgan.nets`. The module
attribute names are the canonical names, so ``state_dict()`` keys are the
canonical parameter names (plus BatchNorm's ``num_batches_tracked``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from tenfold.spec.contracts import check_params
from tenfold.spec.crgan import nets as spec
from tenfold.spec.dtypes import check_float_dtype

from .._tensors import as_tensor, dtype_name
from ..layers.norm import BatchNorm2d
from ..layers.spectral_norm import SNConv2d, SNLinear


class Generator(nn.Module):
    """z (B, z_dim) -> images (B, C, S, S) in [-1, 1] (the SNDCGAN-style generator of the spec)."""

    def __init__(self, config: spec.GANConfig, dtype: torch.dtype | None = None, device=None):
        super().__init__()
        self.config = config
        g, b, kw = config.g_channels, config.bottom, {"dtype": dtype, "device": device}
        self.fc = nn.Linear(config.z_dim, g[0] * b * b, **kw)
        self.bn0 = BatchNorm2d(g[0], config.batchnorm, dtype=dtype).to(device)
        for k in range(1, len(g)):
            setattr(self, f"deconv{k}", nn.ConvTranspose2d(g[k - 1], g[k], 4, 2, 1, **kw))
            setattr(self, f"bn{k}", BatchNorm2d(g[k], config.batchnorm, dtype=dtype).to(device))
        self.conv_out = nn.Conv2d(g[-1], config.image_channels, 3, 1, 1, **kw)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        where = "crgan.Generator"
        z = as_tensor(where, z)
        check_float_dtype(where, dtype_name(z.dtype))
        spec.check_latents(where, tuple(z.shape), self.config)
        c = self.config
        h = self.fc(z).view(z.shape[0], c.g_channels[0], c.bottom, c.bottom)  # (B, g0, b, b)
        h = torch.relu(self.bn0(h))
        for k in range(1, len(c.g_channels)):
            h = torch.relu(getattr(self, f"bn{k}")(getattr(self, f"deconv{k}")(h)))  # (B, g_k, 2s, 2s)
        return torch.tanh(self.conv_out(h))  # (B, C, S, S)


class Discriminator(nn.Module):
    """Images (B, C, S, S) -> logits (B, 1); every weight spectrally normalised (one power iteration per call)."""

    def __init__(self, config: spec.GANConfig, dtype: torch.dtype | None = None, device=None):
        super().__init__()
        self.config = config
        snc = config.spectral_norm
        self.layer_names = []
        for layer in spec.discriminator_layers(config):
            setattr(self, layer.name, SNConv2d(layer.c_in, layer.c_out, layer.kernel, layer.stride, layer.padding,
                                               snc, dtype, device))
            self.layer_names.append(layer.name)
        self.fc = SNLinear(spec.d_features(config), 1, snc, dtype, device)
        self.act = nn.LeakyReLU(config.lrelu_slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        where = "crgan.Discriminator"
        x = as_tensor(where, x)
        check_float_dtype(where, dtype_name(x.dtype))
        spec.check_images(where, tuple(x.shape), self.config)
        h = x
        for name in self.layer_names:
            h = self.act(getattr(self, name)(h))  # (B, d_k, s, s)
        return self.fc(h.flatten(1))  # (B, 1)


def _shapes(model: nn.Module) -> dict[str, tuple[int, ...]]:
    if isinstance(model, Generator):
        return spec.generator_param_shapes(model.config)
    return spec.discriminator_param_shapes(model.config)


def load_params(model: Generator | Discriminator, params: Mapping[str, object]) -> Generator | Discriminator:
    """Copy canonical parameters (NumPy arrays or tensors) into a model, casting to its dtype; returns it."""
    where = f"crgan.load_params({type(model).__name__})"
    shapes = _shapes(model)
    check_params(params, shapes, where)
    state = model.state_dict()
    with torch.no_grad():
        for name in shapes:
            t = state[name]
            t.copy_(torch.as_tensor(np.asarray(params[name]) if not isinstance(params[name], torch.Tensor)
                                    else params[name]).to(t.dtype))
    return model


def get_params(model: Generator | Discriminator) -> dict[str, np.ndarray]:
    """The canonical parameters and state of a model as NumPy arrays (its own dtype)."""
    state = model.state_dict()
    return {name: state[name].detach().cpu().numpy().copy() for name in _shapes(model)}


def build(config: spec.GANConfig, params: tuple[Mapping, Mapping] | None = None, dtype: torch.dtype | None = None,
          device=None) -> tuple[Generator, Discriminator]:
    """Both networks, optionally loaded with ``(g_params, d_params)``."""
    g, d = Generator(config, dtype, device), Discriminator(config, dtype, device)
    if params is not None:
        load_params(g, params[0])
        load_params(d, params[1])
    return g, d


__all__ = ["Discriminator", "Generator", "build", "get_params", "load_params"]
