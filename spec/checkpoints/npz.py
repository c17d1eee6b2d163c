"""NumPy ``.npz`` checkpoints: flat ``name -> array`` dicts, read without pickle, written atomically."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..errors import CheckpointError, expected
from .files import atomic_write


def load_npz(path: str | os.PathLike, where: str = "load_npz") -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file (``allow_pickle=False``); any unreadable file is a :class:`CheckpointError`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(expected(where, "an existing .npz file", f"{path} (no such file)"))
    try:
        with np.load(path, allow_pickle=False) as data:
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise CheckpointError(expected(where, "an .npz archive of named arrays", f"{path}: a single array"))
            return {k: np.asarray(data[k]) for k in data.files}
    except CheckpointError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as err:
        reason = "it holds object arrays, which tenfold never unpickles" if "pickle" in str(err) else \
            f"{type(err).__name__}: {str(err).split('. ')[0]}"
        raise CheckpointError(expected(where, "a readable .npz file of numeric arrays", f"{path} ({reason})")) from None


def save_npz(params: Mapping[str, np.ndarray], path: str | os.PathLike) -> Path:
    """Write ``params`` as an ``.npz`` (atomically; the umask's mode)."""
    arrays = {k: np.asarray(v) for k, v in params.items()}
    return atomic_write(path, lambda fh: np.savez(fh, **arrays))


__all__ = ["load_npz", "save_npz"]
