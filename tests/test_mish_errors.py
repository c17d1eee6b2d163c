"""Bad input to Mish gets the same DTypeError (a ValueError) in every layer."""

import numpy as np
import pytest

from tenfold.spec.errors import DTypeError, TenfoldError

BAD = {
    "int64": np.arange(4, dtype=np.int64),
    "bool": np.array([True, False]),
    "complex128": np.array([1 + 1j]),
}
MESSAGE = "mish: expected a floating-point array (float16, bfloat16, float32, float64); got dtype {}"


@pytest.mark.parametrize("name", sorted(BAD))
def test_numpy(name):
    from tenfold.numpy_ref.mish import mish

    with pytest.raises(DTypeError) as err:
        mish(BAD[name])
    assert str(err.value) == MESSAGE.format(name)
    assert isinstance(err.value, ValueError) and isinstance(err.value, TenfoldError)


@pytest.mark.parametrize("name", sorted(BAD))
def test_torch(name):
    torch = pytest.importorskip("torch")
    from tenfold.torch_backend.mish import Mish, mish

    t = torch.from_numpy(BAD[name])
    for fn in (mish, Mish()):
        with pytest.raises(DTypeError) as err:
            fn(t)
        assert str(err.value) == MESSAGE.format(name)


@pytest.mark.parametrize("name", sorted(BAD))
def test_tf(name):
    tf = pytest.importorskip("tensorflow")
    from tenfold.tf_backend.mish import Mish, mish

    with pytest.raises(DTypeError) as err:
        mish(tf.constant(BAD[name]))
    assert str(err.value) == MESSAGE.format(name)
    with pytest.raises(DTypeError) as err:  # Keras adds the call's arguments to the message
        Mish()(tf.constant(BAD[name]))
    assert MESSAGE.format(name) in str(err.value)


def test_non_numeric_input():
    """Lists, strings and objects meet NumPy's conversion rules in every layer: one dtype, one message."""
    from tenfold.numpy_ref.mish import mish as np_mish

    with pytest.raises(DTypeError, match="expected an array of numbers; got dtype str"):
        np_mish(["a", "b"])
    with pytest.raises(DTypeError, match="got dtype object"):
        np_mish([object()])
    torch = pytest.importorskip("torch")
    from tenfold.torch_backend.mish import mish as torch_mish

    np.testing.assert_array_equal(torch_mish([1.0, 2.0]).numpy(), np_mish([1.0, 2.0]))  # float64, as NumPy
    assert torch is not None
    tf = pytest.importorskip("tensorflow")
    from tenfold.tf_backend.mish import mish as tf_mish

    with pytest.raises(DTypeError, match="expected an array of numbers; got dtype str"):
        tf_mish(tf.constant(["a"]))
    with pytest.raises(DTypeError, match="expected an array of numbers; got object"):
        tf_mish(object())
