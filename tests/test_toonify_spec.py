"""Toonify spec: names, shapes, structure and validation of the generator; positions and rules of the blend.

Oracles: tables written out by hand from rosinality's ``model.py`` and the
official ``blend_models.py`` (see shared/research/official_a.md section 4).
"""

import math

import numpy as np
import pytest

from tenfold.spec import toonify as spec
from tenfold.spec.errors import CheckpointError, ConfigError, ShapeError
from tenfold.spec.toonify import BlendConfig, StyleGAN2Config


def test_param_shapes_of_an_8px_generator_by_hand():
    c = StyleGAN2Config(resolution=8, style_dim=6, n_mlp=2, channel_max=5)
    want = {
        "style.1.weight": (6, 6), "style.1.bias": (6,), "style.2.weight": (6, 6), "style.2.bias": (6,),
        "input.input": (1, 5, 4, 4),
        "conv1.conv.weight": (1, 5, 5, 3, 3), "conv1.conv.modulation.weight": (5, 6),
        "conv1.conv.modulation.bias": (5,), "conv1.noise.weight": (1,), "conv1.activate.bias": (5,),
        "to_rgb1.bias": (1, 3, 1, 1), "to_rgb1.conv.weight": (1, 3, 5, 1, 1),
        "to_rgb1.conv.modulation.weight": (5, 6), "to_rgb1.conv.modulation.bias": (5,),
        "convs.0.conv.weight": (1, 5, 5, 3, 3), "convs.0.conv.blur.kernel": (4, 4),
        "convs.0.conv.modulation.weight": (5, 6), "convs.0.conv.modulation.bias": (5,),
        "convs.0.noise.weight": (1,), "convs.0.activate.bias": (5,),
        "convs.1.conv.weight": (1, 5, 5, 3, 3), "convs.1.conv.modulation.weight": (5, 6),
        "convs.1.conv.modulation.bias": (5,), "convs.1.noise.weight": (1,), "convs.1.activate.bias": (5,),
        "to_rgbs.0.bias": (1, 3, 1, 1), "to_rgbs.0.upsample.kernel": (4, 4), "to_rgbs.0.conv.weight": (1, 3, 5, 1, 1),
        "to_rgbs.0.conv.modulation.weight": (5, 6), "to_rgbs.0.conv.modulation.bias": (5,),
        "noises.noise_0": (1, 1, 4, 4), "noises.noise_1": (1, 1, 8, 8), "noises.noise_2": (1, 1, 8, 8),
        "latent_avg": (6,),
    }
    assert spec.param_shapes(c) == want
    assert list(spec.param_shapes(c)) == list(want)  # rosinality's state_dict order


def test_config_f_channels_latents_and_noise():
    c = StyleGAN2Config.ffhq()
    assert c.channels == {4: 512, 8: 512, 16: 512, 32: 512, 64: 512, 128: 256, 256: 128, 512: 64, 1024: 32}
    assert (c.n_latent, c.num_layers) == (18, 17)
    assert StyleGAN2Config(channel_multiplier=1).channels[64] == 256  # rosinality: 64: 256 * channel_multiplier
    assert [spec.noise_resolution(k) for k in range(17)] == [4, 8, 8, 16, 16, 32, 32, 64, 64, 128, 128, 256, 256,
                                                              512, 512, 1024, 1024]


def test_w_plus_indices_and_pads():
    layers = {la.name: la for la in spec.synthesis_layers(StyleGAN2Config(resolution=32))}
    want = {"conv1": 0, "to_rgb1": 1, "convs.0": 1, "convs.1": 2, "to_rgbs.0": 3, "convs.2": 3, "convs.3": 4,
            "to_rgbs.1": 5, "convs.4": 5, "convs.5": 6, "to_rgbs.2": 7}
    assert {k: v.latent for k, v in layers.items()} == want
    assert [layers[f"convs.{j}"].noise for j in range(6)] == [1, 2, 3, 4, 5, 6]
    c = StyleGAN2Config()
    assert spec.upconv_blur_pad(c) == (1, 1) and spec.upsample_pad(c) == (2, 1)
    taps = spec.blur_taps(c)
    assert np.allclose(taps, np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 16.0)  # sum 4: gain 1 after 2x zero insertion


@pytest.mark.parametrize("bad", [dict(resolution=12), dict(resolution=2), dict(style_dim=0), dict(n_mlp=-1),
                                 dict(blur_kernel=(1,)), dict(lr_mlp=0.0), dict(demod_eps=-1.0)])
def test_config_validation(bad):
    with pytest.raises(ConfigError, match="expected"):
        StyleGAN2Config(**bad)


def test_infer_config_round_trip_and_refusal():
    for c in (StyleGAN2Config.tiny(), StyleGAN2Config(resolution=64, style_dim=4, n_mlp=1, channel_multiplier=1,
                                                      channel_max=64)):
        shapes = spec.param_shapes(c)
        params = {k: np.zeros(s) for k, s in shapes.items()}
        inferred = spec.infer_config(params)
        assert spec.param_shapes(inferred) == shapes
        del params["latent_avg"]
        assert spec.param_shapes(spec.infer_config(params)) == shapes
    with pytest.raises(CheckpointError, match="StyleGAN2"):
        spec.infer_config({"weight": np.zeros(3)})
    params = {k: np.zeros(s) for k, s in spec.param_shapes(StyleGAN2Config.tiny()).items()}
    params["convs.1.conv.weight"] = np.zeros((1, 8, 8, 1, 1))
    with pytest.raises(CheckpointError, match=r"convs\.1\.conv\.weight"):
        spec.infer_config(params)


