"""``tenfold conformance --report``: the error-over-tolerance metric, the heat map, the HTML file and the PNG."""

import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenfold import png
from tenfold.conformance import heatmap, html_report
from tenfold.conformance.case import Comparison, Result, Suite
from tenfold.conformance.compare import errors, tolerance_ratio
from tenfold.spec.tolerance import Tolerance

ROOT = Path(__file__).resolve().parents[1]
floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                   st.floats(-10, 10), st.sampled_from([0.0, -0.0, 1e-300, 1.0]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(floats, floats), min_size=1, max_size=6),
       st.sampled_from([0.0, 1e-12, 1e-6, 0.5]), st.sampled_from([0.0, 1e-9, 1e-3, 0.5]))
def test_ratio_at_most_one_exactly_when_allclose(pairs, atol, rtol):
    a = np.array([p[0] for p in pairs])
    e = np.array([p[1] for p in pairs])
    tol = Tolerance(atol, rtol)
    ratio = tolerance_ratio(a, e, tol)
    oracle = bool(np.all(np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)))  # NumPy's own allclose rule
    assert (ratio <= 1.0) == oracle == errors(a, e, tol)[2]
    assert ratio >= 0.0


def test_ratio_values():
    tol = Tolerance(atol=1e-3, rtol=0.0)
    assert tolerance_ratio(np.array([1.0005]), np.array([1.0]), tol) == pytest.approx(0.5)
    assert tolerance_ratio(np.array([1.0]), np.array([1.0]), Tolerance(0.0, 0.0)) == 0.0
    assert tolerance_ratio(np.array([1.0 + 2**-52]), np.array([1.0]), Tolerance(0.0, 0.0)) == np.inf
    assert tolerance_ratio(np.zeros(2), np.zeros(3), tol) == np.inf


def _result(method, backend, mode, dtype, case, ratio, passed=True):
    return Result(method, backend, dtype, mode, case, 0, ratio * 1e-3, 0.0, 1e-3, 0.0, passed,
                  "" if passed else "1 of 4 elements off", "" if passed else
                  f"tenfold conformance --method {method} --backend {backend} --dtype {dtype} --mode {mode} "
                  f"--case {case} --seed 0", ratio)


RESULTS = [_result("mish", "numpy", "eager", "float64", "grid", 0.0),
           _result("mish", "torch", "eager", "float32", "grid", 0.2),
           _result("mish", "torch", "eager", "float32", "wide", 0.5),
           _result("mish", "torch", "grad", "float16", "grid", 3e-5),
           _result("radam", "tf", "graph", "float64", "steps", 0.01)]
FAILED = [*RESULTS, _result("radam", "tf", "graph", "float32", "steps", 7.5, passed=False)]


def test_heatmap_cells():
    hm = heatmap.build(FAILED)
    assert hm.rows == [("mish", "numpy", "eager"), ("mish", "torch", "eager"), ("mish", "torch", "grad"),
                       ("radam", "tf", "graph")]
    assert hm.columns == ["float16", "float32", "float64"]
    cell = hm.cells[(("mish", "torch", "eager"), "float32")]
    assert (cell.checks, cell.failed, cell.ratio, cell.worst.case) == (2, 0, 0.5, "wide")
    assert heatmap.label(cell) == "5.0e-01" and heatmap.label(hm.cells[(("mish", "torch", "grad"), "float16")]) \
        == "<1e-04"
    bad = hm.cells[(("radam", "tf", "graph"), "float32")]
    assert heatmap.label(bad) == "FAIL 1/1" and heatmap.colour(bad) == heatmap.FAIL_RGB
    assert heatmap.colour(None) == heatmap.EMPTY_RGB
    greens = [heatmap.colour(heatmap.Cell(checks=1, ratio=r))[1] for r in (0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)]
    assert greens[0] == greens[1] and len(set(greens)) == 5  # a ramp above the floor


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.stack = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs


def _png_chunks(data):
    pos, chunks = 8, {}
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        chunks.setdefault(data[pos + 4:pos + 8], []).append(data[pos + 8:pos + 8 + n])
        pos += 12 + n
    return chunks


def _red_pixels(path):
    img = png.decode_png(path.read_bytes())
    return int(np.all(img == heatmap.FAIL_RGB, axis=-1).sum())


