"""Spectrally normalised layers for PyTorch, in the conventions of :mod:`tenfold.spec.spectral_norm`.

Paper: Miyato et al., ICLR 2018, Algorithm 1. The state handling is that of
``torch.nn.utils.spectral_norm`` (a training-mode call runs the power
iteration in place, without gradients, then uses clones of ``u`` and ``v``;
``sigma = u . W v`` is differentiated through ``W``), and the state-dict names
are its own (``weight_orig``, ``weight_u``, ``weight_v``), but the update order
and epsilon come from the config (``torch.nn.utils.parametrizations.spectral_norm``
updates ``u`` first: preset ``SpectralNormConfig.torch_parametrizations()``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from tenfold.spec.spectral_norm import SpectralNormConfig


class SpectralNorm(nn.Module):
    """A raw weight ``weight_orig`` with its power-iteration state; :meth:`normalized_weight` gives ``W / sigma``.

    Subclasses (:class:`SNConv2d`, :class:`SNLinear`) add the bias and the op.

    Args:
        weight_shape: The raw weight's shape, output units first (PyTorch layout).
        config: Iterations, eps and order.
        dtype, device: Of the parameter and the state.
    """

    def __init__(self, weight_shape: tuple[int, ...], config: SpectralNormConfig | None = None,
                 dtype: torch.dtype | None = None, device: torch.device | str | None = None):
        super().__init__()
        self.sn_config = config or SpectralNormConfig()
        kw = {"dtype": dtype, "device": device}
        out, rest = weight_shape[0], math.prod(weight_shape[1:])
        self.weight_orig = nn.Parameter(torch.empty(weight_shape, **kw))
        nn.init.normal_(self.weight_orig, 0.0, 0.02)
        self.register_buffer("weight_u", F.normalize(torch.randn(out, **kw), dim=0, eps=self.sn_config.eps))
        self.register_buffer("weight_v", F.normalize(torch.randn(rest, **kw), dim=0, eps=self.sn_config.eps))

    @torch.no_grad()
    def _power_iteration(self, w: torch.Tensor) -> None:
        eps, u, v = self.sn_config.eps, self.weight_u, self.weight_v
        for _ in range(self.sn_config.n_power_iterations):
            if self.sn_config.order == "vu":
                v.copy_(F.normalize(torch.mv(w.t(), u), dim=0, eps=eps))
                u.copy_(F.normalize(torch.mv(w, v), dim=0, eps=eps))
            else:
                u.copy_(F.normalize(torch.mv(w, v), dim=0, eps=eps))
                v.copy_(F.normalize(torch.mv(w.t(), u), dim=0, eps=eps))

    def normalized_weight(self) -> torch.Tensor:
        """``W / sigma``; in training mode the state advances first (once per call)."""
        w = self.weight_orig.reshape(self.weight_orig.shape[0], -1)  # (out, rest)
        if self.training:
            self._power_iteration(w.detach())
        u, v = self.weight_u.clone(), self.weight_v.clone()  # the autograd graph keeps these values
        sigma = torch.dot(u, torch.mv(w, v))
        return self.weight_orig / sigma


class SNConv2d(SpectralNorm):
    """``Conv2d`` with a spectrally normalised weight ``(out, in, k, k)`` and a bias; zero padding."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, padding: int = 0,
                 config: SpectralNormConfig | None = None, dtype: torch.dtype | None = None, device=None):
        super().__init__((c_out, c_in, kernel, kernel), config, dtype, device)
        self.stride, self.padding = stride, padding
        self.bias = nn.Parameter(torch.zeros(c_out, dtype=dtype, device=device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.normalized_weight(), self.bias, self.stride, self.padding)


class SNLinear(SpectralNorm):
    """``Linear`` with a spectrally normalised weight ``(out, in)`` and a bias."""

    def __init__(self, in_features: int, out_features: int, config: SpectralNormConfig | None = None,
                 dtype: torch.dtype | None = None, device=None):
        super().__init__((out_features, in_features), config, dtype, device)
        self.bias = nn.Parameter(torch.zeros(out_features, dtype=dtype, device=device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.normalized_weight(), self.bias)


__all__ = ["SNConv2d", "SNLinear", "SpectralNorm"]
