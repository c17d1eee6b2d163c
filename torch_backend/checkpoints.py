"""Reading PyTorch checkpoint files without unpickling arbitrary objects (any method's state dicts).

``torch.load(..., weights_only=True)`` restricts unpickling to tensors,
containers and plain numbers, so a malicious file cannot run code. Training
scripts usually save a dict (``{"state_dict": ..., "epoch": ..., "optimizer": ...}``)
and ``DataParallel``/``DistributedDataParallel`` prefix every key with ``module.``
(hszhao/SAN ``tool/train.py``, for example); :func:`read_state_dict` unwraps both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import torch

from tenfold.spec.errors import CheckpointError, expected

#: Keys under which training scripts commonly store the model's state dict.
STATE_KEYS: tuple[str, ...] = ("state_dict", "model", "model_state_dict")


def load_file(path: str | os.PathLike, where: str, what: str = "a torch.save file loadable with weights_only=True",
              map_location: str | torch.device = "cpu") -> object:
    """``torch.load(path, weights_only=True)``; a missing or refused file is one :class:`CheckpointError`.

    The one place tenfold reads the PyTorch format: every loader (SAN, ViT's timm
    files, Toonify's rosinality files, ``tenfold export``) goes through it.
    """
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(expected(where, "an existing file", f"{os.fspath(path)} (no such file)")) from None
    except Exception as err:  # torch raises UnpicklingError, RuntimeError, EOFError ... for a file it refuses
        first = str(err).strip().splitlines()[0][:300] if str(err).strip() else ""
        raise CheckpointError(expected(where, what, f"{os.fspath(path)} ({type(err).__name__}: {first})")) from None


def read_state_dict(path: str | os.PathLike, *, key: str | None = None, strip_prefix: str = "module.",
                    map_location: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """The tensors of a state dict saved with ``torch.save`` (never a full unpickle).

    Args:
        path: A ``.pth``/``.pt`` file: a state dict, or a dict holding one under ``key``.
        key: The entry holding the state dict; ``None`` tries :data:`STATE_KEYS`, then the file itself.
        strip_prefix: Removed from every key that starts with it (``module.`` of data-parallel wrappers).
        map_location: Where the tensors are loaded.

    Returns:
        Name -> tensor (non-tensor entries are dropped).

    Raises:
        CheckpointError: The file is missing, not a weights-only pickle, or holds no state dict.
    """
    where = f"read_state_dict({os.fspath(path)!r})"
    obj = load_file(path, where, map_location=map_location)
    state = obj
    if isinstance(obj, Mapping):
        keys = (key,) if key is not None else STATE_KEYS
        for k in keys:
            if k in obj and isinstance(obj[k], Mapping):
                state = obj[k]
                break
        else:
            if key is not None:
                raise CheckpointError(expected(where, f"a dict with a {key!r} entry", sorted(obj)[:10]))
    if not isinstance(state, Mapping) or not any(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(expected(where, "a state dict of tensors", type(state).__name__))
    return {(k[len(strip_prefix):] if strip_prefix and k.startswith(strip_prefix) else k): v
            for k, v in state.items() if isinstance(v, torch.Tensor)}


def to_numpy(state: Mapping[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """CPU NumPy copies of a state dict (bfloat16 widened to float32, exactly)."""
    return {k: (v.float() if v.dtype == torch.bfloat16 else v).detach().cpu().numpy().copy() for k, v in state.items()}


__all__ = ["STATE_KEYS", "load_file", "read_state_dict", "to_numpy"]
