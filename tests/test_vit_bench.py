"""The ViT benchmark's measuring code runs (no timing is asserted)."""

import pytest

from tenfold.benchmarks import vit as bench


def test_measure_and_report_on_a_tiny_model():
    pytest.importorskip("torch")
    rows = [bench.measure("torch-fp32", "tiny", 2, 1), {"variant": "peak", "fp32_gflops": 100.0, "bf16_gflops": 300.0},
            {"variant": "timm-fp32", "seconds": 1.0, "torch": "x"}, {"variant": "torch-fp32-peer", "seconds": 0.5}]
    assert rows[0]["seconds"] > 0
    text = bench.report(rows, "tiny", 2)
    assert "torch-fp32" in text and "tenfold torch / timm, fp32, same process, torch x (target >= 1): x2.00" in text
