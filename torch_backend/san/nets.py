"""The SAN networks for PyTorch (SAN10/15/19, pairwise or patchwise) and their weights.

Paper: Zhao, Jia, Koltun, CVPR 2020. Official code: hszhao/SAN ``model/san.py``
(``SAN``, ``Bottleneck``); structure in :mod:`tenfold.spec.san.nets`. Module
attribute names are the official ones, so ``state_dict()`` keys are the
canonical names and an official checkpoint (``{"state_dict": ...}`` with
``module.`` keys) loads through :func:`load_checkpoint` with no renaming.

Eval-mode shortcuts (same values; used only without autograd, see
:mod:`.ops`): the stem's BatchNorm is folded into ``conv_in``, the 1x1 conv
runs on the four pixels of each 2x2 pooling window with a running maximum and
the ReLU comes after the pool (ReLU and max commute), so the largest
activation of the network (64 channels at full resolution) never exists;
2x2 max-pools are the maximum of four strided views.

Differences from the official implementation: PyTorch's default initialisation;
global average pooling is ``mean`` (the official ``AdaptiveAvgPool2d(1)``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tenfold.spec.contracts import check_params
from tenfold.spec.san import nets as spec
from tenfold.spec.san import ops as ops_spec

from .._tensors import as_tensor, dtype_name
from ..checkpoints import read_state_dict, to_numpy
from ..layers.norm import BatchNorm2d
from .ops import SAM, _affine, _exporting, static_shape


def _fast(module: nn.Module) -> bool:
    """Eval mode, no autograd, not exporting: the eval-only shortcuts apply."""
    return not module.training and not torch.is_grad_enabled() and not _exporting()


def max_pool2(x: torch.Tensor, fast: bool) -> torch.Tensor:
    """``MaxPool2d(2, 2)`` (floor mode); ``fast``: the maximum of the four strided views."""
    if not fast:
        return F.max_pool2d(x, 2, 2)
    h, w = x.shape[-2] // 2 * 2, x.shape[-1] // 2 * 2
    a = torch.maximum(x[..., 0:h:2, 0:w:2], x[..., 0:h:2, 1:w:2])
    return torch.maximum(a, torch.maximum(x[..., 1:h:2, 0:w:2], x[..., 1:h:2, 1:w:2]), out=a)


class Bottleneck(nn.Module):
    """The official pre-activation bottleneck: ``x + conv(ReLU(bn2(sam(ReLU(bn1(x))))))``."""

    def __init__(self, block: spec.Block, config: spec.SANConfig, dtype=None, device=None):
        super().__init__()
        bn = config.batchnorm
        self.bn1 = BatchNorm2d(block.width, bn, dtype).to(device)
        self.sam = SAM(block.sam, dtype, device)
        self.bn2 = BatchNorm2d(block.mid, bn, dtype).to(device)
        self.conv = nn.Conv2d(block.mid, block.width, 1, dtype=dtype, device=device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu_(self.bn1(x))
        out = torch.relu_(self.bn2(self.sam(out)))
        if not _fast(self):
            return self.conv(out) + x  # (N, C, H, W)
        # eval shortcut: the residual enters the matrix product (one pass instead of conv, bias and sum)
        n, m, h, w = out.shape
        y = torch.baddbmm(x.reshape(n, -1, h * w), self.conv.weight.flatten(1).expand(n, -1, -1), out.view(n, m, h * w))
        return y.add_(self.conv.bias[:, None]).view(n, -1, h, w)


class SAN(nn.Module):
    """A self-attention network; ``SAN(SANConfig.san10_patch())`` is the official SAN10 patchwise.

    Paper: Zhao, Jia, Koltun, CVPR 2020, Table 1. Official code: hszhao/SAN ``model/san.py``.

    Args:
        config: The network (:class:`tenfold.spec.san.nets.SANConfig`).
        dtype, device: Of the parameters.
    """

    def __init__(self, config: spec.SANConfig | None = None, dtype: torch.dtype | None = None,
                 device: torch.device | str | None = None):
        super().__init__()
        self.config = c = config or spec.SANConfig()
        kw = dict(dtype=dtype, device=device)
        self.conv_in = nn.Conv2d(c.in_channels, c.stem_width, 1, bias=False, **kw)
        self.bn_in = BatchNorm2d(c.stem_width, c.batchnorm, dtype).to(device)
        blocks = spec.blocks(c)
        for s, c_in in enumerate(spec.stage_inputs(c)):
            self.add_module(f"conv{s}", nn.Conv2d(c_in, c.widths[s], 1, bias=False, **kw))
            self.add_module(f"bn{s}", BatchNorm2d(c.widths[s], c.batchnorm, dtype).to(device))
            self.add_module(f"layer{s}", nn.Sequential(*(Bottleneck(b, c, dtype, device) for b in blocks
                                                         if b.stage == s)))
        self.fc = nn.Linear(c.widths[-1], c.num_classes, **kw)

    def _stem(self, x: torch.Tensor, fast: bool) -> torch.Tensor:
        """``conv_in`` -> ``bn_in`` -> ReLU -> the first 2x2 max-pool: ``(N, 64, H/2, W/2)``."""
        if not fast:
            return max_pool2(torch.relu_(self.bn_in(self.conv_in(x))), False)
        # eval: BatchNorm folded into the 1x1 conv, which runs on each of the four pixels of every 2x2 window
        # (strided views of the 3-channel input) with a running maximum; ReLU after the pool (they commute).
        # The full-resolution 64-channel map never exists (5x faster on a CPU, the same values).
        s, t = _affine(self.bn_in)
        weight = self.conv_in.weight * s[:, None, None, None]
        h, w = x.shape[-2] // 2 * 2, x.shape[-1] // 2 * 2
        y = F.conv2d(x[..., 0:h:2, 0:w:2], weight, t)
        for a, b in ((0, 1), (1, 0), (1, 1)):
            torch.maximum(y, F.conv2d(x[..., a:h:2, b:w:2], weight, t), out=y)
        return torch.relu_(y)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C_in, H, W) -> (N, widths[-1], H / 2^S, W / 2^S)`` (after the last ``bn``/ReLU)."""
        x = as_tensor("SAN", x)
        ops_spec.check_dtype(dtype_name(x.dtype), "SAN")
        spec.check_input("SAN", static_shape(x), self.config)
        fast = _fast(self)
        x = self._stem(x, fast)  # (N, 64, H/2, W/2): conv_in, bn_in, ReLU, the first max-pool
        for s in range(self.config.num_stages):
            if s:
                x = max_pool2(x, fast)
            x = getattr(self, f"layer{s}")(getattr(self, f"conv{s}")(x))
            bn = getattr(self, f"bn{s}")
            if fast:  # eval BatchNorm + ReLU in place on the stage's own output (no second full-size map)
                scale, shift = _affine(bn)
                x = torch.relu_(x.mul_(scale[:, None, None]).add_(shift[:, None, None]))
            else:
                x = torch.relu_(bn(x))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes)``; raises ``ShapeError`` naming the stage when the input is too small."""
        return self.fc(self.forward_features(x).mean(dim=(2, 3)))


def build(config: spec.SANConfig | ops_spec.SAMConfig, dtype: torch.dtype | None = None,
          device: torch.device | str | None = None) -> nn.Module:
    """A ``SAN`` for a network config, a ``SAM`` for an operator config."""
    if isinstance(config, ops_spec.SAMConfig):
        return SAM(config, dtype, device)
    return SAN(config, dtype, device)


def _shapes(model: nn.Module) -> dict[str, tuple[int, ...]]:
    if isinstance(model, SAM):
        return ops_spec.sam_param_shapes(model.config)
    return spec.param_shapes(model.config)


def get_params(model: nn.Module) -> dict[str, np.ndarray]:
    """Canonical parameters and BatchNorm state (``num_batches_tracked`` included) as NumPy arrays."""
    return to_numpy(model.state_dict())


def load_params(model: nn.Module, params: Mapping[str, object]) -> nn.Module:
    """Copy canonical ``params`` (NumPy arrays or tensors) into ``model``, cast to its dtypes, in place.

    ``num_batches_tracked`` entries are optional (kept when absent).

    Raises:
        CheckpointError: One error listing every missing, unexpected, mis-shaped or non-real entry.
    """
    shapes = _shapes(model)
    check_params(params, shapes, "load_params", optional=tuple(k for k in shapes if ops_spec.is_counter(k)))
    state = model.state_dict()
    with torch.no_grad():
        for k, v in params.items():
            state[k].copy_(torch.as_tensor(np.asarray(v) if not isinstance(v, torch.Tensor) else v))
    return model


def load_checkpoint(model: nn.Module, path: str | os.PathLike, key: str | None = None) -> nn.Module:
    """Load an official hszhao/SAN checkpoint (or any state dict of the canonical names) into ``model``.

    The file is read with ``torch.load(weights_only=True)`` (never a full
    unpickle); a training checkpoint's ``state_dict`` entry is used and the
    ``module.`` prefix of ``DataParallel`` is removed
    (:func:`tenfold.torch_backend.checkpoints.read_state_dict`).

    Raises:
        CheckpointError: Unreadable file, or entries that do not fit the model's config.
    """
    return load_params(model, read_state_dict(path, key=key))


__all__ = ["SAN", "Bottleneck", "build", "get_params", "load_checkpoint", "load_params", "max_pool2"]
