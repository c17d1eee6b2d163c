"""AugMix spec: config validation and presets, the plan's JSON round trip and validation, hand-derived maps."""

import json
import math

import numpy as np
import pytest

from tenfold.spec import augmix as spec
from tenfold.spec.augmix import ops as O
from tenfold.spec.errors import ConfigError, DTypeError, ShapeError, TenfoldError


def test_presets_and_provenance():
    assert spec.AugMixConfig.official() == spec.AugMixConfig()
    assert spec.AugMixConfig.imagenet().severity == 1
    assert spec.AugMixConfig.paper().m_weights == "image"
    tv = spec.AugMixConfig.torchvision()
    assert tv.all_ops and tv.magnitudes == "binned" and tv.severity == 3
    assert all(spec.AugMixConfig.provenance().values())
    for name in spec.AugMixConfig.PRESETS:
        assert isinstance(spec.AugMixConfig.preset(name), spec.AugMixConfig)
    assert spec.AugMixConfig().ops == spec.DEFAULT_OPS and len(spec.DEFAULT_OPS) == 9 and len(spec.ALL_OPS) == 13


@pytest.mark.parametrize("field,value", [("severity", 0), ("severity", 11), ("severity", 2.5), ("width", 0),
                                         ("depth", 0), ("depth", -2), ("alpha", 0.0), ("alpha", math.inf),
                                         ("all_ops", 1), ("magnitudes", "discrete"), ("m_weights", "m"),
                                         ("image_size", 0)])
def test_config_rejects_bad_values(field, value):
    with pytest.raises(ConfigError, match=f"AugMixConfig.{field}: expected"):
        spec.AugMixConfig(**{field: value})


def test_plan_json_round_trip_and_arrays():
    plan = spec.sample(np.random.default_rng(0), 5, 12, 9, spec.AugMixConfig(all_ops=True))
    again = spec.AugMixPlan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again == plan
    a = plan.arrays()
    assert a["op_id"].shape == (5, 3, plan.max_depth) and a["coeffs"].shape == (5, 3, plan.max_depth, 6)
    for i in range(5):
        for j in range(3):
            depth = len(plan.ops[i][j])
            assert (a["op_id"][i, j, depth:] == -1).all()
            assert [O.OPS[k] for k in a["op_id"][i, j, :depth]] == list(plan.ops[i][j])


def test_plan_validation():
    plan = spec.sample(np.random.default_rng(0), 2, 8, 8)
    d = plan.to_dict()
    bad = json.loads(json.dumps(d))
    bad["chain_weights"][0][0] = 1.5
    with pytest.raises(ConfigError, match=r"chain_weights\[0\]\[0\]: expected a weight in \[0, 1\]"):
        spec.AugMixPlan.from_dict(bad)
    bad = json.loads(json.dumps(d))
    bad["ops"][0][0] = ["posterize"]
    bad["args"][0][0] = [9.0]
    bad["levels"][0][0] = [1.0]
    bad["signs"][0][0] = [1]
    with pytest.raises(ConfigError, match="whole number of bits in"):
        spec.AugMixPlan.from_dict(bad)
    bad["ops"][0][0] = ["blur"]
    with pytest.raises(ConfigError, match="an op among"):
        spec.AugMixPlan.from_dict(bad)
    with pytest.raises(ConfigError, match="exactly the keys"):
        spec.AugMixPlan.from_dict({"height": 8})


def test_official_maps_hand_derived():
    """Worked values (level l, sign s) from augmentations.py's formulas."""
    assert O.official_argument("posterize", 2.6, 1, 32) == 4 - 1  # int(1.04) = 1
    assert O.official_argument("rotate", 2.9, -1, 32) == -8  # int(8.7)
    assert O.official_argument("solarize", 0.1, 1, 32) == 254  # 256 - int(2.56)
    assert O.official_argument("shear_x", 3.0, -1, 32) == pytest.approx(-0.09)
    assert O.official_argument("translate_y", 2.9, 1, 32) == 3  # int(2.9 * 10.67 / 10)
    assert O.official_argument("translate_x", 1.0, 1, 224) == 7  # ImageNet: int(74.67 / 10)
    assert O.official_argument("sharpness", 1.0, 1, 32) == pytest.approx(0.28)
    assert O.official_argument("equalize", 5.0, -1, 32) == 0.0


def test_affine_coefficients_hand_derived():
    assert O.affine_coefficients("translate_x", -3.0, 10, 20) == (1, 0, -3, 0, 1, 0)
    assert O.affine_coefficients("shear_y", 0.1, 10, 20) == (1, 0, 0, 0.1, 1, 0)
    a, b, c, d, e, f = O.rotate_coefficients(90.0, 10, 20)  # inverse of a 90 degree turn about (10, 5)
    assert (a, b, d, e) == (0.0, -1.0, 1.0, 0.0)
    assert (c, f) == (15.0, -5.0)  # maps the centre to itself: (10, 5) -> (0*10 - 5 + 15, 10 + 0 - 5)
    a, b, c, d, e, f = O.rotate_coefficients(30.0, 32, 32)
    assert a == pytest.approx(math.cos(math.radians(30))) and b == pytest.approx(-math.sin(math.radians(30)))
    assert a * 16 + b * 16 + c == pytest.approx(16) and d * 16 + e * 16 + f == pytest.approx(16)


@pytest.mark.parametrize("layer", ["numpy", "torch", "tf"])
def test_same_errors_in_every_layer(layer):
    plan = spec.sample(np.random.default_rng(0), 2, 8, 8)
    if layer == "numpy":
        from tenfold.numpy_ref import augmix as m

        def run(x, p=plan):
            return m.apply(p, x)
        mk = np.asarray
        nchw = True
    elif layer == "torch":
        torch = pytest.importorskip("torch")
        from tenfold.torch_backend import augmix as m

        def run(x, p=plan):
            return m.augmix_apply(x, p)

        def mk(a):
            return torch.from_numpy(np.ascontiguousarray(a))
        nchw = True
    else:
        tf = pytest.importorskip("tensorflow")
        from tenfold.tf_backend import augmix as m

        def run(x, p=plan):
            return m.augmix_apply(x, p)

        def mk(a):
            return tf.constant(a)
        nchw = False

    def img(b, c, h, w, dtype=np.uint8):
        a = np.zeros((b, c, h, w), dtype=dtype)
        return mk(a if nchw else a.transpose(0, 2, 3, 1))

    with pytest.raises(ShapeError, match="augmix: expected images with B=2, H=8, W=8 as in the plan; got B=3"):
        run(img(3, 3, 8, 8))
    with pytest.raises(ShapeError, match=r"augmix: expected 1 \(grey\) or 3 \(RGB\) channels; got 4 channels"):
        run(img(2, 4, 8, 8))
    with pytest.raises(DTypeError, match="augmix: expected images of dtype uint8, float16"):
        run(img(2, 3, 8, 8, np.int32))
    with pytest.raises(TenfoldError, match="augmix: expected an AugMixPlan"):
        run(img(2, 3, 8, 8), {"x": 1})
    with pytest.raises(TenfoldError, match="expected an op among"):
        m.apply_op("blur", img(2, 3, 8, 8), [0.0, 0.0])
