"""Conformance cases and suites of Mish (see :mod:`tenfold.spec.mish`).

Cases: a dense grid over [-20, 20] with the minimum, the extremes (+-inf,
NaN, +-1e308, the float32 and float16 limits, subnormals, signed zeros), wide
random values, odd-sized random values and batch 1. Every backend runs in
each dtype it supports against ``numpy_ref`` in float64; gradients are
checked against the analytic derivative everywhere, against central finite
differences of the reference on the smooth cases, and between PyTorch and
TensorFlow; ONNX runs the native (opset 18) and decomposed (opset 17) graphs.
"""

from __future__ import annotations

import numpy as np

from tenfold.numpy_ref import mish as ref
from tenfold.spec import mish as spec

from .case import Case, Comparison, Suite
from .dtypes import round_to, storage_dtype
from .gradcheck import elementwise_derivative

METHOD = "mish"
CASES = ("grid", "extremes", "wide", "random", "batch1")
SMOOTH = ("grid", "random", "batch1")  # where finite differences are meaningful
ALL = ("float16", "bfloat16", "float32", "float64")

_EXTREMES = [np.inf, -np.inf, np.nan, 1e308, -1e308, 3.4028234e38, -3.4028234e38, 65504.0, -65504.0, 1e4, -1e4,
             100.0, -100.0, 88.7, -88.7, 20.0, -20.0, 1e-30, -1e-30, 1e-300, -1e-300, 5e-324, -5e-324, 1.0e-45,
             0.0, -0.0, spec.MINIMUM_AT, -1.19243, 1.0, -1.0]


def make_case(name: str, seed: int) -> Case:
    """Build the case ``name`` from ``seed`` (float64 inputs ``x`` and cotangent ``w``)."""
    rng = np.random.default_rng([seed, CASES.index(name)])
    if name == "grid":
        x = np.concatenate([np.linspace(-20.0, 20.0, 4001), [spec.MINIMUM_AT]])
    elif name == "extremes":
        x = np.array(_EXTREMES)
    elif name == "wide":
        x = rng.uniform(-1000.0, 1000.0, size=(2, 4, 9, 11))
    elif name == "random":
        x = rng.normal(0.0, 4.0, size=(3, 5, 7, 2))
    elif name == "batch1":
        x = rng.normal(0.0, 2.0, size=(1, 1, 1, 1))
    else:
        raise KeyError(name)
    w = rng.normal(size=x.shape)
    return Case(METHOD, name, seed, {"x": x, "w": w})


