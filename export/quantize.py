"""Optional int8 quantization of an exported model (onnxruntime.quantization).

* ``mode="dynamic"`` (``quantize_dynamic``) stores MatMul and Conv weights as
  int8 and quantizes activations on the fly (DynamicQuantizeLinear +
  MatMulInteger / ConvInteger). It suits transformers: ViT-B/16 runs about
  2.5x faster and 3.9x smaller (``tenfold bench vit``). onnxruntime has no fast
  ConvInteger, so convolution networks get *slower* this way (``tenfold bench frelu``).
* ``mode="static"`` (``quantize_static``, QDQ format, per-channel int8 weights,
  uint8 activations whose ranges are calibrated on sample inputs) runs
  convolutions through onnxruntime's QLinearConv: ResNet-50-FReLU about 2.5x
  faster. It needs representative calibration images.

The report states the size and accuracy change against the float model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tenfold.spec.errors import ExportError, expected

from .runtime import runner


@dataclass
class QuantReport:
    """Size and accuracy of the int8 model against the float one, on the same inputs."""

    path: Path
    float_bytes: int
    int8_bytes: int
    max_abs_diff: float
    output_std: float
    top1_agreement: float
    provider: str

    def summary(self) -> str:
        return (f"int8 {self.int8_bytes / 1e6:.2f} MB vs float32 {self.float_bytes / 1e6:.2f} MB "
                f"({self.float_bytes / max(self.int8_bytes, 1):.1f}x smaller); outputs differ by at most "
                f"{self.max_abs_diff:.3g} (output std {self.output_std:.3g}); top-1 agrees on "
                f"{100 * self.top1_agreement:.0f}% of the probe inputs ({self.provider})")


MODES = ("dynamic", "static")


def quantize_int8(src: str | os.PathLike, dst: str | os.PathLike, probe: np.ndarray,
                  provider: str = "auto", mode: str = "dynamic", calibration: np.ndarray | None = None
                  ) -> QuantReport:
    """Quantize ``src`` to int8 into ``dst`` (atomically) and compare it with ``src`` on ``probe``.

    Args:
        src: The float32 ONNX file.
        dst: Destination of the quantized model.
        probe: A float32 input batch on which both models are compared.
        provider: onnxruntime provider choice for the comparison.
        mode: ``"dynamic"`` (int8 weights, activations quantized on the fly) or ``"static"``
            (QDQ, activation ranges calibrated on ``calibration``, default ``probe``).
        calibration: Float32 input batch for the static mode's calibration.

    Raises:
        ExportError: If quantization fails or the mode is unknown.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from .onnx_io import write_atomic_from

    if mode not in MODES:
        raise ExportError(expected("quantize_int8", "mode 'dynamic' or 'static'", repr(mode)))
    src = Path(src)
    try:
        if mode == "dynamic":
            write_atomic_from(dst, lambda tmp: quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QInt8))
        else:
            data = np.asarray(probe if calibration is None else calibration, np.float32)
            write_atomic_from(dst, lambda tmp: _quantize_static(src, Path(tmp), data))
    except Exception as err:
        raise ExportError(expected("quantize_int8", f"a model onnxruntime can quantize ({mode})",
                                   f"{type(err).__name__}: {err}")) from err
    dst = Path(dst)
    probe = np.asarray(probe, np.float32)
    ref_run, q_run = runner(src, provider), runner(dst, provider)
    y = np.asarray(ref_run(probe)[0], np.float64)
    yq = np.asarray(q_run(probe)[0], np.float64)
    agree = float(np.mean(y.argmax(-1) == yq.argmax(-1))) if y.ndim == 2 else float("nan")
    return QuantReport(dst, src.stat().st_size, dst.stat().st_size, float(np.abs(y - yq).max()), float(y.std()),
                       agree, q_run.provider)


def _quantize_static(src: Path, dst: Path, data: np.ndarray) -> None:
    """QDQ static quantization: shape inference first, then per-channel int8 weights, uint8 activations."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    name = onnx.load(str(src), load_external_data=False).graph.input[0].name

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter([{name: data[i:i + 1]} for i in range(len(data))])

        def get_next(self):
            return next(self.batches, None)

    pre = dst.with_name(dst.stem + ".pre.onnx")
    quant_pre_process(str(src), str(pre))
    quantize_static(str(pre), str(dst), Reader(), quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, per_channel=True)
    pre.unlink(missing_ok=True)


__all__ = ["MODES", "QuantReport", "quantize_int8"]
