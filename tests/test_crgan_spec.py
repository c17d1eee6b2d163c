"""CR-GAN spec: configs and presets, plans, sampling statistics, and the sensitivity of every convention."""

import json

import numpy as np
import pytest

from tenfold.numpy_ref import crgan as ref
from tenfold.spec import crgan as spec
from tenfold.spec.errors import ConfigError, ShapeError, TenfoldError
from tenfold.spec.spectral_norm import SpectralNormConfig


def test_presets_and_provenance():
    assert spec.CRConfig.cr() == spec.CRConfig(lambda_real=10.0, lambda_fake=0.0, lambda_dis=0.0, lambda_gen=0.0)
    icr = spec.CRConfig.icr()
    assert (icr.lambda_real, icr.lambda_fake, icr.lambda_dis, icr.lambda_gen, icr.sigma_noise) == (10, 10, 5, 0.5, 0.03)
    assert spec.CRConfig.studiogan_icr().reduction == "mean" and spec.CRConfig.studiogan_icr().lambda_dis == 20
    for cls in (spec.CRConfig, spec.TransformConfig, spec.GANConfig, spec.TrainConfig, SpectralNormConfig):
        assert all(cls.provenance().values())
        for name in cls.PRESETS:
            cls.preset(name)
    assert SpectralNormConfig.torch_parametrizations().order == "uv"
    assert spec.GANConfig().image_size == 32 and spec.GANConfig.digits().image_size == 8


def test_config_validation():
    with pytest.raises(ConfigError, match=r"CRConfig.lambda_real: expected a finite number >= 0; got -1"):
        spec.CRConfig(lambda_real=-1)
    with pytest.raises(ConfigError, match="sigma_noise"):
        spec.CRConfig(sigma_noise=0.0)
    with pytest.raises(ConfigError, match="pad_mode"):
        spec.TransformConfig(pad_mode="edge")
    with pytest.raises(ConfigError, match=r"TrainConfig\.loss"):
        spec.TrainConfig(loss="wgan")
    with pytest.raises(ConfigError, match="d_channels"):
        spec.GANConfig(bottom=1, g_channels=(4, 2), d_channels=(2, 2, 2))
    with pytest.raises(ConfigError, match="order"):
        SpectralNormConfig(order="xy")


def test_train_config_and_plans_round_trip_through_json():
    config = spec.TrainConfig.digits()
    assert spec.TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    rng = np.random.default_rng(0)
    small = spec.TrainConfig(nets=spec.GANConfig.tiny())
    dp, gp = spec.sample_d_step(rng, 3, small), spec.sample_g_step(rng, 3, small)
    assert spec.DStepPlan.from_dict(json.loads(json.dumps(dp.to_dict()))) == dp
    assert spec.GStepPlan.from_dict(json.loads(json.dumps(gp.to_dict()))) == gp
    with pytest.raises(ConfigError, match="exactly the keys"):
        spec.TransformPlan.from_dict({"height": 1})


def test_plans_hold_exactly_what_the_terms_need():
    rng = np.random.default_rng(1)
    for cr, real, fake, dz, gdz in ((spec.CRConfig.none(), False, False, False, False),
                                    (spec.CRConfig.cr(), True, False, False, False),
                                    (spec.CRConfig.zcr(), False, False, True, True)):
        config = spec.TrainConfig(cr=cr, nets=spec.GANConfig.tiny())
        dp, gp = spec.sample_d_step(rng, 2, config), spec.sample_g_step(rng, 2, config)
        assert (dp.real is not None, dp.fake is not None, dp.dz is not None, gp.dz is not None) == (real, fake, dz,
                                                                                                   gdz)
    icr = spec.TrainConfig(nets=spec.GANConfig.tiny())
    with pytest.raises(ConfigError, match=r"plan\.real"):
        spec.step.check_d_plan("x", spec.sample_d_step(rng, 2, spec.TrainConfig(cr=spec.CRConfig.none(),
                                                                               nets=icr.nets)), icr)


