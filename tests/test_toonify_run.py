"""``tenfold train toonify-digits`` end to end with a handful of steps (needs scikit-learn, the ``data`` extra)."""

import struct

import numpy as np
import pytest

from tenfold.numpy_ref import toonify as ref


def test_toonify_digits_writes_checkpoints_and_the_sweep(tmp_path):
    pytest.importorskip("sklearn")
    pytest.importorskip("torch")
    from tenfold.cli import main

    out = tmp_path / "run"
    assert main(["train", "toonify-digits", "--out-dir", str(out), "--steps", "2", "--finetune-steps", "2",
                 "--batch", "8", "--columns", "3", "--quiet"]) == 0
    base, config = ref.load_checkpoint(out / "base.npz")
    fine, _ = ref.load_checkpoint(out / "fine.npz")
    assert config.resolution == 16 and not np.array_equal(base["convs.3.conv.weight"], fine["convs.3.conv.weight"])
    png = (out / "sweep.png").read_bytes()
    w, h = struct.unpack(">II", png[16:24])
    tile = 16 * 4 + 2  # 16 px x 4, 2 px gaps; 3 columns, 4 rows (base, then switches at 4, 8, 16)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and (w, h) == (3 * tile + 2, 4 * tile + 2)


def test_digits_loader_splits_the_classes():
    pytest.importorskip("sklearn")
    pytest.importorskip("torch")
    from tenfold.runs.toonify import load_digits_16

    x = load_digits_16((0, 1))
    assert x.shape[1:] == (3, 16, 16) and x.dtype == np.float32 and x.min() >= -1 and x.max() <= 1
    assert 300 < len(x) < 400  # about 180 images per class in scikit-learn's digits
