"""``tenfold info`` and the README's method table: generated from the spec, checked against the spec itself."""

import dataclasses
import json
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from tenfold import catalog, spec
from tenfold.cli import main
from tenfold.commands import info as info_cmd
from tenfold.spec import radam
from tenfold.spec.config import Config, param
from tenfold.spec.contracts import Tolerances
from tenfold.spec.tolerance import Tolerance

ROOT = Path(__file__).resolve().parents[1]


def _run(capsys, *argv) -> str:
    assert main(["info", *argv]) == 0
    return capsys.readouterr().out


def test_readme_method_table_is_the_generated_one():
    block = catalog.readme_block((ROOT / "README.md").read_text())
    assert block is not None, "README.md lacks the generated method table markers"
    assert block == catalog.markdown_table(), "regenerate it: tenfold info --write-readme README.md"


def test_overview_lists_every_method_with_a_status_matching_the_files(capsys):
    out = _run(capsys)
    rows = {line.split()[0]: line for line in out.splitlines()[4:] if line.strip()}
    assert set(rows) == set(spec.ALL_METHOD_IDS)
    for method in spec.ALL_METHOD_IDS:
        has_spec = (ROOT / "spec" / f"{method}.py").exists() or (ROOT / "spec" / method / "__init__.py").exists()
        assert ("planned" in rows[method]) == (not has_spec), rows[method]
        if method in spec.METHOD_IDS:
            assert "implemented" in rows[method] or "in progress" in rows[method]
            torch_dir = ROOT / "torch_backend"
            torch_file = (torch_dir / f"{method}.py").exists() or (torch_dir / method).is_dir()
            assert (" torch " in rows[method]) == torch_file


def test_info_radam_shows_the_four_presets_with_values_and_sources(capsys):
    out = _run(capsys, "radam")
    assert radam.PAPER in out and radam.OFFICIAL_CODE in out
    fields = dataclasses.fields(radam.RAdamConfig)
    for f in fields:  # the source of every default, straight from the dataclass metadata
        assert f.metadata["source"] in out, f.name
    presets = {name: getattr(radam.RAdamConfig, name)() for name in ("official", "paper", "torch", "tfa")}
    header = next(line for line in out.splitlines() if line.split()[:1] == ["field"] and "official" in line)
    assert header.split() == ["field", "official", "paper", "torch", "tfa"]
    lines = out.splitlines()
    start = lines.index(header)
    for f in fields:  # each preset's value of each field, in the preset matrix
        row = next(line for line in lines[start:] if line.split()[:1] == [f.name])
        cells = [c.removesuffix(" *") for c in row.strip().split("  ") if c.strip()][1:]
        want = [v if isinstance(v, str) else repr(v) for v in (getattr(p, f.name) for p in presets.values())]
        assert [c.strip() for c in cells] == want, f.name
    for name in presets:  # what each preset reproduces: its docstring's first line
        first = getattr(radam.RAdamConfig, name).__doc__.strip().splitlines()[0].replace("``", "")
        assert first.split(":")[0] in out, name
    disagree = out[out.index("disagree"):]
    differing = {f.name for f in fields if len({repr(getattr(p, f.name)) for p in presets.values()}) > 1}
    section = disagree.split("\n\n")[0].splitlines()[3:]  # after the title, the header and the rule
    listed = {line.split()[0] for line in section}
    assert listed == differing and {"threshold", "eps_mode", "early"} <= listed
    assert "tenfold conformance --method radam" in out and "tenfold bench radam" in out
    for layer, names in radam.EXPORTS.items():
        assert f"tenfold.{layer}.radam" in out and all(n in out for n in names)


def test_info_reads_a_subpackage_spec(capsys):
    from tenfold.spec.frelu import act, nets

    out = _run(capsys, "frelu")
    for cls in (act.FReLUConfig, nets.ResNetFReLUConfig, nets.ShuffleNetV2FReLUConfig):
        assert f"{cls.__name__} ({cls.__module__})" in out
        assert all(name in out for name in cls.PRESETS)
    rows = [line.split() for line in out.splitlines()]
    for kind, record in (("forward", act.TOLERANCES), ("forward (nets)", nets.TOLERANCES)):  # both records
        table = record if isinstance(record, dict) else record.forward
        for dtype, tol in table.items():
            assert [*kind.split(), dtype, f"{tol.atol:.1e}", f"{tol.rtol:.1e}"] in rows, (kind, dtype)
    assert "tenfold export frelu-cifar" in out


