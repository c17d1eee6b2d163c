"""The SimCLR projection head for PyTorch, with canonical (official TF1 checkpoint) parameter names.

Paper: Chen et al., ICML 2020, Sec. 2.1; SimCLRv2 Sec. 2. Official code:
google-research/simclr ``model_util.py`` ``projection_head``. Layout, names and
conventions: :mod:`tenfold.spec.simclr.head`.

``ProjectionHead(config)`` is an ``nn.Module`` of ``num_layers`` blocks, each a
bias-free ``nn.Linear`` and a BatchNorm over the feature axis (the last without
beta), ReLU between. :func:`get_params` / :func:`load_params` move weights in
the canonical layout (``nl_{j}/dense/kernel`` is ``linear.weight`` transposed).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tenfold.spec.contracts import check_params
from tenfold.spec.dtypes import check_float_dtype
from tenfold.spec.simclr import head as spec

from .._tensors import as_tensor, dtype_name


class _BatchNorm(nn.Module):
    """BatchNorm over axis 1 of (B, C) in the spec's convention; ``center=False`` has no beta."""

    def __init__(self, channels: int, config: spec.HeadConfig, center: bool, dtype=None) -> None:
        super().__init__()
        self.eps, self.momentum = config.bn_eps, config.bn_momentum
        self.weight = nn.Parameter(torch.ones(channels, dtype=dtype))
        self.bias = nn.Parameter(torch.zeros(channels, dtype=dtype)) if center else None
        self.register_buffer("running_mean", torch.zeros(channels, dtype=dtype))
        self.register_buffer("running_var", torch.ones(channels, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, self.training,
                            self.momentum, self.eps)


class _Layer(nn.Module):
    def __init__(self, d_in: int, d_out: int, config: spec.HeadConfig, last: bool, dtype=None) -> None:
        super().__init__()
        self.linear = nn.Linear(d_in, d_out, bias=False, dtype=dtype)
        nn.init.normal_(self.linear.weight, 0.0, config.init_std)
        self.bn = _BatchNorm(d_out, config, center=not last, dtype=dtype)
        self.last = last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn(self.linear(x))
        return y if self.last else F.relu(y)


class ProjectionHead(nn.Module):
    """The SimCLR projection head ``g(.)`` (Chen et al., ICML 2020; official ``model_util.projection_head``).

    Args:
        config: A :class:`~tenfold.spec.simclr.head.HeadConfig` (``HeadConfig.v2()`` when None).
        dtype: Parameter dtype (float32 default).

    Input (B, in_dim), output (B, out_dim); train mode needs B > 1.
    """

    def __init__(self, config: spec.HeadConfig | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.config = config or spec.HeadConfig()
        last = self.config.num_layers - 1
        self.layers = nn.ModuleList(_Layer(i, o, self.config, j == last, dtype)
                                    for j, (i, o) in enumerate(self.config.widths()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        where = "ProjectionHead"
        x = as_tensor(where, x)
        check_float_dtype(where, dtype_name(x.dtype))
        spec.check_input(where, tuple(x.shape), self.config, self.training)
        for layer in self.layers:
            x = layer(x)
        return x


def _mapping(config: spec.HeadConfig) -> dict[str, tuple[str, bool]]:
    """canonical name -> (state-dict name, transposed)."""
    out = {}
    bn = {"gamma": "weight", "beta": "bias", "moving_mean": "running_mean", "moving_variance": "running_var"}
    for name in spec.param_shapes(config):
        j = int(name.split("/")[0][3:])
        if name.endswith("dense/kernel"):
            out[name] = (f"layers.{j}.linear.weight", True)
        else:
            out[name] = (f"layers.{j}.bn.{bn[name.rsplit('/', 1)[1]]}", False)
    return out


def get_params(model: ProjectionHead) -> dict[str, np.ndarray]:
    """Canonical parameters and running statistics of ``model`` as NumPy arrays (float32 for bfloat16)."""
    state = model.state_dict()
    out = {}
    for canon, (key, transposed) in _mapping(model.config).items():
        v = state[key].detach().cpu()
        v = v.float() if v.dtype == torch.bfloat16 else v
        out[canon] = (v.t() if transposed else v).numpy().copy()
    return out


def load_params(model: ProjectionHead, params: dict[str, np.ndarray]) -> ProjectionHead:
    """Copy canonical ``params`` into ``model`` (cast to its dtype), in place.

    Raises:
        CheckpointError: Listing every missing, unexpected or mis-shaped entry.
    """
    check_params(params, spec.param_shapes(model.config), "load_params")
    state = model.state_dict()
    with torch.no_grad():
        for canon, (key, transposed) in _mapping(model.config).items():
            v = torch.as_tensor(np.asarray(params[canon]))
            state[key].copy_((v.t() if transposed else v).to(state[key].dtype))
    return model


def canonical_names(model: ProjectionHead) -> dict[str, str]:
    """``named_parameters()`` name -> canonical name (for :func:`tenfold.torch_backend.simclr.lars_param_groups`)."""
    return {key: canon for canon, (key, _) in _mapping(model.config).items() if "running" not in key}


__all__ = ["ProjectionHead", "canonical_names", "get_params", "load_params"]
