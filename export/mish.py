"""Mish as an ONNX graph: the native operator (opset >= 18) or its decomposition.

ONNX defines ``Mish`` from opset 18 as a function (Softplus, Tanh, Mul);
below 18 the same three operators are written out. In both forms a final
``Where(IsInf(x, detect_negative), 0, y)`` restores the limit ``mish(-inf) = 0``
of :mod:`tenfold.spec.mish`, which onnxruntime's kernels (``-inf * 0``) miss.
The graph is float32: onnxruntime's CPU provider has no float64 Softplus.
"""

from __future__ import annotations

import os
from pathlib import Path

import onnx
from onnx import TensorProto, helper

from tenfold import __version__
from tenfold.spec import mish as spec
from tenfold.spec.errors import ExportError, expected

from .onnx_io import check, save_atomic, set_metadata

_FORMS = ("auto", "native", "decomposed")


def mish_onnx_model(opset: int = spec.ONNX_NATIVE_MIN_OPSET, form: str = "auto", rank: int = 4) -> onnx.ModelProto:
    """Build a float32 ONNX model ``y = mish(x)`` for inputs of one rank, every dimension dynamic.

    Args:
        opset: ONNX opset of the default domain (13 or higher).
        form: ``"native"`` (the ``Mish`` operator, opset >= 18),
            ``"decomposed"`` (Softplus, Tanh, Mul) or ``"auto"`` (native when
            the opset has it).
        rank: Number of dimensions of ``x`` (each one dynamic).

    Returns:
        A checked ``onnx.ModelProto`` with input ``x`` and output ``y``.

    Raises:
        ExportError: For an unknown form, an opset below 13, or ``"native"``
            below opset 18.
    """
    if form not in _FORMS:
        raise ExportError(expected("mish_onnx_model", "form among " + ", ".join(_FORMS), repr(form)))
    if not (isinstance(rank, int) and rank >= 0):
        raise ExportError(expected("mish_onnx_model", "rank >= 0", repr(rank)))
    if opset < 13:
        raise ExportError(expected("mish_onnx_model", "opset >= 13", opset))
    native = opset >= spec.ONNX_NATIVE_MIN_OPSET if form == "auto" else form == "native"
    if native and opset < spec.ONNX_NATIVE_MIN_OPSET:
        need = f"opset >= {spec.ONNX_NATIVE_MIN_OPSET} for the native Mish"
        raise ExportError(expected("mish_onnx_model", need, opset))
    if native:
        nodes = [helper.make_node("Mish", ["x"], ["raw"])]
    else:
        nodes = [
            helper.make_node("Softplus", ["x"], ["softplus"]),
            helper.make_node("Tanh", ["softplus"], ["tanh"]),
            helper.make_node("Mul", ["x", "tanh"], ["raw"]),
        ]
    nodes += [
        helper.make_node("IsInf", ["x"], ["is_neg_inf"], detect_positive=0),
        helper.make_node("Where", ["is_neg_inf", "zero", "raw"], ["y"]),
    ]
    zero = helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])
    dims = [f"d{i}" for i in range(rank)]
    graph = helper.make_graph(
        nodes,
        "mish",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, dims)],
        initializer=[zero],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="tenfold")
    model.ir_version = min(model.ir_version, 8 if opset <= 18 else 10)
    set_metadata(model, {"tenfold.method": "mish", "tenfold.form": "native" if native else "decomposed",
                         "tenfold.version": __version__})
    check(model, "mish_onnx_model")
    return model


def export_mish(path: str | os.PathLike, opset: int = spec.ONNX_NATIVE_MIN_OPSET, form: str = "auto",
                rank: int = 4) -> Path:
    """Build :func:`mish_onnx_model` and write it atomically to ``path``."""
    return save_atomic(mish_onnx_model(opset, form, rank), path)


__all__ = ["export_mish", "mish_onnx_model"]
