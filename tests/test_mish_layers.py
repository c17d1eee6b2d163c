"""Mish in use: PyTorch modules and dtypes, Keras training and mixed precision, ONNX files."""

import numpy as np
import pytest

from tenfold.numpy_ref.mish import mish as ref_mish
from tenfold.numpy_ref.mish import mish_grad as ref_grad


def test_torch_module_matches_native_on_finite_input_and_half_dtypes():
    torch = pytest.importorskip("torch")
    from tenfold.torch_backend import Mish
    from tenfold.torch_backend.mish import mish

    x = torch.linspace(-30, 30, 1001)
    torch.testing.assert_close(Mish()(x), torch.nn.functional.mish(x), rtol=0, atol=0)
    for dtype in (torch.float16, torch.bfloat16):
        y = mish(x.to(dtype))
        assert y.dtype == dtype
        torch.testing.assert_close(y.float(), torch.from_numpy(ref_mish(x.to(dtype).double().numpy())).float(),
                                   rtol=2e-2, atol=1e-3)


def test_torch_gradients_and_double_backward():
    torch = pytest.importorskip("torch")
    from tenfold.torch_backend.mish import mish

    x = torch.linspace(-5, 5, 41, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(mish, (x,))
    (g,) = torch.autograd.grad(mish(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), ref_grad(x.detach().numpy()), rtol=1e-12)
    assert torch.autograd.gradgradcheck(mish, (x,))


def test_torch_inf_input_with_finite_sum_elsewhere():
    torch = pytest.importorskip("torch")
    from tenfold.torch_backend.mish import mish

    x = torch.tensor([-float("inf"), 1.0, 2.0], requires_grad=True)
    y = mish(x)
    y.sum().backward()
    assert y[0].item() == 0.0 and x.grad[0].item() == 0.0


def test_keras_layer_trains_and_serialises():
    keras = pytest.importorskip("keras")
    from tenfold.tf_backend import Mish

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), Mish(), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    history = model.fit(x, x[:, :1], epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    clone = keras.Sequential.from_config(model.get_config())
    assert isinstance(clone.layers[1], Mish)


def test_keras_mixed_precision_and_tf_function():
    keras = pytest.importorskip("keras")
    tf = pytest.importorskip("tensorflow")
    from tenfold.tf_backend import Mish

    layer = Mish(dtype="mixed_float16")
    x = tf.constant(np.linspace(-6, 6, 97), tf.float16)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
    g = tape.gradient(y, x)
    assert y.dtype == tf.float16 and g.dtype == tf.float16
    xs = x.numpy().astype(np.float64)
    np.testing.assert_allclose(y.numpy().astype(np.float64), ref_mish(xs), rtol=2e-3, atol=1e-3)
    np.testing.assert_allclose(g.numpy().astype(np.float64), ref_grad(xs), rtol=4e-3, atol=2e-3)
    graph = tf.function(lambda t: layer(t))
    np.testing.assert_array_equal(graph(x).numpy(), y.numpy())
    assert keras is not None


def test_onnx_file_written_and_bad_arguments(tmp_path):
    pytest.importorskip("onnxruntime")
    from tenfold.export.mish import export_mish, mish_onnx_model
    from tenfold.export.runtime import runner
    from tenfold.spec.errors import ExportError

    path = export_mish(tmp_path / "m" / "mish.onnx", opset=17, rank=2)
    assert path.exists() and not list(path.parent.glob(".*tmp"))
    x = np.linspace(-10, 10, 24, dtype=np.float32).reshape(4, 6)
    np.testing.assert_allclose(runner(path)(x)[0], ref_mish(x.astype(np.float64)), rtol=2e-6)
    for kwargs in ({"opset": 17, "form": "native"}, {"opset": 12}, {"form": "fused"}, {"rank": -1}):
        with pytest.raises(ExportError):
            mish_onnx_model(**kwargs)
    with pytest.raises(ExportError, match="provider"):
        runner(path, provider="tpu")
