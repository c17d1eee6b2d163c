"""The numpy Generator of a self-sampling transform, made once per process and ``DataLoader`` worker.

Shared by the transforms that draw their own plans (CutMix, AugMix, SimCLR's
augmentation): ``seed`` is an int (each worker gets ``[seed, worker id]``), a
``np.random.Generator`` (used as given) or None (each worker from
``torch.initial_seed()``, which the DataLoader sets to base seed + worker id).
"""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.utils.data


class WorkerSeeded:
    """Mixin giving ``self.rng`` from ``self.seed``; call :meth:`_init_rng` in ``__init__``."""

    def _init_rng(self, seed: int | np.random.Generator | None) -> None:
        self.seed = seed
        self._rng: np.random.Generator | None = seed if isinstance(seed, np.random.Generator) else None
        self._rng_owner: object = None

    @property
    def rng(self) -> np.random.Generator:
        """The sampler's generator, (re)made once per process and ``DataLoader`` worker."""
        if isinstance(self.seed, np.random.Generator):
            return self.seed
        info = torch.utils.data.get_worker_info()
        owner = (os.getpid(), None if info is None else info.id)
        if self._rng is None or self._rng_owner != owner:
            if self.seed is None:
                self._rng = np.random.default_rng(torch.initial_seed())  # a worker's: base_seed + id
            else:
                self._rng = np.random.default_rng(self.seed if info is None else [self.seed, info.id])
            self._rng_owner = owner
        return self._rng


__all__ = ["WorkerSeeded"]
