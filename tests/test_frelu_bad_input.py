"""FReLU on bad input, every layer: bad weights (one missing BatchNorm entry is never "folded"),
broken weight files, configs given as preset names, and inputs that are not a batch."""

import gc

import numpy as np
import pytest
from badfiles import PICKLE_HINTS, broken_npz_files

from tenfold.numpy_ref import frelu as ref
from tenfold.spec import frelu as spec
from tenfold.spec.errors import CheckpointError, ConfigError, DTypeError, ShapeError
from tenfold.spec.frelu import nets

torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")

from tenfold.tf_backend import frelu as tff  # noqa: E402
from tenfold.torch_backend import frelu as tbf  # noqa: E402

C = 4
ACT = {k: np.random.default_rng(0).uniform(0.5, 1.5, s) for k, s in spec.param_shapes(C).items()}
NET = nets.ResNetFReLUConfig(block="basic", layers=(1,), widths=(4,), stem="cifar", stem_width=4,
                             frelu_stages=(True,), num_classes=3, dropout=0.0)
NET_PARAMS = ref.init_params(NET, np.random.default_rng(1))
X = np.random.default_rng(2).standard_normal((2, C, 5, 5))


@pytest.fixture(scope="module")
def layers():
    torch_act, tf_act = tbf.FReLU(C).double().eval(), tff.FReLU(C, dtype="float64")
    torch_net, tf_net = tbf.build(NET, torch.float64).eval(), tff.build(NET, "float64")
    return torch_act, tf_act, torch_net, tf_net


# -- weights --------------------------------------------------------------------------------------

@pytest.mark.parametrize("entry", ["bn_frelu.weight", "bn_frelu.running_var", "conv_frelu.bias"])
def test_one_missing_entry_is_reported_never_taken_as_folded(entry, layers):
    params = {k: v for k, v in ACT.items() if k != entry}
    for where, run in (("frelu", lambda: ref.frelu(X, params)), ("funnel_condition", lambda: ref.funnel_condition(
            X, params)), ("load_params", lambda: tbf.load_params(layers[0], params)),
                       ("load_params", lambda: tff.load_params(layers[1], params))):
        with pytest.raises(CheckpointError) as err:
            run()
        assert str(err.value).startswith(f"{where}: expected") and f"1 missing key: {entry}" in str(err.value)


def test_folded_layers_still_work():
    folded = {"conv_frelu.weight": ACT["conv_frelu.weight"], "conv_frelu.bias": ACT["conv_frelu.bias"]}
    y = ref.frelu(X, folded)
    assert y.shape == X.shape


@pytest.mark.parametrize("kind", ["complex", "strings", "mis-shaped"])
def test_bad_arrays_are_named_by_key_in_every_layer(kind, layers):
    bad = {"complex": ACT["bn_frelu.bias"].astype(complex), "strings": np.array(["x"] * C),
           "mis-shaped": np.ones(C + 1)}[kind]
    words = {"complex": "bn_frelu.bias (dtype complex128)", "strings": "bn_frelu.bias (dtype",
             "mis-shaped": "bn_frelu.bias (5,) (expected (4,))"}[kind]
    params = {**ACT, "bn_frelu.bias": bad}
    for run in (lambda: ref.frelu(X, params), lambda: tbf.load_params(layers[0], params),
                lambda: tff.load_params(layers[1], params)):
        with pytest.raises(CheckpointError) as err:
            run()
        assert words in str(err.value)
    net = {**NET_PARAMS, "fc.bias": NET_PARAMS["fc.bias"].astype(complex)}
    for run in (lambda: ref.forward(X[:, :3], net, NET), lambda: tbf.load_params(layers[2], net),
                lambda: tff.load_params(layers[3], net)):
        with pytest.raises(CheckpointError, match=r"fc\.bias \(dtype complex128\)"):
            run()


@pytest.mark.filterwarnings("error::ResourceWarning", "error::pytest.PytestUnraisableExceptionWarning")
def test_broken_weight_files(tmp_path):
    from tenfold.export.frelu import build_model

    files = broken_npz_files(tmp_path, NET_PARAMS)
    for name in ("truncated", "random", "empty", "single", "object", "corrupt", "missing", "folder"):
        with pytest.raises(CheckpointError) as err:
            build_model(NET, "torch", files[name])
        assert files[name].name in str(err.value) and not any(h in str(err.value) for h in PICKLE_HINTS)
    gc.collect()


def test_tf_opset_constant_matches_the_exporter():
    pytest.importorskip("tf2onnx")
    from tenfold.export import frelu as ex
    from tenfold.export import tf_onnx

    assert ex.TF_OPSET == tf_onnx.MAX_OPSET  # kept as a literal so that --help imports no onnx


# -- configs --------------------------------------------------------------------------------------

def test_preset_names_are_configs_in_every_layer():
    cifar = nets.ResNetFReLUConfig.cifar()
    params = ref.init_params("cifar", np.random.default_rng(0))
    x = np.random.default_rng(3).standard_normal((1, 3, 8, 8))
    np.testing.assert_array_equal(ref.forward(x, params, "cifar"), ref.forward(x, params, cifar))
    assert tbf.build("cifar").config == cifar and tff.build("cifar").config == cifar
    assert tbf.FReLUResNet("cifar").config == cifar
    assert nets.param_shapes("shufflenetv2-0.5x") == nets.param_shapes(nets.ShuffleNetV2FReLUConfig.x0_5())
    np.testing.assert_array_equal(ref.frelu(X, ACT, "official"), ref.frelu(X, ACT))
    msg = ("expected a ResNetFReLUConfig, a ShuffleNetV2FReLUConfig or a preset name (resnet50, resnet50-relu, "
           "cifar, shufflenetv2-0.5x); got 'resnet18'")
    for where, make in (("forward", lambda: ref.forward(x, params, "resnet18")), ("build", lambda: tbf.build(
            "resnet18")), ("build", lambda: tff.build("resnet18"))):
        with pytest.raises(ConfigError) as err:
            make()
        assert str(err.value) == f"{where}: {msg}"


# -- inputs that are not a batch ------------------------------------------------------------------

@pytest.mark.parametrize("case", ["None", "strings", "empty", "channels"])
def test_same_error_for_what_is_not_a_batch(case, layers):
    value, err_type, words = {
        "None": (None, DTypeError, "expected an array of numbers; got None"),
        "strings": ([[["a"]]], DTypeError, "expected an array of numbers; got dtype str"),
        "empty": (np.zeros((0, C, 5, 5)), ShapeError, "expected a non-empty batch"),
        "channels": (np.zeros((1, C + 1, 5, 5)), ShapeError, f"expected {C} channels"),
    }[case]
    array = isinstance(value, np.ndarray)
    torch_value, tf_value = (torch.from_numpy(value), value.transpose(0, 2, 3, 1)) if array else (value, value)
    for where, run in (("frelu", lambda: ref.frelu(value, ACT)), ("FReLU", lambda: layers[0](torch_value)),
                       ("FReLU", lambda: layers[1](tf_value))):
        with pytest.raises(err_type) as err:
            run()
        assert str(err.value).startswith(f"{where}: {words}"), str(err.value)


def test_float64_input_runs_in_a_float32_network():
    model = tbf.load_params(tbf.build(NET), NET_PARAMS).eval()
    x = np.random.default_rng(4).standard_normal((2, 3, 8, 8))
    np.testing.assert_allclose(model(torch.from_numpy(x)).detach().numpy(), ref.forward(x, NET_PARAMS, NET),
                               rtol=2e-4, atol=2e-4)
