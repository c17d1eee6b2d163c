"""RAdam on bad input, every layer: configs given as preset names, optimizer state from another model,
NaN and inf gradients (``RAdamConfig.nonfinite``), parameters of the wrong dtype."""

import re

import numpy as np
import pytest

from tenfold.numpy_ref import radam as ref
from tenfold.spec import radam as spec
from tenfold.spec.errors import CheckpointError, ConfigError, DTypeError, TenfoldError

torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")

from tenfold.tf_backend.radam import RAdam as KerasRAdam  # noqa: E402
from tenfold.torch_backend.radam import RAdam as TorchRAdam  # noqa: E402

PRESETS_MSG = "expected a RAdamConfig or a preset name (official, paper, torch, tfa); got "
GRADS = [np.array([0.5, -1.0, 2.0]), np.array([np.nan, 1.0, 1.0]), np.array([1.0, -np.inf, 0.5]),
         np.array([-0.3, 0.2, 0.1])]  # steps 2 and 3 are not finite


# -- configs ------------------------------------------------------------------------------------

def test_preset_names_are_configs_in_every_layer():
    want = spec.RAdamConfig.torch()
    p = np.zeros(3)
    a = ref.step({"w": p}, {"w": np.ones(3)}, ref.init_state({"w": p}), "torch")[0]["w"]
    b = ref.step({"w": p}, {"w": np.ones(3)}, ref.init_state({"w": p}), want)[0]["w"]
    np.testing.assert_array_equal(a, b)
    assert torch_opt(config="torch").param_groups[0]["early"] == want.early
    assert KerasRAdam(config="torch").config == want


@pytest.mark.parametrize("bad", ["pytorch", 3])
def test_unknown_presets_say_what_is_expected(bad):
    got = repr(bad) if isinstance(bad, str) else type(bad).__name__
    for where, make in (("radam.step", lambda: ref.step({}, {}, ref.init_state({}), bad)),
                        ("RAdam", lambda: torch_opt(config=bad)),
                        ("RAdam", lambda: KerasRAdam(config=bad))):
        with pytest.raises(ConfigError) as err:
            make()
        assert str(err.value) == f"{where}: {PRESETS_MSG}{got}"


def test_nonfinite_option_is_validated():
    with pytest.raises(ConfigError, match=r"RAdamConfig.nonfinite: expected one of propagate, skip, raise"):
        spec.RAdamConfig(nonfinite="ignore")
    with pytest.raises(ConfigError, match="nonfinite"):
        torch_opt(nonfinite="ignore")
    with pytest.raises(ConfigError, match="nonfinite"):
        KerasRAdam(nonfinite="ignore")


# -- state from another model -------------------------------------------------------------------

def torch_opt(shape=(3,), **kwargs):
    return TorchRAdam([torch.zeros(shape, dtype=torch.float64, requires_grad=True)], **kwargs)


def test_numpy_state_of_another_model():
    state = ref.init_state({"w": np.zeros(3)})
    with pytest.raises(CheckpointError, match=r"radam.step: .*mis-shaped exp_avg\['w'\] \(3,\), expected \(4,\)"):
        ref.step({"w": np.zeros(4)}, {"w": np.ones(4)}, state, spec.RAdamConfig())
    with pytest.raises(CheckpointError, match="a RAdamState"):
        ref.step({"w": np.zeros(3)}, {"w": np.ones(3)}, {"w": 0}, spec.RAdamConfig())


def test_torch_state_of_another_model_is_refused_at_load_time():
    trained = torch_opt()
    trained.param_groups[0]["params"][0].grad = torch.ones(3, dtype=torch.float64)
    trained.step()
    other = torch_opt((4,))
    with pytest.raises(CheckpointError, match=r"RAdam.load_state_dict: .*exp_avg \(3,\), expected \(4,\)"):
        other.load_state_dict(trained.state_dict())
    assert not other.state  # nothing was loaded
    two = TorchRAdam([torch.zeros(3, requires_grad=True), torch.zeros(3, requires_grad=True)])
    with pytest.raises(CheckpointError, match=r"param groups of \[2\] parameters"):
        two.load_state_dict(trained.state_dict())
    same = torch_opt()
    same.load_state_dict(trained.state_dict())  # a state of the same model still loads
    assert same.state_dict()["state"][0]["step"] == 1


def test_keras_state_of_another_model_is_refused_at_load_time():
    trained = KerasRAdam()
    trained.apply_gradients([(tf.ones(3), tf.Variable(np.zeros(3, np.float32)))])
    store = {}
    trained.save_own_variables(store)
    other = KerasRAdam()
    other.build([tf.Variable(np.zeros(4, np.float32))])
    with pytest.raises(CheckpointError, match=r"RAdam.load_own_variables: .*momentum \(3,\), expected \(4,\)"):
        other.load_own_variables(store)
    assert not np.any(other.variables[-1].numpy())  # nothing was assigned
    with pytest.raises(CheckpointError, match=r"RAdam\.set_weights: expected"):
        other.set_weights([np.zeros(())])
    same = KerasRAdam()
    same.build([tf.Variable(np.zeros(3, np.float32))])
    same.load_own_variables(store)


