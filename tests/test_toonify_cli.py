"""``tenfold toonify blend`` and ``tenfold toonify sample`` end to end (in-process, tiny generators)."""

import re
import struct
import zlib

import numpy as np

from tenfold.cli import main
from tenfold.numpy_ref import toonify as ref
from tenfold.spec import toonify as spec

C = spec.StyleGAN2Config.tiny()


def _write(tmp_path):
    a, b = (ref.init_params(C, np.random.default_rng(s)) for s in (1, 2))
    ref.save_checkpoint(a, tmp_path / "base.npz")
    ref.save_checkpoint(b, tmp_path / "fine.npz")
    return a, b


def test_blend_writes_the_blend_and_reports_positions(tmp_path, capsys):
    base, fine = _write(tmp_path)
    rc = main(["toonify", "blend", "--base", str(tmp_path / "base.npz"), "--fine", str(tmp_path / "fine.npz"),
               "--resolution", "8", "--width", "1", "--preset", "consistent", "--out", str(tmp_path / "out.npz")])
    assert rc == 0
    out, _ = ref.load_checkpoint(tmp_path / "out.npz")
    y = 1 / (1 + np.exp(-(4 - 2 - 1.5)))  # convs.2 at position 4, switch (8, 0) at 2, consistent centre 1.5
    assert np.allclose(out["convs.2.conv.weight"], y * base["convs.2.conv.weight"] + (1 - y) * fine[
        "convs.2.conv.weight"])
    assert np.array_equal(out["style.1.weight"], fine["style.1.weight"])  # the mapping of --fine
    out = capsys.readouterr().out
    assert re.search(r"4  16x16 Conv0_up\s+0\.6225\s+0\.3775", out) and "wrote" in out


def test_blend_errors_exit_2(tmp_path, capsys):
    _write(tmp_path)
    rc = main(["toonify", "blend", "--base", str(tmp_path / "base.npz"), "--fine", str(tmp_path / "fine.npz"),
               "--resolution", "64", "--out", str(tmp_path / "out.npz")])
    assert rc == 2 and "toonify.blend: expected a resolution among 4, 8, 16; got 64" in capsys.readouterr().err
    assert not (tmp_path / "out.npz").exists()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and zlib.crc32(data[12:16 + length]) == struct.unpack(">I", data[16 + length:20 + length])[0]
    return struct.unpack(">II", data[16:24])


def test_sample_writes_a_png_grid(tmp_path):
    _write(tmp_path)
    rc = main(["toonify", "sample", str(tmp_path / "base.npz"), "--n", "5", "--out", str(tmp_path / "g.png"),
               "--backend", "numpy", "--noise", "random", "--quiet"])
    assert rc == 0
    w, h = _png_size((tmp_path / "g.png").read_bytes())
    tile = 16 * 4  # 16 px repeated to 64 px, 3 per row, 2 rows, 2 px gaps
    assert (w, h) == (3 * (tile + 2) + 2, 2 * (tile + 2) + 2)
