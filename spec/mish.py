r"""Mish: a self-regularized non-monotonic activation.

Paper: D. Misra, "Mish: A Self Regularized Non-Monotonic Activation Function",
BMVC 2020 (arXiv:1908.08681), Section 3. Official code:
https://github.com/digantamisra98/Mish (``Mish/Torch/functional.py``).

Math (element-wise, no hyperparameters)::

    softplus(x) = ln(1 + e^x)                       (computed as logaddexp(0, x))
    f(x)        = x * tanh(softplus(x))
    f'(x)       = tanh(sp) + x * sigmoid(x) * sech^2(sp),   sp = softplus(x)

Limits and special values, which every layer reproduces:

* ``f(+inf) = +inf`` and ``f(-inf) = 0`` (``x * e^x -> 0``); a naive
  ``x * tanh(softplus(x))`` gives ``-inf * 0 = NaN`` there.
* ``f'(+inf) = 1`` and ``f'(-inf) = 0``.
* NaN propagates to NaN in both the value and the derivative.
* ``f`` is finite for every finite input, including ``+-1e308`` in float64.
* The global minimum is about ``-0.30884`` at ``x`` about ``-1.1924`` (README of
  the official code); ``f`` is increasing right of the minimum and decreasing
  left of it, and ``x * f(x) >= 0`` with ``f(x) <= x`` for ``x >= 0``.

Differences between implementations (see shared research, official_b.md):
PyTorch's ``F.mish`` uses ``x*tanh(log1p(exp(x)))`` with no threshold and gives
NaN at ``-inf``; the official TF-Keras and ``keras.activations.mish`` use
``x*tanh(softplus(x))`` with TF's softplus thresholds and also give NaN at
``-inf``. ONNX has ``Mish`` as an operator since opset 18 (a function:
Softplus, Tanh, Mul); below 18 exporters decompose it into the same three ops.
"""

from __future__ import annotations

from .contracts import Tolerances
from .dtypes import FLOAT_DTYPES, check_float_dtype
from .tolerance import Tolerance

PAPER = "Misra, Mish: A Self Regularized Non-Monotonic Activation Function, BMVC 2020"
OFFICIAL_CODE = "https://github.com/digantamisra98/Mish"

#: Minimum value and its location, from the official README ("minimum of
#: approximately -0.30884 at x approximately -1.1924").
MINIMUM_VALUE = -0.30884
MINIMUM_AT = -1.1924

#: Mish is an ONNX operator from this opset on; below it, export decomposes it.
ONNX_NATIVE_MIN_OPSET = 18

#: The dtypes each layer accepts.
DTYPES: tuple[str, ...] = FLOAT_DTYPES

#: Forward tolerances per dtype. float32 follows the cross-implementation
#: agreement measured over [-40, 40] (<= 1.1e-6 relative); float16 and
#: bfloat16 are a few units of their machine epsilon (2^-10 and 2^-7), since
#: every layer computes them in float32 and rounds once. The absolute floors
#: are far below anything a network can see; they allow for kernels that
#: flush subnormal intermediates to zero (TF's softplus below log(eps) + 2
#: returns exp(x), a subnormal around x = -88 in float32).
_FORWARD: dict[str, Tolerance] = {
    "float64": Tolerance(atol=1e-300, rtol=1e-13),
    "float32": Tolerance(atol=1e-30, rtol=2e-6),
    "float16": Tolerance(atol=6e-8, rtol=2e-3),
    "bfloat16": Tolerance(atol=1e-30, rtol=1.6e-2),
}

#: Gradient tolerances (for ``w * f'(x)`` with a cotangent ``w`` of unit
#: scale). Near its root at the minimum (x = -1.1924) the derivative is a
#: difference of O(1) terms, so its error is a few machine epsilons in
#: absolute terms there, hence an absolute floor of that size per dtype.
_GRADIENT: dict[str, Tolerance] = {
    "float64": Tolerance(atol=1e-15, rtol=1e-12),
    "float32": Tolerance(atol=1e-6, rtol=4e-6),
    "float16": Tolerance(atol=1e-3, rtol=4e-3),
    "bfloat16": Tolerance(atol=8e-3, rtol=3.2e-2),
}

#: Central finite differences of the float64 reference: truncation error is
#: O(h^2 f''') and rounding O(eps/h), about 1e-10 at the chosen step.
_FINITE_DIFFERENCE = Tolerance(atol=1e-9, rtol=1e-8)

#: Every tolerance conformance applies to this method (:class:`tenfold.spec.contracts.Tolerances`).
TOLERANCES = Tolerances(forward=_FORWARD, gradient=_GRADIENT, finite_difference=_FINITE_DIFFERENCE)

#: The public names each layer must export for this method (checked by conformance).
EXPORTS: dict[str, tuple[str, ...]] = {
    "numpy_ref": ("mish", "mish_grad"),
    "torch_backend": ("mish", "Mish"),
    "tf_backend": ("mish", "Mish"),
    "export": ("mish_onnx_model",),
}


def check_dtype(dtype_name: str, where: str = "mish") -> str:
    """Validate an input dtype name for Mish (any floating dtype of :data:`DTYPES`)."""
    return check_float_dtype(where, dtype_name, DTYPES)
