"""``tenfold export vit`` and ``tenfold run-onnx`` end to end on a tiny model."""

import numpy as np
import onnx
import pytest

from tenfold.cli import main
from tenfold.numpy_ref import vit as ref
from tenfold.spec import vit as spec

pytest.importorskip("torch")


def test_export_with_official_weights_then_run(tmp_path, capsys):
    cfg = spec.ViTConfig.tiny(num_classes=7, representation_size=6)
    params = ref.init_params(cfg, np.random.default_rng(5), head_scale=4.0)
    np.savez(tmp_path / "w.npz", **params)
    out = tmp_path / "vit.onnx"
    # the head (7 classes, pre-logits 6) is read off the file; the tiny preset has 5 classes and none
    rc = main(["export", "vit", "--preset", "tiny", "--weights", str(tmp_path / "w.npz"), "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    for stage in ("reading weights", "exporting with torch.onnx.export", "onnx.checker", "onnxruntime", "done"):
        assert stage in text
    from tenfold.spec.contracts import ExportMetadata

    meta = ExportMetadata.from_props({p.key: p.value for p in onnx.load(out).metadata_props})
    assert meta.method == "vit" and meta.input_shape == (-1, 3, 16, 16) and meta.mean == (0.5, 0.5, 0.5)
    assert meta.extra["num_classes"] == "7" and meta.extra["weights"] == "w.npz" and meta.source_backend == "torch"

    img = np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8)  # model size: no resampling
    np.save(tmp_path / "img.npy", img)
    x = ((img / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
    want = np.argsort(-ref.vit(x, params, cfg)[0])[:3]
    assert main(["run-onnx", str(out), str(tmp_path / "img.npy"), "--top", "3", "--provider", "cpu"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith(str(tmp_path / "img.npy")) and "%" in line
    assert [int(part.split()[1]) for part in line.split(": ", 1)[1].split(", ")] == list(want)


def test_export_reports_a_bad_checkpoint(tmp_path, capsys):
    cfg = spec.ViTConfig.tiny()
    params = ref.init_params(cfg, np.random.default_rng(0))
    del params["Transformer/encoderblock_1/LayerNorm_2/bias"]
    np.savez(tmp_path / "w.npz", **params)
    rc = main(["export", "vit", "--preset", "tiny", "--weights", str(tmp_path / "w.npz"),
               "--out", str(tmp_path / "x.onnx")])
    assert rc == 2 and "1 missing key:" in capsys.readouterr().err
    assert not (tmp_path / "x.onnx").exists()


def test_run_onnx_rejects_a_foreign_model(tmp_path, capsys):
    from tenfold.export.mish import export_mish

    export_mish(tmp_path / "mish.onnx")
    np.save(tmp_path / "img.npy", np.zeros((4, 4, 3), np.uint8))
    assert main(["run-onnx", str(tmp_path / "mish.onnx"), str(tmp_path / "img.npy")]) == 2
    assert "exported by tenfold" in capsys.readouterr().err
