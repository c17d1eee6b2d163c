"""Atomic file writes: a reader never sees a half-written file, and the mode is a plain open's."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ..errors import TenfoldError, expected


def umask_mode() -> int:
    """The mode a plain ``open(path, "w")`` gives a new file: ``0o666`` minus the umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_umask_mode = umask_mode


def check_writable(path: str | os.PathLike, where: str) -> Path:
    """Fail early (before any work) when ``path`` cannot be written.

    The nearest existing folder on the way to ``path`` is probed by really
    creating (and removing) a temporary file in it, so read-only file systems,
    permissions and a file standing where a folder is needed are all caught.

    Raises:
        TenfoldError: ``"<where>: expected an output path in a writable folder; got ..."``.
    """
    path = Path(path)
    if path.is_dir():
        raise TenfoldError(expected(where, "an output file path", f"{path} is a folder"))
    probe = path.parent if str(path.parent) else Path(".")
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise TenfoldError(expected(where, "an output path in a writable folder",
                                    f"{path} ({probe} is a file, not a folder)"))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tenfold-probe-", dir=probe)
    except OSError as err:
        raise TenfoldError(expected(where, "an output path in a writable folder",
                                    f"{path} ({probe}: {err.strerror or err})")) from None
    os.close(fd)
    Path(tmp).unlink(missing_ok=True)
    return path


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(fh)`` on a temporary file in ``path``'s folder, then rename it onto ``path``.

    The file ends with the mode a plain ``open(path, "wb")`` would give
    (``0o666`` minus the umask), not the temporary file's ``0o600``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.chmod(tmp, _umask_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


__all__ = ["atomic_write", "check_writable", "umask_mode"]
