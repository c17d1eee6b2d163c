"""``tenfold show augmix`` / ``tenfold show cutmix``: the PNG grid holds the images the layers compute."""

import argparse

import numpy as np
import pytest

from tenfold.numpy_ref import augmix as ref
from tenfold.png import decode_png
from tenfold.show import augmix as show_augmix
from tenfold.show import cutmix as show_cutmix
from tenfold.spec import augmix as spec


def _args(module, argv):
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return parser.parse_args(argv)


def test_show_augmix_tiles_are_the_image_and_the_reference_mix(tmp_path):
    img = np.random.default_rng(0).integers(0, 256, (20, 30, 3)).astype(np.uint8)  # (H, W, C)
    np.save(tmp_path / "x.npy", img)
    out = tmp_path / "grid.png"
    assert show_augmix.run(_args(show_augmix, [str(tmp_path / "x.npy"), "--out", str(out), "--seed", "4"])) == 0
    pic = decode_png(out.read_bytes())
    scale = -(-128 // 30)  # tiles are upscaled to at least 128 px
    np.testing.assert_array_equal(pic[8:8 + 20 * scale:scale, 8:8 + 30 * scale:scale], img)
    x = img.transpose(2, 0, 1)[None]
    plan = spec.sample(np.random.default_rng(4), 1, 20, 30, spec.AugMixConfig())
    mix = ref.apply(plan, x, out_dtype="uint8")[0].transpose(1, 2, 0)
    assert any(np.array_equal(pic[8:8 + 20 * scale:scale, c:c + 30 * scale:scale], mix)
               for c in range(pic.shape[1] - 30 * scale))


def test_show_augmix_digits_and_cutmix(tmp_path):
    pytest.importorskip("sklearn")
    out = tmp_path / "a.png"
    assert show_augmix.run(_args(show_augmix, ["--digits", "5", "--out", str(out), "--all-ops"])) == 0
    assert decode_png(out.read_bytes()).shape[2] == 3
    out = tmp_path / "c.png"
    assert show_cutmix.run(_args(show_cutmix, ["--digits", "3", "--out", str(out)])) == 0
    assert decode_png(out.read_bytes()).ndim == 3


def test_show_cutmix_pairs_one_image_with_its_variants(tmp_path):
    img = np.random.default_rng(1).random((12, 16))  # floats in [0, 1], grey
    np.save(tmp_path / "g.npy", img)
    out = tmp_path / "c.png"
    assert show_cutmix.run(_args(show_cutmix, [str(tmp_path / "g.npy"), "--out", str(out)])) == 0
    pic = decode_png(out.read_bytes())
    scale = -(-128 // 16)
    tile = pic[8:8 + 12 * scale:scale, 8:8 + 16 * scale:scale, 0]
    np.testing.assert_array_equal(tile, np.clip(img * 255, 0, 255).astype(np.uint8))


def test_bench_augmix_runs(capsys):
    pytest.importorskip("torch")
    from tenfold.benchmarks import augmix as bench

    assert bench.main(["--size", "8", "--dtype", "uint8", "--repeat", "1", "--rounds", "1", "--no-peers"]) == 0
    assert "tenfold torch AugMix (batch)" in capsys.readouterr().out
