"""ONNX export of the FReLU networks from PyTorch and from TensorFlow, BatchNorm folded.

Paper: Ma, Zhang, Sun, ECCV 2020; networks of :mod:`tenfold.spec.frelu_nets`.
Both exporters take the model, fold every BatchNorm into its convolution
(:func:`tenfold.numpy_ref.frelu_nets.fold_batchnorm`), export a float32 graph
with an NCHW input ``x`` of dynamic batch and an output ``logits``, run the
full ONNX checker and stamp tenfold metadata. :func:`verify` runs the file in
onnxruntime against the float64 NumPy reference.

* PyTorch: ``torch.onnx.export(dynamo=True, external_data=False,
  dynamic_shapes=...)`` (the torch.export-based exporter; one file). The
  example batch is 2, since torch.export specialises a size-1 dimension.
* TensorFlow: ``tf2onnx.convert.from_function`` at opset <= 18 (tf2onnx 1.17's
  limit) on a ``tf.function`` that takes NCHW and transposes to the Keras
  model's NHWC.

float32 only: onnxruntime's CPU provider has no float64 ``Conv``.
Run ``python -m tenfold.export.frelu --preset resnet50 --backend torch --out FILE.onnx``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx

from tenfold import __version__
from tenfold.numpy_ref import frelu_nets as ref_nets
from tenfold.spec import frelu as spec
from tenfold.spec import frelu_nets as nets
from tenfold.spec.errors import ExportError, expected

from .onnx_io import check, save_atomic, set_metadata

INPUT_NAME = "x"
OUTPUT_NAME = "logits"
#: Default opsets: the dynamo exporter's lowest native one, and the highest tf2onnx 1.17 supports.
TORCH_OPSET = 18
TF_OPSET = 18
MAX_TF_OPSET = 18


@contextlib.contextmanager
def _quiet():
    """Silence the exporters' progress lines, log warnings and deprecation notices (not errors)."""
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch.export", "tf2onnx")]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _metadata(model: onnx.ModelProto, config: nets.NetConfig, backend: str) -> None:
    set_metadata(model, {"tenfold.method": "frelu", "tenfold.network": type(config).__name__,
                         "tenfold.config": json.dumps(config.to_dict()), "tenfold.backend": backend,
                         "tenfold.layout": "NCHW", "tenfold.batchnorm": "folded", "tenfold.version": __version__})


def _check_shape(where: str, input_shape: tuple[int, ...], config: nets.NetConfig) -> tuple[int, ...]:
    shape = tuple(int(d) for d in input_shape)
    if len(shape) != 4 or shape[1] != config.in_channels or min(shape) < 1:
        raise ExportError(expected(where, f"an NCHW input shape (N, {config.in_channels}, H, W)", shape))
    return shape


def _rename(model: onnx.ModelProto, old: str, new: str) -> None:
    """Rename a graph input or output everywhere it appears."""
    if old == new:
        return
    g = model.graph
    for node in g.node:
        node.input[:] = [new if n == old else n for n in node.input]
        node.output[:] = [new if n == old else n for n in node.output]
    for vi in [*g.input, *g.output, *g.value_info]:
        if vi.name == old:
            vi.name = new


def onnx_model_torch(model, input_shape: tuple[int, ...] = (2, 3, 224, 224), opset: int = TORCH_OPSET,
                     fold: bool = True) -> onnx.ModelProto:
    """Export a tenfold PyTorch FReLU network to a checked float32 ONNX model.

    Args:
        model: ``FReLUResNet`` or ``ShuffleNetV2FReLU`` (any dtype; exported as float32).
        input_shape: NCHW example shape; the batch is dynamic (an example batch of 1 becomes 2).
        opset: ONNX opset (18 or higher for the dynamo exporter).
        fold: Fold BatchNorm into the convolutions first.

    Returns:
        The ``onnx.ModelProto`` (input ``x``, output ``logits``).

    Raises:
        ExportError: On a bad shape or opset, or a model the checker rejects.
    """
    import torch

    from tenfold.torch_backend import frelu_nets as tb

    config = model.config
    shape = _check_shape("onnx_model_torch", input_shape, config)
    if opset < 18:
        raise ExportError(expected("onnx_model_torch", "opset >= 18 (the dynamo exporter's lowest)", opset))
    params = {k: v.astype(np.float64) for k, v in tb.get_params(model).items()}
    if fold and not config.folded:
        params, config = ref_nets.fold_batchnorm(params, config)
    export = tb.load_params(tb.build(config, torch.float32), params).eval()
    x = torch.zeros((max(shape[0], 2), *shape[1:]))
    batch = torch.export.Dim("batch", min=1, max=4096)
    with _quiet():
        program = torch.onnx.export(export, (x,), dynamo=True, external_data=False, opset_version=opset,
                                    input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                                    dynamic_shapes={"x": {0: batch}}, verbose=False)
    proto = program.model_proto
    _metadata(proto, config, "torch")
    check(proto, "onnx_model_torch")
    return proto


