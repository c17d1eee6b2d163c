r"""The SAN networks: SAN10, SAN15 and SAN19, pairwise and patchwise.

Paper: Zhao, Jia, Koltun, CVPR 2020, Section 4 and Table 1. Official code:
hszhao/SAN ``model/san.py`` (``SAN``, ``Bottleneck``) and
``config/imagenet/imagenet_san{10,15,19}_{pairwise,patchwise}.yaml``.

Structure (NCHW; ``widths = (64, 256, 512, 1024, 2048)``, spatial sizes 224,
112, 56, 28, 14, 7 at a 224 px input)::

    stem     conv_in (1x1, 3 -> 64, no bias) -> bn_in -> ReLU                    (full resolution)
    stage s  MaxPool2d(2, 2) -> conv{s} (1x1, no bias) -> layer{s} (blocks) -> bn{s} -> ReLU
    head     global average pool -> fc (with bias)

Bottleneck (pre-activation; official ``Bottleneck``), width ``C``::

    out = x + conv(ReLU(bn2(sam(ReLU(bn1(x))))))       conv: 1x1 C/4 -> C with bias; no BN on the identity

with ``sam = SAM(in C, rel C/16, out C/4, share 8, kernel k_s)`` (:mod:`.ops`).
Layers per stage: SAN10 (2, 1, 2, 4, 1), SAN15 (3, 2, 3, 5, 2), SAN19
(3, 3, 4, 6, 3); kernels (3, 7, 7, 7, 7) for all six. The official
``__main__`` demo's (3, 4, 6, 8, 3) is not a released model.

Parameter names are the official ``state_dict`` keys without the
``module.`` prefix that ``DataParallel``/``DistributedDataParallel`` adds in
``tool/train.py``; BatchNorm entries include ``num_batches_tracked`` (shape
``()``, optional in every loader). Trainable parameter counts equal the
official README's: 10.53M, 11.84M (SAN10 pair/patch), 14.07M, 16.18M (SAN15),
17.60M, 20.52M (SAN19).

Input size: the map of stage ``s`` is ``floor(H / 2^(s+1))``; with reflection
padding it must exceed ``k_s // 2`` (official kernels: at least 128 x 128 in
all; 4 x 4 in stage 4). :func:`check_input_size` names the first stage that
fails and the smallest input that works.

Training recipe of the released models (official README, for reference):
100 epochs, SGD momentum 0.9, lr 0.1 cosine, batch 256, weight decay 1e-4,
label smoothing 0.1; eval Resize 256 / CenterCrop 224, ImageNet mean/std.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import batchnorm as bn
from ..config import Config, param, require
from ..errors import ShapeError, expected
from . import ops

#: The official ImageNet normalisation (tool/train.py).
MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
STD: tuple[float, float, float] = (0.229, 0.224, 0.225)

#: Blocks per stage of the released models (official config/imagenet/*.yaml).
LAYERS: dict[int, tuple[int, ...]] = {10: (2, 1, 2, 4, 1), 15: (3, 2, 3, 5, 2), 19: (3, 3, 4, 6, 3)}


@dataclass(frozen=True)
class SANConfig(Config):
    """A SAN network (official: SAN10/15/19, pairwise or patchwise; see :data:`PRESETS`)."""

    PRESETS = ("san10_pair", "san10_patch", "san15_pair", "san15_patch", "san19_pair", "san19_patch", "tiny")

    sa_type: str = param("pairwise", "official config imagenet_san10_pairwise.yaml: sa_type 0")
    layers: tuple[int, ...] = param(LAYERS[10], "official config imagenet_san10_*.yaml: layers [2, 1, 2, 4, 1]")
    kernels: tuple[int, ...] = param((3, 7, 7, 7, 7), "official config/imagenet/*.yaml: kernels [3, 7, 7, 7, 7]")
    widths: tuple[int, ...] = param((64, 256, 512, 1024, 2048), "official SAN.__init__: c = 64, then x4, x2, x2, x2")
    stem_width: int = param(64, "official SAN.__init__: conv_in 3 -> 64")
    num_classes: int = param(1000, "official config: classes 1000 (ImageNet)")
    in_channels: int = param(3, "RGB (official: ImageNet mean/std normalised)")
    share_planes: int = param(8, "official SAN._make_layer: share_planes 8")
    rel_ratio: int = param(16, "official SAN._make_layer: rel_planes = planes // 16")
    mid_ratio: int = param(4, "official SAN._make_layer: mid_planes = planes // 4")
    relation: str | None = param(None, "official: subtraction (pairwise) / concatenation (patchwise)")
    padding: str = param("reflect", "official SAM: pad_mode=1 (reflection)")
    position: bool = param(True, "official SAM: pairwise position encoding (conv_p)")
    bn_eps: float = param(1e-5, "official: nn.BatchNorm2d default eps")
    bn_momentum: float = param(0.1, "official: nn.BatchNorm2d default momentum")

    @classmethod
    def san(cls, depth: int, sa_type: str, **changes) -> SANConfig:
        """The released SAN``depth`` (10, 15, 19) of ``sa_type`` ("pairwise" or "patchwise")."""
        require(depth in LAYERS, "SANConfig.san", "depth 10, 15 or 19", depth)
        return cls(sa_type=sa_type, layers=LAYERS[depth], **changes)

    @classmethod
    def san10_pair(cls) -> SANConfig:
        return cls.san(10, "pairwise")

    @classmethod
    def san10_patch(cls) -> SANConfig:
        return cls.san(10, "patchwise")

    @classmethod
    def san15_pair(cls) -> SANConfig:
        return cls.san(15, "pairwise")

    @classmethod
    def san15_patch(cls) -> SANConfig:
        return cls.san(15, "patchwise")

    @classmethod
    def san19_pair(cls) -> SANConfig:
        return cls.san(19, "pairwise")

    @classmethod
    def san19_patch(cls) -> SANConfig:
        return cls.san(19, "patchwise")

    @classmethod
    def tiny(cls, sa_type: str = "pairwise", **changes) -> SANConfig:
        """The SAN structure at a test size: 3 stages of widths 16-32-64, kernels 3-5-3, 10 classes.

        ``widths / 16`` relation channels and ``widths / 4`` value channels
        shared by 2 (``C_w`` = 2, 4, 8); the smallest input is 16 x 16.
        """
        base = dict(sa_type=sa_type, layers=(1, 2, 1), kernels=(3, 5, 3), widths=(16, 32, 64), stem_width=8,
                    num_classes=10, share_planes=2)
        return cls(**{**base, **changes})

    def validate(self) -> None:
        w = "SANConfig"
        require(self.sa_type in ops.SA_TYPES, f"{w}.sa_type", "one of " + ", ".join(ops.SA_TYPES), repr(self.sa_type))
        n = len(self.layers)
        require(n >= 1 and all(ops._is_int(v) for v in self.layers), f"{w}.layers",
                "a non-empty tuple of integers >= 1 (blocks per stage)", self.layers)
        require(len(self.kernels) == n and all(ops._is_int(v) and v % 2 for v in self.kernels), f"{w}.kernels",
                f"{n} odd integers >= 1 (one per stage)", self.kernels)
        require(len(self.widths) == n and all(ops._is_int(v) for v in self.widths), f"{w}.widths",
                f"{n} integers >= 1 (one per stage)", self.widths)
        for name in ("stem_width", "num_classes", "in_channels", "share_planes", "rel_ratio", "mid_ratio"):
            require(ops._is_int(getattr(self, name)), f"{w}.{name}", "an integer >= 1", repr(getattr(self, name)))
        for width in self.widths:
            require(width // self.rel_ratio >= 1 and width // self.mid_ratio >= 1, f"{w}.widths",
                    f"widths >= rel_ratio {self.rel_ratio} and mid_ratio {self.mid_ratio}", self.widths)
            require((width // self.mid_ratio) % self.share_planes == 0, f"{w}.widths",
                    f"widths whose width // {self.mid_ratio} is a multiple of share_planes {self.share_planes}",
                    self.widths)
        self.sam(0)  # validates relation, padding, position and BatchNorm settings through SAMConfig

    def sam(self, stage: int) -> ops.SAMConfig:
        """The ``SAMConfig`` of every block of ``stage``."""
        width = self.widths[stage]
        return ops.SAMConfig(in_planes=width, rel_planes=width // self.rel_ratio, out_planes=width // self.mid_ratio,
                             share_planes=self.share_planes, kernel_size=self.kernels[stage], sa_type=self.sa_type,
                             relation=self.relation, padding=self.padding, position=self.position,
                             bn_eps=self.bn_eps, bn_momentum=self.bn_momentum)

    @property
    def batchnorm(self) -> bn.BatchNormConfig:
        return bn.BatchNormConfig(self.bn_eps, self.bn_momentum)

    @property
    def num_stages(self) -> int:
        return len(self.layers)

    @property
    def min_input_size(self) -> int:
        """The smallest H (and W) every stage works on (official kernels with reflection: 128)."""
        return max(ops.min_size(k, self.padding) * 2 ** (s + 1) for s, k in enumerate(self.kernels))


@dataclass(frozen=True)
class Block:
    """One bottleneck: name prefix (``layer2.1``), stage index, width and its SAM."""

    name: str
    stage: int
    width: int
    sam: ops.SAMConfig

    @property
    def mid(self) -> int:
        return self.sam.out_planes


def blocks(config: SANConfig) -> list[Block]:
    """Every block in order (the single source of the structure for every layer)."""
    return [Block(f"layer{s}.{b}", s, config.widths[s], config.sam(s))
            for s in range(config.num_stages) for b in range(config.layers[s])]


def stage_inputs(config: SANConfig) -> list[int]:
    """Input channels of each stage's transition conv ``conv{s}``."""
    return [config.stem_width, *config.widths[:-1]]


