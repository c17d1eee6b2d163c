"""SAN spec: parameter counts against the official README, official names, channel arithmetic, limits."""

import numpy as np
import pytest

from tenfold.spec import san as spec
from tenfold.spec.errors import ConfigError, ShapeError
from tenfold.spec.san import nets

# Official README (and paper Table) parameter counts, given there to 0.1M; the same counts to 0.01M.
README = {"san10-pair": 10.5, "san10-patch": 11.8, "san15-pair": 14.1, "san15-patch": 16.2, "san19-pair": 17.6,
          "san19-patch": 20.5}
TO_10K = {"san10-pair": 10.53, "san10-patch": 11.84, "san15-pair": 14.07, "san15-patch": 16.18, "san19-pair": 17.60,
          "san19-patch": 20.52}


def _trainable(shapes):
    return sum(int(np.prod(s)) for k, s in shapes.items() if not k.endswith(("running_mean", "running_var",
                                                                             "num_batches_tracked")))


@pytest.mark.parametrize("name", sorted(README))
def test_parameter_counts_from_shapes_match_the_official_readme(name):
    n = _trainable(nets.param_shapes(nets.PRESETS[name]()))
    assert round(n / 1e6, 1) == README[name]
    assert round(n / 1e6, 2) == TO_10K[name]
    assert nets.num_params(nets.PRESETS[name]()) == n


def test_pairwise_and_patchwise_differ_only_in_sam_gamma_hand_count():
    # Per block of width C (rel r = C/16, mid m = C/4, C_w = m/8, k = 7, k^2 = 49), gamma and conv_p only:
    #   pairwise:  BN(r+2) 2(r+2) + conv (r+2) r + BN(r) 2r + conv r C_w + C_w + conv_p 4 + 2
    #   patchwise: BN(50 r) 100 r + conv 50 r C_w + BN(C_w) 2 C_w + conv C_w 49 C_w + 49 C_w
    def pair(c, k):
        r, cw = c // 16, c // 32
        return 2 * (r + 2) + (r + 2) * r + 2 * r + r * cw + cw + 6

    def patch(c, k):
        r, cw, k2 = c // 16, c // 32, k * k
        return 2 * r * (k2 + 1) + r * (k2 + 1) * cw + 2 * cw + cw * k2 * cw + k2 * cw

    for depth in (10, 15, 19):
        layers = nets.LAYERS[depth]
        widths, kernels = (64, 256, 512, 1024, 2048), (3, 7, 7, 7, 7)
        diff = sum(n * (patch(c, k) - pair(c, k)) for n, c, k in zip(layers, widths, kernels, strict=True))
        a = nets.num_params(nets.SANConfig.san(depth, "patchwise"))
        b = nets.num_params(nets.SANConfig.san(depth, "pairwise"))
        assert a - b == diff


def test_official_state_dict_names_and_shapes():
    s = nets.param_shapes(nets.SANConfig.san10_pair())
    assert list(s)[:6] == ["conv_in.weight", "bn_in.weight", "bn_in.bias", "bn_in.running_mean", "bn_in.running_var",
                           "bn_in.num_batches_tracked"]
    assert s["conv_in.weight"] == (64, 3, 1, 1) and s["bn_in.num_batches_tracked"] == ()
    assert [s[f"conv{i}.weight"] for i in range(5)] == [(64, 64, 1, 1), (256, 64, 1, 1), (512, 256, 1, 1),
                                                        (1024, 512, 1, 1), (2048, 1024, 1, 1)]
    p = "layer1.0."
    assert s[p + "sam.conv1.weight"] == (16, 256, 1, 1) and s[p + "sam.conv3.weight"] == (64, 256, 1, 1)
    assert s[p + "sam.conv_w.0.weight"] == (18,) and s[p + "sam.conv_w.2.weight"] == (16, 18, 1, 1)
    assert s[p + "sam.conv_w.5.weight"] == (8, 16, 1, 1) and s[p + "sam.conv_p.weight"] == (2, 2, 1, 1)
    assert s[p + "bn2.weight"] == (64,) and s[p + "conv.weight"] == (256, 64, 1, 1) and p + "conv.bias" in s
    assert "layer1.1.bn1.weight" not in s and "layer3.3.conv.bias" in s and "layer3.4.conv.bias" not in s
    assert s["fc.weight"] == (1000, 2048) and list(s)[-1] == "fc.bias"
    t = nets.param_shapes(nets.SANConfig.san10_patch())
    assert t[p + "sam.conv_w.0.weight"] == (16 * 50,) and t[p + "sam.conv_w.2.weight"] == (8, 800, 1, 1)
    assert t[p + "sam.conv_w.5.weight"] == (49 * 8, 8, 1, 1) and not any("conv_p" in k for k in t)
    assert t["layer0.0.sam.conv_w.5.weight"] == (9 * 2, 2, 1, 1)  # stage 0: k = 3, C_w = 16 / 8


