"""Writing and checking ONNX files: atomic saves and the full checker."""

from __future__ import annotations

import os
from pathlib import Path

import onnx

from tenfold.spec.checkpoints import atomic_write
from tenfold.spec.errors import ExportError, expected


def check(model: onnx.ModelProto, where: str = "onnx") -> None:
    """Run ``onnx.checker`` with ``full_check=True`` (shape inference included).

    Raises:
        ExportError: If the checker rejects the model.
    """
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as err:
        raise ExportError(expected(where, "a model that passes onnx.checker (full check)", str(err))) from err


def save_atomic(model: onnx.ModelProto, path: str | os.PathLike) -> Path:
    """Write ``model`` to ``path`` as one file via a temporary file and a rename.

    A reader never sees a half-written file (:func:`tenfold.spec.checkpoints.atomic_write`),
    and the file gets the mode a plain ``open`` would give (the umask's), so
    a serving process running as another user can read it.
    """
    data = model.SerializeToString()
    return atomic_write(path, lambda fh: fh.write(data))


def set_metadata(model: onnx.ModelProto, props: dict[str, str]) -> onnx.ModelProto:
    """Set ``metadata_props`` entries (replacing keys that already exist)."""
    existing = {p.key: p for p in model.metadata_props}
    for key, value in props.items():
        if key in existing:
            existing[key].value = str(value)
        else:
            entry = model.metadata_props.add()
            entry.key, entry.value = key, str(value)
    return model