def param_shapes(config: SANConfig) -> dict[str, tuple[int, ...]]:
    """Canonical names and shapes in the order of the official ``state_dict`` (no ``module.`` prefix)."""
    s: dict[str, tuple[int, ...]] = {"conv_in.weight": (config.stem_width, config.in_channels, 1, 1)}
    s.update(ops.bn_shapes(config.stem_width, "bn_in."))
    all_blocks = blocks(config)
    for stage, c_in in enumerate(stage_inputs(config)):
        width = config.widths[stage]
        s[f"conv{stage}.weight"] = (width, c_in, 1, 1)
        s.update(ops.bn_shapes(width, f"bn{stage}."))
        for b in (b for b in all_blocks if b.stage == stage):
            s.update(ops.bn_shapes(width, f"{b.name}.bn1."))
            s.update(ops.sam_param_shapes(b.sam, f"{b.name}.sam."))
            s.update(ops.bn_shapes(b.mid, f"{b.name}.bn2."))
            s[f"{b.name}.conv.weight"] = (width, b.mid, 1, 1)
            s[f"{b.name}.conv.bias"] = (width,)
    s["fc.weight"] = (config.num_classes, config.widths[-1])
    s["fc.bias"] = (config.num_classes,)
    return s


def num_params(config: SANConfig, trainable_only: bool = True) -> int:
    """Number of parameters from :func:`param_shapes` (trainable: without BatchNorm state)."""
    return sum(int(np.prod(shape)) for name, shape in param_shapes(config).items()
               if not (trainable_only and ops.is_state(name)))


