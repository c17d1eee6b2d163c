"""onnxruntime sessions: CUDA when available, else CPU, and say which was used."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import onnxruntime as ort

from tenfold.spec.errors import ExportError, expected

if TYPE_CHECKING:  # the runner needs onnxruntime only, not onnx
    import onnx

_PREFERENCE = ("CUDAExecutionProvider", "CPUExecutionProvider")
#: Provider options: TF32 matrix products off on CUDA (onnxruntime turns them on by default on
#: Ampere and later; tenfold's ONNX tolerances are float32's, as in conformance).
_PROVIDER_OPTIONS = {"CUDAExecutionProvider": {"use_tf32": "0"}}


@dataclass
class Runner:
    """An onnxruntime session plus the provider it really runs on."""

    session: ort.InferenceSession
    provider: str

    @property
    def input_names(self) -> list[str]:
        return [i.name for i in self.session.get_inputs()]

    def __call__(self, *inputs: np.ndarray) -> list[np.ndarray]:
        """Run the model on positional inputs (in the graph's input order).

        Raises:
            ExportError: For a wrong number of inputs, or an input whose rank,
                fixed dimensions or element type differ from the graph's (checked
                here so the message says what was expected).
        """
        if len(inputs) != len(self.input_names):
            raise ExportError(expected("Runner", f"{len(self.input_names)} inputs {self.input_names}", len(inputs)))
        for spec, x in zip(self.session.get_inputs(), inputs, strict=True):
            _check_input(spec, x)
        return self.session.run(None, dict(zip(self.input_names, inputs, strict=True)))


_ORT_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16,
              "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(bool)": np.bool_}


def _check_input(spec, x: object) -> None:
    """Compare one input with the graph input ``spec`` (name, shape with symbolic dims, type)."""
    shape = tuple(spec.shape)
    want = "(" + ", ".join(str(d) for d in shape) + ")"
    dtype = _ORT_TYPES.get(spec.type)
    if not isinstance(x, np.ndarray):
        raise ExportError(expected(f"Runner input {spec.name!r}", f"a NumPy array {want} of {spec.type}",
                                   type(x).__name__))
    if dtype is not None and x.dtype != dtype:
        raise ExportError(expected(f"Runner input {spec.name!r}", f"dtype {np.dtype(dtype).name} ({spec.type})",
                                   f"dtype {x.dtype}"))
    if len(shape) != x.ndim or any(isinstance(d, int) and d != n for d, n in zip(shape, x.shape, strict=False)):
        raise ExportError(expected(f"Runner input {spec.name!r}", f"shape {want}", f"shape {x.shape}"))


def runner(model: onnx.ModelProto | str | os.PathLike, provider: str = "auto",
           options: ort.SessionOptions | None = None) -> Runner:
    """Open ``model`` in onnxruntime.

    Args:
        model: A ``ModelProto`` or the path of an ``.onnx`` file.
        provider: ``"auto"`` (CUDA if onnxruntime offers it, else CPU),
            ``"cuda"`` or ``"cpu"``.
        options: Session options (threads, graph optimisation level; see
            :func:`tenfold.export.optimize.session_options`); onnxruntime's defaults when ``None``.

    Returns:
        A :class:`Runner`; ``runner.provider`` names the provider in use
        (onnxruntime silently falls back to the CPU when CUDA fails to load,
        and this reports the fallback truthfully).

    Raises:
        ExportError: For a missing, empty or non-ONNX file, a model onnxruntime
            cannot load, or an unavailable provider (never onnxruntime's own errors).
    """
    available = ort.get_available_providers()
    if provider == "auto":
        wanted = [p for p in _PREFERENCE if p in available]
    elif provider in ("cuda", "cpu"):
        wanted = [f"{provider.upper()}ExecutionProvider"]
        if wanted[0] not in available:
            raise ExportError(expected("runner", f"onnxruntime with {wanted[0]}", f"providers {available}"))
    else:
        raise ExportError(expected("runner", "provider 'auto', 'cuda' or 'cpu'", repr(provider)))
    if hasattr(model, "SerializeToString"):
        source, name = model.SerializeToString(), "the given ModelProto"
    else:
        source = name = os.fspath(model)
        if not os.path.isfile(source):
            why = "a folder" if os.path.isdir(source) else "no such file"
            raise ExportError(expected("runner", "an .onnx model file", f"{source} ({why})"))
        if os.path.getsize(source) == 0:
            raise ExportError(expected("runner", "an .onnx model file", f"{source} (an empty file)"))
    chosen = [(p, _PROVIDER_OPTIONS[p]) if p in _PROVIDER_OPTIONS else p for p in wanted]
    try:
        session = ort.InferenceSession(source, sess_options=options, providers=chosen)
    except Exception as err:  # onnxruntime raises its own types (InvalidProtobuf, Fail, NoSuchFile, ...)
        raise ExportError(expected("runner", "an ONNX model onnxruntime can load", f"{name} ({_ort_reason(err)})")
                          ) from None
    return Runner(session=session, provider=session.get_providers()[0])


def _ort_reason(err: BaseException) -> str:
    """onnxruntime's message without its ``[ONNXRuntimeError] : 7 : INVALID_PROTOBUF :`` prefix, on one line."""
    text = " ".join(str(err).split())
    return (text.rsplit(" : ", 1)[-1] if text.startswith("[ONNXRuntimeError]") else text)[:300] or type(err).__name__
