"""``export_onnx``: one entry point for PyTorch and TensorFlow/Keras models."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

import onnx

from tenfold.spec.errors import ExportError, expected


def source_backend(model: object) -> str:
    """``"torch"`` for an ``nn.Module``, ``"tf"`` for a Keras model or ``tf.Module``."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        return "torch"
    tf = sys.modules.get("tensorflow")
    if tf is not None and isinstance(model, tf.Module):
        return "tf"
    keras = sys.modules.get("keras")
    if keras is not None and isinstance(model, keras.Model):
        return "tf"
    raise ExportError(expected("export_onnx", "a torch.nn.Module or a Keras model", type(model).__name__))


def export_onnx(model: object, path: str | os.PathLike, example_input, opset: int | None = None,
                metadata: Mapping[str, object] | None = None, **kwargs) -> onnx.ModelProto:
    """Export a PyTorch or Keras model to a single checked ONNX file (see the two exporters).

    ``example_input`` is NCHW for both (the Keras model receives it
    transposed to NHWC; see :func:`tenfold.export.tf_onnx.export_tf`).
    """
    if source_backend(model) == "torch":
        from .torch_onnx import DEFAULT_OPSET, export_torch

        return export_torch(model, path, example_input, opset or DEFAULT_OPSET, metadata, **kwargs)
    from .tf_onnx import DEFAULT_OPSET, export_tf

    return export_tf(model, path, example_input, opset or DEFAULT_OPSET, metadata, **kwargs)


__all__ = ["export_onnx", "source_backend"]
