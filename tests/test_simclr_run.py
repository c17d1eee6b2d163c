"""``tenfold train simclr-digits`` runs end to end on a tiny budget (needs scikit-learn, the ``data`` extra)."""

import pytest


def test_simclr_digits_runs(capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("torch")
    from tenfold.cli import main

    assert main(["train", "simclr-digits", "--epochs", "1", "--seeds", "1", "--batch-size", "512"]) == 0
    out = capsys.readouterr().out
    assert "seed 0 epoch   1/1 NT-Xent" in out
    for row in ("raw pixels", "random encoder", "SimCLR encoder (torch)"):
        assert row in out
