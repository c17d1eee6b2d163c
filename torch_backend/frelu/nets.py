"""The FReLU networks for PyTorch: ResNet-50-FReLU, ShuffleNetV2-FReLU, a CIFAR FReLU ResNet.

Paper: Ma, Zhang, Sun, ECCV 2020, Section 4.1. Official code:
megvii-model/FunnelAct ``resnet/resnet.py`` (``resnet50_frelu``) and
``shufflenetv2/shufflenet_v2.py``. Structures in :mod:`tenfold.spec.frelu.nets`;
module names equal the canonical parameter names, so
``get_params(model)`` is the state dict without ``num_batches_tracked``.

Differences from the official implementation: global average pooling where the
official code pools a fixed 7x7 window (the same at 224 px, and any input size
works); the dropout of the official ShuffleNetV2 2.0x model is not
modelled. Weight initialisation follows PyTorch's defaults, not MegEngine's.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from tenfold.numpy_ref.frelu import nets as ref_nets
from tenfold.spec.contracts import check_params
from tenfold.spec.errors import ConfigError, expected
from tenfold.spec.frelu import nets as spec

from .._tensors import to_param_dtype
from ..layers.norm import BatchNorm2d
from .act import FReLU, check_input


def _conv_bn(c_in: int, c_out: int, k: int, stride: int, bias: bool, config, groups: int = 1,
             dtype=None) -> tuple[nn.Conv2d, nn.Module]:
    conv = nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=bias or config.folded, dtype=dtype)
    norm = nn.Identity() if config.folded else BatchNorm2d(c_out, config.batchnorm, dtype)
    return conv, norm


def _act(use_frelu: bool, channels: int, config, dtype) -> nn.Module:
    return FReLU.from_spec(channels, config.frelu, config.folded, dtype) if use_frelu else nn.ReLU()


class ResBlock(nn.Module):
    """A bottleneck or basic residual block with FReLU or ReLU (see :mod:`tenfold.spec.frelu.nets`)."""

    def __init__(self, config: spec.ResNetFReLUConfig, block: spec.ResBlock, dtype=None):
        super().__init__()
        self.indices = []
        for idx, c_in, c_out, k, stride in spec.block_convs(config, block):
            conv, norm = _conv_bn(c_in, c_out, k, stride, config.conv_bias, config, dtype=dtype)
            self.add_module(f"conv{idx}", conv)
            self.add_module(f"bn{idx}", norm)
            self.add_module(f"frelu{idx}" if block.frelu else f"relu{idx}", _act(block.frelu, c_out, config, dtype))
            self.indices.append(idx)
        self.act_prefix = "frelu" if block.frelu else "relu"
        self.downsample = nn.Sequential(*_conv_bn(block.in_channels, block.out_channels, 1, block.stride,
                                                  config.conv_bias, config, dtype=dtype)) if block.downsample else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x
        for n, idx in enumerate(self.indices):
            x = getattr(self, f"bn{idx}")(getattr(self, f"conv{idx}")(x))
            if n == len(self.indices) - 1:
                x = x + (identity if self.downsample is None else self.downsample(identity))
            x = getattr(self, f"{self.act_prefix}{idx}")(x)
        return x


class FReLUResNet(nn.Module):
    """A ResNet with FReLU in chosen stages; ``FReLUResNet(ResNetFReLUConfig.resnet50())`` is the official one.

    Paper: Ma, Zhang, Sun, ECCV 2020. Official code: FunnelAct ``resnet/resnet.py``.

    Args:
        config: The network (:class:`tenfold.spec.frelu.nets.ResNetFReLUConfig`).
        dtype: Parameter dtype.
    """

    def __init__(self, config: spec.ResNetFReLUConfig | None = None, dtype: torch.dtype | None = None):
        super().__init__()
        self.config = config = spec.ResNetFReLUConfig() if config is None else \
            spec.ResNetFReLUConfig.coerce(config, "FReLUResNet")
        k, s = (7, 2) if config.stem == "imagenet" else (3, 1)
        self.conv1, self.bn1 = _conv_bn(config.in_channels, config.stem_width, k, s, config.conv_bias, config,
                                        dtype=dtype)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1) if config.stem == "imagenet" else nn.Identity()
        blocks = spec.resnet_blocks(config)
        for stage in range(len(config.layers)):
            name = f"layer{stage + 1}"
            self.add_module(name, nn.Sequential(*(ResBlock(config, b, dtype) for b in blocks
                                                  if b.name.split(".")[0] == name)))
        self.dropout = nn.Dropout(config.dropout)
        self.fc = nn.Linear(config.out_features, config.num_classes, dtype=dtype)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = to_param_dtype(check_input("FReLUResNet", x, self.config.in_channels), self)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (N, 64, H/4, W/4)
        for stage in range(len(self.config.layers)):
            x = getattr(self, f"layer{stage + 1}")(x)
        return x  # (N, C_last, H/32, W/32)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.forward_features(x).mean(dim=(2, 3))  # (N, C_last)
        return self.fc(self.dropout(x))  # (N, num_classes)


class ShuffleV2Block(nn.Module):
    """One ShuffleNetV2 block with FReLU (official ``ShuffleV2Block``)."""

    def __init__(self, config: spec.ShuffleNetV2FReLUConfig, b: spec.ShuffleBlock, dtype=None):
        super().__init__()
        self.stride = b.stride
        main = [*_conv_bn(b.inp, b.mid, 1, 1, False, config, dtype=dtype), _act(True, b.mid, config, dtype),
                *_conv_bn(b.mid, b.mid, 3, b.stride, False, config, groups=b.mid, dtype=dtype),
                *_conv_bn(b.mid, b.main_out, 1, 1, False, config, dtype=dtype), _act(True, b.main_out, config, dtype)]
        self.branch_main = nn.Sequential(*main)
        self.branch_proj = nn.Sequential(
            *_conv_bn(b.inp, b.inp, 3, 2, False, config, groups=b.inp, dtype=dtype),
            *_conv_bn(b.inp, b.inp, 1, 1, False, config, dtype=dtype), _act(True, b.inp, config, dtype),
        ) if b.stride == 2 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.branch_proj is None:
            passed, x = x[:, 0::2], x[:, 1::2]  # the official channel shuffle: even / odd channels
        else:
            passed = self.branch_proj(x)
        return torch.cat((passed, self.branch_main(x)), 1)  # (N, oup, H', W')


class ShuffleNetV2FReLU(nn.Module):
    """ShuffleNetV2 with (light) FReLU; ``ShuffleNetV2FReLU(ShuffleNetV2FReLUConfig.x0_5())`` is the official 0.5x.

    Paper: Ma, Zhang, Sun, ECCV 2020. Official code: FunnelAct ``shufflenetv2/shufflenet_v2.py``.
    """

    def __init__(self, config: spec.ShuffleNetV2FReLUConfig | None = None, dtype: torch.dtype | None = None):
        super().__init__()
        self.config = config = spec.ShuffleNetV2FReLUConfig() if config is None else \
            spec.ShuffleNetV2FReLUConfig.coerce(config, "ShuffleNetV2FReLU")
        ch = config.stage_out_channels
        self.first_conv = nn.Sequential(*_conv_bn(config.in_channels, ch[0], 3, 2, False, config, dtype=dtype),
                                        _act(True, ch[0], config, dtype))
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.features = nn.Sequential(*(ShuffleV2Block(config, b, dtype) for b in spec.shufflenet_blocks(config)))
        self.conv_last = nn.Sequential(*_conv_bn(ch[-2], ch[-1], 1, 1, False, config, dtype=dtype),
                                       _act(True, ch[-1], config, dtype))
        self.classifier = nn.Sequential(nn.Linear(ch[-1], config.num_classes, bias=False, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = to_param_dtype(check_input("ShuffleNetV2FReLU", x, self.config.in_channels), self)
        x = self.maxpool(self.first_conv(x))  # (N, 24, H/4, W/4)
        x = self.conv_last(self.features(x))  # (N, 1024, H/32, W/32)
        return self.classifier(x.mean(dim=(2, 3)))  # (N, num_classes)


def build(config: spec.NetConfig, dtype: torch.dtype | None = None) -> nn.Module:
    """The PyTorch model of any FReLU network config (or a preset name of ``spec.frelu.nets.PRESETS``)."""
    config = spec.coerce_config(config, "build")
    if isinstance(config, spec.ResNetFReLUConfig):
        return FReLUResNet(config, dtype)
    if isinstance(config, spec.ShuffleNetV2FReLUConfig):
        return ShuffleNetV2FReLU(config, dtype)
    raise ConfigError(expected("build", "a ResNetFReLUConfig or ShuffleNetV2FReLUConfig", type(config).__name__))


def get_params(model: nn.Module) -> dict[str, np.ndarray]:
    """Canonical parameters and BatchNorm state of ``model`` as NumPy arrays (the state dict, no counters).

    bfloat16 tensors come back as float32 arrays (NumPy has no bfloat16; the values are exact).
    """
    return {k: (v.float() if v.dtype == torch.bfloat16 else v).detach().cpu().numpy().copy()
            for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


def load_params(model: nn.Module, params: dict[str, np.ndarray]) -> nn.Module:
    """Copy canonical ``params`` into ``model`` (cast to its dtype), in place.

    Raises:
        CheckpointError: One error listing every missing, unexpected or mis-shaped entry.
    """
    state = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    check_params(params, {k: tuple(v.shape) for k, v in state.items()}, "load_params",
                 what="the entries of the model's param_shapes")
    with torch.no_grad():
        for k, v in state.items():
            v.copy_(torch.as_tensor(np.asarray(params[k])).to(v.dtype))
    return model


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """A new eval-mode model of the same network with every BatchNorm folded into its convolution.

    Uses :func:`tenfold.numpy_ref.frelu.nets.fold_batchnorm` on the float64
    parameters, so the folding rounds once into the model's dtype.
    """
    dtype = next(model.parameters()).dtype
    params = {k: v.astype(np.float64) for k, v in get_params(model).items()}
    folded_params, folded_config = ref_nets.fold_batchnorm(params, model.config)
    return load_params(build(folded_config, dtype), folded_params).eval()


__all__ = ["FReLUResNet", "ShuffleNetV2FReLU", "build", "fold_batchnorm", "get_params", "load_params"]
