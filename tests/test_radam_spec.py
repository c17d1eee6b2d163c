"""RAdam spec and NumPy reference: presets, phases, validation, hand-derived steps."""

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenfold.numpy_ref import radam as ref
from tenfold.spec import radam as spec
from tenfold.spec.errors import CheckpointError, ConfigError, DTypeError, ShapeError

C = spec.RAdamConfig


def test_rho_matches_the_values_worked_out_by_hand():
    # official_b.md section 3: rho_t for beta2 = 0.999, t = 1..6
    expected = [1.0, 1.9995, 2.9987, 3.9975, 4.9960, 5.9942]
    got = [spec.rho(t, 0.999)[1] for t in range(1, 7)]
    np.testing.assert_allclose(got, expected, atol=1e-4)
    assert spec.rho(1, 0.999)[0] == pytest.approx(1999.0)


@pytest.mark.parametrize(("preset", "first"), [("official", 6), ("paper", 5), ("torch", 6), ("tfa", 6)])
def test_first_rectified_step_of_each_preset(preset, first):
    assert spec.first_rectified_step(C.preset(preset)) == first


@pytest.mark.parametrize(("preset", "early"), [("official", "skip"), ("paper", "sgd"), ("torch", "sgd"),
                                                ("tfa", "sgd")])
def test_early_phase_of_each_preset(preset, early):
    assert [spec.step_factors(t, 1e-3, C.preset(preset)).phase for t in (1, 2, 3, 4)] == [early] * 4


def test_threshold_inclusive_decides_on_equality():
    # rho_t equals the threshold exactly when the threshold is set to rho_6
    rho6 = spec.rho(6, 0.999)[1]
    assert spec.rectified(6, C(threshold=rho6, threshold_inclusive=True))
    assert not spec.rectified(6, C(threshold=rho6, threshold_inclusive=False))


def test_rectification_tends_to_one():
    assert spec.rectification(10**6, 0.999) == pytest.approx(1.0, abs=1e-9)
    assert 0 < spec.rectification(6, 0.999) < 0.1


def test_presets_differ_where_the_sources_do():
    o, p, t, f = C.official(), C.paper(), C.torch(), C.tfa()
    assert (o.eps_mode, p.eps_mode, t.eps_mode, f.eps_mode) == ("raw", "corrected", "raw", "corrected")
    assert (o.weight_decay_mode, t.weight_decay_mode) == ("decoupled", "coupled")
    assert f.eps == 1e-7 and o.eps == 1e-8
    assert C() == o


def test_every_default_cites_a_source():
    assert all(C.provenance().values())


def test_dict_round_trip_through_json():
    c = C.tfa().replace(weight_decay=0.01)
    assert C.from_dict(json.loads(json.dumps(c.to_dict()))) == c


@pytest.mark.parametrize(("field", "value"), [
    ("lr", -1e-3), ("lr", math.nan), ("lr", math.inf), ("betas", (1.0, 0.999)), ("betas", (-0.1, 0.999)),
    ("betas", (0.9, 1.0)), ("betas", (0.9, 0.0)), ("betas", (0.9,)), ("eps", -1e-8), ("eps", math.inf),
    ("weight_decay", -0.1), ("weight_decay", math.nan), ("weight_decay_mode", "l2"), ("early", "adam"),
    ("eps_mode", "inside"), ("threshold", math.nan), ("threshold_inclusive", "yes"),
])
def test_out_of_range_hyperparameters_raise_config_error(field, value):
    with pytest.raises(ConfigError, match=rf"^RAdamConfig\.{field}.*: expected"):
        C(**{field: value})


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ConfigError, match="official, paper, torch, tfa"):
        C.preset("keras")


def _run(config, p0, grads):
    p, state = {"x": p0}, ref.init_state({"x": p0})
    out = []
    for g in grads:
        p, state = ref.step(p, {"x": g}, state, config)
        out.append(p["x"])
    return out, state


def test_official_skips_the_first_five_steps_even_with_weight_decay():
    rng = np.random.default_rng(0)
    p0, grads = rng.normal(size=5), rng.normal(size=(7, 5))
    out, _ = _run(C(weight_decay=0.1, lr=0.1), p0, grads)
    for t in range(5):
        np.testing.assert_array_equal(out[t], p0)
    assert not np.allclose(out[5], p0)