def _inputs(case: Case, dtype: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Inputs rounded to ``dtype``: float64 copies for the reference, storage arrays for backends."""
    x64 = round_to(case.inputs["x"], dtype)
    w64 = round_to(case.inputs["w"], dtype)
    store = storage_dtype(dtype)
    return x64, w64, x64.astype(store), w64.astype(store)


def _forward(run_backend):
    def run(case: Case, dtype: str) -> list[Comparison]:
        x64, _, xs, _ = _inputs(case, dtype)
        return [Comparison("y", run_backend(xs, dtype), ref.mish(x64), spec.TOLERANCES.forward[dtype])]
    return run


def _grad(run_grad):
    def run(case: Case, dtype: str) -> list[Comparison]:
        x64, w64, xs, ws = _inputs(case, dtype)
        return [Comparison("dx", run_grad(xs, ws, dtype), w64 * ref.mish_grad(x64), spec.TOLERANCES.gradient[dtype])]
    return run


def _grad_fd(run_grad):
    def run(case: Case, dtype: str) -> list[Comparison]:
        x64, w64, xs, ws = _inputs(case, dtype)
        fd = w64 * elementwise_derivative(ref.mish, x64)
        return [Comparison("dx-fd", run_grad(xs, ws, dtype), fd, spec.TOLERANCES.finite_difference)]
    return run


# -- backends -------------------------------------------------------------

def _numpy(x: np.ndarray, dtype: str) -> np.ndarray:
    return ref.mish(x)


def _torch_forward(x: np.ndarray, dtype: str) -> np.ndarray:
    import torch

    from tenfold.torch_backend import mish as tb

    t = torch.from_numpy(x).to(getattr(torch, dtype))
    return tb.mish(t).double().numpy()


def _torch_grad(x: np.ndarray, w: np.ndarray, dtype: str) -> np.ndarray:
    import torch

    from tenfold.torch_backend import mish as tb

    t = torch.from_numpy(x).to(getattr(torch, dtype)).requires_grad_(True)
    (g,) = torch.autograd.grad(tb.mish(t), t, grad_outputs=torch.from_numpy(w).to(t.dtype))
    return g.double().numpy()


def _tf_forward(graph: bool):
    def run(x: np.ndarray, dtype: str) -> np.ndarray:
        import tensorflow as tf

        from tenfold.tf_backend import mish as tfb

        fn = _tf_graph(tfb.mish) if graph else tfb.mish
        return tf.cast(fn(tf.cast(tf.constant(x), dtype)), tf.float64).numpy()
    return run


def _tf_vjp(t, w):
    import tensorflow as tf

    from tenfold.tf_backend import mish as tfb

    with tf.GradientTape() as tape:
        tape.watch(t)
        y = tfb.mish(t)
    return tape.gradient(y, t, output_gradients=w)


def _tf_grad_mode(graph: bool):
    def run(x: np.ndarray, w: np.ndarray, dtype: str) -> np.ndarray:
        import tensorflow as tf

        fn = _tf_graph(_tf_vjp) if graph else _tf_vjp
        g = fn(tf.cast(tf.constant(x), dtype), tf.cast(tf.constant(w), dtype))
        return tf.cast(g, tf.float64).numpy()
    return run


_tf_grad = _tf_grad_mode(graph=False)


_GRAPHS: dict = {}


def _tf_graph(fn):
    import tensorflow as tf

    return _GRAPHS.setdefault(fn, tf.function(fn))


def _grad_cross(case: Case, dtype: str) -> list[Comparison]:
    _, _, xs, ws = _inputs(case, dtype)
    return [Comparison("dx torch vs tf", _tf_grad(xs, ws, dtype), _torch_grad(xs, ws, dtype),
                       spec.TOLERANCES.gradient[dtype])]


def _onnx(opset: int, form: str):
    def run(x: np.ndarray, dtype: str) -> np.ndarray:
        from tenfold.export import mish as ex
        from tenfold.export.runtime import runner

        return runner(ex.mish_onnx_model(opset, form, rank=x.ndim))(x)[0].astype(np.float64)
    return run


SUITES: tuple[Suite, ...] = (
    Suite("torch", "eager", ALL, CASES, _forward(_torch_forward)),
    Suite("torch", "grad", ALL, CASES, _grad(_torch_grad)),
    Suite("torch", "grad-fd", ("float64",), SMOOTH, _grad_fd(_torch_grad)),
    Suite("tf", "eager", ALL, CASES, _forward(_tf_forward(graph=False))),
    Suite("tf", "graph", ALL, CASES, _forward(_tf_forward(graph=True))),
    Suite("tf", "grad", ALL, CASES, _grad(_tf_grad)),
    Suite("tf", "grad-graph", ALL, CASES, _grad(_tf_grad_mode(graph=True))),
    Suite("tf", "grad-fd", ("float64",), SMOOTH, _grad_fd(_tf_grad)),
    Suite("tf", "grad-vs-torch", ("float32", "float64"), CASES, _grad_cross, requires=("torch",)),
    Suite("onnx", "opset18-native", ("float32",), CASES, _forward(_onnx(18, "native"))),
    Suite("onnx", "opset17-decomposed", ("float32",), CASES, _forward(_onnx(17, "decomposed"))),
)

#: numpy_ref against itself (its own rounding in other dtypes, or another formulation such as folded
#: BatchNorm): properties of the reference, run by tests/test_reference_properties.py, never a conformance row.
REFERENCE_SELF_CHECKS: tuple[Suite, ...] = (
    Suite("numpy", "eager", ("float16", "float32", "float64"), CASES, _forward(_numpy)),
)