def onnx_model_tf(model, input_shape: tuple[int, ...] = (2, 3, 224, 224), opset: int = TF_OPSET,
                  fold: bool = True) -> onnx.ModelProto:
    """Export a tenfold Keras FReLU network (NHWC) to a checked float32 ONNX model taking NCHW.

    Args:
        model: ``FReLUResNet`` or ``ShuffleNetV2FReLU`` of :mod:`tenfold.tf_backend.frelu`.
        input_shape: NCHW shape; the batch is dynamic, H and W fixed.
        opset: ONNX opset, at most 18 (tf2onnx 1.17).
        fold: Fold BatchNorm into the convolutions first.

    Raises:
        ExportError: On a bad shape or opset, or a model the checker rejects.
    """
    import tensorflow as tf
    import tf2onnx

    from tenfold.tf_backend import frelu_nets as tfb

    config = model.net_config
    shape = _check_shape("onnx_model_tf", input_shape, config)
    if not 13 <= opset <= MAX_TF_OPSET:
        raise ExportError(expected("onnx_model_tf", f"opset in [13, {MAX_TF_OPSET}] (tf2onnx 1.17)", opset))
    params = {k: v.astype(np.float64) for k, v in tfb.get_params(model).items()}
    if fold and not config.folded:
        params, config = ref_nets.fold_batchnorm(params, config)
    export = tfb.load_params(tfb.build(config, "float32"), params)
    signature = (tf.TensorSpec((None, *shape[1:]), tf.float32, name=INPUT_NAME),)

    @tf.function(input_signature=signature)
    def forward(x):
        return export(tf.transpose(x, [0, 2, 3, 1]), training=False)  # NCHW -> NHWC

    with _quiet():
        proto, _ = tf2onnx.convert.from_function(forward, input_signature=signature, opset=opset)
    _rename(proto, proto.graph.input[0].name, INPUT_NAME)
    _rename(proto, proto.graph.output[0].name, OUTPUT_NAME)
    _metadata(proto, config, "tf")
    check(proto, "onnx_model_tf")
    return proto


def verify(proto: onnx.ModelProto, params: dict[str, np.ndarray], config: nets.NetConfig, x: np.ndarray,
           provider: str = "cpu") -> float:
    """Run ``proto`` in onnxruntime on NCHW ``x`` and compare with the float64 NumPy reference.

    ``params``/``config`` are the unfolded (or folded) network the model was exported from.

    Returns:
        The maximum absolute error divided by ``max(1, max |logit|)`` (random
        weights without calibrated BatchNorm statistics give large logits).

    Raises:
        ExportError: If any logit is off by more than ``spec.frelu.ONNX_TOLERANCE`` (its
            absolute part scaled by ``max(1, max |logit|)``).
    """
    from .runtime import runner

    got = runner(proto, provider)(x.astype(np.float32))[0].astype(np.float64)
    want = ref_nets.forward(x.astype(np.float32).astype(np.float64), params, config)
    tol = spec.ONNX_TOLERANCE
    if got.shape != want.shape:
        raise ExportError(expected("verify", f"onnxruntime logits of shape {want.shape}", got.shape))
    # float32 rounding grows with the logits' scale (random weights can make it large): the absolute
    # floor scales with max |logit|
    scale = max(1.0, float(np.abs(want).max()))
    err = np.abs(got - want)
    if not np.all(err <= tol.atol * scale + tol.rtol * np.abs(want)):
        raise ExportError(expected("verify", f"onnxruntime logits within atol={tol.atol}, rtol={tol.rtol} of "
                                   f"numpy_ref (atol scaled by {scale:.3g})", f"max abs error {float(err.max())}"))
    return float(err.max()) / scale


def build_model(config: nets.NetConfig, backend: str, weights: str | os.PathLike | None = None, seed: int = 0):
    """A float32 model of ``backend`` with weights from an ``.npz`` of canonical names, or seeded random ones.

    Random weights come from :func:`tenfold.numpy_ref.frelu_nets.init_params`
    (BatchNorm statistics away from the identity, so folding is exercised).
    """
    if weights is not None:
        with np.load(weights, allow_pickle=False) as data:
            params = {k: data[k] for k in data.files}
    else:
        params = ref_nets.init_params(config, np.random.default_rng(seed))
    if backend == "torch":
        import torch

        from tenfold.torch_backend import frelu_nets as tb

        return tb.load_params(tb.build(config, torch.float32), params).eval(), params
    if backend == "tf":
        from tenfold.tf_backend import frelu_nets as tfb

        return tfb.load_params(tfb.build(config, "float32"), params), params
    raise ExportError(expected("build_model", "backend 'torch' or 'tf'", repr(backend)))


def export_torch(model, path: str | os.PathLike, input_shape: tuple[int, ...] = (2, 3, 224, 224),
                 opset: int = TORCH_OPSET) -> Path:
    """:func:`onnx_model_torch`, written atomically to ``path`` (one file)."""
    return save_atomic(onnx_model_torch(model, input_shape, opset), path)


def export_tf(model, path: str | os.PathLike, input_shape: tuple[int, ...] = (2, 3, 224, 224),
              opset: int = TF_OPSET) -> Path:
    """:func:`onnx_model_tf`, written atomically to ``path``."""
    return save_atomic(onnx_model_tf(model, input_shape, opset), path)


__all__ = ["build_model", "export_tf", "export_torch", "onnx_model_tf", "onnx_model_torch", "verify"]


if __name__ == "__main__":
    from .frelu_cli import main

    sys.exit(main())
