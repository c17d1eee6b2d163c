"""What tenfold knows about each method, gathered from the spec (never written a second time).

``tenfold info`` prints it and the README's method table is generated from it
(``tenfold info --markdown``; a test keeps the two equal). Everything here is
read off the code: the spec module's ``PAPER``, ``OFFICIAL_CODE``,
``EXPORTS`` and tolerance attributes, its :class:`~tenfold.spec.config.Config`
subclasses (fields, the source of every default, ``PRESETS``), the
conformance module's ``SUITES``, the command-line plug-ins, and which layer
files exist. A method whose spec is a subpackage (``spec/frelu/``) is read
through its submodules too. Anything a spec does not declare is reported as
missing instead of failing, so the catalog keeps working while new methods
land.

Nothing here imports PyTorch or TensorFlow: layer files are found on disk
(``importlib.util.find_spec`` of the layer package, then the file), and the
export plug-ins (which need onnx) are imported only when it is installed.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import pkgutil
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from tenfold import spec
from tenfold.spec.config import Config
from tenfold.spec.errors import TenfoldError, expected
from tenfold.spec.tolerance import Tolerance

#: Short layer name -> package; the first five are the method's layers proper.
LAYER_PACKAGES: dict[str, str] = {
    "spec": "tenfold.spec",
    "numpy": "tenfold.numpy_ref",
    "torch": "tenfold.torch_backend",
    "tf": "tenfold.tf_backend",
    "onnx": "tenfold.export",
    "conformance": "tenfold.conformance",
    "bench": "tenfold.benchmarks",
    "train": "tenfold.runs",
    "show": "tenfold.show",
}
#: The layers shown in the method table.
MAIN_LAYERS: tuple[str, ...] = ("spec", "numpy", "torch", "tf", "onnx")
#: ``EXPORTS`` keys (package names) -> short layer names.
_EXPORT_LAYER = {"numpy_ref": "numpy", "torch_backend": "torch", "tf_backend": "tf", "export": "onnx"}

IMPLEMENTED, IN_PROGRESS, PLANNED = "implemented", "in progress", "planned"


@dataclass(frozen=True)
class FieldInfo:
    """One config field: its default and the documented source of that default."""

    name: str
    default: Any
    source: str


@dataclass(frozen=True)
class PresetInfo:
    """One named preset: what it reproduces (its docstring) and every field's value."""

    name: str
    summary: str
    values: dict[str, Any]


@dataclass
class ConfigInfo:
    """A :class:`Config` subclass of the spec."""

    name: str
    module: str
    fields: list[FieldInfo]
    presets: list[PresetInfo]
    notes: list[str] = field(default_factory=list)

    def disagreements(self) -> dict[str, dict[str, Any]]:
        """Fields whose value differs between presets: field -> {preset: value}."""
        out = {}
        for f in self.fields:
            values = {p.name: p.values[f.name] for p in self.presets if f.name in p.values}
            if len({repr(v) for v in values.values()}) > 1:
                out[f.name] = values
        return out


@dataclass(frozen=True)
class ToleranceRow:
    """One tolerance of the spec: the kind of comparison, the dtype, atol and rtol."""

    kind: str
    dtype: str
    atol: float
    rtol: float


@dataclass
class MethodInfo:
    """Everything :func:`method_info` gathers about one method."""

    id: str
    status: str
    title: str = ""
    paper: str = ""
    official_code: str = ""
    layers: dict[str, bool] = field(default_factory=dict)
    configs: list[ConfigInfo] = field(default_factory=list)
    dtypes: tuple[str, ...] = ()
    tolerances: list[ToleranceRow] = field(default_factory=list)
    suites: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    exports: dict[str, tuple[str, ...]] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def layer_names(self) -> list[str]:
        return [name for name in MAIN_LAYERS if self.layers.get(name)]

    @property
    def preset_names(self) -> list[str]:
        return [p.name for c in self.configs for p in c.presets]


# -- discovery on disk --------------------------------------------------------------------------------------------

