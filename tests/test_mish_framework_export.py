"""Models that use tenfold's Mish convert to ONNX with each framework's exporter."""

import warnings

import numpy as np
import pytest

from tenfold.numpy_ref.mish import mish as ref_mish


def test_torch_model_with_mish_exports(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxscript")
    from tenfold.export.runtime import runner
    from tenfold.torch_backend import Mish

    model = torch.nn.Sequential(torch.nn.Linear(4, 4, bias=False), Mish()).eval()
    with torch.no_grad():
        model[0].weight.copy_(torch.eye(4))
    x = torch.linspace(-30, 30, 12).reshape(3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(model, (x,), dynamo=True, opset_version=18, external_data=False, verbose=False)
    assert "Mish" in [n.op_type for n in program.model_proto.graph.node]
    got = runner(program.model_proto)(x.numpy())[0]
    np.testing.assert_allclose(got, ref_mish(x.double().numpy()), rtol=2e-6, atol=1e-30)


def test_keras_model_with_mish_converts_with_tf2onnx():
    tf = pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    tf2onnx = pytest.importorskip("tf2onnx")
    from tenfold.export.runtime import runner
    from tenfold.tf_backend import Mish

    model = keras.Sequential([keras.Input((4,)), Mish()])
    sig = (tf.TensorSpec((None, 4), tf.float32, name="x"),)
    proto, _ = tf2onnx.convert.from_function(tf.function(lambda x: model(x), input_signature=sig),
                                             input_signature=sig, opset=17)
    # Finite inputs only: tf2onnx lowers tf.where to arithmetic (NaN * 0 at -inf). onnxruntime's CPU
    # Sigmoid is a fast approximation (relative error about 1e-5, flushed far tail), hence the looser
    # tolerance than the spec's float32 one. tenfold.export.mish is exact at -inf and to 2e-6.
    x = np.array([[-30.0, -5.0, -1.1924, 0.0], [0.5, 3.0, 30.0, 1e30]], np.float32)
    got = runner(proto)(x)[0]
    np.testing.assert_allclose(got, ref_mish(x.astype(np.float64)), rtol=3e-5, atol=1e-7)
