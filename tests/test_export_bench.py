"""The onnxruntime part of ``tenfold bench vit`` runs on a tiny model (timings are never asserted).

What is asserted: every graph variant is checked against numpy_ref and found exact, the int8 table
counts the images it was asked for, and the report names each section.
"""

import pytest


def test_vit_onnx_suite_on_a_tiny_model():
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime.transformers")
    from tenfold.benchmarks import vit as bench
    from tenfold.benchmarks.onnx_speed import format_report

    row = bench.measure("onnx-suite", "tiny", 2, 1, quant_images=6, device="cpu")
    rows = row["rows"]
    cpu = [r for r in rows if r["part"] == "cpu"]
    assert len(cpu) == 8 and all(r["exact"] for r in cpu[1:]), [(r["variant"], r.get("max_abs_err")) for r in cpu]
    quant = [r for r in rows if r["part"] == "int8"]
    assert [r["n"] for r in quant] == [6, 6] and quant[0]["agree"] == 6  # fp32 agrees with itself
    text = format_report(rows, "tiny")
    for part in ("graph variants -- CPU time", "wall clock, interleaved", "int8 quantization", "x torch",
                 "SkipLayerNormalization", "speed onnxruntime (+ level all"):
        assert part in text, part