def _package_dirs(package: str) -> list[Path]:
    try:
        found = importlib.util.find_spec(package)
    except ImportError:
        return []
    return [Path(p) for p in (found.submodule_search_locations or [])] if found else []


def has_layer(method: str, layer: str) -> bool:
    """True when ``tenfold.<layer package>.<method>`` exists as a file or a subpackage (nothing is imported)."""
    return any((d / f"{method}.py").is_file() or (d / method / "__init__.py").is_file()
               for d in _package_dirs(LAYER_PACKAGES[layer]))


def layers(method: str) -> dict[str, bool]:
    """Layer short name -> present, for every layer of :data:`LAYER_PACKAGES`."""
    return {layer: has_layer(method, layer) for layer in LAYER_PACKAGES}


def _submodules(module: ModuleType) -> Iterator[ModuleType]:
    yield module
    for info in pkgutil.iter_modules(getattr(module, "__path__", None) or []):
        yield importlib.import_module(f"{module.__name__}.{info.name}")


def _clean_doc(text: str) -> str:
    """Docstring text without reST markup: roles, double backquotes, module cross-references in parentheses."""
    text = re.sub(r"\s*\(:mod:`[^`]*`\)", "", text)
    text = re.sub(r":\w+:`~?([^`]*)`", r"\1", text)
    text = text.replace("``", "")
    return " ".join(text.split())


def _first_paragraph(doc: str | None) -> str:
    return _clean_doc((doc or "").strip().split("\n\n")[0])


# -- the spec -----------------------------------------------------------------------------------------------------

def _config_classes(modules: list[ModuleType], package: str) -> list[type[Config]]:
    found: dict[type, None] = {}
    for module in modules:
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, Config) and value is not Config
                    and value.__module__.startswith(package)):
                found.setdefault(value)
    return list(found)


def _preset_summary(cls: type[Config], name: str) -> str:
    maker = getattr(cls, name, None) if name.isidentifier() else None
    return _first_paragraph(getattr(maker, "__doc__", None)) if callable(maker) else ""


def config_info(cls: type[Config]) -> ConfigInfo:
    """Fields, sources and presets of one config class; a preset that fails to build becomes a note."""
    sources = cls.provenance()
    fields_ = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        fields_.append(FieldInfo(f.name, default, sources.get(f.name, "") or "(no source given)"))
    info = ConfigInfo(cls.__name__, cls.__module__, fields_, [])
    for name in getattr(cls, "PRESETS", ()) or ():
        try:
            made = cls.preset(name)
        except Exception as err:  # a broken preset must not hide the rest
            info.notes.append(f"preset {name!r} does not build: {type(err).__name__}: {err}")
            continue
        info.presets.append(PresetInfo(name, _preset_summary(cls, name),
                                       {f.name: getattr(made, f.name) for f in dataclasses.fields(cls)}))
    return info


def _tolerance_rows(kind: str, value: object) -> list[ToleranceRow]:
    if isinstance(value, Tolerance):
        dtype = "float64" if kind.startswith("finite_difference") else "any"
        return [ToleranceRow(kind, dtype, value.atol, value.rtol)]
    if isinstance(value, Mapping):
        return [ToleranceRow(kind, str(d), t.atol, t.rtol) for d, t in value.items() if isinstance(t, Tolerance)]
    kinds = getattr(value, "KINDS", None)  # a spec.contracts.Tolerances record: "forward" -> its kinds
    if kinds:
        scope = kind[len(kind.split(" (")[0]):]  # keep a " (nets)" label
        return [row for k in kinds for row in _tolerance_rows(k + scope, getattr(value, k, None))]
    return []


def _kind_of(attr: str) -> str:
    """``TOLERANCES`` -> forward, ``GRAD_TOLERANCES`` -> gradient, ``FD_TOLERANCE`` -> finite_difference ..."""
    stem = re.sub(r"_?TOLERANCES?$", "", attr).lower()
    return {"": "forward", "grad": "gradient", "fd": "finite_difference"}.get(stem, stem)


