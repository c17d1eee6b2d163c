"""Property tests of Mish (hypothesis): bounds, monotonicity, and the two ONNX forms agreeing."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tenfold.numpy_ref.mish import mish
from tenfold.spec import mish as spec

finite64 = st.floats(allow_nan=False, allow_infinity=False, width=64)
arrays32 = hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=3, max_side=6),
                      elements=st.floats(-1e4, 1e4, width=32))


@given(finite64)
def test_bounds(x):
    y = float(mish(np.float64(x)))
    assert np.isfinite(y)
    if x >= 0:
        assert 0.0 <= y <= x
    else:
        assert spec.MINIMUM_VALUE - 1e-5 <= y <= 0.0


@given(st.floats(spec.MINIMUM_AT + 1e-3, 1e300), st.floats(spec.MINIMUM_AT + 1e-3, 1e300))
def test_increasing_right_of_minimum(a, b):
    lo, hi = sorted((a, b))
    assert mish(np.float64(lo)) <= mish(np.float64(hi))


@given(st.floats(-1e300, spec.MINIMUM_AT - 1e-3), st.floats(-1e300, spec.MINIMUM_AT - 1e-3))
def test_decreasing_left_of_minimum(a, b):
    lo, hi = sorted((a, b))
    assert mish(np.float64(lo)) >= mish(np.float64(hi))


@given(arrays32)
def test_onnx_native_and_decomposed_agree(x):
    pytest.importorskip("onnxruntime")
    from tenfold.export.mish import mish_onnx_model
    from tenfold.export.runtime import runner

    native = runner(mish_onnx_model(18, "native", rank=x.ndim))(x)[0]
    decomposed = runner(mish_onnx_model(17, "decomposed", rank=x.ndim))(x)[0]
    tol = spec.TOLERANCES.forward["float32"]
    np.testing.assert_allclose(native, decomposed, rtol=2 * tol.rtol, atol=tol.atol)
