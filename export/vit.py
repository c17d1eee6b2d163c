"""ViT to ONNX from either backend, checked against numpy_ref, optionally quantized.

Paper: Dosovitskiy et al., ICLR 2021. Official code: google-research/vision_transformer.

The ONNX model takes normalised float32 NCHW images ``(N, C, S, S)`` with a
dynamic batch and returns ``(N, num_classes)`` logits. ``metadata_props``
record what a deployer needs to feed it (see :func:`vit_metadata`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tenfold import __version__
from tenfold.numpy_ref import vit as ref
from tenfold.spec import vit as spec
from tenfold.spec.errors import ExportError, expected

from .check import CheckReport, check_against_reference
from .quantize import QuantReport, quantize_int8

BACKENDS = ("torch", "tf")


def vit_metadata(config: spec.ViTConfig, backend: str, weights: str | None = None) -> dict[str, str]:
    """``metadata_props`` of a ViT export: input layout and size, normalisation, classes, provenance."""
    s, c = config.image_size, config.in_channels
    return {
        "tenfold.method": "vit",
        "tenfold.version": __version__,
        "tenfold.source_backend": backend,
        "tenfold.config": json.dumps(config.to_dict(), sort_keys=True),
        "tenfold.weights": weights or "random init (no weights given)",
        "input.name": "input",
        "input.layout": "NCHW",
        "input.shape": f"N,{c},{s},{s}",
        "input.dtype": "float32",
        "input.color": "RGB",
        "input.preprocessing": "x = (rgb / 255 - mean) / std per channel",
        "input.mean": ",".join(str(m) for m in spec.MEAN),
        "input.std": ",".join(str(m) for m in spec.STD),
        "output.name": "output",
        "output.meaning": "logits",
        "num_classes": str(config.num_classes),
    }


@dataclass
class ViTExport:
    """Result of :func:`export_vit`."""

    path: Path
    check: CheckReport | None
    quantized: QuantReport | None
    seconds: float


def _say(progress: Callable[[str], None] | None, verbose: bool, text: str) -> None:
    if verbose and progress is not None:
        progress(text)


def export_vit(config: spec.ViTConfig, params: Mapping[str, np.ndarray], path: str | os.PathLike,
               backend: str = "torch", opset: int = 18, check: bool = True, batch_sizes: tuple[int, ...] = (1, 3),
               quantize: str | None = None, weights_name: str | None = None, verbose: bool = True,
               progress: Callable[[str], None] | None = print, seed: int = 0) -> ViTExport:
    """Build the ViT in ``backend`` from canonical params, export it, check it, optionally quantize it.

    Args:
        config: The model configuration.
        params: Canonical params (official ``.npz`` layout).
        path: Destination ``.onnx`` file (written atomically).
        backend: ``"torch"`` (torch.export-based exporter) or ``"tf"`` (tf2onnx, opset <= 18).
        opset: ONNX opset.
        check: Run the onnxruntime-vs-numpy_ref check (recommended; failing it raises).
        batch_sizes: Batch sizes of the check (at least two).
        quantize: ``None`` or ``"int8"`` (writes ``<stem>.int8.onnx`` beside ``path``).
        weights_name: Where the weights came from, for the metadata.
        verbose, progress: Progress lines, one per stage.
        seed: Seed of the check's random images.

    Raises:
        ExportError: If the export, the check or the quantization fails.
    """
    if backend not in BACKENDS:
        raise ExportError(expected("export_vit", "backend 'torch' or 'tf'", repr(backend)))
    if quantize not in (None, "int8"):
        raise ExportError(expected("export_vit", "quantize None or 'int8'", repr(quantize)))
    start = time.perf_counter()
    path = Path(path)
    meta = vit_metadata(config, backend, weights_name)
    s, c = config.image_size, config.in_channels
    example = np.zeros((2, c, s, s), np.float32)
    f32 = {k: np.asarray(v, np.float32) for k, v in params.items()}
    _say(progress, verbose, f"[vit export] building the {backend} model ({spec.num_params(config) / 1e6:.2f}M params)")
    if backend == "torch":
        import torch

        from tenfold.torch_backend import vit as tb

        from .torch_onnx import export_torch

        model = tb.load_params(tb.ViT(config).eval(), f32)
        _say(progress, verbose, f"[vit export] exporting with torch.onnx.export (dynamo), opset {opset}")
        export_torch(model, path, torch.from_numpy(example), opset=opset, metadata=meta)
    else:
        from tenfold.tf_backend import vit as tfb

        from .tf_onnx import export_tf

        model = tfb.load_params(tfb.ViT(config), f32)
        _say(progress, verbose, f"[vit export] exporting with tf2onnx, opset {opset}")
        export_tf(model, path, example, opset=opset, metadata=meta)
    _say(progress, verbose, f"[vit export] wrote {path} ({path.stat().st_size / 1e6:.2f} MB), onnx.checker full check "
                            "passed")
    report = None
    rng = np.random.default_rng(seed)
    if check:
        _say(progress, verbose, f"[vit export] checking in onnxruntime against numpy_ref at batch sizes "
                                f"{list(batch_sizes)}")
        params64 = {k: np.asarray(v, np.float64) for k, v in f32.items()}
        report = check_against_reference(path, lambda x: ref.vit(params64, x, config),
                                         lambda b: rng.standard_normal((b, c, s, s)).astype(np.float32),
                                         spec.ONNX_TOLERANCE, batch_sizes, where="export_vit check")
        _say(progress, verbose, f"[vit export] {report.summary()}")
    quant = None
    if quantize == "int8":
        qpath = path.with_name(path.stem + ".int8.onnx")
        _say(progress, verbose, f"[vit export] quantizing to int8 (dynamic) -> {qpath}")
        quant = quantize_int8(path, qpath, rng.standard_normal((8, c, s, s)).astype(np.float32))
        _say(progress, verbose, f"[vit export] {quant.summary()}")
    return ViTExport(path, report, quant, time.perf_counter() - start)


__all__ = ["ViTExport", "export_vit", "vit_metadata"]
