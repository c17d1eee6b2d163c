"""Every failure of the ``tenfold`` command is one line on stderr and a non-zero exit status, never a
traceback; ``--help`` of every subcommand works without the extras it does not need."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from badfiles import assert_one_line

from tenfold.cli import main


def run(argv: list[str], capsys) -> tuple[int, str]:
    """``tenfold <argv>`` in this process: (exit status, stderr)."""
    try:
        code = main(argv)
    except SystemExit as stop:  # argparse's own exits (usage errors, --help)
        code = stop.code
    return code, capsys.readouterr().err


@pytest.fixture
def folder_blocked_by_a_file(tmp_path) -> Path:
    (tmp_path / "file").write_text("")
    return tmp_path / "file"  # "file/out.onnx" cannot be written: a file stands where a folder must be


USAGE = {  # argv -> words of the one-line message (argparse's usage errors, exit status 2)
    "conformance --method nope": "argument --method: invalid choice: 'nope'",
    "conformance --backend nope": "argument --backend: invalid choice",
    "bench nope": "argument method: invalid choice: 'nope'",
    "export nope": "argument TARGET: invalid choice: 'nope'",
    "export vit": "the following arguments are required: --out",
    "run-onnx": "the following arguments are required: model, images",
    "train": "the following arguments are required: TARGET",
    "show nope": "argument TARGET: invalid choice: 'nope'",
    "nope": "argument COMMAND: invalid choice: 'nope'",
}


@pytest.mark.parametrize("argv", sorted(USAGE))
def test_usage_errors_are_one_line(argv, capsys):
    code, err = run(argv.split(), capsys)
    line = assert_one_line(err)
    assert code == 2 and USAGE[argv] in line and "--help" in line


@pytest.mark.parametrize("argv, words", [
    ("conformance --dtype int8", "conformance --dtype: expected values with checks in"),
    ("conformance --method mish --case nope", "conformance --case: expected values with checks in mish"),
    ("conformance --method cutmix --mode nope", "conformance --mode: expected values"),
    ("conformance --method mish --mode fused", "got 'fused'"),  # a mode of RAdam's only: selects nothing here
])
def test_a_filter_that_matches_nothing_is_not_a_success(argv, words, capsys):
    code, err = run(argv.split(), capsys)
    assert code == 2 and words in assert_one_line(err)


def test_unwritable_outputs_are_reported_before_any_work(folder_blocked_by_a_file, capsys):
    out = str(folder_blocked_by_a_file / "out")
    for argv, words in ((["conformance", "--method", "mish", "--json", out + ".json"], "conformance --json"),
                        (["export", "vit", "--preset", "tiny", "--out", out + ".onnx"], "export vit --out"),
                        (["export", "frelu-cifar", "--out", out + ".onnx"], "export frelu-cifar --out")):
        code, err = run(argv, capsys)
        line = assert_one_line(err)
        assert code == 2 and line.startswith(f"tenfold {words}: expected an output path in a writable folder")
        assert "is a file, not a folder" in line


def test_export_failures(tmp_path, capsys):
    pytest.importorskip("torch")
    (tmp_path / "w.npz").write_bytes(b"PK\x03\x04 truncated")
    for argv, words in ((["--weights", str(tmp_path / "w.npz")], "truncated or corrupt archive"),
                        (["--weights", str(tmp_path / "none.npz")], "no such file"),
                        (["--opset", "99"], "expected an ONNX opset in"),
                        (["--batch-sizes", "1,x"], "comma-separated integers"),
                        (["--preset", "huge"], "ViTConfig.preset: expected one of")):
        code, err = run(["export", "vit", "--preset", "tiny", "--out", str(tmp_path / "v.onnx"), *argv], capsys)
        assert code == 2 and words in assert_one_line(err), err
    assert not (tmp_path / "v.onnx").exists()


def _tiny_model(path: Path, size: int = 8) -> Path:
    """A tenfold-style ONNX classifier (global average pool) with ExportMetadata, built by hand."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    from tenfold.spec.contracts import ExportMetadata

    nodes = [helper.make_node("GlobalAveragePool", ["input"], ["pooled"]),
             helper.make_node("Flatten", ["pooled"], ["output"])]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                                            ["N", 3, size, size])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    meta = ExportMetadata(method="tiny", config={}, input_shape=(-1, 3, size, size), mean=(0.5,) * 3, std=(0.5,) * 3)
    for key, value in meta.to_props().items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, path)
    return path


