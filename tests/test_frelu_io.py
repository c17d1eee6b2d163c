"""Weights between backends, the folding helpers, and the ONNX export command."""

import numpy as np
import pytest

from tenfold.numpy_ref import frelu as ref
from tenfold.spec.frelu import nets as nets

CONFIG = nets.ShuffleNetV2FReLUConfig(stage_repeats=(1, 1, 1), stage_out_channels=(4, 8, 12, 16, 16), num_classes=3)


def test_params_round_trip_numpy_torch_tf():
    torch = pytest.importorskip("torch")
    pytest.importorskip("tensorflow")
    from tenfold.tf_backend import frelu as tfb
    from tenfold.torch_backend import frelu as tb

    params = ref.init_params(CONFIG, np.random.default_rng(0))
    via_torch = tb.get_params(tb.load_params(tb.build(CONFIG, torch.float64), params))
    via_tf = tfb.get_params(tfb.load_params(tfb.build(CONFIG, "float64"), via_torch))
    assert set(via_tf) == set(params) == set(nets.param_shapes(CONFIG))
    for k, v in params.items():
        np.testing.assert_array_equal(via_tf[k], v, err_msg=k)


def test_torch_train_step_changes_only_running_statistics_and_counts():
    torch = pytest.importorskip("torch")
    from tenfold.torch_backend import frelu as tb

    model = tb.build(CONFIG, torch.float64)
    before = tb.get_params(model)
    model.train()(torch.randn(2, 3, 16, 16, dtype=torch.float64))
    after = tb.get_params(model)
    changed = {k for k in before if not np.array_equal(before[k], after[k])}
    assert changed and all(k.endswith(("running_mean", "running_var")) for k in changed)


def test_folded_models_have_no_batchnorm():
    torch = pytest.importorskip("torch")
    from tenfold.torch_backend import frelu as tb

    model = tb.fold_batchnorm(tb.build(CONFIG, torch.float64))
    assert model.config.folded
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert set(tb.get_params(model)) == set(nets.param_shapes(CONFIG.replace(folded=True)))


def test_export_command_writes_a_checked_file(tmp_path, capsys):
    pytest.importorskip("tf2onnx")
    import onnx

    from tenfold.cli import main

    out = tmp_path / "cifar.onnx"
    assert main(["export", "frelu-cifar", "--backend", "tf", "--size", "8", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "check passed" in printed and "at batch sizes [1, 3]" in printed
    model = onnx.load(str(out))
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["tenfold.method"] == "frelu" and meta["tenfold.extra.batchnorm"] == "folded"
    assert meta["tenfold.input.shape"] == "-1,3,8,8" and meta["tenfold.input.color"] == "BGR"
    assert [i.name for i in model.graph.input] == ["x"] and [o.name for o in model.graph.output] == ["logits"]
    assert not any(n.op_type == "BatchNormalization" for n in model.graph.node)
    assert list(tmp_path.iterdir()) == [out]  # one file, no temporaries left


def test_export_command_rejects_a_bad_opset(tmp_path, capsys):
    pytest.importorskip("tf2onnx")
    from tenfold.export.frelu.cli import main

    assert main(["--preset", "cifar", "--backend", "tf", "--size", "8", "--opset", "19",
                 "--out", str(tmp_path / "x.onnx")]) == 2
    assert "opset in [13, 18]" in capsys.readouterr().err


def test_keras_functional_fit_updates_running_statistics_and_round_trips(tmp_path):
    keras = pytest.importorskip("keras")
    from tenfold.tf_backend.frelu import FReLU

    inp = keras.Input((6, 6, 3))
    model = keras.Model(inp, FReLU(3, name="frelu")(inp))
    model.compile("sgd", "mse")
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(4, 6, 6, 3)) + 2.0).astype("float32")
    model.fit(x, x, epochs=1, batch_size=4, verbose=0)
    mean = model.get_layer("frelu").bn_frelu.running_mean.numpy()
    assert np.all(mean != 0.0)  # one train step moved the running mean off its zero start
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6, atol=1e-6)


def test_run_onnx_serves_a_frelu_export(tmp_path, capsys):
    """`tenfold run-onnx` reads the FReLU metadata (BGR, raw 0-255 pixels) and matches numpy_ref's top-1."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("torch")
    from tenfold.cli import main
    from tenfold.numpy_ref.frelu import nets as ref_nets
    from tenfold.spec.frelu import nets as spec_nets

    out = tmp_path / "cifar.onnx"
    assert main(["export", "frelu-cifar", "--backend", "torch", "--size", "8", "--seed", "3", "--out", str(out)]) == 0
    img = np.random.default_rng(5).integers(0, 256, (8, 8, 3), dtype=np.uint8)  # model size: no resampling
    np.save(tmp_path / "img.npy", img)
    capsys.readouterr()
    assert main(["run-onnx", str(out), str(tmp_path / "img.npy"), "--top", "1"]) == 0
    printed = capsys.readouterr().out
    config = spec_nets.PRESETS["cifar"]()
    params = ref_nets.init_params(config, np.random.default_rng(3))
    x = img[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float64)  # RGB file -> BGR model input, NCHW
    top = int(np.argmax(ref_nets.forward(x, params, config)[0]))
    assert f"class {top} " in printed.splitlines()[-1]
