"""The benchmark command runs end to end (tiny size; timings are never asserted)."""

import pytest


def test_bench_mish_runs(capsys):
    pytest.importorskip("torch")
    from tenfold.cli import main

    assert main(["bench", "mish", "--framework", "torch", "--repeat", "1", "--size", "1000"]) == 0
    out = capsys.readouterr().out
    assert "torch: tenfold / torch.nn.functional.mish" in out
