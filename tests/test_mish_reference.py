"""numpy_ref Mish against independent oracles: mpmath at 50 digits, the closed-form
derivative of the paper's README, finite differences and the README's minimum."""

import mpmath
import numpy as np
import pytest

from tenfold.conformance.gradcheck import elementwise_derivative
from tenfold.numpy_ref.mish import mish, mish_grad
from tenfold.spec import mish as spec

mpmath.mp.dps = 50
POINTS = [-745.0, -700.0, -100.0, -30.0, -20.0, -5.0, -1.1924, -1e-3, -1e-300, 0.0, 1e-300, 1e-3, 0.5, 3.0, 20.0,
          30.0, 700.0, 1e300]


def _mp_mish(x):
    x = mpmath.mpf(x)
    return x * mpmath.tanh(mpmath.log1p(mpmath.exp(x)))


def _mp_mish_grad(x):
    return mpmath.diff(_mp_mish, mpmath.mpf(x)) if abs(x) < 1e5 else mpmath.mpf(1 if x > 0 else 0)


@pytest.mark.parametrize("x", POINTS)
def test_value_matches_mpmath(x):
    want = float(_mp_mish(x))
    got = float(mish(np.float64(x)))
    assert got == pytest.approx(want, rel=4e-16, abs=1e-320)


@pytest.mark.parametrize("x", [p for p in POINTS if abs(p) < 1e5])
def test_derivative_matches_mpmath(x):
    # abs: near the root at the minimum only an absolute bound is meaningful
    assert float(mish_grad(np.float64(x))) == pytest.approx(float(_mp_mish_grad(x)), rel=1e-14, abs=1e-16)


def test_derivative_matches_readme_closed_form():
    # f'(x) = e^x w / d^2, w = 4(x+1) + 4e^2x + e^3x + e^x(4x+6), d = 2e^x + e^2x + 2 (valid where e^3x is finite)
    x = np.linspace(-30, 30, 2001)
    ex = np.exp(x)
    w = 4 * (x + 1) + 4 * ex**2 + ex**3 + ex * (4 * x + 6)
    d = 2 * ex + ex**2 + 2
    np.testing.assert_allclose(mish_grad(x), ex * w / d**2, rtol=1e-12, atol=1e-300)


def test_derivative_matches_finite_differences():
    x = np.linspace(-20, 20, 801)
    np.testing.assert_allclose(mish_grad(x), elementwise_derivative(mish, x), rtol=1e-8, atol=1e-10)


def test_limits_and_special_values():
    x = np.array([np.inf, -np.inf, np.nan, 1e308, -1e308, 0.0])
    y, g = mish(x), mish_grad(x)
    assert y[0] == np.inf and y[1] == 0.0 and np.isnan(y[2])
    assert y[3] == 1e308 and y[4] == 0.0 and y[5] == 0.0
    assert g[0] == 1.0 and g[1] == 0.0 and np.isnan(g[2]) and g[5] == pytest.approx(0.6)
    assert np.isfinite(mish(np.array([1e308, -1e308, 5e-324]))).all()


def test_minimum_matches_readme():
    lo, hi = -3.0, 0.0  # golden-section search on the reference
    phi = (np.sqrt(5) - 1) / 2
    for _ in range(200):
        a, b = hi - phi * (hi - lo), lo + phi * (hi - lo)
        lo, hi = (lo, b) if mish(np.float64(a)) < mish(np.float64(b)) else (a, hi)
    assert (lo + hi) / 2 == pytest.approx(spec.MINIMUM_AT, abs=1e-4)
    assert float(mish(np.float64((lo + hi) / 2))) == pytest.approx(spec.MINIMUM_VALUE, abs=1e-5)


def test_dtype_preserved_and_float16_rounded_once():
    x = np.linspace(-8, 8, 257)
    for dtype in (np.float16, np.float32, np.float64):
        assert mish(x.astype(dtype)).dtype == dtype
    y16 = mish(x.astype(np.float16))
    want = mish(x.astype(np.float16).astype(np.float64)).astype(np.float16)  # one rounding of the exact value
    np.testing.assert_array_max_ulp(y16, want, maxulp=1)
