"""The generic export layer (reused by ViT, SAN, FReLU): exporters, reference check, runner, quantization."""

import numpy as np
import onnx
import pytest

from tenfold.export import check as chk
from tenfold.export import export_onnx
from tenfold.export.runtime import runner
from tenfold.spec.errors import ExportError
from tenfold.spec.tolerance import Tolerance

TOL = Tolerance(atol=1e-5, rtol=1e-5)
W = np.random.default_rng(0).standard_normal((4, 3, 1, 1))  # a 1x1 conv, 3 -> 4 channels, then ReLU


def reference(x):
    return np.maximum(np.einsum("oc,bchw->bohw", W[:, :, 0, 0], x), 0.0)


def make_input(b):
    return np.random.default_rng(b).standard_normal((b, 3, 5, 6)).astype(np.float32)


@pytest.fixture(scope="module")
def torch_file(tmp_path_factory):
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1, bias=False), torch.nn.ReLU())
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(W))
    path = tmp_path_factory.mktemp("torch") / "conv.onnx"
    export_onnx(model, path, torch.from_numpy(make_input(2)), metadata={"tenfold.method": "demo"})
    return path


def test_torch_export_is_one_checked_file_with_metadata(torch_file):
    assert sorted(p.name for p in torch_file.parent.iterdir()) == ["conv.onnx"]  # no .data, no temp file
    model = onnx.load(torch_file)
    onnx.checker.check_model(model, full_check=True)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["tenfold.method"] == "demo" and meta["tenfold.source_backend"] == "torch"
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # dynamic batch
    report = chk.check_against_reference(torch_file, reference, make_input, TOL, batch_sizes=(1, 2, 5))
    assert report.batch_sizes == (1, 2, 5) and report.max_abs_err < 1e-5


def test_check_fails_beyond_tolerance(torch_file):
    with pytest.raises(ExportError, match="within atol"):
        chk.check_against_reference(torch_file, lambda x: reference(x) * 1.001, make_input, TOL)


def test_check_needs_two_batch_sizes(torch_file):
    with pytest.raises(ExportError, match="two distinct"):
        chk.check_against_reference(torch_file, reference, make_input, TOL, batch_sizes=(2, 2))


def test_runner_reports_its_provider(torch_file):
    run = runner(torch_file)
    assert run.provider in ("CUDAExecutionProvider", "CPUExecutionProvider")
    assert runner(torch_file, "cpu").provider == "CPUExecutionProvider"


def test_tf_export(tmp_path):
    pytest.importorskip("tensorflow")
    import keras

    inputs = keras.Input((5, 6, 3))
    conv = keras.layers.Conv2D(4, 1, use_bias=False, activation="relu")
    model = keras.Model(inputs, conv(inputs))
    conv.set_weights([W[:, :, 0, 0].T[None, None]])
    path = tmp_path / "conv_tf.onnx"
    export_onnx(model, path, make_input(2), opset=17)  # NCHW input, transposed inside; NHWC output
    with pytest.raises(ExportError, match="output shape"):
        chk.check_against_reference(path, reference, make_input, TOL)
    export_onnx(model, path, make_input(2), opset=17, nchw_output=True)
    proto = onnx.load(path)
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["tenfold.source_backend"] == "tf"
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    chk.check_against_reference(path, reference, make_input, TOL)
    with pytest.raises(ExportError, match=r"opset in \[13, 18\]"):
        export_onnx(model, tmp_path / "x.onnx", make_input(2), opset=19)


def test_unknown_model_type():
    with pytest.raises(ExportError, match=r"torch\.nn\.Module or a Keras model"):
        export_onnx(object(), "x.onnx", None)


def test_quantize_reports_size_and_change(torch_file, tmp_path):
    from tenfold.export.quantize import quantize_int8

    rep = quantize_int8(torch_file, tmp_path / "q.onnx", make_input(3))
    assert rep.int8_bytes > 0 and rep.float_bytes == torch_file.stat().st_size
    assert 0 <= rep.max_abs_diff < 0.5


def test_runner_says_what_input_it_expected(torch_file):
    run = runner(torch_file, "cpu")
    with pytest.raises(ExportError, match=r"expected shape \(.*, 3, 5, 6\); got shape \(2, 5, 6, 3\)"):
        run(make_input(2).transpose(0, 2, 3, 1).copy())
    with pytest.raises(ExportError, match="expected dtype float32"):
        run(make_input(2).astype(np.float64))
