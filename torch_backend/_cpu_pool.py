"""A small recycling pool of large CPU buffers for fresh output tensors (used by CutMix).

A transform that keeps its input must return a new batch. Freshly mapped
memory costs the kernel a page fault and a zeroing pass per page, about as
much again as the copy itself; a training loop drops each batch after its
step, so the same few buffers can serve every batch.

A buffer is an anonymous ``mmap`` (huge pages advised). :func:`empty` hands out
an ndarray over it and registers a finalizer on the array that owns the view
chain; the buffer returns to the pool only when that array is garbage, i.e.
when no ndarray or tensor can reach the memory any more (a tensor made with
``torch.from_numpy`` keeps its array alive; NumPy keeps that array as the
``base`` of every slice because the mmap behind it is not an ndarray). At most
:data:`MAX_IDLE` idle buffers are kept per size; :func:`clear` drops them.
"""

from __future__ import annotations

import mmap
import threading
import weakref

import numpy as np

#: Below this size a plain allocation is cheap enough.
MIN_BYTES = 4 << 20
#: Idle buffers kept per size.
MAX_IDLE = 2

_lock = threading.Lock()
_idle: dict[int, list[mmap.mmap]] = {}


def _new(nbytes: int) -> mmap.mmap:
    buf = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    if hasattr(mmap, "MADV_HUGEPAGE"):
        try:
            buf.madvise(mmap.MADV_HUGEPAGE)
        except OSError:
            pass
    return buf


def _release(nbytes: int, buf: mmap.mmap) -> None:
    with _lock:
        idle = _idle.setdefault(nbytes, [])
        if len(idle) < MAX_IDLE:
            idle.append(buf)


def empty(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An uninitialised C-contiguous array, from the pool when large."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    nbytes = count * dtype.itemsize
    if nbytes < MIN_BYTES:
        return np.empty(shape, dtype)
    with _lock:
        idle = _idle.get(nbytes)
        buf = idle.pop() if idle else None
    if buf is None:
        buf = _new(nbytes)
    flat = np.frombuffer(buf, dtype=dtype, count=count)  # the array that owns the view chain
    weakref.finalize(flat, _release, nbytes, buf)
    return flat.reshape(shape)


def clear() -> None:
    """Drop every idle buffer (their memory goes back to the system)."""
    with _lock:
        _idle.clear()


def idle_bytes() -> int:
    """Bytes held by idle buffers."""
    with _lock:
        return sum(n * len(v) for n, v in _idle.items())