def test_json_and_planned(capsys):
    data = json.loads(_run(capsys, "cutmix", "--json"))
    assert data["id"] == "cutmix" and data["configs"][0]["name"] == "CutMixConfig"
    assert [p["name"] for p in data["configs"][0]["presets"]] == list(spec.get("cutmix").CutMixConfig.PRESETS)
    planned = [m for m in spec.ALL_METHOD_IDS if not catalog.has_layer(m, "spec")]
    if planned:
        assert "planned" in _run(capsys, planned[0])


def test_write_readme_replaces_only_the_block(tmp_path, capsys):
    path = tmp_path / "README.md"
    path.write_text(f"intro\n{catalog.README_BEGIN}\nold table\n{catalog.README_END}\nrest\n")
    _run(capsys, "--write-readme", str(path))
    text = path.read_text()
    assert text.startswith("intro\n") and text.endswith("rest\n")
    assert catalog.readme_block(text) == catalog.markdown_table()
    assert "already up to date" in _run(capsys, "--write-readme", str(path))
    (tmp_path / "plain.md").write_text("no markers\n")
    assert main(["info", "--write-readme", str(tmp_path / "plain.md")]) == 2
    assert "no such block" in capsys.readouterr().err


@dataclass(frozen=True)
class _NewConfig(Config):
    PRESETS = ("official", "peer", "broken")
    width: int = param(4, "official repo: model.py width=4")
    mode: str = param("a", "paper Eq. 3")

    @classmethod
    def official(cls):
        """The official code."""
        return cls()

    @classmethod
    def peer(cls):
        """A peer library's defaults."""
        return cls(mode="b")

    @classmethod
    def broken(cls):
        raise RuntimeError("not yet")


def _fake_spec(monkeypatch, name, **attrs):
    module = types.ModuleType(f"tenfold.spec.{name}", "Newmethod: a method that is still landing.\n\nMore.")
    for key, value in attrs.items():
        setattr(module, key, value)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    real = catalog.layers
    monkeypatch.setattr(catalog, "layers", lambda m: {**real(m), "spec": True} if m == name else real(m))
    return module


def test_a_new_method_with_a_sparse_spec_degrades_gracefully(monkeypatch):
    _NewConfig.__module__ = "tenfold.spec.newmethod"
    _fake_spec(monkeypatch, "newmethod", PAPER="Someone, 2020", NewConfig=_NewConfig)
    m = catalog.method_info("newmethod")
    assert m.status == catalog.IN_PROGRESS and m.title == "Newmethod: a method that is still landing"
    assert any("OFFICIAL_CODE" in n for n in m.notes) and any("EXPORTS" in n for n in m.notes)
    assert any("TOLERANCES" in n for n in m.notes)
    (config,) = m.configs
    assert [p.name for p in config.presets] == ["official", "peer"]
    assert config.disagreements() == {"mode": {"official": "a", "peer": "b"}}
    assert any("'broken' does not build" in n for n in config.notes)
    text = info_cmd.detail(m)
    assert "official repo: model.py width=4" in text and "A peer library's defaults." in text
    assert "Newmethod" in catalog.markdown_table([m])


def test_tolerances_record_and_dict_forms_are_both_read(monkeypatch):
    record = Tolerances(forward={"float32": Tolerance(1e-6, 2e-6)}, gradient={"float64": Tolerance(1e-12, 0.0)},
                        finite_difference=Tolerance(1e-7, 1e-6), onnx={"float32": Tolerance(3e-4, 3e-4)})
    _fake_spec(monkeypatch, "newmethod2", PAPER="p", OFFICIAL_CODE="c", EXPORTS={}, TOLERANCES=record,
               GRAD_TOLERANCES={"float16": Tolerance(1e-2, 1e-2)})
    rows = {(r.kind, r.dtype): (r.atol, r.rtol) for r in catalog.method_info("newmethod2").tolerances}
    assert rows == {("forward", "float32"): (1e-6, 2e-6), ("gradient", "float64"): (1e-12, 0.0),
                    ("finite_difference", "float64"): (1e-7, 1e-6), ("onnx", "float32"): (3e-4, 3e-4),
                    ("gradient", "float16"): (1e-2, 1e-2)}


def test_unknown_id_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["info", "nosuch"])
    assert exc.value.code == 2
