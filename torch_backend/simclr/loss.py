"""NT-Xent for PyTorch: the shared :func:`tenfold.torch_backend.losses.nt_xent` and a module around it.

Paper: Chen et al., ICML 2020, Eq. (1). Official code: google-research/simclr
``objective.py``. Math, reductions and the global-batch semantics:
:mod:`tenfold.spec.simclr.loss`.

Data-parallel use (one process per device, ``torch.distributed`` initialised,
the model wrapped in ``DistributedDataParallel``)::

    loss_fn = NTXentLoss(gather_distributed=True)
    loss = loss_fn(model(view1), model(view2))     # this process's share of the global loss
    loss.backward()                                 # DDP averages the gradients: the global loss's gradient

Differences from lightly's ``NTXentLoss``: the official reduction by default
(``reduction="paper"`` gives lightly's value), the self logit masked by
``-1e9`` instead of removed (identical values), no memory bank.
"""

from __future__ import annotations

import torch
from torch import nn

from tenfold.spec.simclr import loss as spec

from ..distributed import gather_with_grad
from ..losses import nt_xent


class NTXentLoss(nn.Module):
    """NT-Xent as a module: ``loss_fn(z1, z2)``.

    Args:
        temperature, reduction, normalize: Override the fields of ``config``.
        config: A :class:`~tenfold.spec.simclr.loss.NTXentConfig` (official when None).
        gather_distributed: Negatives from every process (see :func:`tenfold.torch_backend.losses.nt_xent`).
        group: The process group.
    """

    def __init__(self, temperature: float | None = None, reduction: str | None = None, *,
                 normalize: bool | None = None, config: spec.NTXentConfig | None = None,
                 gather_distributed: bool = False, group=None) -> None:
        super().__init__()
        self.config = spec.resolve(config, temperature, reduction, normalize, "NTXentLoss")
        self.gather_distributed = gather_distributed
        self.group = group

    def forward(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        return nt_xent(z1, z2, config=self.config, gather_distributed=self.gather_distributed, group=self.group)

    def extra_repr(self) -> str:
        c = self.config
        return (f"temperature={c.temperature}, reduction={c.reduction!r}, normalize={c.normalize}, "
                f"gather_distributed={self.gather_distributed}")


__all__ = ["NTXentLoss", "gather_with_grad", "nt_xent"]