def tolerances(modules: list[ModuleType]) -> list[ToleranceRow]:
    """Every tolerance the spec declares (``TOLERANCES`` first), one row per kind and dtype.

    A subpackage's submodule may declare its own record (``spec.frelu.nets.TOLERANCES`` for the networks
    beside the activation's): its rows are labelled with the submodule (``forward (nets)``); an object
    re-exported by the package is listed once.
    """
    rows: dict[tuple[str, str], ToleranceRow] = {}
    seen: set[int] = set()
    for module in modules:
        scope = "" if module is modules[0] else module.__name__.rsplit(".", 1)[1]
        names = sorted((n for n in vars(module) if "TOLERANCE" in n and not n.startswith("_")),
                       key=lambda n: (n != "TOLERANCES", n))
        for name in names:
            value = getattr(module, name)
            if id(value) in seen:
                continue
            seen.add(id(value))
            kind = _kind_of(name) + (f" ({scope})" if scope else "")
            for row in _tolerance_rows(kind, value):
                rows.setdefault((row.kind, row.dtype), row)
    return list(rows.values())


def _suites(method: str) -> tuple[dict[str, dict[str, tuple[str, ...]]], list[str]]:
    """backend -> {"dtypes": ..., "modes": ...} from the conformance module's ``SUITES``."""
    try:
        module = importlib.import_module(f"tenfold.conformance.{method}")
    except Exception as err:
        return {}, [f"conformance module not importable: {type(err).__name__}: {err}"]
    out: dict[str, dict[str, list[str]]] = {}
    for suite in getattr(module, "SUITES", ()):
        row = out.setdefault(suite.backend, {"dtypes": [], "modes": []})
        row["dtypes"] += [d for d in suite.dtypes if d not in row["dtypes"] and d != "-"]
        row["modes"] += [suite.mode] if suite.mode not in row["modes"] else []
    order = ("float16", "bfloat16", "float32", "float64")
    return {b: {"dtypes": tuple(sorted(r["dtypes"], key=lambda d: (order.index(d) if d in order else 9, d))),
                "modes": tuple(r["modes"])} for b, r in out.items()}, []


def _commands(method: str, present: dict[str, bool]) -> tuple[list[str], list[str]]:
    commands, notes = [], []
    if present.get("conformance"):
        commands.append(f"tenfold conformance --method {method}")
    from tenfold.commands import dispatch
    from tenfold.spec.contracts import plugin_names

    for layer, verb in (("onnx", "export"), ("train", "train"), ("show", "show")):
        if not present.get(layer):
            continue
        try:
            module = dispatch.plugin_module(LAYER_PACKAGES[layer], method)
        except ImportError as err:
            notes.append(f"tenfold {verb}: needs a missing package ({err.name})")
            continue
        if module is not None:
            commands += [f"tenfold {verb} {name}" for name in plugin_names(module, method)]
    if present.get("bench"):
        commands.append(f"tenfold bench {method}")
    return commands, notes


