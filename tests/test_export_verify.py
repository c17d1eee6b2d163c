"""``tenfold verify``: passes on good exports, fails with a clear report on corrupted or foreign ones.

The oracle is numpy_ref in float64 on the same weights; the failures are made by hand (a weight of the
file changed, a truncated file, other weights, another config, an NHWC / fixed-batch file).
"""

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from tenfold.cli import main
from tenfold.numpy_ref import vit as ref
from tenfold.spec import vit as spec

pytest.importorskip("torch")

CFG = spec.ViTConfig.tiny(num_classes=7)


@pytest.fixture(scope="module")
def vit_export(tmp_path_factory):
    from tenfold.export.vit import export_vit

    tmp = tmp_path_factory.mktemp("vit")
    params = ref.init_params(CFG, np.random.default_rng(5), head_scale=4.0)
    np.savez(tmp / "w.npz", **params)
    export_vit(CFG, params, tmp / "vit.onnx", verbose=False)
    return tmp


def _verify(capsys, *argv):
    rc = main(["verify", *map(str, argv), "--provider", "cpu"])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def test_passes_on_a_tenfold_export(vit_export, capsys):
    rc, out, _ = _verify(capsys, vit_export / "vit.onnx", "--weights", vit_export / "w.npz")
    assert rc == 0, out
    for line in ("PASS  metadata: tenfold vit export from torch, config agrees", "PASS  onnx.checker",
                 "PASS  dynamic batch", "PASS  layout: NCHW", "(batch, 7)", "top-1 agreement with the reference: "
                 "8/8", "result: PASS"):
        assert line in out, line
    assert out.count(" PASS\n") + out.count("  PASS\n") >= 2  # the batch-8 and batch-1 rows of the table


def test_fails_on_a_corrupted_weight(vit_export, tmp_path, capsys):
    model = onnx.load(vit_export / "vit.onnx")
    init = next(i for i in model.graph.initializer if numpy_helper.to_array(i).shape == (7, 16))  # the head
    head = numpy_helper.to_array(init).copy()
    head[3, 5] += 0.5
    init.CopyFrom(numpy_helper.from_array(head, init.name))
    onnx.save(model, tmp_path / "bad.onnx")
    rc, out, _ = _verify(capsys, tmp_path / "bad.onnx", "--weights", vit_export / "w.npz")
    assert rc == 1
    assert "result: FAIL" in out and "worst logit [" in out and "vs reference" in out
    # the signature is still fine: the report pins the problem on the numbers
    assert "FAIL  " not in out.split("numerics")[0]


def test_fails_on_a_truncated_file(vit_export, tmp_path, capsys):
    (tmp_path / "cut.onnx").write_bytes((vit_export / "vit.onnx").read_bytes()[:4000])
    rc, out, _ = _verify(capsys, tmp_path / "cut.onnx", "--weights", vit_export / "w.npz", "--method", "vit")
    assert rc == 1 and "FAIL  load: onnxruntime cannot open the file" in out and "result: FAIL (1 problem)" in out


def test_fails_with_other_weights(vit_export, tmp_path, capsys):
    np.savez(tmp_path / "other.npz", **ref.init_params(CFG, np.random.default_rng(6), head_scale=4.0))
    rc, out, _ = _verify(capsys, vit_export / "vit.onnx", "--weights", tmp_path / "other.npz")
    assert rc == 1 and "result: FAIL" in out


def test_reports_a_config_that_differs_from_the_files(vit_export, capsys):
    rc, out, _ = _verify(capsys, vit_export / "vit.onnx", "--weights", vit_export / "w.npz", "--preset", "tiny",
                         "--config", '{"gelu": "exact"}')
    assert rc == 1 and "FAIL  metadata" in out and "differs from the verified one in gelu" in out


