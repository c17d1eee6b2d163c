"""tenfold.export: ONNX exports of tenfold models, their checks and an onnxruntime runner.

Importing it imports onnx and onnxruntime, never PyTorch or TensorFlow (the
exporters of each backend import their framework when called).
"""

from __future__ import annotations

from . import mish
from .api import export_onnx  # noqa: F401  (generic export entry point)
from .runtime import Runner, runner

__all__ = ["Runner", "mish", "runner"]
