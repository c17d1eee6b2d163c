"""Collectives with gradients for data-parallel losses (NT-Xent's global batch; global BatchNorm could use it too).

Built on ``torch.distributed`` (any backend: gloo, NCCL, ...); no transport of
its own. :func:`gather_with_grad` concatenates every process's tensor along
axis 0 and is differentiable: its backward sums, over all processes, the
gradient arriving at the gathered tensor (a reduce-scatter on NCCL, an
all-reduce followed by taking the own block elsewhere, since gloo has no
reduce-scatter) and hands each process the block it contributed. So a loss
computed on the gathered tensor sends gradients back to the process that
produced each row (SimCLR's ``tpu_cross_replica_concat`` followed by TF's
gradient of ``cross_replica_sum``).
"""

from __future__ import annotations

import torch
import torch.distributed as dist

from tenfold.spec.errors import ShapeError, expected


def world(group=None) -> tuple[int, int]:
    """``(rank, world_size)`` of this process in ``group``; ``(0, 1)`` when torch.distributed is not initialised."""
    if not (dist.is_available() and dist.is_initialized()):
        return 0, 1
    return dist.get_rank(group), dist.get_world_size(group)


class _GatherWithGrad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, group) -> torch.Tensor:
        rank, size = world(group)
        ctx.group, ctx.rank, ctx.n = group, rank, x.shape[0]
        x = x.contiguous()
        sizes = [torch.zeros(1, dtype=torch.int64, device=x.device) for _ in range(size)]
        dist.all_gather(sizes, torch.tensor([x.shape[0]], dtype=torch.int64, device=x.device), group=group)
        if any(int(s) != x.shape[0] for s in sizes):
            raise ShapeError(expected("gather_with_grad", "the same number of rows on every process",
                                      [int(s) for s in sizes]))
        parts = [torch.empty_like(x) for _ in range(size)]
        dist.all_gather(parts, x, group=group)
        return torch.cat(parts)  # (size * n, ...)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        grad = grad.contiguous()
        n = ctx.n
        if dist.get_backend(ctx.group) == "nccl":
            out = torch.empty((n, *grad.shape[1:]), dtype=grad.dtype, device=grad.device)
            dist.reduce_scatter_tensor(out, grad, op=dist.ReduceOp.SUM, group=ctx.group)
            return out, None
        total = grad.clone()
        dist.all_reduce(total, op=dist.ReduceOp.SUM, group=ctx.group)
        return total[ctx.rank * n:(ctx.rank + 1) * n], None


def gather_with_grad(x: torch.Tensor, group=None) -> torch.Tensor:
    """Concatenate ``x`` (n, ...) from every process of ``group`` along axis 0, with gradients flowing back.

    Every process must call it (it is a collective) with the same ``n``.
    Without an initialised process group (or with one process) ``x`` is returned as is.

    Raises:
        ShapeError: If the processes hold different numbers of rows.
    """
    _, size = world(group)
    if size == 1:
        return x
    return _GatherWithGrad.apply(x, group)


__all__ = ["gather_with_grad", "world"]
