"""SAN export layer and benchmark plumbing that need no export run (the ONNX runs are conformance suites)."""

import numpy as np
import pytest

from tenfold.spec.contracts import ExportMetadata
from tenfold.spec.errors import CheckpointError, ExportError
from tenfold.spec.san import nets


def test_cli_names_cover_the_six_released_networks():
    from tenfold.export import san as ex

    assert set(nets.PRESETS) <= set(ex.NAMES)
    assert all(ex.NAMES[n] == {"network": n} for n in nets.PRESETS)
    assert ex._config("san19-patch", None, None) == nets.SANConfig.san19_patch()
    assert ex._config("san-tiny-pair", "dot", "zero").relation == "dot"


def test_export_cli_lists_san_targets(capsys):
    from tenfold.cli import main

    with pytest.raises(SystemExit):
        main(["export", "--help"])
    out = capsys.readouterr().out
    assert "san10-pair" in out and "san19-patch" in out


def test_metadata_is_the_shared_schema():
    from tenfold.export import san as ex

    config = nets.SANConfig.san10_patch()
    meta = ExportMetadata.from_props(ex.san_metadata(config, (224, 224), "torch", "san10-patch"))
    assert meta.method == "san" and meta.input_shape == (-1, 3, 224, 224) and meta.source_backend == "torch"
    assert nets.SANConfig.from_dict({k: tuple(v) if isinstance(v, list) else v for k, v in meta.config.items()}) \
        == config
    assert meta.mean == nets.MEAN and meta.std == nets.STD and meta.extra["network"] == "san10-patch"


def test_bad_export_arguments():
    pytest.importorskip("onnx")
    from tenfold.export import san as ex

    with pytest.raises(ExportError, match="smallest input that works is 16 x 16"):
        ex.export_san(nets.SANConfig.tiny(), {}, "x.onnx", size=8, progress=None)
    with pytest.raises(ExportError, match="backend 'torch' or 'tf'"):
        ex.export_san(nets.SANConfig.tiny(), {}, "x.onnx", backend="jax", size=16, progress=None)


def test_read_weights_npz_and_official_pth(tmp_path):
    torch = pytest.importorskip("torch")
    from tenfold.export import san as ex
    from tenfold.numpy_ref import san as ref
    from tenfold.spec.checkpoints import save_npz

    config = nets.SANConfig.tiny()
    params = ref.init_params(config, np.random.default_rng(0), "float32")
    save_npz(params, tmp_path / "w.npz")
    torch.save({"state_dict": {"module." + k: torch.as_tensor(v) for k, v in params.items()}}, tmp_path / "w.pth")
    for name in ("w.npz", "w.pth"):
        got = ex.read_weights(tmp_path / name, config)
        assert all(np.array_equal(got[k], v) for k, v in params.items())
    with pytest.raises(CheckpointError, match="mis-shaped"):
        ex.read_weights(tmp_path / "w.npz", nets.SANConfig.tiny("patchwise"))


def test_bench_report_formats_the_ratios():
    from tenfold.benchmarks import san as bench

    data = {"batch": 8, "size": 224,
            "speed": {"torch": "2.14", "torchvision": "0.29", "threads": 1,
                      "times": {"resnet50": [0.8, 0.9], "san10-patch": [0.7, 0.75]}},
            "memory": {"resnet50": 200 * 2 ** 20, "san10-patch": 300 * 2 ** 20},
            "onnx": [{"network": "san10-patch", "export_s": 60.0, "max_abs_diff": 1e-6, "onnxruntime_version": "1.32",
                      "torch_version": "2.13", "torch_s": 0.7, "onnxruntime_s": 1.4}]}
    text = bench.report(data)
    assert "target SAN10-patch speed >= ResNet-50: x1.17 (met)" in text
    assert "worst x1.50 (san10-patch; met)" in text
    assert "speed x0.50 (target >= 1: MISSED" in text


def test_verify_spec_reads_presets_metadata_and_weights(tmp_path):
    pytest.importorskip("onnx")
    from tenfold.export import san as ex
    from tenfold.export.verify import method_spec, methods
    from tenfold.numpy_ref import san as ref
    from tenfold.spec.checkpoints import save_npz

    assert "san" in methods()
    s = method_spec("san")
    assert s.config_from("san15-patch", {}, None) == nets.SANConfig.san15_patch()
    meta = ExportMetadata.from_props(ex.san_metadata(nets.SANConfig.tiny("patchwise"), (16, 16), "tf"))
    assert s.config_from(None, {"num_classes": 7}, meta) == nets.SANConfig.tiny("patchwise", num_classes=7)
    config = nets.SANConfig.tiny()
    params = ref.init_params(config, np.random.default_rng(1), "float32")
    save_npz(params, tmp_path / "w.npz")
    got_config, got = s.read_weights(tmp_path / "w.npz", config)
    assert got_config == config and got["fc.weight"].dtype == np.float64
    x = np.random.default_rng(2).normal(size=(1, 3, 16, 16))
    np.testing.assert_allclose(s.reference(x, got, config), ref.forward(x, got, config))
    with pytest.raises(ExportError, match="one of san10-pair"):
        s.config_from("san50", {}, None)
