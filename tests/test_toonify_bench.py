"""``tenfold bench toonify`` runs end to end (NumPy variants at 8 px; timings are never asserted)."""


def test_bench_toonify_runs(capsys, tmp_path):
    import json

    from tenfold.cli import main

    assert main(["bench", "toonify", "--resolution", "8", "--repeat", "1", "--variants", "peak-numpy,numpy",
                 "--json", str(tmp_path / "b.json")]) == 0
    out = capsys.readouterr().out
    assert "config-f at 8 px" in out and "numpy" in out and "conv peak" in out
    rows = {r["variant"]: r for r in json.loads((tmp_path / "b.json").read_text())}
    assert set(rows) == {"peak-numpy", "numpy"} and all(r["seconds"] > 0 for r in rows.values())
