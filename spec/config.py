"""The config-dataclass pattern every method's spec follows.

A config is a frozen dataclass. Each field is declared with :func:`param`, which
records *where the default comes from* (paper section, official file, peer
library) next to the default itself. Where implementations disagree, the
config class offers named presets as classmethods (``RAdamConfig.official()``,
``.paper()``, ``.torch()``) and lists them in ``PRESETS``.

Example::

    @dataclass(frozen=True)
    class FooConfig(Config):
        PRESETS = ("official", "paper")
        alpha: float = param(1.0, "official code: foo/train.py, --alpha default")

        @classmethod
        def official(cls) -> "FooConfig":
            return cls()

        def validate(self) -> None:
            require(self.alpha > 0, "FooConfig.alpha", "a value > 0", self.alpha)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from .errors import ConfigError, expected

C = TypeVar("C", bound="Config")


def param(default: Any, source: str) -> Any:
    """Declare a config field with its default and the source of that default."""
    if not source:
        raise ConfigError(expected("param", "a non-empty source for the default", repr(source)))
    return dataclasses.field(default=default, metadata={"source": source})


def require(ok: bool, where: str, what: str, got: object) -> None:
    """Raise :class:`ConfigError` with the standard message unless ``ok``."""
    if not ok:
        raise ConfigError(expected(where, what, got))


@dataclasses.dataclass(frozen=True)
class Config:
    """Base class of method configs: validation, presets, provenance, dict round trip."""

    PRESETS: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check field values; subclasses raise :class:`ConfigError` on bad ones."""

    @classmethod
    def provenance(cls) -> dict[str, str]:
        """Map each field name to the documented source of its default."""
        return {f.name: f.metadata.get("source", "") for f in dataclasses.fields(cls)}

    @classmethod
    def preset(cls: type[C], name: str) -> C:
        """Build the named preset, or raise :class:`ConfigError` listing the known ones."""
        if name not in cls.PRESETS:
            raise ConfigError(expected(f"{cls.__name__}.preset", "one of " + ", ".join(cls.PRESETS), repr(name)))
        return getattr(cls, name)()

    @classmethod
    def coerce(cls: type[C], value: Any, where: str) -> C:
        """The config ``value`` stands for: an instance as is, a preset name, or a :meth:`to_dict` dict.

        Every public entry point taking a config accepts these three forms
        (``RAdam(params, config="torch")``), so a preset name is never met by an
        unrelated ``AttributeError``.

        Raises:
            ConfigError: ``"<where>: expected a <Config> or a preset name (...); got ..."``.
        """
        if isinstance(value, cls):
            return value
        want = f"a {cls.__name__}" + (f" or a preset name ({', '.join(cls.PRESETS)})" if cls.PRESETS else "")
        if isinstance(value, str) and cls.PRESETS:
            try:
                return cls.preset(value)
            except ConfigError:
                raise ConfigError(expected(where, want, repr(value))) from None
        if isinstance(value, Mapping):
            return cls.from_dict(dict(value))
        raise ConfigError(expected(where, want, type(value).__name__))

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-serialisable when the fields are)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls: type[C], data: dict[str, Any]) -> C:
        """Inverse of :meth:`to_dict`; unknown keys raise :class:`ConfigError`."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(expected(f"{cls.__name__}.from_dict", "keys among " + ", ".join(sorted(names)), unknown))
        return cls(**data)

    def replace(self: C, **changes: Any) -> C:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)
