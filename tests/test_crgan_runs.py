"""tenfold train crgan-digits and tenfold bench crgan: the metric against closed forms, tiny end-to-end runs."""

import json

import numpy as np
import pytest

from tenfold.runs import crgan as run


def test_frechet_distance_closed_forms():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 3))
    assert run.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    # a shift of the mean adds its squared norm; the covariances are equal
    assert run.frechet_distance(a, a + np.array([1.0, 2.0, 0.0])) == pytest.approx(5.0, abs=1e-9)
    # one dimension: (mu1 - mu2)^2 + (s1 - s2)^2 with the sample moments
    x, y = rng.normal(0, 1, (5000, 1)), rng.normal(3, 2, (5000, 1))
    s1, s2 = x.std(ddof=1), y.std(ddof=1)
    expected = (x.mean() - y.mean()) ** 2 + (s1 - s2) ** 2
    assert run.frechet_distance(x, y) == pytest.approx(expected, rel=1e-9)


def test_grid_layout():
    imgs = -np.ones((5, 1, 8, 8))  # background value -1 -> white
    pic = run.grid(imgs, rows=2, cols=3, scale=2)
    assert pic.shape == (2 * (16 + 2) + 2, 3 * (16 + 2) + 2) and pic.dtype == np.uint8
    assert (pic == 255).all()
    assert run.grid(imgs, rows=1, cols=1, label="x").ndim == 3


def test_train_crgan_digits_end_to_end(tmp_path):
    pytest.importorskip("sklearn")
    pytest.importorskip("torch")
    from tenfold.cli import main

    out = tmp_path / "out"
    assert main(["--quiet", "train", "crgan-digits", "--steps", "3", "--seeds", "2", "--variants", "baseline,cr",
                 "--out", str(out)]) == 0
    record = json.loads((out / "results.json").read_text())
    assert set(record["runs"]) == {"baseline", "cr"} and len(record["runs"]["cr"]) == 2
    assert all(np.isfinite(r["fd"]) and r["fd"] > 0 for r in record["runs"]["baseline"])
    assert record["classifier_accuracy"] > 0.9  # the feature network is a real digits classifier
    assert (out / "samples-baseline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "NOT the Inception FID" in (out / "table.txt").read_text()


def test_bench_crgan_runs(capsys):
    pytest.importorskip("torch")
    from tenfold.cli import main

    assert main(["bench", "crgan", "--repeat", "1", "--inner", "1", "--batch", "8"]) == 0
    out = capsys.readouterr().out
    assert "measured/predicted" in out and "bcr+zcr" in out and "torch spectral_norm" in out
