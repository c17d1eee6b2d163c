"""Mish on bad input: one error class and message in NumPy, PyTorch and TensorFlow (eager and graph).

Classes of issue 17 that apply to a function with no weights or config: values
that are not arrays (None, ragged lists, strings, objects), array-likes (the
same dtype in every layer), empty batches, and the exported file's mode.
"""

import os

import numpy as np
import pytest

from tenfold.numpy_ref import mish as ref
from tenfold.spec.errors import DTypeError, TenfoldError

torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")

from tenfold.tf_backend import mish as tfm  # noqa: E402
from tenfold.torch_backend import mish as tm  # noqa: E402

ARRAY = "mish: expected an array of numbers; got "
FLOATS = "mish: expected a floating-point array (float16, bfloat16, float32, float64); got "
BAD = {  # input -> the message every layer gives
    "None": (None, ARRAY + "None"),
    "ragged": ([[1.0], [1.0, 2.0]], ARRAY + "a ragged or mixed list"),
    "strings": (["a", "b"], ARRAY + "dtype str"),
    "string": ("1.0", ARRAY + "dtype str"),
    "object": (object(), ARRAY + "object"),
    "objects": ([object(), object()], ARRAY + "dtype object"),
    "ints": ([1, 2], FLOATS + "dtype int64"),
    "bools": ([True], FLOATS + "dtype bool"),
    "complex": ([1j], FLOATS + "dtype complex128"),
}


def _layers():
    graph = tf.function(lambda x: tfm.mish(x))
    return {"numpy": ref.mish, "torch": tm.mish, "torch module": tm.Mish(), "tf": tfm.mish,
            "keras layer": tfm.Mish(), "tf graph": graph}


@pytest.mark.parametrize("case", sorted(BAD))
def test_same_error_in_every_layer(case):
    value, message = BAD[case]
    for name, fn in _layers().items():
        if name == "tf graph" and case in ("None", "object", "objects", "ragged"):
            continue  # tf.function itself refuses to trace arguments that are not tensors
        with pytest.raises(DTypeError) as err:
            fn(value)
        assert str(err.value) == message, name
        assert isinstance(err.value, TenfoldError) and isinstance(err.value, ValueError)


def test_array_likes_get_numpy_dtypes_everywhere():
    """A list of Python floats is float64 in every layer (NumPy's rule), so the results agree exactly.

    The Keras layer then casts to its dtype policy (float32 by default), as Keras layers do.
    """
    values = [-3.0, 0.0, 2.5]
    want = ref.mish(values)
    assert want.dtype == np.float64
    for name, fn in _layers().items():
        got = fn(values) if name != "tf graph" else fn(np.asarray(values))
        got = got.detach().numpy() if hasattr(got, "detach") else np.asarray(got)
        assert got.dtype == (np.float32 if name == "keras layer" else np.float64), name
        np.testing.assert_allclose(got, want, rtol=1e-15 if got.dtype == np.float64 else 1e-6, err_msg=name)


def test_empty_batches_are_fine_everywhere():
    """Mish is element-wise: an empty array is an empty result in every layer, not an error."""
    for name, fn in _layers().items():
        x = np.zeros((0, 3), np.float32)
        got = fn(torch.from_numpy(x)) if name.startswith("torch") else fn(x)
        assert tuple(got.shape) == (0, 3), name


def test_graph_errors_are_not_rewritten():
    """Inside tf.function the error keeps its class and message (autograph does not wrap it)."""
    with pytest.raises(DTypeError) as err:
        tf.function(lambda x: tfm.Mish()(x))(tf.constant([1, 2]))
    assert str(err.value) == FLOATS + "dtype int32"


def test_exported_file_gets_the_umask_mode(tmp_path):
    pytest.importorskip("onnx")
    from badfiles import umask_mode

    from tenfold.export.mish import export_mish

    old = os.umask(0o022)
    try:
        path = export_mish(tmp_path / "mish.onnx")
    finally:
        os.umask(old)
    assert (path.stat().st_mode & 0o777) == 0o644
    assert umask_mode() == 0o666 & ~old
