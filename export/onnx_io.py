"""Writing and checking ONNX files: atomic saves and the full checker."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
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


def write_atomic_from(path: str | os.PathLike, produce: Callable[[Path], object]) -> Path:
    """Let ``produce(tmp_path)`` write a file (a tool that wants a path), then move it to ``path`` atomically."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=Path(path).parent) as tmp:
        out = Path(tmp) / Path(path).name
        produce(out)
        if not out.is_file():
            raise ExportError(expected("write_atomic_from", f"a file written to {out}", "none"))
        with open(out, "rb") as src:
            return atomic_write(path, lambda fh: shutil.copyfileobj(src, fh, 1 << 24))


def check_opset_request(opset: object, where: str, lowest: int = 7, highest: int | None = None) -> int:
    """Refuse an opset no exporter can honour before any work is done.

    Raises:
        ExportError: Unless ``opset`` is an integer in ``[lowest, highest]``
            (``highest``: the newest opset the installed onnx package knows).
    """
    newest = onnx.defs.onnx_opset_version() if highest is None else highest
    if not isinstance(opset, int) or isinstance(opset, bool) or not lowest <= opset <= newest:
        raise ExportError(expected(where, f"an ONNX opset in [{lowest}, {newest}]", repr(opset)))
    return opset


def model_opset(model: onnx.ModelProto) -> int | None:
    """The opset of the default (``ai.onnx``) domain a model imports."""
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)


def check_opset(model: onnx.ModelProto, opset: int, where: str, reason: str = "") -> None:
    """Raise :class:`ExportError` unless ``model`` has the opset that was asked for (never silently another)."""
    got = model_opset(model)
    if got != opset:
        why = f": {reason}" if reason else ""
        raise ExportError(expected(where, f"a model of the requested opset {opset}",
                                   f"opset {got} (the exporter could not convert to {opset}{why})"))


class LogCapture(logging.Handler):
    """Collect (and keep off stderr) the log records of some loggers while an exporter runs."""

    def __init__(self, *names: str, keep: bool = False) -> None:
        super().__init__(logging.DEBUG)
        self.names, self.keep, self.records = names, keep, []
        self._saved: list[tuple[logging.Logger, int, bool]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> LogCapture:
        if not self.keep:
            for name in self.names:
                logger = logging.getLogger(name)
                self._saved.append((logger, logger.level, logger.propagate))
                logger.addHandler(self)
                logger.propagate = False
        return self

    def __exit__(self, *exc: object) -> None:
        for logger, _, propagate in self._saved:
            logger.removeHandler(self)
            logger.propagate = propagate
        self._saved.clear()

    def last_failure(self) -> str:
        """The last error logged with an exception, as one short line (``""`` if none)."""
        for record in reversed(self.records):
            if record.exc_info and record.exc_info[1] is not None:
                err = record.exc_info[1]
                text = str(err).strip().splitlines()[-1] if str(err).strip() else ""
                return f"{type(err).__name__}: {text.split('failed: ')[-1]}"[:300]
        return ""


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
