"""The lean eval path of the PyTorch ``SAM``: gamma, weights and aggregation one kernel row at a time.

Used by :class:`tenfold.torch_backend.san.ops.SAM` in eval mode without autograd (see its module docstring):
BatchNorms act as per-channel affine maps, so the ``k^2``-wide relation tensor and the
``(N, C_w, k^2, H*W)`` weights of a layer never exist; each kernel row's ``k`` taps are built from
views of the padded maps, pushed through gamma and accumulated into the output
(:class:`~tenfold.torch_backend.san.ops.RowAccumulator`). In-place ``out=`` operations throughout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from .ops import RowAccumulator, _affine, pad

if TYPE_CHECKING:
    from .ops import SAM


def gamma_tail(sam: SAM) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """gamma after its first BatchNorm+ReLU: conv 2 with BatchNorm 3 folded in, and conv 5."""
    s3, t3 = _affine(sam.conv_w[3])
    w2 = sam.conv_w[2].weight.flatten(1) * s3[:, None]  # (hidden, C_in)
    return w2, t3, sam.conv_w[5].weight.flatten(1), sam.conv_w[5].bias


def pairwise(sam: SAM, x: torch.Tensor, x1: torch.Tensor, x2: torch.Tensor, acc: RowAccumulator) -> None:
    """gamma, softmax and aggregation one kernel row at a time (BatchNorms as affine maps).

    The softmax over the ``k^2`` taps is computed online (a running maximum and sum per weight
    channel and pixel, earlier rows rescaled when the maximum grows), so neither the ``k^2``-wide
    relation nor the ``(N, C_w, k^2, H*W)`` weights exist; the output is divided by the sum at the end.
    """
    c = sam.config
    n, r, h, w = x1.shape
    k, L, d, cw = c.kernel_size, h * w, c.delta_planes, c.weight_planes
    s0, t0 = _affine(sam.conv_w[0])
    w2, b2, w5, b5 = gamma_tail(sam)
    pos_term = None
    if c.uses_position:  # the 2 position channels: BN0 + ReLU, then their share of conv 2 (batch-free)
        z = torch.relu(sam._position(x)[0] * s0[d:, None, None] + t0[d:, None, None])  # (2, k^2, L)
        pos_term = (w2[:, d:] @ z.reshape(2, -1)).view(-1, k * k, L)  # (hidden, k^2, L)
    x2p = pad(x2, k // 2, c.padding)  # (N, r, H + 2p, W + 2p)
    fused = c.rel in ("subtraction", "summation")
    if fused:  # BN0(x1 -+ x2_j) = (s x1 + t) -+ s x2_j
        base = x1 * s0[:d, None, None] + t0[:d, None, None]  # (N, r, H, W)
        x2p = x2p * s0[:d, None, None]
    buf = x1.new_empty((n, r, k, h, w))
    top = total = None
    for i in range(k):
        if fused:
            op = torch.sub if c.rel == "subtraction" else torch.add
            for j in range(k):
                op(base, x2p[:, :, i:i + h, j:j + w], out=buf[:, :, j])
            z = buf.relu_().view(n, r, k * L)
        else:
            rows = torch.stack([x2p[:, :, i:i + h, j:j + w] for j in range(k)], 2)  # (N, r, k, H, W)
            delta = _pair_delta(x1.unsqueeze(2), rows, c.rel)  # (N, d, k, H, W)
            z = torch.relu_(delta * s0[:d, None, None, None] + t0[:d, None, None, None]).view(n, d, k * L)
        hid = torch.matmul(w2[:, :d], z)  # (N, hidden, k L)
        if pos_term is not None:
            hid += pos_term[:, i * k:(i + 1) * k].reshape(-1, k * L)
        hid = torch.relu_(hid.add_(b2[:, None]))
        e = torch.baddbmm(b5[:, None], w5.expand(n, -1, -1), hid).view(n, cw, k, L)  # logits of row i
        row_max = e.amax(dim=2)  # (N, C_w, L)
        if top is None:
            top = row_max
        else:  # a larger maximum: rescale what is accumulated so far
            new_top = torch.maximum(top, row_max)
            alpha = torch.exp(top - new_top)
            acc.valid().mul_(alpha.view(n, 1, cw, h, w))
            total.mul_(alpha)
            top = new_top
        e = e.sub_(top.unsqueeze(2)).exp_()
        total = e.sum(dim=2) if total is None else total.add_(e.sum(dim=2))
        acc.add_row(e, i)
    acc.valid().div_(total.view(n, 1, cw, h, w))


def patchwise_concatenation(sam: SAM, x1: torch.Tensor, x2: torch.Tensor, acc: RowAccumulator) -> None:
    """The official patchwise gamma and aggregation one kernel row at a time (BatchNorms as affine maps)."""
    c = sam.config
    n, r, h, w = x1.shape
    k, L, cw = c.kernel_size, h * w, c.weight_planes
    s0, t0 = _affine(sam.conv_w[0])
    w2, b2, w5, b5 = gamma_tail(sam)
    hid = torch.relu_(x1.reshape(n, r, L) * s0[:r, None] + t0[:r, None])  # BN0 + ReLU of the x1 channels
    hid = torch.baddbmm(b2[:, None], w2[:, :r].expand(n, -1, -1), hid)  # (N, C_w, L)
    s2 = s0[r:].view(r, k, k, 1, 1)  # unfold channel c k^2 + kh k + kw
    t2 = t0[r:].view(r, k, k, 1, 1)
    w2u = w2[:, r:].reshape(-1, r, k, k)  # (C_w, r, k, k)
    x2p = pad(x2, k // 2, c.padding)
    buf = x1.new_empty((n, r, k, h, w))
    for i in range(k):
        for j in range(k):
            torch.addcmul(t2[:, i, j], s2[:, i, j], x2p[:, :, i:i + h, j:j + w], out=buf[:, :, j])
        buf.relu_()
        hid.baddbmm_(w2u[:, :, i].reshape(1, -1, r * k).expand(n, -1, -1), buf.view(n, r * k, L))
    hid = torch.relu_(hid)
    w5r = w5.view(cw, k, k, -1)  # output channel c_w k^2 + kh k + kw
    b5r = b5.view(cw, k, k)
    for i in range(k):  # conv 5 restricted to the taps of row i, then their aggregation
        rows = torch.baddbmm(b5r[:, i].reshape(-1, 1), w5r[:, i].reshape(cw * k, -1).expand(n, -1, -1), hid)
        acc.add_row(rows.view(n, cw, k, L), i)  # (N, C_w, k, L)


def _pair_delta(xi: torch.Tensor, xj: torch.Tensor, rel: str) -> torch.Tensor:
    """Pairwise relations on ``(N, r, 1, H, W)`` and ``(N, r, k, H, W)`` (the lean path's kernel rows)."""
    if rel == "subtraction":
        return xi - xj
    if rel == "summation":
        return xi + xj
    if rel == "hadamard":
        return xi * xj
    if rel == "concatenation":
        return torch.cat([xi.expand_as(xj), xj], 1)
    return (xi * xj).sum(1, keepdim=True)


__all__ = ["gamma_tail", "pairwise", "patchwise_concatenation"]