def method_info(method: str) -> MethodInfo:
    """Gather what the code says about ``method`` (any id of :data:`tenfold.spec.ALL_METHOD_IDS`)."""
    present = layers(method)
    registered = method in spec.METHOD_IDS
    info = MethodInfo(method, PLANNED, layers=present)
    if not present["spec"]:
        return info
    info.status = IN_PROGRESS
    try:
        module = importlib.import_module(f"tenfold.spec.{method}")
        modules = list(_submodules(module))
    except Exception as err:
        info.notes.append(f"spec not importable: {type(err).__name__}: {err}")
        return info
    doc = (module.__doc__ or "").strip()
    info.title = _clean_doc(doc.splitlines()[0]).rstrip(".") if doc else ""
    for attr, label in (("PAPER", "paper"), ("OFFICIAL_CODE", "official_code")):
        value = getattr(module, attr, "")
        setattr(info, label, value)
        if not value:
            info.notes.append(f"spec declares no {attr}")
    info.exports = {k: tuple(v) for k, v in (getattr(module, "EXPORTS", None) or {}).items()}
    if not info.exports:
        info.notes.append("spec declares no EXPORTS")
    info.dtypes = tuple(getattr(module, "DTYPES", ()) or ())
    for cls in _config_classes(modules, module.__name__):
        info.configs.append(config_info(cls))
    info.tolerances = tolerances(modules)
    if not info.tolerances:
        info.notes.append("spec declares no TOLERANCES")
    if present["conformance"]:
        info.suites, notes = _suites(method)
        info.notes += notes
    info.commands, notes = _commands(method, present)
    info.notes += notes
    missing = [_EXPORT_LAYER.get(k, k) for k in info.exports if not present.get(_EXPORT_LAYER.get(k, k), True)]
    if missing:
        info.notes.append("EXPORTS names layers without a module: " + ", ".join(missing))
    if registered and not missing and present["conformance"]:
        info.status = IMPLEMENTED
    elif not registered:
        info.notes.append("not yet listed in tenfold.spec.METHOD_IDS")
    return info


def all_methods() -> list[MethodInfo]:
    """:func:`method_info` of every id: the registered ones in order, then the others of the mission."""
    order = [*spec.METHOD_IDS, *(m for m in spec.ALL_METHOD_IDS if m not in spec.METHOD_IDS)]
    return [method_info(m) for m in order]


# -- the README table ---------------------------------------------------------------------------------------------

README_BEGIN = "<!-- method table: generated by `tenfold info --markdown`; do not edit by hand -->"
README_END = "<!-- end of method table -->"


def markdown_table(methods: list[MethodInfo] | None = None) -> str:
    """The README's method table (one row per method with a spec, one row for the planned ones)."""
    methods = all_methods() if methods is None else methods
    lines = ["| id | method | paper | official code | presets | layers |", "|---|---|---|---|---|---|"]
    planned = []
    for m in methods:
        if m.status == PLANNED:
            planned.append(m.id)
            continue
        presets = "; ".join(", ".join(f"`{p.name}`" for p in c.presets) for c in m.configs if c.presets) or "-"
        code = f"[{m.official_code.removeprefix('https://github.com/')}]({m.official_code})" \
            if m.official_code.startswith("http") else m.official_code
        status = "" if m.status == IMPLEMENTED else f" ({m.status})"
        lines.append(f"| `{m.id}` | {m.title}{status} | {m.paper} | {code} | {presets} | "
                     f"{', '.join(m.layer_names)} |")
    if planned:
        lines.append(f"| {', '.join(f'`{m}`' for m in planned)} | planned | | | | |")
    return "\n".join(lines)


def readme_block(text: str) -> str | None:
    """The generated table inside ``text`` (between the markers), or None when the markers are absent."""
    match = re.search(re.escape(README_BEGIN) + r"\n(.*?)\n" + re.escape(README_END), text, flags=re.S)
    return match.group(1) if match else None


def with_readme_table(text: str, table: str) -> str:
    """``text`` with the block between the markers replaced by ``table``."""
    if readme_block(text) is None:
        raise TenfoldError(expected("tenfold info --write-readme", f"a file with the lines {README_BEGIN!r} and "
                                    f"{README_END!r}", "no such block"))
    return re.sub(re.escape(README_BEGIN) + r"\n.*?\n" + re.escape(README_END),
                  lambda _: f"{README_BEGIN}\n{table}\n{README_END}", text, count=1, flags=re.S)


__all__ = ["IMPLEMENTED", "IN_PROGRESS", "LAYER_PACKAGES", "MAIN_LAYERS", "PLANNED", "README_BEGIN", "README_END",
           "ConfigInfo", "FieldInfo", "MethodInfo", "PresetInfo", "ToleranceRow", "all_methods", "config_info",
           "has_layer", "layers", "markdown_table", "method_info", "readme_block", "tolerances", "with_readme_table"]
