r"""The FReLU networks: ResNet-50-FReLU, ShuffleNetV2-FReLU and a CIFAR-size FReLU ResNet.

Paper: Ma, Zhang, Sun, "Funnel Activation for Visual Recognition", ECCV 2020,
Section 4.1 (ImageNet: ResNet-50 and ShuffleNetV2 0.5x with FReLU). Official
code: megvii-model/FunnelAct ``resnet/resnet.py`` (``resnet50_frelu``) and
``shufflenetv2/shufflenet_v2.py`` (``shufflenet_v2_x0_5``).

ResNet (``ResNetFReLUConfig``), as the official ``resnet50_frelu``:

* stem: 7x7/2 conv (padding 3) -> BN -> ReLU -> 3x3/2 max-pool (padding 1)
  (``stem="cifar"``: 3x3/1 conv -> BN -> ReLU, no pool);
* stages ``layer1..layerS``; stage ``i`` has ``layers[i]`` blocks of width
  ``widths[i]``, stride 1 in stage 1 and 2 after; FReLU in the stages flagged
  by ``frelu_stages`` (official: stages 1-3; ``layer4`` is the plain ReLU
  bottleneck), ReLU elsewhere;
* bottleneck: conv1 1x1 **with the stride** (MegEngine ResNet v1, not v1.5)
  -> bn1 -> act1 -> conv2 3x3 (padding 1) -> bn2 -> act2 -> conv3 1x1 -> bn3,
  plus identity or ``downsample`` (1x1 conv with the stride -> BN), then act3;
  expansion 4. Basic block: conv1 3x3 (stride) -> bn1 -> act1 -> conv2 3x3 ->
  bn2, + shortcut, act2; expansion 1;
* every ResNet convolution has a bias (``conv_bias``; official ``bias=True``);
* head: global average pool (official ``avg_pool2d(7)`` at 224 px) ->
  dropout (official 0.2; identity in eval mode) -> ``fc`` (with bias).

ShuffleNetV2 (``ShuffleNetV2FReLUConfig``), as the official one with FReLU
in place of every ReLU (``first_conv``, the point-wise convs of both branches,
``conv_last``), the light FReLU by default:

* first_conv: 3x3/2 conv (no bias) -> BN -> FReLU; 3x3/2 max-pool (padding 1);
* stage ``i`` (repeats 4, 8, 4): a stride-2 block then stride-1 blocks. A
  stride-1 block splits the channels by the official shuffle (even channels
  pass through, odd channels go through ``branch_main``) and concatenates
  ``(passed, main)``; a stride-2 block concatenates ``(branch_proj(x), branch_main(x))``;
* branch_main: pw 1x1 -> BN -> FReLU -> dw 3x3 (stride) -> BN -> pw 1x1 -> BN
  -> FReLU (indices 0..7); branch_proj: dw 3x3 (stride) -> BN -> pw 1x1 -> BN
  -> FReLU (indices 0..4); no conv bias anywhere;
* conv_last 1x1 -> BN -> FReLU; global average pool; ``classifier.0`` without
  bias (dropout only in the official 2.0x model, not modelled).

Canonical parameter names are the official state-dict names (PyTorch layout:
conv weights ``(out, in / groups, kh, kw)``; MegEngine stores grouped weights
5-D and biases and BN state as ``(1, C, 1, 1)``: reshape when converting).
With ``folded=True`` every BatchNorm is folded into the convolution before it
(:mod:`tenfold.spec.batchnorm`): BN entries disappear and each such conv has a bias.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from .. import batchnorm as bn
from ..config import Config, param, require
from ..contracts import Tolerances
from ..tolerance import Tolerance
from . import act

BLOCKS = ("bottleneck", "basic")
STEMS = ("imagenet", "cifar")
EXPANSION = {"bottleneck": 4, "basic": 1}


@dataclass(frozen=True)
class ResNetFReLUConfig(Config):
    """A ResNet with FReLU in chosen stages (official: ResNet-50, stages 1-3)."""

    PRESETS = ("resnet50", "resnet50_relu", "cifar")

    block: str = param("bottleneck", "official resnet/resnet.py: resnet50_frelu uses Bottleneck_FReLU")
    layers: tuple[int, ...] = param((3, 4, 6, 3), "official resnet50_frelu: [3, 4, 6, 3]")
    widths: tuple[int, ...] = param((64, 128, 256, 512), "official ResNet._make_layer channels 64..512")
    stem: str = param("imagenet", "official ResNet: 7x7/2 conv, BN, ReLU, 3x3/2 max-pool")
    stem_width: int = param(64, "official ResNet: in_channels = 64")
    frelu_stages: tuple[bool, ...] = param((True, True, True, False),
                                           "official ResNet: layer4 hard-codes the ReLU Bottleneck")
    conv_bias: bool = param(True, "official resnet.py: every Conv2d has bias=True")
    dropout: float = param(0.2, "official resnet.py: M.Dropout(0.2) before fc")
    num_classes: int = param(1000, "ImageNet")
    in_channels: int = param(3, "RGB (the official input is BGR 0-255, no normalisation)")
    kernel_size: int = param(3, "official frelu.py: 3x3 depthwise")
    bn_eps: float = param(1e-5, "MegEngine BatchNorm2d default")
    bn_momentum: float = param(0.1, "MegEngine BatchNorm2d momentum 0.9 = 1 - 0.1")
    folded: bool = param(False, "tenfold: BatchNorm folded into the convolutions for inference")

    @classmethod
    def resnet50(cls) -> ResNetFReLUConfig:
        """The official ResNet-50-FReLU (22.4 % top-1 error on ImageNet, official README)."""
        return cls()

    @classmethod
    def resnet50_relu(cls) -> ResNetFReLUConfig:
        """The same network with ReLU everywhere (official ``resnet50`` with conv biases): the baseline."""
        return cls(frelu_stages=(False, False, False, False))

    @classmethod
    def cifar(cls) -> ResNetFReLUConfig:
        """A ResNet-20-size CIFAR network (basic blocks 3-3-3, widths 16-32-64) with FReLU in every stage."""
        return cls(block="basic", layers=(3, 3, 3), widths=(16, 32, 64), stem="cifar", stem_width=16,
                   frelu_stages=(True, True, True), dropout=0.0, num_classes=10)

    def validate(self) -> None:
        require(self.block in BLOCKS, "ResNetFReLUConfig.block", "one of " + ", ".join(BLOCKS), repr(self.block))
        require(self.stem in STEMS, "ResNetFReLUConfig.stem", "one of " + ", ".join(STEMS), repr(self.stem))
        n = len(self.layers)
        require(n >= 1 and all(isinstance(v, int) and v >= 1 for v in self.layers), "ResNetFReLUConfig.layers",
                "a non-empty tuple of integers >= 1", self.layers)
        require(len(self.widths) == n and all(isinstance(v, int) and v >= 1 for v in self.widths),
                "ResNetFReLUConfig.widths", f"{n} integers >= 1 (one per stage)", self.widths)
        require(len(self.frelu_stages) == n and all(isinstance(v, bool) for v in self.frelu_stages),
                "ResNetFReLUConfig.frelu_stages", f"{n} bools (one per stage)", self.frelu_stages)
        for name in ("stem_width", "num_classes", "in_channels"):
            act.check_channels(f"ResNetFReLUConfig.{name}", getattr(self, name))
        require(0.0 <= self.dropout < 1.0, "ResNetFReLUConfig.dropout", "a rate in [0, 1)", self.dropout)
        act.check_kernel_size("ResNetFReLUConfig.kernel_size", self.kernel_size)
        bn.BatchNormConfig(self.bn_eps, self.bn_momentum)

    @property
    def frelu(self) -> act.FReLUConfig:
        return act.FReLUConfig("full", self.kernel_size, True, self.bn_eps, self.bn_momentum)

    @property
    def batchnorm(self) -> bn.BatchNormConfig:
        return bn.BatchNormConfig(self.bn_eps, self.bn_momentum)

    @property
    def out_features(self) -> int:
        return self.widths[-1] * EXPANSION[self.block]


@dataclass(frozen=True)
class ResBlock:
    """One residual block: its name prefix, channels, stride and activation."""

    name: str  # "layer2.0"
    in_channels: int
    width: int
    out_channels: int
    stride: int
    frelu: bool
    downsample: bool


def resnet_blocks(config: ResNetFReLUConfig) -> list[ResBlock]:
    """The blocks of the network in order (the single source of the structure for every layer)."""
    blocks, c_in = [], config.stem_width
    expansion = EXPANSION[config.block]
    for s, (n, width, use_frelu) in enumerate(zip(config.layers, config.widths, config.frelu_stages, strict=True)):
        for j in range(n):
            stride = (1 if s == 0 else 2) if j == 0 else 1
            c_out = width * expansion
            blocks.append(ResBlock(f"layer{s + 1}.{j}", c_in, width, c_out, stride, use_frelu,
                                   stride != 1 or c_in != c_out))
            c_in = c_out
    return blocks


def block_convs(config: ResNetFReLUConfig, b: ResBlock) -> list[tuple[str, int, int, int, int]]:
    """``(index, in, out, kernel, stride)`` of a block's main-path convs (``conv{index}``, ``bn{index}``)."""
    if config.block == "bottleneck":
        return [("1", b.in_channels, b.width, 1, b.stride), ("2", b.width, b.width, 3, 1),
                ("3", b.width, b.out_channels, 1, 1)]
    return [("1", b.in_channels, b.width, 3, b.stride), ("2", b.width, b.out_channels, 3, 1)]


