"""NumPy ``.npz`` checkpoints: flat ``name -> array`` dicts, read without pickle, written atomically."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..errors import CheckpointError, expected
from .files import atomic_write

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or the end record of an empty archive


def _reason(head: bytes, err: BaseException) -> str:
    """Why a file did not load, in words that never suggest unpickling it."""
    if head.startswith(_NPY_MAGIC):
        return "a single .npy array, not an .npz archive of named arrays"
    if not head.startswith(_ZIP_MAGIC):
        return "not an .npz archive (empty file)" if not head else "not an .npz archive (no zip signature)"
    if "pickle" in str(err) or "Object arrays" in str(err):
        return "it holds object arrays, which tenfold never unpickles"
    return f"truncated or corrupt archive: {type(err).__name__}: {str(err).split('. ')[0]}"


def load_npz(path: str | os.PathLike, where: str = "load_npz") -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file (``allow_pickle=False``); any unreadable file is a :class:`CheckpointError`.

    The file is opened here and closed on every path (NumPy's own ``np.load``
    leaves the handle open when an archive turns out to be corrupt).

    Raises:
        CheckpointError: For a missing file, a folder, an empty, truncated or
            corrupt archive, a single ``.npy`` array, any other file, or an
            archive holding object (pickled) arrays. The message names the
            file and the reason.
    """
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(expected(where, "an .npz file", f"{path} (a folder)"))
    if not path.is_file():
        raise CheckpointError(expected(where, "an existing .npz file", f"{path} (no such file)"))
    head = b""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(_NPY_MAGIC))
            fh.seek(0)
            if not head.startswith(_ZIP_MAGIC):
                raise ValueError("not a zip archive")
            with np.load(fh, allow_pickle=False) as data:
                return {k: np.asarray(data[k]) for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError, RuntimeError) as err:
        if isinstance(err, OSError) and not isinstance(err, zipfile.BadZipFile) and err.errno is not None:
            reason = err.strerror or type(err).__name__  # permission denied, I/O error...
        else:
            reason = _reason(head, err)
        raise CheckpointError(expected(where, "a readable .npz file of numeric arrays", f"{path} ({reason})")) from None


def save_npz(params: Mapping[str, np.ndarray], path: str | os.PathLike, where: str = "save_npz") -> Path:
    """Write ``params`` as an ``.npz`` (atomically; the umask's mode).

    Raises:
        CheckpointError: If an entry is not a numeric array (object arrays
            would be pickled, and :func:`load_npz` never unpickles).
    """
    arrays = {k: np.asarray(v) for k, v in params.items()}
    odd = sorted(f"{k} (dtype {a.dtype})" for k, a in arrays.items() if a.dtype.kind not in "biufc")
    if odd:
        raise CheckpointError(expected(where, "numeric arrays only", ", ".join(odd)))
    return atomic_write(path, lambda fh: np.savez(fh, **arrays))


__all__ = ["load_npz", "save_npz"]