def test_real_images_from_a_folder_and_a_npy_batch(vit_export, tmp_path):
    from tenfold.export.verify import verify

    rng = np.random.default_rng(0)
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(3):  # binary PPMs of another size: resized as run-onnx resizes them
        img = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
        (folder / f"{i}.ppm").write_bytes(b"P6\n24 20\n255\n" + img.tobytes())
    np.save(folder / "3.npy", rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
    report = verify(vit_export / "vit.onnx", vit_export / "w.npz", provider="cpu")
    assert report.passed
    report = verify(vit_export / "vit.onnx", vit_export / "w.npz", images=folder, batch=3, provider="cpu")
    assert report.passed, report.format()
    assert report.top1_total == 4 and "4 images from" in report.inputs_source
    assert [o.batch for o in report.outputs] == [3, 1, 1]  # chunks of 3, then the batch-1 run
    np.save(tmp_path / "batch.npy", rng.random((5, 3, 16, 16)))  # NCHW floats in [0, 1]
    report = verify(vit_export / "vit.onnx", vit_export / "w.npz", images=tmp_path / "batch.npy", provider="cpu")
    assert report.passed and report.top1_total == 5


def test_bad_arguments_exit_2(vit_export, tmp_path, capsys):
    rc, _, err = _verify(capsys, vit_export / "vit.onnx", "--weights", vit_export / "w.npz", "--tolerance", "x")
    assert rc == 2 and "--tolerance: expected ATOL or ATOL,RTOL" in err
    rc, _, err = _verify(capsys, vit_export / "vit.onnx", "--weights", tmp_path / "none.npz")
    assert rc == 2 and "none.npz" in err
    rc, _, err = _verify(capsys, tmp_path / "none.onnx", "--weights", vit_export / "w.npz")
    assert rc == 2 and "no such file" in err
    from tenfold.export.mish import export_mish

    export_mish(tmp_path / "mish.onnx")  # no tenfold model metadata: the method must be given
    rc, _, err = _verify(capsys, tmp_path / "mish.onnx", "--weights", vit_export / "w.npz")
    assert rc == 2 and "--method" in err


def test_keras_model_nhwc_with_a_fixed_batch():
    """tf2onnx on a Keras model as a user would run it: NHWC input, batch fixed; reported, still compared."""
    pytest.importorskip("tensorflow")
    pytest.importorskip("tf2onnx")
    import tempfile
    from pathlib import Path

    from tenfold.export.tf_onnx import export_tf
    from tenfold.export.verify import verify
    from tenfold.tf_backend import vit as tfb

    params = ref.init_params(CFG, np.random.default_rng(1))
    model = tfb.load_params(tfb.ViT(CFG), {k: v.astype(np.float32) for k, v in params.items()})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "keras.onnx"
        export_tf(model, path, np.zeros((4, 16, 16, 3), np.float32), nchw_input=False, dynamic_batch=False)
        strict = verify(path, method="vit", params=params, config=CFG, num_random=6, provider="cpu")
        lenient = verify(path, method="vit", params=params, config=CFG, num_random=6, layout="NHWC",
                         allow_static_batch=True, provider="cpu")
    failed = {i.name for i in strict.items if i.ok is False}
    assert failed == {"layout", "dynamic batch"}, strict.format()
    assert strict.outputs and all(o.ok for o in strict.outputs)  # numerics compared all the same (transposed)
    assert [o.batch for o in strict.outputs] == [4, 4]  # 6 images in calls of the fixed batch 4
    assert not strict.passed and lenient.passed, lenient.format()


def test_frelu_export_verified_with_unfolded_weights(tmp_path):
    """A FReLU export folds BatchNorm; the unfolded weights verify it (config from the file's metadata)."""
    from tenfold.export import frelu as ex
    from tenfold.export.verify import verify
    from tenfold.numpy_ref.frelu import nets as ref_nets
    from tenfold.spec.checkpoints import save_npz
    from tenfold.spec.frelu import nets

    config = nets.ResNetFReLUConfig(block="basic", layers=(1, 1), widths=(4, 8), stem="cifar", stem_width=4,
                                    frelu_stages=(True, False), dropout=0.0, num_classes=5)
    params = ref_nets.init_params(config, np.random.default_rng(2))
    save_npz(params, tmp_path / "w.npz")
    model, _ = ex.build_model(config, "torch", tmp_path / "w.npz")
    ex.export_torch(model, tmp_path / "f.onnx", (2, 3, 20, 20))
    report = verify(tmp_path / "f.onnx", tmp_path / "w.npz", provider="cpu")
    assert report.passed, report.format()
    assert report.method == "frelu" and not report.config.folded and "20 x 20" in report.inputs_source
    folded, _ = ref_nets.fold_batchnorm(params, config)
    save_npz(folded, tmp_path / "folded.npz")
    assert verify(tmp_path / "f.onnx", tmp_path / "folded.npz", provider="cpu").passed
    folded[next(k for k in folded if k.endswith(".bias"))] += 1.0
    save_npz(folded, tmp_path / "off.npz")
    assert not verify(tmp_path / "f.onnx", tmp_path / "off.npz", provider="cpu").passed