def test_input_checks_give_one_message():
    c = StyleGAN2Config.tiny()
    with pytest.raises(ShapeError, match=r"toonify.generate: expected z of shape \(N, 8\); got shape \(2, 7\)"):
        spec.check_latents((2, 7), c, False)
    with pytest.raises(ShapeError, match=r"W\+ \(N, 6, 8\)"):
        spec.check_latents((2, 5, 8), c, True)
    assert spec.check_latents((2, 6, 8), c, True) == 3
    with pytest.raises(ShapeError, match="5 noise arrays"):
        spec.check_noise([np.zeros((1, 1, 4, 4))], c, 2)
    plan = spec.sample_noise(np.random.default_rng(0), c, 3)
    with pytest.raises(ShapeError, match=r"noise 0"):
        spec.check_noise(list(plan.noises), c, 2)
    with pytest.raises(ConfigError, match="noise among const, zero"):
        spec.check_noise("gaussian", c, 2)
    with pytest.raises(ConfigError, match="latent_avg"):
        spec.check_truncation(0.5, False)
    assert spec.NoisePlan.from_dict(plan.to_dict()).noises[2].shape == (3, 1, 8, 8)


# -- blend ----------------------------------------------------------------------------------------

def test_positions_by_hand():
    want = {"input.input": 0, "to_rgb1.conv.weight": 1, "to_rgb1.bias": 1, "convs.0.conv.weight": 2,
            "convs.0.noise.weight": 2, "convs.1.activate.bias": 3, "to_rgbs.0.conv.modulation.bias": 3,
            "convs.2.conv.modulation.weight": 4, "convs.5.conv.weight": 7, "to_rgbs.2.bias": 7,
            "conv1.conv.weight": None, "style.1.weight": None, "noises.noise_3": None, "latent_avg": None,
            "convs.0.conv.blur.kernel": None, "to_rgbs.1.upsample.kernel": None}
    assert {k: spec.position_of(k) for k in want} == want
    assert [spec.switch_position(r, lv) for r, lv in ((4, 0), (4, 1), (8, 0), (1024, 1))] == [0, 1, 2, 17]


def test_rules():
    off, con = BlendConfig.official(), BlendConfig.consistent()
    assert [spec.weight_of(x, None, off) for x in (-1, 0, 1, 2)] == [0, 0, 0, 1]  # two positions stay on low
    assert [spec.weight_of(x, 0.0, off) for x in (0, 1, 2)] == [0, 0, 1]  # width 0: hard (`if blend_width:`)
    assert spec.weight_of(0, 1e-9, off) == 0.5 and spec.weight_of(1, 1e-9, off) == 1.0  # the quirk
    for x in range(-4, 6):  # consistent: the logistic tends to the hard switch
        assert spec.weight_of(x, 1e-6, con) == spec.weight_of(x, None, con)
    assert math.isclose(spec.weight_of(1, 2.0, off), 1 / (1 + math.exp(-0.5)))
    assert math.isclose(spec.weight_of(1, 2.0, con), 1 / (1 + math.exp(0.25)))


def test_blend_weights_and_checks():
    names = list(spec.param_shapes(StyleGAN2Config(resolution=16, style_dim=2, n_mlp=1, channel_max=2)))
    ys = spec.blend_weights(names, 8)
    assert ys["convs.2.conv.weight"] == 1 and ys["to_rgbs.0.bias"] == 0 and ys["conv1.conv.weight"] is None
    with pytest.raises(ConfigError, match="a resolution among 4, 8, 16; got 32"):
        spec.blend_weights(names, 32)
    with pytest.raises(ConfigError, match="level 0"):
        spec.blend_weights(names, 8, level=2)
    with pytest.raises(ConfigError, match="width"):
        spec.blend_weights(names, 8, width=-1.0)


def test_topology_check_names_the_first_mismatch():
    a = {"x": np.zeros(2), "y": np.zeros((2, 2)), "z": np.zeros(1)}
    with pytest.raises(CheckpointError, match=r"'y' of shape \(2, 2\) in low and \(3, 2\) in high"):
        spec.check_topology(a, {"x": np.zeros(2), "y": np.zeros((3, 2)), "z": np.zeros(2)})
    with pytest.raises(CheckpointError, match="'z' in low but not in high"):
        spec.check_topology(a, {"x": np.zeros(2), "y": np.zeros((2, 2))})
    with pytest.raises(CheckpointError, match="'w' in high but not in low"):
        spec.check_topology(a, {**a, "w": np.zeros(1)})


def test_presets_and_flops():
    assert BlendConfig.preset("official") == BlendConfig() and BlendConfig.preset("consistent").centre == 1.5
    assert StyleGAN2Config.preset("tiny").resolution == 16
    c = StyleGAN2Config.ffhq256()
    # 256 px config-f: the 3x3 convs alone (hand count of the layer table) dominate
    convs = sum(r * r * cin * cout * 9 for r, cin, cout in [(4, 512, 512), (8, 512, 512), (16, 512, 512),
                                                             (32, 512, 512), (64, 512, 512), (128, 256, 256),
                                                             (256, 128, 128)])
    assert 2 * convs < spec.flops_per_image(c) < 2 * 2 * convs
