"""Bad input to FReLU, BatchNorm and the networks: the same tenfold error in every backend."""

import numpy as np
import pytest

from tenfold.numpy_ref import frelu as ref
from tenfold.spec import frelu as spec
from tenfold.spec.errors import CheckpointError, ConfigError, DTypeError, ShapeError
from tenfold.spec.frelu import nets as nets

PARAMS = {k: np.ones(s) for k, s in spec.param_shapes(4).items()}


def _numpy_frelu(x):
    return ref.frelu(x, PARAMS)


def _torch_frelu(x):
    torch = pytest.importorskip("torch")
    from tenfold.torch_backend.frelu import FReLU

    return FReLU(4)(torch.as_tensor(x))


def _tf_frelu(x):
    pytest.importorskip("tensorflow")
    import tensorflow as tf

    from tenfold.tf_backend.frelu import FReLU

    x = np.asarray(x)
    if x.ndim == 4:
        x = x.transpose(0, 2, 3, 1)  # the NCHW test input as NHWC
    return FReLU(4)(tf.constant(x))


BACKENDS = {"numpy": _numpy_frelu, "torch": _torch_frelu, "tf": _tf_frelu}


@pytest.mark.parametrize("backend", BACKENDS)
def test_wrong_channel_count(backend):
    with pytest.raises(ShapeError, match=r"expected 4 channels \(axis [13] of N(CHW|HWC)\); got 3"):
        BACKENDS[backend](np.zeros((2, 3, 5, 5), np.float32))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape", [(4, 5, 5), (1, 4, 5, 5, 1), (4,)])
def test_not_4d(backend, shape):
    with pytest.raises(ShapeError, match="expected a 4-D input"):
        BACKENDS[backend](np.zeros(shape, np.float32))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_])
def test_non_float(backend, dtype):
    with pytest.raises(DTypeError, match="expected a floating-point array"):
        BACKENDS[backend](np.zeros((2, 4, 5, 5), dtype))


@pytest.mark.parametrize("k", [0, 2, -3])
def test_bad_kernel_in_every_backend(k):
    torch_frelu = pytest.importorskip("tenfold.torch_backend.frelu")
    tf_frelu = pytest.importorskip("tenfold.tf_backend.frelu")
    for make in (lambda: spec.FReLUConfig(kernel_size=k), lambda: torch_frelu.FReLU(4, k),
                 lambda: tf_frelu.FReLU(4, k)):
        with pytest.raises(ConfigError, match="expected an odd integer kernel size >= 1"):
            make()


def test_batchnorm_train_needs_two_values_per_channel():
    torch = pytest.importorskip("torch")
    from tenfold.torch_backend.frelu import BatchNorm2d

    with pytest.raises(ShapeError, match="more than one value per channel"):
        ref.batch_norm(np.ones((1, 2, 1, 1)), *(np.ones(2),) * 4, training=True)
    with pytest.raises(ShapeError, match="more than one value per channel"):
        BatchNorm2d(2).train()(torch.ones(1, 2, 1, 1))


def test_network_input_and_checkpoint_errors():
    torch = pytest.importorskip("torch")
    from tenfold.torch_backend import frelu as tb

    config = nets.ResNetFReLUConfig(block="basic", layers=(1,), widths=(4,), stem="cifar", stem_width=4,
                                    frelu_stages=(True,), num_classes=3)
    model = tb.build(config)
    with pytest.raises(ShapeError, match="3 channels"):
        model(torch.zeros(1, 4, 8, 8))
    params = ref.init_params(config, np.random.default_rng(0))
    params.pop("fc.bias")
    params["extra"] = np.zeros(1)
    params["conv1.weight"] = np.zeros((4, 3, 5, 5))
    for load in (lambda: tb.load_params(model, params), lambda: ref.forward(np.zeros((1, 3, 8, 8)), params, config)):
        with pytest.raises(CheckpointError,
                           match=r"1 missing key: fc.bias; 1 unexpected key: extra; 1 mis-shaped array: conv1.weight "):
            load()
