"""tenfold.export: ONNX exports of tenfold models, their checks and an onnxruntime runner.

Importing it imports nothing heavy: submodules load on first use (so the
onnxruntime runner and ``tenfold run-onnx`` need onnxruntime but not onnx), and
the exporters of each backend import their framework only when called.

The generic layer every model export reuses (ViT, SAN, FReLU):

* :func:`export_onnx` -- dispatches to ``torch_onnx.export_torch(model, path, example_input, opset=,
  metadata=)`` (torch.export-based, one file, dynamic batch) or ``tf_onnx.export_tf(...)``
  (tf2onnx, opset <= 18, NCHW input transposed for Keras); both write atomically after
  ``onnx.checker`` (full check) and record ``metadata_props``;
* ``check.check_against_reference(model, reference, make_input, tolerance, batch_sizes)`` --
  onnxruntime against a NumPy reference at >= 2 batch sizes, :class:`ExportError` beyond tolerance;
* ``runtime.runner(model, provider="auto", options=None)`` -- CUDA provider (TF32 off) when available,
  else CPU, and which one it used; ``options`` from ``optimize.session_options(threads, level)``;
* ``quantize.quantize_int8(src, dst, probe, mode="dynamic"|"static")`` -- int8 with a size/accuracy report;
* ``optimize`` -- graph optimisation levels, onnxruntime's transformer fusions, the optimised graph
  saved offline (``optimize_offline``);
* ``verify.verify(file, weights, method)`` -- any ONNX classifier (whoever exported it) against
  numpy_ref on given weights and images: signature, per-output errors, top-1 (``tenfold verify``).

A method's module (``export/vit.py``) builds on these and, as a CliPlugin (``NAMES``, ``add_arguments``,
``run``), appears as ``tenfold export <name>``.
"""

from __future__ import annotations

import importlib

_LAZY = {"Runner": "runtime", "runner": "runtime", "export_onnx": "api"}
_MODULES = ("mish", "vit", "san", "api", "check", "quantize", "runtime", "onnx_io", "torch_onnx", "tf_onnx", "verify",
            "optimize")


def __getattr__(name: str):
    """Import on first use, so that ``tenfold run-onnx`` needs onnxruntime but not onnx."""
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Runner", "export_onnx", "mish", "runner"]
