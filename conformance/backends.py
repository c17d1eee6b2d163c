"""Which backends are installed, and the per-backend set-up conformance needs."""

from __future__ import annotations

import importlib.util
import os
from functools import cache

from tenfold.spec.errors import BackendUnavailableError, expected

#: Conformance backend name -> (tenfold layer, module that must be importable).
BACKENDS: dict[str, tuple[str, str]] = {
    "numpy": ("numpy_ref", "numpy"),
    "torch": ("torch_backend", "torch"),
    "tf": ("tf_backend", "tensorflow"),
    "onnx": ("export", "onnxruntime"),
}


def available(backend: str) -> bool:
    """True when the framework behind ``backend`` can be imported (nothing is imported)."""
    return importlib.util.find_spec(BACKENDS[backend][1]) is not None


def require(backend: str) -> None:
    """Raise :class:`BackendUnavailableError` unless ``backend`` is installed."""
    if backend not in BACKENDS:
        raise BackendUnavailableError(expected("conformance", "a backend among " + ", ".join(BACKENDS), repr(backend)))
    if not available(backend):
        module = BACKENDS[backend][1]
        raise BackendUnavailableError(
            expected("conformance", f"the {backend} backend (Python module {module!r})", "it is not installed"))


@cache
def prepare(backend: str) -> None:
    """One-time numeric set-up: TF32 off, quiet TensorFlow logs."""
    if backend == "torch":
        import torch

        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    elif backend == "tf":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf

        tf.config.experimental.enable_tensor_float_32_execution(False)
        tf.get_logger().setLevel("ERROR")  # graph-mode checks retrace per shape and dtype on purpose
