"""Helpers of the bad-input tests: broken files of every kind, the one-line rule, the umask rule."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

#: Words no tenfold error may contain: it must never suggest unpickling a file.
PICKLE_HINTS = ("allow_pickle", "allow_pickle=True")


def broken_npz_files(folder: Path, arrays: dict[str, np.ndarray]) -> dict[str, Path]:
    """Every way an ``.npz`` checkpoint can be broken, written next to a good one (``"good"``)."""
    folder.mkdir(parents=True, exist_ok=True)
    good = folder / "good.npz"
    np.savez(good, **arrays)
    data = good.read_bytes()
    files = {"good": good}

    def write(name: str, payload: bytes) -> None:
        files[name] = folder / f"{name}.npz"
        files[name].write_bytes(payload)

    write("truncated", data[: len(data) // 2])
    write("random", np.random.default_rng(0).bytes(512))
    write("empty", b"")
    write("text", b"this is not a checkpoint\n")
    flipped = bytearray(data)
    for i in range(len(flipped) // 3, len(flipped) // 3 + 8):
        flipped[i] ^= 0xFF
    write("corrupt", bytes(flipped))
    np.save(folder / "single.npy", next(iter(arrays.values())))
    write("single", (folder / "single.npy").read_bytes())
    files["object"] = folder / "object.npz"
    np.savez(files["object"], **{**arrays, next(iter(arrays)): np.array([{"a": 1}], dtype=object)})
    files["folder"] = folder / "folder.npz"
    files["folder"].mkdir(exist_ok=True)
    files["missing"] = folder / "missing.npz"
    return {k: v for k, v in files.items()}


def umask_mode() -> int:
    """The mode a plain ``open(path, "w")`` gives a new file under the current umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def assert_one_line(text: str) -> str:
    """``text`` (stderr of a failed command) is one line, names tenfold, and holds no traceback."""
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text and lines[0].startswith("tenfold"), text
    return lines[0]