# -- NaN and inf gradients ----------------------------------------------------------------------

def _numpy(mode):
    config = spec.RAdamConfig.paper().replace(lr=0.1, nonfinite=mode)
    params, state = {"w": np.zeros(3)}, ref.init_state({"w": np.zeros(3)})
    for g in GRADS:
        params, state = ref.step(params, {"w": g}, state, config)
    return params["w"], state.step["w"]


def _torch(mode):
    opt = torch_opt(config=spec.RAdamConfig.paper().replace(lr=0.1), nonfinite=mode)
    (p,) = opt.param_groups[0]["params"]
    for g in GRADS:
        p.grad = torch.from_numpy(g.copy())
        opt.step()
    return p.detach().numpy(), int(opt.state[p]["step"])


def _keras(mode, graph):
    opt = KerasRAdam(config=spec.RAdamConfig.paper().replace(lr=0.1), nonfinite=mode)
    v = tf.Variable(np.zeros(3))
    apply = tf.function(lambda g: opt.apply_gradients([(g, v)])) if graph else \
        (lambda g: opt.apply_gradients([(g, v)]))
    for g in GRADS:
        apply(tf.constant(g))
    return v.numpy(), int(opt.iterations)


def test_nonfinite_propagate_is_the_default_everywhere():
    assert spec.RAdamConfig().nonfinite == "propagate" and all(
        spec.RAdamConfig.preset(p).nonfinite == "propagate" for p in spec.RAdamConfig.PRESETS)
    want, steps = _numpy("propagate")
    assert steps == 4 and list(np.isfinite(want)) == [False, False, True]  # NaN or inf: the arithmetic decides
    for got, n in (_torch("propagate"), _keras("propagate", False), _keras("propagate", True)):
        np.testing.assert_array_equal(np.isfinite(got), np.isfinite(want))
        assert n == 4


def test_nonfinite_skip_skips_whole_steps_everywhere():
    want, steps = _numpy("skip")
    assert steps == 2 and np.all(np.isfinite(want))
    config = spec.RAdamConfig.paper().replace(lr=0.1)
    params, state = {"w": np.zeros(3)}, ref.init_state({"w": np.zeros(3)})
    for g in (GRADS[0], GRADS[3]):
        params, state = ref.step(params, {"w": g}, state, config)  # the two finite steps alone
    np.testing.assert_allclose(want, params["w"], rtol=1e-15)
    for got, n in (_torch("skip"), _keras("skip", False), _keras("skip", True)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)  # Keras keeps lr in float32
        assert n == 2


def test_nonfinite_raise_names_the_parameter_and_changes_nothing():
    with pytest.raises(TenfoldError, match=r"radam.step: expected finite gradients .*grads\['w'\]"):
        _numpy("raise")
    with pytest.raises(TenfoldError, match=r"RAdam.step: expected finite gradients .*param group 0 parameter 0"):
        _torch("raise")
    opt = torch_opt(nonfinite="raise")
    (p,) = opt.param_groups[0]["params"]
    p.grad = torch.tensor([1.0, np.inf, 0.0], dtype=torch.float64)
    with pytest.raises(TenfoldError):
        opt.step()
    assert not opt.state and not p.detach().any()
    with pytest.raises(TenfoldError, match=r"RAdam.apply_gradients: expected finite gradients"):
        _keras("raise", False)
    with pytest.raises(tf.errors.InvalidArgumentError, match="expected finite gradients"):  # a graph assertion
        _keras("raise", True)


# -- wrong dtypes and shapes ----------------------------------------------------------------------

def test_integer_and_complex_parameters_are_refused():
    floats = re.escape("expected a floating-point array (float16, bfloat16, float32, float64); got dtype ")
    with pytest.raises(DTypeError, match=r"radam.step: params\['w'\]: " + floats + "int64"):
        ref.step({"w": np.zeros(3, np.int64)}, {"w": np.ones(3)}, ref.init_state({"w": np.zeros(3)}),
                 spec.RAdamConfig())
    with pytest.raises(DTypeError, match="RAdam: " + floats + "complex64"):
        TorchRAdam([torch.zeros(3, dtype=torch.complex64, requires_grad=True)])
    with pytest.raises(DTypeError, match="RAdam: " + floats + "int32"):
        KerasRAdam().build([tf.Variable(np.zeros(3, np.int32))])
