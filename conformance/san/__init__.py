"""Conformance cases and suites of SAN: the self-attention operator and the SAN networks.

Cases (:mod:`.cases`): every pairwise relation (subtraction, summation,
Hadamard, concatenation, dot product) and patchwise relation (concatenation,
star, clique) with reflection and zero padding on odd, non-square maps; batch
1 with 5x5 footprints; inputs of scale 30; no position encoding; one case with
every option non-default (``op-custom``); tiny SAN networks (pairwise,
patchwise, and ``net-custom`` with every option off its default); the six
released structures (SAN10/15/19 layer counts, pairwise and patchwise) at test
widths on 64 x 64 images (``net-san10-pair`` ...).

Suites: PyTorch eval through the lean path and through the full path, train mode over
two steps (outputs, running statistics, counters), gradients against central
differences of the float64 reference in eval and train mode, the official
checkpoint layout round trip; TensorFlow eager and ``tf.function`` in eval and
train mode, gradients against finite differences and against PyTorch's; the
networks in eval mode and over two train steps in both backends; ONNX exports
of both backends in onnxruntime at two batch sizes. numpy_ref's own float32
rounding is a ``REFERENCE_SELF_CHECKS`` suite (never part of the matrix).
"""

from __future__ import annotations

import numpy as np

from tenfold.numpy_ref import san as ref

from ..case import Case, Comparison, Suite
from .cases import (
    CASES,
    F32_64,
    GRAD,
    METHOD,
    NETS,
    OPS,
    RELEASED,
    config_of,
    eval_comparisons,
    make_case,
    params,
    x_of,
)
from .tf_suites import _eval as _tf_eval
from .tf_suites import _grad_fd as _tf_grad_fd
from .tf_suites import _grad_vs_torch as _tf_grad_vs_torch
from .tf_suites import _train as _tf_train
from .tf_suites import tf_model
from .torch_suites import _eval as _torch_eval
from .torch_suites import _grad_fd as _torch_grad_fd
from .torch_suites import _load_official, torch_model
from .torch_suites import _train as _torch_train


def _numpy_f32(case: Case, dtype: str) -> list[Comparison]:
    """numpy_ref computing in float32 against itself in float64 on the same rounded data."""
    x = x_of(case, "float32").astype(np.float32)
    p = {k: v.astype(np.float32) if v.dtype.kind == "f" else v for k, v in params(case, "float32").items()}
    y = ref.sam(x, p, config_of(case)) if case.name in OPS else ref.forward(x, p, config_of(case))
    if y.dtype != np.float32:
        raise TypeError(f"numpy_ref SAN returned {y.dtype} for float32 input and params")
    return eval_comparisons(case, "float32", y.astype(np.float64))


def _onnx(backend: str):
    """Export through :mod:`tenfold.export.san` and run in onnxruntime at the case's batch and at batch 3."""
    def run(case: Case, dtype: str) -> list[Comparison]:
        from tenfold.export import san as ex
        from tenfold.export.runtime import runner
        from tenfold.spec.san import NET_TOLERANCES

        x = x_of(case, "float32")
        if backend == "torch":
            proto = ex.onnx_model_torch(torch_model(case, "float32"), x.shape)
        else:
            proto = ex.onnx_model_tf(tf_model(case, "float32"), x.shape)
        run_model = runner(proto, "cpu")
        p, config = params(case, "float32"), config_of(case)
        x3 = np.concatenate([x, x[:1]])  # another batch size than the export's
        tol = NET_TOLERANCES.get("onnx", "float32")
        return [Comparison(f"logits batch {len(xx)}", run_model(xx.astype(np.float32))[0].astype(np.float64),
                           ref.forward(xx, p, config), tol) for xx in (x, x3)]
    return run


TINY = tuple(n for n in NETS if n not in RELEASED)
_TF_GRAPH = ("op-pair-subtraction-reflect", "op-pair-concatenation-zero", "op-patch-concatenation-reflect",
             "op-patch-star-zero", "op-custom")

SUITES: tuple[Suite, ...] = (
    Suite("torch", "eval", F32_64, (*OPS, *TINY), _torch_eval(lean=True)),
    # the released structures run at 64 px, where BatchNorm sees 2x2 and 4x4 maps in stages 3-4: channels of
    # near-zero batch variance amplify float32 rounding by orders of magnitude for some draws, so these
    # structural checks are float64 (float32 numerics are held on the tiny networks and the operators)
    Suite("torch", "eval", ("float64",), RELEASED, _torch_eval(lean=True)),
    Suite("torch", "eval-full", F32_64, (*OPS, "net-pair"), _torch_eval(lean=False)),
    Suite("torch", "train", F32_64, (*OPS, *TINY), _torch_train),
    Suite("torch", "train", ("float64",), RELEASED, _torch_train),
    Suite("torch", "grad-fd", ("float64",), (*GRAD, "net-patch"), _torch_grad_fd(training=False)),
    Suite("torch", "grad-fd-train", ("float64",), (*GRAD, "net-pair"), _torch_grad_fd(training=True)),
    Suite("torch", "load-official", F32_64, ("op-pair-subtraction-reflect", *TINY), _load_official),
    Suite("tf", "eval", F32_64, (*OPS, *TINY), _tf_eval(graph=False)),
    Suite("tf", "eval", ("float64",), ("net-san10-patch", "net-san19-pair"), _tf_eval(graph=False)),
    Suite("tf", "eval-graph", ("float32",), (*_TF_GRAPH, "net-patch"), _tf_eval(graph=True)),
    Suite("tf", "train", ("float64",), (*OPS, "net-pair", "net-custom"), _tf_train(graph=False)),
    Suite("tf", "train", ("float32",), ("op-pair-subtraction-reflect", "op-patch-concatenation-zero", "op-custom",
                                        "net-pair"), _tf_train(graph=False)),
    Suite("tf", "train-graph", ("float64",), ("op-patch-concatenation-zero", "net-patch"), _tf_train(graph=True)),
    Suite("tf", "grad-fd", ("float64",), GRAD, _tf_grad_fd(training=False)),
    Suite("tf", "grad-fd-train", ("float64",), ("op-pair-subtraction-reflect", "op-patch-concatenation-reflect"),
          _tf_grad_fd(training=True)),
    Suite("tf", "grad-vs-torch", F32_64, GRAD, _tf_grad_vs_torch(training=False), requires=("torch",)),
    Suite("tf", "grad-vs-torch-train", ("float32",), (*GRAD, "net-custom"), _tf_grad_vs_torch(training=True),
          requires=("torch",)),
    Suite("onnx", "from-torch", ("float32",), ("net-patch",), _onnx("torch"), requires=("torch",)),
    Suite("onnx", "from-tf", ("float32",), ("net-pair",), _onnx("tf"), requires=("tf",)),
)

#: numpy_ref computing in float32 against its own float64 result (tests/test_reference_properties.py).
REFERENCE_SELF_CHECKS: tuple[Suite, ...] = (
    Suite("numpy", "float32", ("float32",), (*OPS, *TINY), _numpy_f32),
)

__all__ = ["CASES", "METHOD", "REFERENCE_SELF_CHECKS", "SUITES", "make_case"]
