"""TensorFlow side of the SAN conformance suite (NHWC; see :mod:`tenfold.conformance.san`)."""

from __future__ import annotations

import numpy as np

from ..case import Case, Comparison
from .cases import STEPS, config_of, eval_comparisons, fd_comparisons, params, tolerances, train_comparisons, x_of


def nhwc(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1))


def nchw(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2))


def tf_model(case: Case, dtype: str):
    from tenfold.tf_backend import san as tfb

    return tfb.load_params(tfb.build(config_of(case), dtype), params(case, dtype))


def _out(y, case: Case) -> np.ndarray:
    y = np.asarray(y.numpy(), np.float64)
    return nchw(y) if y.ndim == 4 else y


def _eval(graph: bool):
    def run(case: Case, dtype: str) -> list[Comparison]:
        import tensorflow as tf

        model = tf_model(case, dtype)
        fn = tf.function(lambda t: model(t, training=False)) if graph else (lambda t: model(t, training=False))
        return eval_comparisons(case, dtype, _out(fn(tf.constant(nhwc(x_of(case, dtype)))), case))
    return run


def _train(graph: bool):
    def run(case: Case, dtype: str) -> list[Comparison]:
        import tensorflow as tf

        from tenfold.tf_backend import san as tfb

        model = tf_model(case, dtype)
        fn = tf.function(lambda t: model(t, training=True)) if graph else (lambda t: model(t, training=True))
        outs = [_out(fn(tf.constant(nhwc(x_of(case, dtype, f"x{i}")))), case) for i in range(STEPS)]
        state = {k: v.astype(np.float64) for k, v in tfb.get_params(model).items()}
        return train_comparisons(case, dtype, outs, state)
    return run


def tf_grads(case: Case, dtype: str, training: bool) -> dict[str, np.ndarray]:
    """Gradients of ``sum(w * y)`` with respect to ``x`` (NCHW) and every trainable parameter (canonical layout)."""
    import tensorflow as tf

    from tenfold.tf_backend.san.nets import _to_canonical

    model = tf_model(case, dtype)
    x = tf.constant(nhwc(x_of(case, dtype)))
    w = case.inputs["w"]
    w = tf.constant(nhwc(w) if w.ndim == 4 else w, dtype=dtype)
    entries = {k: v for k, v in model.canonical().items() if v[0].trainable}
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(model(x, training=training) * w)
    gx, *gp = tape.gradient(loss, [x, *(v for v, _ in entries.values())])
    out = {"x": nchw(gx.numpy().astype(np.float64))}
    out.update({k: _to_canonical(np.asarray(g, np.float64), tag) for (k, (_, tag)), g in
                zip(entries.items(), gp, strict=True)})
    return out


def _grad_fd(training: bool):
    def run(case: Case, dtype: str) -> list[Comparison]:
        return fd_comparisons(case, tf_grads(case, "float64", training), training)
    return run


def _grad_vs_torch(training: bool):
    """TF's gradients against PyTorch's, element by element, in the same dtype."""
    def run(case: Case, dtype: str) -> list[Comparison]:
        from .torch_suites import torch_grads

        mine, theirs = tf_grads(case, dtype, training), torch_grads(case, dtype, training)
        if set(mine) != set(theirs):
            raise AssertionError(f"gradient names differ: {sorted(set(mine) ^ set(theirs))[:5]}")
        tol = tolerances(case).get("gradient", dtype)
        return [Comparison(f"d{k}", mine[k], theirs[k], tol) for k in sorted(mine)]
    return run


__all__ = ["nchw", "nhwc", "tf_grads", "tf_model"]
