"""The spec package: registry, errors and the config-dataclass pattern."""

from dataclasses import dataclass
from typing import ClassVar

import pytest

from tenfold import spec
from tenfold.spec.config import Config, param, require
from tenfold.spec.contracts import Tolerances
from tenfold.spec.errors import ConfigError, DTypeError, ShapeError, TenfoldError


@dataclass(frozen=True)
class ToyConfig(Config):
    PRESETS: ClassVar[tuple[str, ...]] = ("official", "paper")
    alpha: float = param(1.0, "official code: toy/train.py --alpha")
    steps: int = param(5, "paper, Section 4")

    @classmethod
    def official(cls) -> "ToyConfig":
        return cls()

    @classmethod
    def paper(cls) -> "ToyConfig":
        return cls(alpha=0.5)

    def validate(self) -> None:
        require(self.alpha > 0, "ToyConfig.alpha", "a value > 0", self.alpha)


def test_registry():
    assert set(spec.METHOD_IDS) <= set(spec.ALL_METHOD_IDS) and len(spec.ALL_METHOD_IDS) == 10
    assert spec.get("mish").__name__ == "tenfold.spec.mish"
    with pytest.raises(TenfoldError, match="expected a method id among"):
        spec.get("nope")


def test_error_hierarchy():
    for cls in (ShapeError, DTypeError, ConfigError):
        assert issubclass(cls, TenfoldError) and issubclass(cls, ValueError)
    assert issubclass(DTypeError, TypeError)


def test_config_pattern():
    assert ToyConfig.provenance() == {"alpha": "official code: toy/train.py --alpha", "steps": "paper, Section 4"}
    assert ToyConfig.preset("paper").alpha == 0.5
    with pytest.raises(ConfigError, match="expected one of official, paper; got 'torch'"):
        ToyConfig.preset("torch")
    with pytest.raises(ConfigError, match=r"ToyConfig\.alpha: expected a value > 0; got -1"):
        ToyConfig(alpha=-1)
    with pytest.raises(ConfigError):
        ToyConfig().replace(alpha=0)
    cfg = ToyConfig(alpha=2.0)
    assert ToyConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="got \\['beta'\\]"):
        ToyConfig.from_dict({"beta": 1})
    with pytest.raises(ConfigError):
        param(1, "")


def test_every_method_spec_declares_exports_and_tolerances():
    for method in spec.METHOD_IDS:
        module = spec.get(method)
        assert set(module.EXPORTS) <= set(spec.LAYERS)
        assert isinstance(module.TOLERANCES, Tolerances) and module.TOLERANCES.forward
        assert "official" in (module.__doc__ or "").lower()
        assert module.PAPER and module.OFFICIAL_CODE
