"""ViT on bad input, every layer: broken checkpoint and model files, bad weights, configs given as
preset names, opsets the exporter cannot honour, and images that are not a batch."""

import gc
import os

import numpy as np
import pytest
from badfiles import PICKLE_HINTS, broken_npz_files, umask_mode

from tenfold.numpy_ref import vit as ref
from tenfold.spec import vit as spec
from tenfold.spec.errors import CheckpointError, ConfigError, DTypeError, ExportError, ShapeError, TenfoldError
from tenfold.spec.vit import checkpoint as ckpt

torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")

from tenfold.tf_backend import vit as tfb  # noqa: E402
from tenfold.torch_backend import vit as tb  # noqa: E402

CFG = spec.ViTConfig.tiny()
PARAMS = ref.init_params(CFG, np.random.default_rng(0))
X = np.random.default_rng(1).standard_normal((2, 3, 16, 16))
FILE_ERRORS = {"truncated": "truncated or corrupt archive", "random": "not an .npz archive",
               "empty": "not an .npz archive (empty file)", "text": "not an .npz archive",
               "corrupt": "truncated or corrupt archive", "single": "a single .npy array",
               "object": "object arrays, which tenfold never unpickles", "folder": "a folder",
               "missing": "no such file"}


@pytest.fixture(scope="module")
def models():
    return tb.ViT(CFG).eval(), tfb.ViT(CFG)


# -- files ----------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning")
def test_broken_checkpoints_are_checkpoint_errors_in_every_loader(tmp_path, models):
    from tenfold.export.vit import read_weights

    files = broken_npz_files(tmp_path, PARAMS)
    for name, reason in FILE_ERRORS.items():
        for load in (lambda p: ckpt.load_npz(p, CFG), lambda p: read_weights(p, CFG),
                     lambda p: tb.load_npz(models[0], p), lambda p: tfb.load_npz(models[1], p)):
            with pytest.raises(CheckpointError) as err:
                load(files[name])
            msg = str(err.value)
            assert reason in msg and files[name].name in msg, (name, msg)
            assert not any(h in msg for h in PICKLE_HINTS), msg
    gc.collect()  # an unclosed handle would surface here as a ResourceWarning, an error in this test


def test_broken_torch_files_are_checkpoint_errors(tmp_path):
    from tenfold.export.vit import read_weights

    (tmp_path / "w.pth").write_bytes(b"\x80\x02not really a torch file")
    torch.save({"head.weight": torch.zeros(5, 16, dtype=torch.complex64)}, tmp_path / "c.pth")
    for path, words in ((tmp_path / "w.pth", "a readable torch state_dict"), (tmp_path / "none.pth", "no such file"),
                        (tmp_path / "c.pth", "not real-valued")):
        with pytest.raises(CheckpointError, match=words):
            read_weights(path, CFG)


def test_written_checkpoints_get_the_umask_mode(tmp_path):
    old = os.umask(0o027)
    try:
        path = ckpt.save_npz(PARAMS, tmp_path / "w.npz")
        assert (path.stat().st_mode & 0o777) == umask_mode() == 0o640
    finally:
        os.umask(old)
    with pytest.raises(CheckpointError, match="numeric arrays only; got x"):
        ckpt.save_npz({"x": np.array([object()])}, tmp_path / "o.npz")


def test_model_files_onnxruntime_cannot_load(tmp_path):
    pytest.importorskip("onnxruntime")
    from tenfold.export.runtime import runner

    (tmp_path / "empty.onnx").write_bytes(b"")
    (tmp_path / "junk.onnx").write_bytes(b"\x08\x07 definitely not protobuf \xff\xfe")
    (tmp_path / "dir.onnx").mkdir()
    for name, words in (("missing.onnx", "no such file"), ("empty.onnx", "an empty file"), ("dir.onnx", "a folder"),
                        ("junk.onnx", "an ONNX model onnxruntime can load")):
        with pytest.raises(ExportError, match=words) as err:
            runner(tmp_path / name, "cpu")
        assert "ONNXRuntimeError" not in str(err.value)