@pytest.mark.filterwarnings("error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning")
def test_run_onnx_failures(tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    model = str(_tiny_model(tmp_path / "tiny.onnx"))
    np.save(tmp_path / "ok.npy", np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "empty.onnx").write_bytes(b"")
    (tmp_path / "junk.onnx").write_bytes(b"not an onnx model")
    images = {"u16.npy": np.full((8, 8, 3), 1000, np.uint16), "neg.npy": -np.ones((8, 8, 3)),
              "nan.npy": np.full((8, 8, 3), np.nan), "str.npy": np.array([["a"]]), "bool.npy": np.ones((8, 8), bool),
              "c.npy": np.zeros((8, 8, 3), complex)}
    for name, a in images.items():
        np.save(tmp_path / name, a)
    np.save(tmp_path / "obj.npy", np.array([None, 1], dtype=object), allow_pickle=True)
    (tmp_path / "cut.ppm").write_bytes(b"P6\n8 8\n255\n" + b"\x00" * 10)
    (tmp_path / "hdr.ppm").write_bytes(b"P6\n8")
    (tmp_path / "p16.pgm").write_bytes(b"P5\n2 2\n65535\n" + b"\x00" * 8)
    cases = {
        ("missing.onnx", "ok.npy"): "no such file", ("empty.onnx", "ok.npy"): "an empty file",
        ("junk.onnx", "ok.npy"): "an ONNX model onnxruntime can load", ("tiny.onnx", "none.npy"): "no such file",
        ("tiny.onnx", "u16.npy"): "values in [1000, 1000] (dtype uint16); rescale to 8 bits first",
        ("tiny.onnx", "neg.npy"): "pass raw pixels", ("tiny.onnx", "nan.npy"): "NaN or infinite values",
        ("tiny.onnx", "str.npy"): "dtype <U1", ("tiny.onnx", "bool.npy"): "dtype bool",
        ("tiny.onnx", "c.npy"): "dtype complex128", ("tiny.onnx", "obj.npy"): "object arrays",
        ("tiny.onnx", "cut.ppm"): "a truncated file", ("tiny.onnx", "hdr.ppm"): "a malformed header",
        ("tiny.onnx", "p16.pgm"): "maxval 65535",
    }
    for (model_name, image), words in cases.items():
        code, err = run(["run-onnx", model if model_name == "tiny.onnx" else str(tmp_path / model_name),
                         str(tmp_path / image), "--provider", "cpu"], capsys)
        line = assert_one_line(err)
        assert code == 2 and line.startswith("tenfold run-onnx: ") and words in line, line
        assert "allow_pickle" not in line and "ONNXRuntimeError" not in line
    code, _ = run(["run-onnx", model, str(tmp_path / "ok.npy"), "--provider", "cpu"], capsys)
    assert code == 0


def test_unexpected_exceptions_are_one_line_too(monkeypatch, capsys):
    from tenfold.conformance import cli as conformance_cli

    for exc, status, words in ((RuntimeError("boom\nsecond line"), 3, "RuntimeError: boom second line"),
                               (ModuleNotFoundError("no nosuch", name="nosuch"), 3, "ModuleNotFoundError"),
                               (KeyboardInterrupt(), 130, "interrupted"),
                               (PermissionError(13, "Permission denied", "/x"), 2, "Permission denied"),
                               (ModuleNotFoundError("no torch", name="torch"), 2, "pip install 'tenfold[torch]'")):
        def boom(args, exc=exc):
            raise exc
        monkeypatch.setattr(conformance_cli, "run", boom)
        code, err = run(["conformance"], capsys)
        assert code == status and words in assert_one_line(err)


HELP_SCRIPT = """
import json, sys
for name in ("onnx", "onnxruntime", "onnxscript", "tf2onnx", "torch", "tensorflow", "keras", "sklearn", "PIL"):
    sys.modules[name] = None  # as if the extras were not installed
from tenfold.cli import main
codes = {}
for argv in (["--help"], ["conformance", "--help"], ["bench", "--help"], ["export", "--help"],
             ["export", "vit", "--help"], ["export", "frelu", "--help"], ["export", "frelu-cifar", "--help"],
             ["run-onnx", "--help"], ["train", "--help"], ["show", "--help"], ["info", "--help"], ["info", "radam"],
             ["--version"]):
    try:
        codes[" ".join(argv)] = main(argv)
    except SystemExit as stop:
        codes[" ".join(argv)] = stop.code
codes["heavy modules loaded"] = sorted(m for m in ("torch", "tensorflow", "onnx", "onnxruntime")
                                       if sys.modules.get(m) is not None)
print(json.dumps(codes))
"""

RUN_ONNX_SCRIPT = """
import sys
for name in ("onnx", "onnxscript", "tf2onnx", "torch", "tensorflow", "keras"):
    sys.modules[name] = None  # run-onnx needs onnxruntime and NumPy only
from tenfold.cli import main
sys.exit(main(["run-onnx", sys.argv[1], sys.argv[2], "--provider", "cpu"]))
"""


def test_help_needs_no_extras():
    out = subprocess.run([sys.executable, "-c", HELP_SCRIPT], capture_output=True, text=True, timeout=120)
    codes = json.loads(out.stdout.strip().splitlines()[-1])
    assert codes.pop("heavy modules loaded") == []
    assert all(code == 0 for code in codes.values()), codes


def test_run_onnx_needs_only_onnxruntime(tmp_path):
    pytest.importorskip("onnxruntime")
    model = _tiny_model(tmp_path / "tiny.onnx")
    np.save(tmp_path / "img.npy", np.full((8, 8, 3), 255, np.uint8))
    out = subprocess.run([sys.executable, "-c", RUN_ONNX_SCRIPT, str(model), str(tmp_path / "img.npy")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "img.npy: class" in out.stdout
    blocked = subprocess.run([sys.executable, "-c", RUN_ONNX_SCRIPT.replace('"keras")', '"keras", "onnxruntime")'),
                              str(model), str(tmp_path / "img.npy")], capture_output=True, text=True, timeout=120)
    assert blocked.returncode == 2
    assert "needs the optional package 'onnxruntime': pip install 'tenfold[onnx]'" in assert_one_line(blocked.stderr)


def test_error_line_never_doubles_the_command_prefix():
    from tenfold.cli import error_line

    assert error_line("show", "tenfold show: expected a file; got x") == "tenfold show: expected a file; got x"
    assert error_line("toonify", "tenfold toonify sample: expected a file; got x") == \
        "tenfold toonify sample: expected a file; got x"
    assert error_line("run-onnx", "run-onnx: expected a model; got x") == "tenfold run-onnx: expected a model; got x"
    assert error_line("export", "load_npz: expected a file; got x") == \
        "tenfold export: load_npz: expected a file; got x"