def _conv_bn(shapes: dict, conv: str, norm: str, c_in: int, c_out: int, k: int, bias: bool, folded: bool,
             groups: int = 1) -> None:
    shapes[f"{conv}.weight"] = (c_out, c_in // groups, k, k)
    if bias or folded:
        shapes[f"{conv}.bias"] = (c_out,)
    if not folded:
        shapes.update(bn.param_shapes(c_out, f"{norm}."))


def resnet_param_shapes(config: ResNetFReLUConfig) -> dict[str, tuple[int, ...]]:
    """Canonical parameter names and shapes of a FReLU ResNet (official state-dict names)."""
    shapes: dict[str, tuple[int, ...]] = {}
    k_stem = 7 if config.stem == "imagenet" else 3
    _conv_bn(shapes, "conv1", "bn1", config.in_channels, config.stem_width, k_stem, config.conv_bias, config.folded)
    for b in resnet_blocks(config):
        convs = block_convs(config, b)
        for idx, c_in, c_out, k, _ in convs:
            _conv_bn(shapes, f"{b.name}.conv{idx}", f"{b.name}.bn{idx}", c_in, c_out, k, config.conv_bias,
                     config.folded)
            if b.frelu:
                shapes.update(act.param_shapes(c_out, config.frelu, f"{b.name}.frelu{idx}.", config.folded))
        if b.downsample:
            _conv_bn(shapes, f"{b.name}.downsample.0", f"{b.name}.downsample.1", b.in_channels, b.out_channels, 1,
                     config.conv_bias, config.folded)
    shapes["fc.weight"] = (config.num_classes, config.out_features)
    shapes["fc.bias"] = (config.num_classes,)
    return shapes


def resnet_bn_pairs(config: ResNetFReLUConfig) -> list[tuple[str, str]]:
    """``(conv prefix, BatchNorm prefix)`` of every foldable pair of an unfolded ResNet."""
    pairs = [("conv1", "bn1")]
    fr = [(c, n) for c, n, _ in act.conv_names(config.frelu)]
    for b in resnet_blocks(config):
        for idx, *_ in block_convs(config, b):
            pairs.append((f"{b.name}.conv{idx}", f"{b.name}.bn{idx}"))
            if b.frelu:
                pairs += [(f"{b.name}.frelu{idx}.{c}", f"{b.name}.frelu{idx}.{n}") for c, n in fr]
        if b.downsample:
            pairs.append((f"{b.name}.downsample.0", f"{b.name}.downsample.1"))
    return pairs


@dataclass(frozen=True)
class ShuffleNetV2FReLUConfig(Config):
    """ShuffleNetV2 with FReLU in place of every ReLU (official: 0.5x, light FReLU)."""

    PRESETS = ("x0_5",)

    stage_repeats: tuple[int, ...] = param((4, 8, 4), "official shufflenet_v2.py: stage_repeats")
    stage_out_channels: tuple[int, ...] = param((24, 48, 96, 192, 1024),
                                                "official shufflenet_v2.py: model_size '0.5x'")
    num_classes: int = param(1000, "ImageNet")
    in_channels: int = param(3, "RGB (the official input is BGR 0-255)")
    frelu_variant: str = param("light", "official shufflenetv2/frelu_light.py")
    kernel_size: int = param(3, "official: 3 (1x3 + 3x1 in the light variant)")
    bn_eps: float = param(1e-5, "MegEngine BatchNorm2d default")
    bn_momentum: float = param(0.1, "MegEngine BatchNorm2d momentum 0.9 = 1 - 0.1")
    folded: bool = param(False, "tenfold: BatchNorm folded into the convolutions for inference")

    @classmethod
    def x0_5(cls) -> ShuffleNetV2FReLUConfig:
        """The official ShuffleNetV2 0.5x FReLU (37.1 % top-1 error, official README)."""
        return cls()

    def validate(self) -> None:
        n = len(self.stage_repeats)
        require(n >= 1 and all(isinstance(v, int) and v >= 1 for v in self.stage_repeats),
                "ShuffleNetV2FReLUConfig.stage_repeats", "a non-empty tuple of integers >= 1", self.stage_repeats)
        ch = self.stage_out_channels
        require(len(ch) == n + 2 and all(isinstance(v, int) and v >= 2 and v % 2 == 0 for v in ch),
                "ShuffleNetV2FReLUConfig.stage_out_channels", f"{n + 2} even integers >= 2 (stem, stages, last)", ch)
        require(all(ch[i + 1] > ch[i] for i in range(n)), "ShuffleNetV2FReLUConfig.stage_out_channels",
                "channels growing from the stem through the stages (a stride-2 block adds oup - inp)", ch)
        require(self.frelu_variant in act.VARIANTS, "ShuffleNetV2FReLUConfig.frelu_variant",
                "one of " + ", ".join(act.VARIANTS), repr(self.frelu_variant))
        act.check_channels("ShuffleNetV2FReLUConfig.num_classes", self.num_classes)
        act.check_channels("ShuffleNetV2FReLUConfig.in_channels", self.in_channels)
        act.check_kernel_size("ShuffleNetV2FReLUConfig.kernel_size", self.kernel_size)
        bn.BatchNormConfig(self.bn_eps, self.bn_momentum)

    @property
    def frelu(self) -> act.FReLUConfig:
        return act.FReLUConfig(self.frelu_variant, self.kernel_size, self.frelu_variant == "full", self.bn_eps,
                               self.bn_momentum)

    @property
    def batchnorm(self) -> bn.BatchNormConfig:
        return bn.BatchNormConfig(self.bn_eps, self.bn_momentum)


@dataclass(frozen=True)
class ShuffleBlock:
    """One ShuffleNetV2 block: name, input channels of branch_main, output channels, mid channels, stride."""

    name: str  # "features.3"
    inp: int
    oup: int
    mid: int
    stride: int

    @property
    def main_out(self) -> int:
        return self.oup - self.inp


def shufflenet_blocks(config: ShuffleNetV2FReLUConfig) -> list[ShuffleBlock]:
    """The blocks in order, with the official channel arithmetic."""
    blocks, c_in, i = [], config.stage_out_channels[0], 0
    for s, repeats in enumerate(config.stage_repeats):
        c_out = config.stage_out_channels[s + 1]
        for j in range(repeats):
            inp, stride = (c_in, 2) if j == 0 else (c_in // 2, 1)
            blocks.append(ShuffleBlock(f"features.{i}", inp, c_out, c_out // 2, stride))
            c_in, i = c_out, i + 1
    return blocks


def shufflenet_param_shapes(config: ShuffleNetV2FReLUConfig) -> dict[str, tuple[int, ...]]:
    """Canonical parameter names and shapes of ShuffleNetV2-FReLU (official state-dict names)."""
    shapes: dict[str, tuple[int, ...]] = {}
    f, ch, folded = config.frelu, config.stage_out_channels, config.folded
    _conv_bn(shapes, "first_conv.0", "first_conv.1", config.in_channels, ch[0], 3, False, folded)
    shapes.update(act.param_shapes(ch[0], f, "first_conv.2.", folded))
    for b in shufflenet_blocks(config):
        m = f"{b.name}.branch_main"
        _conv_bn(shapes, f"{m}.0", f"{m}.1", b.inp, b.mid, 1, False, folded)
        shapes.update(act.param_shapes(b.mid, f, f"{m}.2.", folded))
        _conv_bn(shapes, f"{m}.3", f"{m}.4", b.mid, b.mid, 3, False, folded, groups=b.mid)
        _conv_bn(shapes, f"{m}.5", f"{m}.6", b.mid, b.main_out, 1, False, folded)
        shapes.update(act.param_shapes(b.main_out, f, f"{m}.7.", folded))
        if b.stride == 2:
            p = f"{b.name}.branch_proj"
            _conv_bn(shapes, f"{p}.0", f"{p}.1", b.inp, b.inp, 3, False, folded, groups=b.inp)
            _conv_bn(shapes, f"{p}.2", f"{p}.3", b.inp, b.inp, 1, False, folded)
            shapes.update(act.param_shapes(b.inp, f, f"{p}.4.", folded))
    _conv_bn(shapes, "conv_last.0", "conv_last.1", ch[-2], ch[-1], 1, False, folded)
    shapes.update(act.param_shapes(ch[-1], f, "conv_last.2.", folded))
    shapes["classifier.0.weight"] = (config.num_classes, ch[-1])
    return shapes


def shufflenet_bn_pairs(config: ShuffleNetV2FReLUConfig) -> list[tuple[str, str]]:
    """``(conv prefix, BatchNorm prefix)`` of every foldable pair of an unfolded ShuffleNetV2."""
    fr = [(c, n) for c, n, _ in act.conv_names(config.frelu)]

    def with_frelu(prefix: str) -> list[tuple[str, str]]:
        return [(f"{prefix}.{c}", f"{prefix}.{n}") for c, n in fr]

    pairs = [("first_conv.0", "first_conv.1"), *with_frelu("first_conv.2")]
    for b in shufflenet_blocks(config):
        m = f"{b.name}.branch_main"
        pairs += [(f"{m}.0", f"{m}.1"), *with_frelu(f"{m}.2"), (f"{m}.3", f"{m}.4"), (f"{m}.5", f"{m}.6"),
                  *with_frelu(f"{m}.7")]
        if b.stride == 2:
            p = f"{b.name}.branch_proj"
            pairs += [(f"{p}.0", f"{p}.1"), (f"{p}.2", f"{p}.3"), *with_frelu(f"{p}.4")]
    return [*pairs, ("conv_last.0", "conv_last.1"), *with_frelu("conv_last.2")]


NetConfig = ResNetFReLUConfig | ShuffleNetV2FReLUConfig


def param_shapes(config: NetConfig) -> dict[str, tuple[int, ...]]:
    """Canonical parameter names and shapes of any FReLU network config (or preset name of :data:`PRESETS`)."""
    config = coerce_config(config, "frelu_nets.param_shapes")
    if isinstance(config, ResNetFReLUConfig):
        return resnet_param_shapes(config)
    if isinstance(config, ShuffleNetV2FReLUConfig):
        return shufflenet_param_shapes(config)
    raise act.ConfigError(act.expected("frelu_nets.param_shapes", "a ResNetFReLUConfig or ShuffleNetV2FReLUConfig",
                                       type(config).__name__))


def bn_pairs(config: NetConfig) -> list[tuple[str, str]]:
    """Every ``(conv prefix, BatchNorm prefix)`` pair that folding merges."""
    if isinstance(config, ResNetFReLUConfig):
        return resnet_bn_pairs(config)
    return shufflenet_bn_pairs(config)


#: The named network presets (``tenfold export frelu-<name>``).
PRESETS = {
    "resnet50": ResNetFReLUConfig.resnet50,
    "resnet50-relu": ResNetFReLUConfig.resnet50_relu,
    "cifar": ResNetFReLUConfig.cifar,
    "shufflenetv2-0.5x": ShuffleNetV2FReLUConfig.x0_5,
}

#: Networks: outputs after many layers (float32 within a few 1e-5 of unit-scale logits).
_FORWARD: dict[str, Tolerance] = {
    "float64": Tolerance(atol=1e-10, rtol=1e-9),
    "float32": Tolerance(atol=2e-4, rtol=2e-4),
}

#: ONNX (float32 only: onnxruntime's CPU provider has no float64 Conv).
_ONNX = Tolerance(atol=3e-4, rtol=3e-4)

#: Every tolerance conformance applies to the networks (:class:`tenfold.spec.contracts.Tolerances`).
TOLERANCES = Tolerances(forward=_FORWARD, gradient=_FORWARD, finite_difference=act.TOLERANCES.finite_difference,
                        onnx={"float32": _ONNX})

def coerce_config(value: object, where: str) -> NetConfig:
    """A network config from a config, a name of :data:`PRESETS` (``"cifar"``) or a ``to_dict`` dict.

    Raises:
        ConfigError: ``"<where>: expected a ResNetFReLUConfig, a ShuffleNetV2FReLUConfig or a preset name ..."``.
    """
    if isinstance(value, (ResNetFReLUConfig, ShuffleNetV2FReLUConfig)):
        return value
    want = "a ResNetFReLUConfig, a ShuffleNetV2FReLUConfig or a preset name (" + ", ".join(PRESETS) + ")"
    if isinstance(value, str) and value in PRESETS:
        return PRESETS[value]()
    if isinstance(value, Mapping):
        for cls in (ResNetFReLUConfig, ShuffleNetV2FReLUConfig):
            if set(value) <= {f.name for f in dataclasses.fields(cls)}:
                return cls.from_dict(dict(value))
    raise act.ConfigError(act.expected(where, want, repr(value) if isinstance(value, (str, Mapping))
                                       else type(value).__name__))


__all__ = ["PRESETS", "TOLERANCES", "ResNetFReLUConfig", "ShuffleNetV2FReLUConfig", "bn_pairs", "coerce_config",
           "param_shapes", "resnet_blocks", "shufflenet_blocks"]