@pytest.mark.parametrize(("sa_type", "relation", "delta"), [
    ("pairwise", "subtraction", 4), ("pairwise", "summation", 4), ("pairwise", "hadamard", 4),
    ("pairwise", "concatenation", 8), ("pairwise", "dot", 1),
    ("patchwise", "concatenation", 4 * 10), ("patchwise", "star", 9), ("patchwise", "clique", 81)])
def test_relation_channels(sa_type, relation, delta):
    c = spec.SAMConfig(in_planes=8, rel_planes=4, out_planes=8, share_planes=2, kernel_size=3, sa_type=sa_type,
                       relation=relation)
    assert c.delta_planes == delta
    shapes = spec.sam_param_shapes(c)
    extra = 2 if sa_type == "pairwise" else 0
    assert shapes["conv_w.0.running_var"] == (delta + extra,)
    assert shapes["conv_w.5.weight"][0] == (4 if sa_type == "pairwise" else 9 * 4)
    no_pos = spec.sam_param_shapes(c.replace(position=False))
    assert no_pos["conv_w.0.weight"] == (delta,) and "conv_p.weight" not in no_pos


def test_min_input_sizes_and_messages():
    assert all(f().min_input_size == 128 for f in nets.PRESETS.values())
    assert nets.SANConfig(padding="zero").min_input_size == 32
    assert nets.SANConfig.tiny().min_input_size == 16
    nets.check_input_size("SAN", 128, 128, nets.SANConfig())
    with pytest.raises(ShapeError, match=r"at stage 4 \(layer4, H/32 x W/32\); the smallest input that works is "
                                         r"128 x 128; got an input of 127 x 224, whose stage-4 map is 3 x 7"):
        nets.check_input_size("SAN", 127, 224, nets.SANConfig())
    with pytest.raises(ShapeError, match=r"at stage 0 .*smallest input that works is 32 x 32"):
        nets.check_input_size("SAN", 1, 64, nets.SANConfig(padding="zero"))
    with pytest.raises(ShapeError, match="reflection padding 3 needs H, W > 3"):
        spec.check_input("SAM", (1, 8, 3, 9), spec.SAMConfig(in_planes=8, kernel_size=7))
    spec.check_input("SAM", (1, 8, 1, 1), spec.SAMConfig(in_planes=8, kernel_size=7, padding="zero"))
    with pytest.raises(ShapeError, match="expected 8 channels"):
        spec.check_input("SAM", (1, 7, 9, 9), spec.SAMConfig(in_planes=8))


@pytest.mark.parametrize("changes", [dict(kernel_size=4), dict(kernel_size=0), dict(out_planes=12, share_planes=8),
                                     dict(sa_type="both"), dict(relation="star"), dict(padding="edge"),
                                     dict(rel_planes=0), dict(position=1), dict(bn_eps=0.0)])
def test_bad_sam_configs(changes):
    with pytest.raises(ConfigError, match=r"SAMConfig|BatchNormConfig"):
        spec.SAMConfig(**changes)


@pytest.mark.parametrize("changes", [dict(layers=()), dict(kernels=(3, 7)), dict(widths=(64, 256, 512, 1024, 2047)),
                                     dict(widths=(8, 256, 512, 1024, 2048)), dict(relation="clique"),
                                     dict(sa_type="patchwise", relation="dot")])
def test_bad_san_configs(changes):
    with pytest.raises(ConfigError):
        nets.SANConfig(**changes)


def test_presets_round_trip_and_provenance():
    for name in nets.SANConfig.PRESETS:
        c = nets.SANConfig.preset(name)
        assert nets.SANConfig.from_dict(c.to_dict()) == c
    assert all(nets.SANConfig.provenance().values()) and all(spec.SAMConfig.provenance().values())
    assert spec.SAMConfig().rel == "subtraction" and spec.SAMConfig(sa_type="patchwise").rel == "concatenation"
    assert set(spec.RELATION_SOURCES) == {f"{t}/{r}" for t, rs in spec.RELATIONS.items() for r in rs}
