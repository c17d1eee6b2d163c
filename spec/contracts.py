"""The four method contracts of DESIGN.md as code, and the records every method shares.

* Models with weights: a spec module offers ``param_shapes(config)``; weights
  travel as a flat ``dict[str, np.ndarray]``; every loader calls
  :func:`check_params` (one :class:`CheckpointError` listing every missing,
  unexpected, mis-shaped and non-real entry). numpy_ref forwards take
  ``forward(x, params, config, *, training=False)`` (:class:`NumpyForward`);
  backends offer ``load_params(model, params)`` / ``get_params(model)``.
* Random transforms: ``sample(rng, ..., config) -> Plan`` in the spec, and
  ``apply(plan, x, ...)`` in every layer (:class:`Plan`, :class:`Sampler`).
* Stateful updates: ``step(params, grads, state, config) -> (params, state)``.
* Functions: the same name in each layer, taking that framework's tensors.

Records: :class:`Tolerances` (one per method: forward, gradient, finite
differences, ONNX), :class:`ExportMetadata` (what ``tenfold run-onnx`` and
``tenfold verify`` read from every exported model) and :class:`CliPlugin`
(what a method module offers the ``tenfold`` command).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .errors import CheckpointError, ConfigError, ExportError, expected
from .tolerance import Tolerance

#: dtype kinds a parameter may have: float, signed and unsigned integers
#: (BatchNorm's ``num_batches_tracked``), bool. Complex, strings and objects are refused.
_REAL_KINDS = "fiub"


def _shape_of(value: object) -> tuple[int, ...] | None:
    shape = getattr(value, "shape", None)
    return None if shape is None else tuple(int(d) for d in shape)


def _kind_of(value: object) -> str:
    dtype = getattr(value, "dtype", None)
    try:
        return np.dtype(getattr(dtype, "as_numpy_dtype", dtype)).kind if dtype is not None else "O"
    except TypeError:  # a framework dtype NumPy does not know (torch.int64, torch.bfloat16 ...)
        name = str(dtype)
        for kind, words in (("f", ("float",)), ("u", ("uint",)), ("i", ("int",)), ("b", ("bool",))):
            if any(w in name for w in words) and "complex" not in name:
                return kind
        return "O"


def check_params(params: Mapping[str, object], shapes: Mapping[str, tuple[int, ...]], where: str, *,
                 optional: tuple[str, ...] = (), allow_unexpected: bool = False, what: str | None = None) -> None:
    """Check a weights dict against the canonical shapes; every problem in one error.

    Args:
        params: Name -> array (NumPy, torch or TF tensors: anything with
            ``shape`` and ``dtype``).
        shapes: The canonical names and shapes (``spec.<id>.param_shapes``).
        where: The public entry point, as the message prefix.
        optional: Names that may be absent (for example BatchNorm's
            ``num_batches_tracked``).
        allow_unexpected: Accept extra names (for a partial load).
        what: What was expected, for the message (default "the N canonical parameters").

    Raises:
        CheckpointError: Listing the missing, unexpected, mis-shaped and
            non-real-dtype entries (each list sorted, each capped at 10 names).
    """
    if not isinstance(params, Mapping):
        raise CheckpointError(expected(where, "a dict of name -> array", type(params).__name__))
    missing = sorted(k for k in shapes if k not in params and k not in optional)
    unexpected = [] if allow_unexpected else sorted(k for k in params if k not in shapes)
    wrong, not_real = [], []
    for name, want in shapes.items():
        if name not in params:
            continue
        value = params[name]
        got = _shape_of(value)
        if got is None:
            not_real.append(f"{name} ({type(value).__name__})")
            continue
        kind = _kind_of(value)
        if kind not in _REAL_KINDS:
            not_real.append(f"{name} (dtype {'str' if kind in 'US' else getattr(value, 'dtype', '?')})")
        if got != tuple(want):
            wrong.append(f"{name} {got} (expected {tuple(want)})")
    problems = []
    for label, names in (("missing key", missing), ("unexpected key", unexpected), ("mis-shaped array", wrong),
                         ("array that is not real-valued", not_real)):
        if names:
            shown = ", ".join(names[:10]) + (" ..." if len(names) > 10 else "")
            plural = label.replace("key", "keys").replace("array", "arrays") if len(names) > 1 else label
            problems.append(f"{len(names)} {plural}: {shown}")
    if problems:
        raise CheckpointError(expected(where, what or f"the {len(shapes)} canonical parameters", "; ".join(problems)))


@dataclass(frozen=True)
class Tolerances:
    """The tolerances conformance applies to one method, per kind of comparison and dtype.

    Attributes:
        forward: dtype -> tolerance of outputs against the float64 reference.
        gradient: dtype -> tolerance of analytic gradients (backend autodiff
            against the reference's own gradient or another backend).
        finite_difference: Tolerance of gradients against central differences
            of the float64 reference (float64 only).
        onnx: dtype -> tolerance of onnxruntime outputs (usually float32 only).
    """

    forward: Mapping[str, Tolerance]
    gradient: Mapping[str, Tolerance] = field(default_factory=dict)
    finite_difference: Tolerance | None = None
    onnx: Mapping[str, Tolerance] = field(default_factory=dict)

    KINDS = ("forward", "gradient", "finite_difference", "onnx")

    def get(self, kind: str, dtype: str = "float64") -> Tolerance:
        """The tolerance of ``kind`` in ``dtype``; :class:`ConfigError` names what is known."""
        if kind not in self.KINDS:
            raise ConfigError(expected("Tolerances.get", "a kind among " + ", ".join(self.KINDS), repr(kind)))
        if kind == "finite_difference":
            if self.finite_difference is None:
                raise ConfigError(expected("Tolerances.get", "a finite-difference tolerance", "none defined"))
            return self.finite_difference
        table = getattr(self, kind)
        if dtype not in table:
            raise ConfigError(expected(f"Tolerances.get({kind!r})", "a dtype among " + ", ".join(table) if table
                                       else "a defined table", repr(dtype)))
        return table[dtype]


#: The keys of :class:`ExportMetadata` in an ONNX model's ``metadata_props``.
_META_PREFIX = "tenfold."


@dataclass(frozen=True)
class ExportMetadata:
    """What a deployer needs to feed an exported model, stored in its ``metadata_props``.

    One schema for every exported method, so ``tenfold run-onnx`` and
    ``tenfold verify`` read any of them. ONNX inputs are NCHW.

    Attributes:
        method: The method id (``"vit"``, ``"frelu"``, ``"san"``).
        config: The method config as a dict (``Config.to_dict()``).
        input_name, output_name: Graph input and output names.
        input_shape: ``(N, C, H, W)`` with ``-1`` for a dynamic dimension.
        input_dtype: ``"float32"``.
        value_range: The range of the raw pixels before normalisation, ``(0, 255)``.
        mean, std: Per-channel normalisation ``x = (pixel / scale - mean) / std``.
        scale: The ``scale`` above (255 when mean/std are on [0, 1]; 1 for raw pixels).
        color: Channel order, ``"RGB"`` or ``"BGR"``.
        output: What the output means (``"logits"``).
        source_backend: ``"torch"`` or ``"tf"``.
        extra: Further method-specific entries (strings).
    """

    method: str
    config: Mapping[str, Any]
    input_shape: tuple[int, ...]
    input_name: str = "input"
    output_name: str = "output"
    input_dtype: str = "float32"
    layout: str = "NCHW"
    value_range: tuple[float, float] = (0.0, 255.0)
    mean: tuple[float, ...] = (0.0, 0.0, 0.0)
    std: tuple[float, ...] = (1.0, 1.0, 1.0)
    scale: float = 255.0
    color: str = "RGB"
    output: str = "logits"
    source_backend: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)

    def to_props(self) -> dict[str, str]:
        """The ``metadata_props`` entries (all strings, keys prefixed ``tenfold.``)."""
        d = {"method": self.method, "config": json.dumps(dict(self.config), sort_keys=True),
             "input.name": self.input_name, "output.name": self.output_name, "input.dtype": self.input_dtype,
             "input.layout": self.layout, "input.shape": ",".join(str(v) for v in self.input_shape),
             "input.value_range": ",".join(repr(float(v)) for v in self.value_range),
             "input.mean": ",".join(repr(float(v)) for v in self.mean),
             "input.std": ",".join(repr(float(v)) for v in self.std), "input.scale": repr(float(self.scale)),
             "input.color": self.color, "output.meaning": self.output, "source_backend": self.source_backend}
        d.update({f"extra.{k}": str(v) for k, v in self.extra.items()})
        return {_META_PREFIX + k: v for k, v in d.items()}

    @classmethod
    def from_props(cls, props: Mapping[str, str], where: str = "export metadata") -> ExportMetadata:
        """Inverse of :meth:`to_props`; :class:`ExportError` names the missing keys."""
        p = {k[len(_META_PREFIX):]: v for k, v in props.items() if k.startswith(_META_PREFIX)}
        need = ("method", "config", "input.shape", "input.name", "output.name")
        missing = [f"{_META_PREFIX}{k}" for k in need if k not in p]
        if missing:
            raise ExportError(expected(where, "a model exported by tenfold (metadata " + ", ".join(
                _META_PREFIX + k for k in need) + ")", "missing " + ", ".join(missing)))
        floats = lambda key, default: tuple(float(v) for v in p.get(key, default).split(","))  # noqa: E731
        try:
            return cls(method=p["method"], config=json.loads(p["config"]),
                       input_shape=tuple(int(v) for v in p["input.shape"].split(",")),
                       input_name=p["input.name"], output_name=p["output.name"],
                       input_dtype=p.get("input.dtype", "float32"), layout=p.get("input.layout", "NCHW"),
                       value_range=floats("input.value_range", "0,255"), mean=floats("input.mean", "0,0,0"),
                       std=floats("input.std", "1,1,1"), scale=float(p.get("input.scale", "255")),
                       color=p.get("input.color", "RGB"), output=p.get("output.meaning", "logits"),
                       source_backend=p.get("source_backend", ""),
                       extra={k[6:]: v for k, v in p.items() if k.startswith("extra.")})
        except (ValueError, json.JSONDecodeError) as err:
            raise ExportError(expected(where, "well-formed tenfold metadata", str(err))) from None


@runtime_checkable
class NumpyForward(Protocol):
    """A numpy_ref model forward: ``forward(x, params, config, *, training=False) -> outputs``."""

    def __call__(self, x: np.ndarray, params: Mapping[str, np.ndarray], config: Any, *,
                 training: bool = False) -> np.ndarray: ...


@runtime_checkable
class ModelSpec(Protocol):
    """What ``spec.<id>`` of a model with weights offers."""

    PAPER: str
    OFFICIAL_CODE: str
    EXPORTS: Mapping[str, tuple[str, ...]]
    TOLERANCES: Tolerances

    def param_shapes(self, config: Any) -> dict[str, tuple[int, ...]]: ...


@runtime_checkable
class Plan(Protocol):
    """A frozen, serialisable record of every random draw of a transform."""

    def to_dict(self) -> dict[str, Any]: ...


@runtime_checkable
class Sampler(Protocol):
    """``spec.<id>.sample(rng, ..., config) -> Plan``: the only place randomness is drawn."""

    def __call__(self, rng: np.random.Generator, *args: Any, **kwargs: Any) -> Plan: ...


@runtime_checkable
class StatefulStep(Protocol):
    """``numpy_ref.<id>.step(params, grads, state, config) -> (params, state)``, pure."""

    def __call__(self, params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray | None], state: Any,
                 config: Any) -> tuple[dict[str, np.ndarray], Any]: ...


@runtime_checkable
class CliPlugin(Protocol):
    """What a method module offers a ``tenfold`` subcommand (``export``, ``bench``, ``train``, ``show``...).

    ``NAMES`` maps each command name the module serves to the argument
    defaults it implies (``{"frelu": {}, "frelu-resnet50": {"preset": "resnet50"}}``).
    """

    NAMES: Mapping[str, Mapping[str, Any]]

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def plugin_names(module: Any, default: str) -> Mapping[str, Mapping[str, Any]]:
    """The command names a :class:`CliPlugin` module serves (``{default: {}}`` when it lists none)."""
    return getattr(module, "NAMES", None) or {default: {}}


RunFn = Callable[[argparse.Namespace], int]

__all__ = ["CliPlugin", "ExportMetadata", "ModelSpec", "NumpyForward", "Plan", "RunFn", "Sampler", "StatefulStep",
           "Tolerances", "check_params", "plugin_names"]
