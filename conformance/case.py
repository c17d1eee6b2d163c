"""The data types of conformance: cases, checks, comparisons and results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tenfold.spec.tolerance import Tolerance


@dataclass(frozen=True)
class Case:
    """Inputs of one conformance case, drawn from ``seed`` (float64 NumPy arrays).

    ``config`` is set only for a case built on a user's weights
    (:mod:`tenfold.conformance.weights`); otherwise the method module's case table gives it.
    """

    method: str
    name: str
    seed: int
    inputs: dict[str, np.ndarray]
    config: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Comparison:
    """One output of a backend next to the reference value it must match."""

    label: str
    actual: np.ndarray
    expected: np.ndarray
    tolerance: Tolerance


#: ``run(case, dtype) -> comparisons``: what a suite does for one case and dtype.
SuiteFn = Callable[[Case, str], "list[Comparison]"]


@dataclass(frozen=True)
class Suite:
    """A family of checks of one method: one backend, one mode, several dtypes and cases.

    ``requires`` lists the backends that must be installed (a cross-backend
    suite needs two).
    """

    backend: str
    mode: str
    dtypes: tuple[str, ...]
    cases: tuple[str, ...]
    run: SuiteFn
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    """One runnable unit: a suite applied to one case in one dtype.

    ``factory`` builds the case instead of the method's ``make_case`` (a case on a
    user's weights); ``repro_args`` are appended to the reproducing command.
    """

    method: str
    backend: str
    mode: str
    dtype: str
    case: str
    seed: int
    suite: Suite = field(compare=False, repr=False)
    factory: Callable[[], Case] | None = field(default=None, compare=False, repr=False)
    repro_args: str = field(default="", compare=False, repr=False)

    @property
    def id(self) -> str:
        return f"{self.method}-{self.backend}-{self.mode}-{self.dtype}-{self.case}-s{self.seed}"

    @property
    def repro(self) -> str:
        return (f"tenfold conformance --method {self.method} --backend {self.backend} --dtype {self.dtype}"
                f" --mode {self.mode} --case {self.case} --seed {self.seed}{self.repro_args}")


@dataclass
class Result:
    """The outcome of one :class:`Check` (the worst of its comparisons)."""

    method: str
    backend: str
    dtype: str
    mode: str
    case: str
    seed: int
    max_abs_err: float
    max_rel_err: float
    atol: float
    rtol: float
    passed: bool
    detail: str = ""
    repro: str = ""
    #: ``max |a - e| / (atol + rtol * |e|)`` over the check's comparisons: <= 1 passes (the report's heat map).
    worst_ratio: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)
