"""FReLU spec: configs, presets, validation and parameter shapes (hand-derived counts)."""

import numpy as np
import pytest

from tenfold.spec import batchnorm as bn
from tenfold.spec import frelu as spec
from tenfold.spec.errors import ConfigError, TenfoldError
from tenfold.spec.frelu import nets as nets


def _count(shapes, trainable_only=True):
    return sum(int(np.prod(s)) for k, s in shapes.items() if not (trainable_only and "running_" in k))


def test_resnet50_relu_count_is_torchvision_plus_conv_biases():
    # torchvision resnet50: 25,557,032 parameters; the official MegEngine ResNet adds a bias to each of
    # its 53 convolutions, whose output channels sum to 26,560 (64 + 1408 + 3584 + 10240 + 11264).
    assert _count(nets.param_shapes(nets.ResNetFReLUConfig.resnet50_relu())) == 25_557_032 + 26_560


def test_resnet50_frelu_adds_12_params_per_channel_in_stages_1_to_3():
    # FReLU(C): 9C depthwise weights + C bias + 2C BatchNorm affine; FReLU channels in stages 1-3:
    # 3*(64+64+256) + 4*(128+128+512) + 6*(256+256+1024) = 13,440.
    base = _count(nets.param_shapes(nets.ResNetFReLUConfig.resnet50_relu()))
    assert _count(nets.param_shapes(nets.ResNetFReLUConfig.resnet50())) == base + 12 * 13_440


def test_resnet50_layout_follows_official_names():
    shapes = nets.param_shapes(nets.ResNetFReLUConfig.resnet50())
    assert shapes["conv1.weight"] == (64, 3, 7, 7) and shapes["conv1.bias"] == (64,)
    assert shapes["layer1.0.frelu1.conv_frelu.weight"] == (64, 1, 3, 3)
    assert shapes["layer3.5.frelu3.bn_frelu.running_var"] == (1024,)
    assert not any(k.startswith("layer4") and "frelu" in k for k in shapes)  # layer4 keeps ReLU
    assert shapes["layer2.0.downsample.0.weight"] == (512, 256, 1, 1)
    assert shapes["fc.weight"] == (1000, 2048)


def test_shufflenet_x0_5_shapes():
    shapes = nets.param_shapes(nets.ShuffleNetV2FReLUConfig.x0_5())
    assert shapes["first_conv.0.weight"] == (24, 3, 3, 3) and "first_conv.0.bias" not in shapes
    assert shapes["first_conv.2.conv_frelu1.weight"] == (24, 1, 1, 3)
    assert shapes["first_conv.2.conv_frelu2.weight"] == (24, 1, 3, 1)
    assert shapes["features.0.branch_proj.0.weight"] == (24, 1, 3, 3)
    assert shapes["features.1.branch_main.0.weight"] == (24, 24, 1, 1)  # stride-1 block: half of 48 channels
    assert shapes["classifier.0.weight"] == (1000, 1024) and "classifier.0.bias" not in shapes
    assert len([k for k in shapes if k.endswith("branch_proj.0.weight")]) == 3  # one stride-2 block per stage
    assert 1.3e6 < _count(shapes) < 1.5e6  # paper, Table 2: 1.4M


def test_folded_shapes_drop_batchnorm_and_add_biases():
    config = nets.ResNetFReLUConfig.cifar()
    folded = nets.param_shapes(config.replace(folded=True))
    assert not any(".bn" in k or "bn_frelu" in k or "downsample.1" in k for k in folded)
    assert {c for c, _ in nets.bn_pairs(config)} == {k[: -len(".weight")] for k in folded
                                                     if k.endswith(".weight") and k != "fc.weight"}


@pytest.mark.parametrize("k", [0, -1, 2, 4, 3.0, True, "3"])
def test_bad_kernel_sizes(k):
    with pytest.raises(ConfigError, match="odd integer kernel size"):
        spec.FReLUConfig(kernel_size=k)


@pytest.mark.parametrize("changes", [{"variant": "heavy"}, {"variant": "light", "bias": True}, {"bn_eps": 0.0},
                                     {"bn_momentum": 1.5}])
def test_bad_frelu_configs(changes):
    with pytest.raises(ConfigError):
        spec.FReLUConfig(**changes)


@pytest.mark.parametrize("changes", [{"layers": ()}, {"widths": (64, 128)}, {"frelu_stages": (True,)},
                                     {"block": "wide"}, {"dropout": 1.0}, {"kernel_size": 2}])
def test_bad_resnet_configs(changes):
    with pytest.raises(TenfoldError):
        nets.ResNetFReLUConfig(**changes)


def test_bad_shufflenet_configs():
    with pytest.raises(ConfigError):
        nets.ShuffleNetV2FReLUConfig(stage_out_channels=(24, 48, 96, 192))
    with pytest.raises(ConfigError):
        nets.ShuffleNetV2FReLUConfig(stage_out_channels=(24, 47, 96, 192, 1024))


def test_presets_and_provenance_round_trip():
    for cls in (spec.FReLUConfig, nets.ResNetFReLUConfig, nets.ShuffleNetV2FReLUConfig, bn.BatchNormConfig):
        assert all(cls.provenance().values())
        for name in cls.PRESETS:
            c = cls.preset(name)
            assert cls.from_dict(c.to_dict()) == c.__class__(**c.to_dict())


def test_batchnorm_momentum_conventions():
    assert bn.BatchNormConfig.megengine().momentum == pytest.approx(0.1)
    assert bn.BatchNormConfig.keras().keras_momentum == pytest.approx(0.99)
