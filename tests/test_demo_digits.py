"""``tenfold demo digits``: training to serving on scikit-learn's digits (a few epochs; the full run is in the README).

Oracles: the framework's own predictions against run-onnx's (the same within one image), verify's
comparison with numpy_ref, and the images written for run-onnx read back equal to the data.
"""

import numpy as np
import pytest

from tenfold.cli import main

pytest.importorskip("sklearn")


def test_torch_vit_trains_exports_verifies_and_serves(tmp_path, capsys):
    pytest.importorskip("torch")
    rc = main(["demo", "digits", "--epochs", "2", "--limit", "400", "--out", str(tmp_path), "--provider", "cpu",
               "--quantize", "int8"])
    out = capsys.readouterr().out
    assert rc == 0, out[-3000:]
    for line in ("400 training and 100 test images", "epoch   2/2 [", "test accuracy (torch):", "result: PASS",
                 "top-1 agreement with the reference: 100/100", "test accuracy (onnxruntime via run-onnx):",
                 "the same within one image; verify passed", "int8 (dynamic) digits_vit_torch.int8.onnx"):
        assert line in out, line
    acc = [float(line.split(": ")[1].split("%")[0]) for line in out.splitlines() if line.startswith("test accuracy")]
    assert len(acc) == 2 and abs(acc[0] - acc[1]) <= 1 + 1e-9  # one image of 100
    # the served files are the data: read back through run-onnx's own reader
    from tenfold.commands.demo import load_digits
    from tenfold.export.run_cli import load_image

    _, _, test_pixels, _ = load_digits(0)
    img = load_image(tmp_path / "test_images" / "0007.pgm")
    np.testing.assert_array_equal(img[:, :, 0], test_pixels[7])


def test_split_is_stratified_and_seeded():
    from tenfold.commands.demo import load_digits

    a = load_digits(0)
    b = load_digits(0)
    c = load_digits(1)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert not np.array_equal(a[3], c[3])
    counts = np.bincount(a[3], minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37 and len(a[1]) + len(a[3]) == 1797  # ~20 % of every class


def test_cuda_without_a_cuda_provider_is_a_clear_error(tmp_path, capsys):
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("onnxruntime has the CUDA provider here")
    assert main(["demo", "digits", "--provider", "cuda", "--out", str(tmp_path)]) == 2
    assert "CUDAExecutionProvider" in capsys.readouterr().err


def test_tf_frelu_runs_end_to_end(tmp_path, capsys):
    pytest.importorskip("tensorflow")
    pytest.importorskip("tf2onnx")
    rc = main(["demo", "digits", "--backend", "tf", "--model", "frelu", "--epochs", "1", "--limit", "200",
               "--out", str(tmp_path), "--provider", "cpu", "--quantize", "int8"])
    out = capsys.readouterr().out
    assert rc == 0, out[-3000:]
    assert "training a frelu in TensorFlow" in out and "the same within one image; verify passed" in out
    assert "int8 (static) digits_frelu_tf.int8.onnx" in out
