"""TensorFlow / Keras -> ONNX with tf2onnx: one file, dynamic batch, checked, atomic.

Reused by every tenfold model export (ViT, SAN, FReLU). Facts measured on this
stack (shared research, tooling.md section 2): tf2onnx 1.17 supports opsets up
to 18; exact GELU must be written with ``tf.math.erf`` (``tf.nn.gelu`` lowers
to ``Erfc``, which has no ONNX operator); ``tf.image.extract_patches`` does not
convert with a dynamic batch.

ONNX models of tenfold take NCHW inputs (the project convention); with
``nchw_input=True`` the exported function transposes NCHW to the NHWC the
Keras model expects, so the ONNX graph's input is NCHW.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Mapping
from pathlib import Path

import onnx

from tenfold.spec.checkpoints import check_writable
from tenfold.spec.errors import ExportError, expected

from .onnx_io import check, check_opset, check_opset_request, save_atomic, set_metadata

DEFAULT_OPSET = 18
MAX_OPSET = 18
#: tf2onnx 1.17's lowest supported opset.
MIN_OPSET = 13


def export_tf(model, path: str | os.PathLike | None, example_input, opset: int = DEFAULT_OPSET,
              metadata: Mapping[str, object] | None = None, input_name: str = "input", output_name: str = "output",
              nchw_input: bool = True, nchw_output: bool = False, dynamic_batch: bool = True,
              verbose: bool = False) -> onnx.ModelProto:
    """Export a Keras model (or any callable on one tensor) to a single checked ONNX file.

    Args:
        model: A Keras model or a callable ``model(x) -> tensor`` (called with
            ``training=False`` when it accepts it).
        path: Destination ``.onnx`` file, written atomically (``None``: return the model only).
        example_input: An array of the ONNX input's shape and dtype (NCHW when
            ``nchw_input``); only its shape (batch aside) and dtype are used.
        opset: ONNX opset (at most 18: tf2onnx 1.17's limit).
        metadata: ``metadata_props`` to record.
        input_name, output_name: Graph input and output names.
        nchw_input: The ONNX input is NCHW and is transposed to NHWC for the model.
        nchw_output: The model's 4-D NHWC output is transposed back to NCHW
            (for image-to-image or feature-map models; logits need nothing).
        dynamic_batch: Leave dimension 0 symbolic.
        verbose: Keep tf2onnx's log output.

    Returns:
        The exported, checked ``ModelProto`` (also written to ``path`` unless it is ``None``).

    Raises:
        ExportError: For an unwritable ``path`` (checked first), an opset outside [13, 18],
            a conversion failure or a model the checker rejects.
    """
    import numpy as np
    import tensorflow as tf
    import tf2onnx

    check_opset_request(opset, "export_tf", lowest=MIN_OPSET, highest=MAX_OPSET)  # tf2onnx's range
    if path is not None:
        check_writable(path, "export_tf")
    shape = list(np.shape(example_input))
    if dynamic_batch:
        shape[0] = None
    dtype = tf.as_dtype(np.asarray(example_input).dtype)

    def call(x):
        if nchw_input:
            x = tf.transpose(x, (0, 2, 3, 1))  # NCHW -> NHWC
        try:
            y = model(x, training=False)
        except TypeError:
            y = model(x)
        if nchw_output:
            y = tf.transpose(y, (0, 3, 1, 2))  # NHWC -> NCHW
        return tf.identity(y, name=output_name)

    fn = tf.function(call, input_signature=[tf.TensorSpec(shape, dtype, name=input_name)])
    tf_logger = logging.getLogger("tf2onnx")
    old_level = tf_logger.level
    sink = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    try:
        if not verbose:
            tf_logger.setLevel(logging.ERROR)
        with sink:
            proto, _ = tf2onnx.convert.from_function(fn, input_signature=fn.input_signature, opset=opset)
    except Exception as err:
        raise ExportError(expected("export_tf", "a model tf2onnx can convert",
                                   f"{type(err).__name__}: {str(err)[:2000]}")) from err
    finally:
        tf_logger.setLevel(old_level)
    check_opset(proto, opset, "export_tf")
    _rename_output(proto, output_name)
    if dynamic_batch:
        _name_batch_dim(proto)
    set_metadata(proto, {"tenfold.source_backend": "tf",
                         "tenfold.exporter": f"tf2onnx {tf2onnx.__version__}, tensorflow {tf.__version__}",
                         **{k: str(v) for k, v in (metadata or {}).items()}})
    check(proto, "export_tf")
    if path is not None:
        save_atomic(proto, Path(path))
    return proto


def _rename_output(proto: onnx.ModelProto, name: str) -> None:
    """Give the single graph output a stable name (tf2onnx appends ``:0``)."""
    if len(proto.graph.output) != 1 or proto.graph.output[0].name == name:
        return
    old = proto.graph.output[0].name
    for node in proto.graph.node:
        for i, out in enumerate(node.output):
            if out == old:
                node.output[i] = name
        for i, inp in enumerate(node.input):
            if inp == old:
                node.input[i] = name
    proto.graph.output[0].name = name


def _name_batch_dim(proto: onnx.ModelProto, name: str = "batch") -> None:
    """Call the input's symbolic batch dimension ``batch`` (tf2onnx names it ``unk__N``), everywhere it appears."""
    dim = proto.graph.input[0].type.tensor_type.shape.dim
    if not dim or not dim[0].dim_param:
        return
    old = dim[0].dim_param
    for info in (*proto.graph.input, *proto.graph.output, *proto.graph.value_info):
        for d in info.type.tensor_type.shape.dim:
            if d.dim_param == old:
                d.dim_param = name


__all__ = ["DEFAULT_OPSET", "MAX_OPSET", "MIN_OPSET", "export_tf"]
