"""Checkpoint I/O, one module per file format, never unpickling.

``files`` (atomic writes that leave the umask's mode), ``npz`` (NumPy
``.npz``, ``allow_pickle=False``). Framework formats live in the backend that
reads them (``tenfold.torch_backend.checkpoints``: ``torch.load(weights_only=True)``).
"""

from .files import atomic_write, check_writable
from .npz import load_npz, save_npz

__all__ = ["atomic_write", "check_writable", "load_npz", "save_npz"]
