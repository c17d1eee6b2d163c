"""Tolerances that conformance applies, per dtype.

An actual value ``a`` matches the reference ``e`` when
``|a - e| <= atol + rtol * |e|`` (NumPy's ``allclose`` rule), NaN matches NaN
and an infinity matches only the same infinity. The reference is always
evaluated in float64 on the input *after* it was cast to the tested dtype, so
a tolerance measures the layer's own rounding, not the input's.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigError, expected


@dataclass(frozen=True)
class Tolerance:
    """Absolute and relative tolerance of one comparison."""

    atol: float
    rtol: float

    def __post_init__(self) -> None:
        if not (self.atol >= 0 and self.rtol >= 0):
            raise ConfigError(expected("Tolerance", "atol >= 0 and rtol >= 0", (self.atol, self.rtol)))


def lookup(table: dict[str, Tolerance], dtype: str, where: str = "tolerance") -> Tolerance:
    """Return ``table[dtype]`` or raise :class:`ConfigError` naming the known dtypes."""
    try:
        return table[dtype]
    except KeyError:
        raise ConfigError(expected(where, "one of " + ", ".join(table), repr(dtype))) from None