def test_transform_sampling_statistics():
    config = spec.TransformConfig()
    plan = spec.sample(np.random.default_rng(2), 20000, 32, 24, config)
    flips = plan.flips_array()
    assert abs(flips.mean() - 0.5) < 0.015  # 5 sigma of a fair coin over 20000 draws
    s = plan.shifts_array()
    assert set(np.unique(s[:, 0])) == set(range(-4, 5)) and set(np.unique(s[:, 1])) == set(range(-3, 4))
    counts = np.bincount(s[:, 0] + 4) / len(s)
    assert np.abs(counts - 1 / 9).max() < 0.012  # uniform over int(32/8) = 4 each way
    # the documented draw order: flips, then dy, then dx
    rng = np.random.default_rng(3)
    p2 = spec.sample(np.random.default_rng(3), 5, 16, 16, config)
    assert p2.flip == tuple(bool(v) for v in rng.random(5) < 0.5)
    assert tuple(d for d, _ in p2.shift) == tuple(int(v) for v in rng.integers(-2, 3, 5))


def test_latent_noise_scale():
    config = spec.TrainConfig(nets=spec.GANConfig.tiny())
    dz = np.asarray(spec.sample_d_step(np.random.default_rng(4), 4000, config).dz)
    assert abs(dz.std() - 0.03) < 0.001


def test_bad_sizes_and_plans():
    with pytest.raises(ShapeError):
        spec.sample(np.random.default_rng(0), 0, 8, 8)
    tall = spec.sample(np.random.default_rng(0), 50, 1, 8, spec.TransformConfig(max_shift_fraction=0.99))
    assert {dy for dy, _ in tall.shift} == {0} and max(abs(dx) for _, dx in tall.shift) == 7
    with pytest.raises(ConfigError, match="a reflection inside the image"):
        spec.TransformPlan(4, 4, (False,), ((4, 0),))
    with pytest.raises(TenfoldError, match=r"numpy\.random\.Generator"):
        spec.sample(np.random.RandomState(0), 2, 8, 8)


def _step_terms(config, seed=0):
    from tenfold.conformance.crgan import make_case
    from tenfold.conformance.crgan.cases import params

    case = make_case("step-icr", seed)
    g, d = params(case, "g/", "float64"), params(case, "d/", "float64")
    x = case.inputs["x"]
    dp = spec.sample_d_step(np.random.default_rng(seed), 3, config)
    gp = spec.sample_g_step(np.random.default_rng(seed + 1), 3, config)
    rd, rg = ref.d_step(d, g, x, dp, config), ref.g_step(g, d, gp, config)
    return np.array([rd.losses["total"], rg.losses["total"], *rd.d_state["conv1.weight_u"],
                     *rg.g_state["bn1.running_var"], *rd.grads["conv0.weight_orig"].ravel()])


@pytest.mark.parametrize("change", [
    {"loss": "hinge"},
    {"cr": spec.CRConfig(reduction="mean")},
    {"transform": spec.TransformConfig(pad_mode="zero", max_shift_fraction=0.4)},
    {"nets": spec.GANConfig.tiny().replace(sn_order="uv")},
    {"nets": spec.GANConfig.tiny().replace(lrelu_slope=0.2)},
    {"nets": spec.GANConfig.tiny().replace(bn_momentum=0.2)},
    {"nets": spec.GANConfig.tiny().replace(sn_power_iterations=2)},
], ids=["loss", "reduction", "pad_mode", "sn_order", "lrelu_slope", "bn_momentum", "sn_iterations"])
def test_every_convention_moves_the_reference_beyond_tolerance(change):
    """Flipping one documented convention changes a whole step by more than the float32 tolerance."""
    base = spec.TrainConfig(nets=spec.GANConfig.tiny(), transform=spec.TransformConfig(max_shift_fraction=0.4))
    flipped = base.replace(**change)
    a, b = _step_terms(base), _step_terms(flipped)
    tol = spec.TOLERANCES.get("forward", "float32")
    assert np.any(np.abs(a - b) > tol.atol + tol.rtol * np.abs(b))