def test_report_files(tmp_path):
    html_file, png_file = html_report.write_report(FAILED, tmp_path / "out" / "conformance.html")
    assert png_file == tmp_path / "out" / "conformance.png"
    text = html_file.read_text()
    parser = _Collect()
    parser.feed(text)
    assert "script" not in parser.tags and "link" not in parser.tags and "img" not in parser.tags
    assert not [v for k, v in parser.attrs if k in ("src", "href")]  # self-contained
    assert text.count('class="cell fail"') == 1 and "1 of 6 checks FAILED" in text
    repro = FAILED[-1].repro
    failures = text[text.index("Failures"):]
    assert '<li class="fail">' in failures and repro in failures
    assert text.count('<td class="cell') == len(heatmap.build(FAILED).rows) * 3

    data = png_file.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks = _png_chunks(data)
    w, h, depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][0][:10])
    expected = heatmap.render_png(heatmap.build(FAILED), "T")
    assert (h, w, depth, color_type) == (*expected.shape[:2], 8, 2)
    raw = np.frombuffer(zlib.decompress(b"".join(chunks[b"IDAT"])), np.uint8).reshape(h, 1 + 3 * w)
    assert not raw[:, 0].any()  # filter 0 on every row: the pixels are the bytes
    _, ok_png = html_report.write_report(RESULTS, tmp_path / "ok.html")
    assert _red_pixels(png_file) > _red_pixels(ok_png) > 0  # the failing cell is red; the legend's swatch too


def _encode_filtered(img, kinds):
    """An independent encoder that applies PNG filters 0-4 row by row (for the decoder's test)."""
    h, w, c = img.shape
    rows = img.reshape(h, w * c).astype(np.int32)
    out = []
    for r in range(h):
        x, up = rows[r], rows[r - 1] if r else np.zeros(w * c, np.int32)
        left = np.concatenate([np.zeros(c, np.int32), x[:-c]])
        up_left = np.concatenate([np.zeros(c, np.int32), up[:-c]])
        p = left + up - up_left
        pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
        paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, up_left))
        pred = [np.zeros_like(x), left, up, (left + up) // 2, paeth][kinds[r]]
        out.append(bytes([kinds[r]]) + ((x - pred) % 256).astype(np.uint8).tobytes())
    def chunk(k, d):
        return struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d))
    return (png.SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(out))) + chunk(b"IEND", b""))


def test_png_round_trip_and_every_filter():
    img = np.random.default_rng(0).integers(0, 256, (10, 7, 3), dtype=np.uint8)
    assert np.array_equal(png.decode_png(png.encode_png(img)), img)
    assert np.array_equal(png.decode_png(_encode_filtered(img, [0, 1, 2, 3, 4, 4, 3, 2, 1, 0])), img)
    gray = img[..., 0]
    assert np.array_equal(png.decode_png(png.encode_png(gray)), gray)
    with pytest.raises(ValueError):
        png.encode_png(img.astype(np.float32))
    with pytest.raises(ValueError):
        png.decode_png(b"GIF89a")


def test_cli_report_and_main_job(tmp_path, monkeypatch, capsys):
    from tenfold.cli import main
    from tenfold.conformance import mish as mish_cases

    pytest.importorskip("torch")
    out = tmp_path / "c.html"
    assert main(["conformance", "--method", "mish", "--backend", "torch", "--mode", "eager", "--dtype", "float32",
                 "--report", str(out)]) == 0
    assert out.exists() and out.with_suffix(".png").exists() and "wrote" in capsys.readouterr().out
    broken = Suite("numpy", "eager", ("float64",), ("grid",),
                   lambda case, dtype: [Comparison("y", np.ones(2), np.zeros(2), Tolerance(1e-6, 0.0))])
    monkeypatch.setattr(mish_cases, "SUITES", (broken,))
    assert main(["conformance", "--method", "mish", "--backend", "numpy", "--mode", "eager", "--report",
                 str(out)]) == 1
    text = out.read_text()
    assert "tenfold conformance --method mish --backend numpy --dtype float64 --mode eager --case grid --seed 0" \
        in text[text.index("Failures"):]
    main_sh = (ROOT / "scripts" / "main.sh").read_text()
    assert "--json out/conformance.json --report out/conformance.html" in main_sh
