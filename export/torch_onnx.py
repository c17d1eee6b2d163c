"""PyTorch -> ONNX with the torch.export-based exporter: one file, dynamic batch, checked, atomic.

Reused by every tenfold model export (ViT, SAN, FReLU). Facts measured on this
stack (shared research, tooling.md section 1): ``dynamo=True`` is the default
exporter of torch >= 2.9; ``external_data=False`` gives a single file (models
below 2 GB); ``dynamic_shapes`` with a ``torch.export.Dim`` replaces the
deprecated ``dynamic_axes``; opsets below 18 are produced by automatic
down-conversion from 18.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from collections.abc import Mapping
from pathlib import Path

import onnx

from tenfold.spec.checkpoints import check_writable
from tenfold.spec.errors import ExportError, expected

from .onnx_io import LogCapture, check, check_opset, check_opset_request, save_atomic, set_metadata

DEFAULT_OPSET = 18
MAX_BATCH = 4096


def export_torch(model, path: str | os.PathLike | None, example_input, opset: int = DEFAULT_OPSET,
                 metadata: Mapping[str, object] | None = None, input_name: str = "input",
                 output_name: str = "output", dynamic_batch: bool = True, verbose: bool = False) -> onnx.ModelProto:
    """Export ``model`` (an ``nn.Module``, put in eval mode) to a single checked ONNX file.

    Args:
        model: The module; it is called as ``model(example_input)``.
        path: Destination ``.onnx`` file, written atomically (``None``: return the model only).
        example_input: A tensor of the input's shape and dtype (float32 for
            onnxruntime: its CPU provider lacks float64 Conv and Erf).
        opset: ONNX opset of the default domain (18 and above natively; below 18 only
            when the model's operators convert down, e.g. not LayerNormalization).
        metadata: ``metadata_props`` to record (values are stringified).
        input_name, output_name: Graph input and output names.
        dynamic_batch: Make dimension 0 symbolic (``batch``).
        verbose: Let the exporter print its progress lines.

    Returns:
        The exported, checked ``ModelProto`` (also written to ``path`` unless it is ``None``).

    Raises:
        ExportError: If ``path`` cannot be written (checked first), the opset is
            out of range or cannot be honoured (the exporter writes opset 18 and
            converts down; a model it cannot convert is refused, never saved
            with another opset), the exporter fails or the checker rejects the result.
    """
    import torch

    check_opset_request(opset, "export_torch")
    if path is not None:
        check_writable(path, "export_torch")
    if not isinstance(model, torch.nn.Module):
        raise ExportError(expected("export_torch", "a torch.nn.Module", type(model).__name__))
    if not isinstance(example_input, torch.Tensor):
        raise ExportError(expected("export_torch", "a torch.Tensor example input", type(example_input).__name__))
    model = model.eval()
    dynamic = {"x": {0: torch.export.Dim("batch", min=1, max=MAX_BATCH)}} if dynamic_batch else None
    sink = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    logger = logging.getLogger("torch.onnx")
    old_level = logger.level
    converter_log = LogCapture("onnxscript", "onnx_ir", keep=verbose)  # the opset converter logs its failures
    try:
        with sink, warnings.catch_warnings(), converter_log:
            if not verbose:
                warnings.simplefilter("ignore")
                logger.setLevel(logging.ERROR)  # e.g. "torchvision is not installed. Skipping torchvision::nms"
            program = torch.onnx.export(_wrap(model), (example_input,), dynamo=True, external_data=False,
                                        opset_version=opset, input_names=[input_name], output_names=[output_name],
                                        dynamic_shapes=dynamic, verbose=verbose)
    except Exception as err:  # the exporter raises many types; callers get one
        raise ExportError(expected("export_torch", "a model torch.onnx.export (dynamo) can export",
                                   f"{type(err).__name__}: {str(err)[:2000]}")) from err
    finally:
        logger.setLevel(old_level)
    proto = program.model_proto
    check_opset(proto, opset, "export_torch", converter_log.last_failure() or "the converter could not convert it")
    set_metadata(proto, {"tenfold.source_backend": "torch", "tenfold.exporter": f"torch.onnx.export(dynamo) "
                         f"torch {torch.__version__}", **{k: str(v) for k, v in (metadata or {}).items()}})
    check(proto, "export_torch")
    if path is not None:
        save_atomic(proto, Path(path))
    return proto


_WRAPPER_CLASS = None


def _wrap(model):
    """Wrap ``model`` so that its traced input is named ``x`` (the key ``dynamic_shapes`` uses)."""
    global _WRAPPER_CLASS
    if _WRAPPER_CLASS is None:
        import torch

        class NamedInput(torch.nn.Module):
            def __init__(self, inner: torch.nn.Module) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, x):
                return self.inner(x)

        _WRAPPER_CLASS = NamedInput
    return _WRAPPER_CLASS(model)


__all__ = ["DEFAULT_OPSET", "export_torch"]