def test_paper_first_step_is_plain_sgd():
    # m_1 / (1 - beta1) = g, so p_1 = p_0 - lr * g
    p0, g = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    out, _ = _run(C.paper().replace(lr=0.1), p0, [g])
    np.testing.assert_allclose(out[0], p0 - 0.1 * g, rtol=1e-15)


def test_rectified_step_matches_the_written_out_formula():
    # constant gradient g: m_t = (1 - b1^t) g, v_t = (1 - b2^t) g^2, so m_hat = g, v_hat = g^2
    g, lr, t = np.array([0.3, -2.0]), 0.01, 6
    for mode in ("raw", "corrected"):
        c = C(lr=lr, eps_mode=mode, eps=1e-3)
        out, state = _run(c, np.zeros(2), [g] * t)
        b2 = 0.999
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * b2**t / (1 - b2**t)
        r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        bc2, bc1 = 1 - b2**t, 1 - 0.9**t
        if mode == "raw":
            step = lr * r * math.sqrt(bc2) / bc1 * (bc1 * g) / (np.sqrt(bc2) * np.abs(g) + 1e-3)
        else:
            step = lr * r * g / (np.abs(g) + 1e-3)
        np.testing.assert_allclose(out[-1], -step, rtol=1e-12)
        assert state.step["x"] == t


def test_coupled_weight_decay_enters_the_moments():
    p0, g = np.array([2.0]), np.array([0.0])
    _, state = _run(C.torch().replace(weight_decay=0.5), p0, [g])
    np.testing.assert_allclose(state.exp_avg["x"], 0.1 * 0.5 * p0)


def test_factors_reproduce_each_phase():
    for preset in C.PRESETS:
        c = C.preset(preset).replace(weight_decay=0.2)
        for t in range(1, 12):
            f = spec.step_factors(t, 0.05, c)
            if f.phase == "skip":
                assert (f.a, f.b, f.decay) == (0.0, 0.0, 1.0)
            elif f.phase == "sgd":
                assert f.a == 0.0 and f.b == pytest.approx(0.05 / (1 - 0.9**t))
            else:
                assert f.b == 0.0 and f.a > 0


def test_missing_gradient_leaves_parameter_and_step_alone():
    params = {"a": np.ones(2), "b": np.ones(3)}
    state = ref.init_state(params)
    new, state = ref.step(params, {"a": np.ones(2), "b": None}, state, C.paper())
    np.testing.assert_array_equal(new["b"], params["b"])
    assert state.step == {"a": 1, "b": 0}


def test_reference_input_errors():
    params = {"a": np.ones(2)}
    state = ref.init_state(params)
    with pytest.raises(ShapeError, match="shape"):
        ref.step(params, {"a": np.ones(3)}, state, C())
    with pytest.raises(DTypeError, match="floating-point"):
        ref.step(params, {"a": np.ones(2, dtype=np.int64)}, state, C())
    with pytest.raises(CheckpointError, match="unknown parameters"):
        ref.step(params, {"z": np.ones(2)}, state, C())


@given(beta2=st.floats(0.5, 0.99999), t=st.integers(1, 100_000))
def test_rho_increases_towards_rho_inf_and_r_stays_in_unit_interval(beta2, t):
    rho_inf, rho_t = spec.rho(t, beta2)
    _, rho_next = spec.rho(t + 1, beta2)
    assert 1.0 - 1e-9 <= rho_t <= rho_next + 1e-9 and rho_next <= rho_inf + 1e-9
    if rho_t > 4.0 + 1e-9:
        assert 0.0 < spec.rectification(t, beta2) <= 1.0 + 1e-12


@given(lr=st.floats(0.0, 1.0), t=st.integers(1, 50), preset=st.sampled_from(C.PRESETS))
def test_factors_agree_with_the_phase_rule(lr, t, preset):
    c = C.preset(preset).replace(lr=lr)
    f = spec.step_factors(t, lr, c)
    rho_t = spec.rho(t, c.betas[1])[1]
    passes = rho_t >= c.threshold if c.threshold_inclusive else rho_t > c.threshold
    assert (f.phase == "rectified") == passes
    if passes:
        assert f.a == pytest.approx(lr * spec.rectification(t, c.betas[1]) * math.sqrt(f.bc2) / f.bc1)