def test_unwritable_output_is_refused_before_the_export(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(TenfoldError, match=r"export_vit: expected an output path in a writable folder.*is a file"):
        from tenfold.export.vit import export_vit

        export_vit(CFG, PARAMS, tmp_path / "file" / "vit.onnx", verbose=False)


# -- weights --------------------------------------------------------------------------------------

def _bad_params():
    head7 = ref.init_params(CFG.replace(num_classes=7), np.random.default_rng(0))
    return {
        "missing key": ({k: v for k, v in PARAMS.items() if k != "cls"}, "1 missing key: cls"),
        "head of 7 classes": (head7, "head/kernel (16, 7) (expected (16, 5))"),
        "complex": ({**PARAMS, "head/bias": PARAMS["head/bias"].astype(complex)}, "head/bias (dtype complex128)"),
        "strings": ({**PARAMS, "head/bias": np.array(["a"] * 5)}, "head/bias (dtype"),
    }


@pytest.mark.parametrize("case", ["missing key", "head of 7 classes", "complex", "strings"])
def test_bad_weights_are_one_checkpoint_error_in_every_layer(case, models):
    params, words = _bad_params()[case]
    for where, load in (("vit", lambda: ref.vit(X, params, CFG)), ("load_params", lambda: tb.load_params(
            models[0], params)), ("load_params", lambda: tfb.load_params(models[1], params))):
        with pytest.raises(CheckpointError) as err:
            load()
        assert str(err.value).startswith(f"{where}: expected") and words in str(err.value), str(err.value)


# -- configs --------------------------------------------------------------------------------------

def test_preset_names_are_configs_in_every_layer():
    want = ref.vit(X, PARAMS, CFG)
    np.testing.assert_array_equal(ref.vit(X, PARAMS, "tiny"), want)
    np.testing.assert_array_equal(ref.vit(X, PARAMS, CFG.to_dict()), want)
    assert tb.ViT("tiny").config == CFG and tfb.ViT("tiny").config == CFG
    assert spec.param_shapes("b16") == spec.param_shapes(spec.ViTConfig.official("B/16"))
    msg = "expected a ViTConfig or a preset name (Ti/16, S/16, S/32, B/8, B/16, B/32, L/16, L/32, H/14, tiny); got "
    for where, make in (("vit", lambda: ref.vit(X, PARAMS, "huge")), ("ViT", lambda: tb.ViT("huge")),
                        ("ViT", lambda: tfb.ViT("huge"))):
        with pytest.raises(ConfigError) as err:
            make()
        assert str(err.value) == f"{where}: {msg}'huge'"


def test_an_opset_the_exporter_cannot_honour_is_refused(tmp_path):
    pytest.importorskip("onnx")
    from tenfold.export.tf_onnx import export_tf
    from tenfold.export.torch_onnx import export_torch

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.LayerNorm(6))  # no LayerNormalization < 17
    out = tmp_path / "m.onnx"
    with pytest.raises(ExportError, match=r"expected a model of the requested opset 13; got opset 18 \(the "
                                          r"exporter could not convert to 13: .*LayerNormalization"):
        export_torch(model, out, torch.zeros(2, 3, 8, 8), opset=13)
    assert not out.exists()  # never saved with another opset
    with pytest.raises(ExportError, match=r"export_torch: expected an ONNX opset in \[7, \d+\]; got 99"):
        export_torch(model, out, torch.zeros(2, 3, 8, 8), opset=99)
    with pytest.raises(ExportError, match=r"export_tf: expected an ONNX opset in \[13, 18\]; got 19"):
        export_tf(object(), out, np.zeros((1, 3, 8, 8), np.float32), opset=19)


# -- images that are not a batch ------------------------------------------------------------------

def _forwards(models):
    return {"vit": lambda x: ref.vit(x, PARAMS, CFG),
            "ViT torch": lambda x: models[0](x if not isinstance(x, np.ndarray) else torch.from_numpy(x)),
            "ViT tf": lambda x: models[1](x if not isinstance(x, np.ndarray) else x.transpose(0, 2, 3, 1))}


@pytest.mark.parametrize("case", ["None", "strings", "empty"])
def test_same_error_for_what_is_not_a_batch(case, models):
    value, err_type, got = {"None": (None, DTypeError, "expected an array of numbers; got None"),
                            "strings": ([["a"]], DTypeError, "expected an array of numbers; got dtype str"),
                            "empty": (np.zeros((0, 3, 16, 16), np.float32), ShapeError,
                                      "expected a non-empty batch")}[case]
    for name, run in _forwards(models).items():
        with pytest.raises(err_type) as err:
            run(value)
        assert str(err.value).startswith(f"{name.split()[0]}: {got}"), str(err.value)


def test_lists_and_other_float_dtypes_run_in_every_layer(models):
    """A float64 list runs everywhere; float32 models compute it in float32 (PyTorch casts as Keras does)."""
    tb.load_params(models[0], PARAMS)
    tfb.load_params(models[1], PARAMS)
    want = ref.vit(X, PARAMS, CFG)
    np.testing.assert_allclose(ref.vit(X.tolist(), PARAMS, CFG), want, rtol=1e-12)
    np.testing.assert_allclose(models[0](X.tolist()).detach().numpy(), want, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(models[1](X.transpose(0, 2, 3, 1).tolist())), want, rtol=1e-4, atol=1e-4)
