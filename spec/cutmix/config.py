"""CutMix configuration: the options, their sources and presets (see :mod:`tenfold.spec.cutmix`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..config import Config, param, require

PAPER = "Yun et al., CutMix: Regularization Strategy to Train Strong Classifiers with Localizable Features, ICCV 2019"
OFFICIAL_CODE = "https://github.com/clovaai/CutMix-PyTorch"

PAIRINGS: tuple[str, ...] = ("randperm", "roll", "flip")
GRANULARITIES: tuple[str, ...] = ("batch", "elem")

#: Image dtypes every layer accepts (the paste is a copy, so any real dtype works).
IMAGE_DTYPES: tuple[str, ...] = ("uint8", "int8", "int16", "int32", "int64",
                                 "float16", "bfloat16", "float32", "float64")
#: Dtypes of hard (class index) labels and of soft (B, K) labels.
INT_LABEL_DTYPES: tuple[str, ...] = ("uint8", "int8", "int16", "int32", "int64")
SOFT_LABEL_DTYPES: tuple[str, ...] = ("float16", "bfloat16", "float32", "float64")


@dataclass(frozen=True)
class CutMixConfig(Config):
    """Hyperparameters of CutMix, with the source of every default.

    Presets: ``official()`` (the defaults), ``cifar()``, ``paper()``,
    ``torchvision()``, ``timm()``.
    """

    PRESETS = ("official", "cifar", "paper", "torchvision", "timm")

    alpha: float = param(1.0, "official README recipes: --beta 1.0 (train.py's own default 0 means off)")
    prob: float = param(1.0, "official README ImageNet recipe: --cutmix_prob 1.0 (CIFAR recipe 0.5)")
    correct_lam: bool = param(True, "official train.py: lam recomputed from the clipped box (issue #1)")
    pairing: str = param("randperm", "official train.py: rand_index = torch.randperm(B)")
    granularity: str = param("batch", "official train.py: one lam and one box per batch (issue #4)")

    @classmethod
    def official(cls) -> CutMixConfig:
        """The official ImageNet recipe: alpha 1, always on, corrected lambda, randperm, per batch."""
        return cls()

    @classmethod
    def cifar(cls) -> CutMixConfig:
        """The official CIFAR recipe: as :meth:`official` with ``prob=0.5``."""
        return cls(prob=0.5)

    @classmethod
    def paper(cls) -> CutMixConfig:
        """The paper's Sec. 3.1: the labels take the sampled lambda (no area correction)."""
        return cls(correct_lam=False)

    @classmethod
    def torchvision(cls) -> CutMixConfig:
        """torchvision ``v2.CutMix(alpha=1.0)``: roll(1, 0) pairing, corrected lambda, always on."""
        return cls(pairing="roll")

    @classmethod
    def timm(cls) -> CutMixConfig:
        """timm ``Mixup(cutmix_alpha=1.0, mixup_alpha=0)``: flip(0) pairing, ``correct_lam=True``, mode batch."""
        return cls(pairing="flip")

    def validate(self) -> None:
        require(isinstance(self.alpha, (int, float)) and not isinstance(self.alpha, bool)
                and math.isfinite(self.alpha) and self.alpha > 0,
                "CutMixConfig.alpha", "a finite number > 0 (the Beta(alpha, alpha) parameter)", repr(self.alpha))
        require(isinstance(self.prob, (int, float)) and not isinstance(self.prob, bool) and 0.0 <= self.prob <= 1.0,
                "CutMixConfig.prob", "a probability in [0, 1]", repr(self.prob))
        require(isinstance(self.correct_lam, bool), "CutMixConfig.correct_lam", "a bool", repr(self.correct_lam))
        require(self.pairing in PAIRINGS, "CutMixConfig.pairing", "one of " + ", ".join(PAIRINGS), repr(self.pairing))
        require(self.granularity in GRANULARITIES, "CutMixConfig.granularity",
                "one of " + ", ".join(GRANULARITIES), repr(self.granularity))


__all__ = ["GRANULARITIES", "IMAGE_DTYPES", "INT_LABEL_DTYPES", "OFFICIAL_CODE", "PAIRINGS", "PAPER",
           "SOFT_LABEL_DTYPES", "CutMixConfig"]