def check_input_size(where: str, h: int, w: int, config: SANConfig) -> None:
    """Raise :class:`ShapeError` naming the first stage whose map is too small, and the smallest working input.

    Stage ``s`` sees ``floor(H / 2^(s+1)) x floor(W / 2^(s+1))`` (2x2 max-pools before each stage).
    """
    for s, k in enumerate(config.kernels):
        hs, ws = h >> (s + 1), w >> (s + 1)
        if hs < ops.min_size(k, config.padding) or ws < ops.min_size(k, config.padding):
            m = config.min_input_size
            raise ShapeError(expected(
                where, f"{ops.size_rule(k, config.padding)} at stage {s} (layer{s}, H/{2 ** (s + 1)} x "
                f"W/{2 ** (s + 1)}); the smallest input that works is {m} x {m}",
                f"an input of {h} x {w}, whose stage-{s} map is {hs} x {ws}"))


def check_input(where: str, shape: tuple[int, ...], config: SANConfig) -> None:
    """Validate an NCHW network input shape (rank, channels, size; ``None``/-1 dims are skipped)."""
    shape = tuple(-1 if d is None else int(d) for d in shape)
    if len(shape) != 4 or shape[1] != config.in_channels:
        raise ShapeError(expected(where, f"a 4-D input (N, {config.in_channels}, H, W)", f"shape {shape}"))
    if shape[2] >= 0 and shape[3] >= 0:
        check_input_size(where, shape[2], shape[3], config)


#: The six released networks (``tenfold export san10-pair`` ...).
PRESETS = {
    "san10-pair": SANConfig.san10_pair,
    "san10-patch": SANConfig.san10_patch,
    "san15-pair": SANConfig.san15_pair,
    "san15-patch": SANConfig.san15_patch,
    "san19-pair": SANConfig.san19_pair,
    "san19-patch": SANConfig.san19_patch,
}

#: Trainable parameters of the released models in millions: the official README's table (and the paper's)
#: gives them to 0.1M (10.5, 11.8, 14.1, 16.2, 17.6, 20.5); these are the same counts to 0.01M.
README_PARAMS_M: dict[str, float] = {"san10-pair": 10.53, "san10-patch": 11.84, "san15-pair": 14.07,
                                     "san15-patch": 16.18, "san19-pair": 17.60, "san19-patch": 20.52}

__all__ = ["LAYERS", "MEAN", "PRESETS", "README_PARAMS_M", "STD", "Block", "SANConfig", "blocks", "check_input",
           "check_input_size", "num_params", "param_shapes", "stage_inputs"]
