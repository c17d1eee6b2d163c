"""Losses shared by several methods, for PyTorch (soft-target cross-entropy, NT-Xent, JSD, GAN losses).

Each loss matches :mod:`tenfold.numpy_ref.losses` through conformance.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tenfold.spec.crgan.losses import check_logits, check_loss
from tenfold.spec.errors import ShapeError, TenfoldError, expected
from tenfold.spec.simclr import loss as ntx

from ._tensors import as_tensor, dtype_name
from .distributed import gather_with_grad, world


def soft_target_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy against soft targets, ``-sum_k t_k log_softmax(z)_k``.

    For CutMix targets it equals the official ``lam * CE(z, y) + (1 - lam) * CE(z, y_j)``.

    Args:
        logits: (B, K).
        targets: (B, K) soft targets (rows summing to 1).
        reduction: ``"mean"`` (over the batch), ``"sum"`` or ``"none"``.
    """
    z = as_tensor("soft_target_cross_entropy", logits)
    t = as_tensor("soft_target_cross_entropy", targets)
    if z.ndim != 2 or z.shape != t.shape:
        raise ShapeError(expected("soft_target_cross_entropy", "logits and targets of one shape (B, K)",
                                  f"{tuple(z.shape)} and {tuple(t.shape)}"))
    loss = -(t.to(z.dtype) * torch.log_softmax(z, dim=-1)).sum(dim=-1)  # (B,)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise TenfoldError(expected("soft_target_cross_entropy", "reduction 'mean', 'sum' or 'none'", repr(reduction)))


def jsd_consistency(logits_clean: torch.Tensor, logits_aug1: torch.Tensor, logits_aug2: torch.Tensor, *,
                    weight: float = 12.0, clamp: tuple[float, float] = (1e-7, 1.0)) -> torch.Tensor:
    """AugMix's Jensen-Shannon consistency loss, the official form (a scalar).

    ``weight * (KL(p_c || M) + KL(p_1 || M) + KL(p_2 || M)) / 3`` with
    ``M = clamp((p_c + p_1 + p_2) / 3, *clamp)`` and ``KL(p || M) = sum p (log p - log M) / B``,
    as google-research/augmix ``cifar.py`` computes it with
    ``F.kl_div(log M, p, reduction="batchmean")``. Gradients flow through ``M``
    as in the official code. ``log p`` is a log-softmax, so a probability that
    underflows to 0 contributes 0 to the value and the gradient (the official
    ``F.kl_div`` on a softmax gives a NaN gradient there).

    Args:
        logits_clean, logits_aug1, logits_aug2: (B, K) each.
        weight: The official 12 (``tenfold.spec.augmix.JSD_WEIGHT``).
        clamp: The official ``(1e-7, 1)`` (``tenfold.spec.augmix.JSD_CLAMP``).
    """
    zs = [as_tensor("jsd_consistency", z) for z in (logits_clean, logits_aug1, logits_aug2)]
    if zs[0].ndim != 2 or any(z.shape != zs[0].shape for z in zs):
        raise ShapeError(expected("jsd_consistency", "three logits tensors of one shape (B, K)",
                                  ", ".join(str(tuple(z.shape)) for z in zs)))
    logp = [torch.log_softmax(z, dim=-1) for z in zs]  # (B, K) each
    p = [v.exp() for v in logp]
    log_m = torch.clamp((p[0] + p[1] + p[2]) / 3.0, clamp[0], clamp[1]).log()
    b = zs[0].shape[0]
    kl = sum((pv * (lv - log_m)).sum() / b for pv, lv in zip(p, logp, strict=True))
    return weight * kl / 3.0


class JSDLoss(torch.nn.Module):
    """The AugMix Jensen-Shannon consistency loss as a module (see :func:`jsd_consistency`).

    Paper: Hendrycks et al., ICLR 2020; official code: google-research/augmix ``cifar.py``.
    ``loss(z_clean, z_aug1, z_aug2)``, or ``loss(z)`` with the three views
    concatenated along the batch (``torch.cat([clean, aug1, aug2])``, as the
    official training loop feeds them), split in three.
    """

    def __init__(self, weight: float = 12.0, clamp: tuple[float, float] = (1e-7, 1.0)) -> None:
        super().__init__()
        self.weight = float(weight)
        self.clamp = (float(clamp[0]), float(clamp[1]))

    def forward(self, *logits: torch.Tensor) -> torch.Tensor:
        if len(logits) == 1:
            z = as_tensor("JSDLoss", logits[0])
            if z.ndim != 2 or z.shape[0] % 3:
                raise ShapeError(expected("JSDLoss", "(3B, K) logits (clean, aug1, aug2 concatenated)",
                                          f"shape {tuple(z.shape)}"))
            logits = tuple(z.chunk(3, dim=0))
        if len(logits) != 3:
            raise TenfoldError(expected("JSDLoss", "three logits tensors or one (3B, K)", f"{len(logits)} tensors"))
        return jsd_consistency(*logits, weight=self.weight, clamp=self.clamp)

    def extra_repr(self) -> str:
        return f"weight={self.weight}, clamp={self.clamp}"


def _unit_rows(z: torch.Tensor, cfg: ntx.NTXentConfig) -> torch.Tensor:
    """``z / sqrt(max(||z||^2, eps))`` (tf.math.l2_normalize), differentiable."""
    if not cfg.normalize:
        return z
    return z * torch.rsqrt(torch.clamp_min((z * z).sum(dim=1, keepdim=True), cfg.eps))


class _LocalNTXent(torch.autograd.Function):
    """NT-Xent on unit rows ``h`` (2N, d): one GEMM and one softmax pass forward, two GEMMs backward.

    Forward: ``logits = (h / tau) h^T`` (1/tau folded into the small operand),
    the self logit masked, the row maxima ``m`` (one pass, no exp), the row
    softmax ``P`` (one pass), and ``lse = m - log P[k, argmax_k]`` (the largest
    probability of a row is at least 1 / (2N - 1), so its log is exact to
    rounding: no separate log-sum-exp pass). ``P`` is kept for the backward,
    which, with ``pos`` an involution (``Y h = Y^T h = h[pos]``), is::

        dh = (c (P h - h[pos]) + P^T (c h) - (c h)[pos]) / tau

    so no ``G + G^T`` (a transposed pass over (2N)^2 values) is formed.
    """

    @staticmethod
    def forward(ctx, h: torch.Tensor, tau: float, reduction: str) -> torch.Tensor:
        two_n = h.shape[0]
        logits = torch.mm(h / tau, h.t())  # (2N, 2N)
        logits.diagonal().sub_(ntx.LARGE_NUM)  # masked after the division by tau, as official
        rows = torch.arange(two_n, device=h.device)
        pos = (rows + two_n // 2) % two_n
        top, arg = logits.max(dim=1)  # (2N,)
        p = torch.softmax(logits, dim=1)  # (2N, 2N)
        lse = top - torch.log(p[rows, arg])
        per_anchor = lse - logits[rows, pos]
        del logits
        ctx.save_for_backward(h, p)
        ctx.tau, ctx.reduction = tau, reduction
        if reduction == "none":
            return per_anchor
        return per_anchor.sum() * ntx.reduction_factor(reduction, two_n)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        h, p = ctx.saved_tensors
        two_n = h.shape[0]
        pos = (torch.arange(two_n, device=h.device) + two_n // 2) % two_n
        if torch.is_grad_enabled():  # create_graph=True: the same formula from differentiable ops on h
            eye = torch.eye(two_n, dtype=h.dtype, device=h.device)
            p = torch.softmax(torch.mm(h / ctx.tau, h.t()) - ntx.LARGE_NUM * eye, dim=1)
        if ctx.reduction == "none":
            ch = grad[:, None] * h  # (2N, d)
            dh = (torch.mm(p, h) - h[pos]) * grad[:, None] + torch.mm(p.t(), ch) - ch[pos]
            return dh / ctx.tau, None, None
        c = grad * ntx.reduction_factor(ctx.reduction, two_n)
        dh = torch.mm(p, h).addmm_(p.t(), h).sub_(h[pos], alpha=2.0)  # (P + P^T) h - 2 h[pos]
        return dh * (c / ctx.tau), None, None


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float | None = None, reduction: str | None = None, *,
            normalize: bool | None = None, config: ntx.NTXentConfig | None = None,
            gather_distributed: bool = False, group=None) -> torch.Tensor:
    """NT-Xent of SimCLR (Chen et al., ICML 2020, Eq. (1); official ``objective.py``).

    Args:
        z1, z2: (n, d) embeddings of the two views (row i of each a positive pair), any device.
        temperature, reduction, normalize: Override the fields of ``config`` (default
            :meth:`NTXentConfig.official`: tau 0.1, reduction ``"official"`` = 2x the paper's mean).
        config: A :class:`~tenfold.spec.simclr.loss.NTXentConfig`.
        gather_distributed: Score the local anchors against the embeddings of every
            process of ``group`` (torch.distributed must be initialised); gradients
            flow back to the process that produced each row (see the spec's
            global-batch semantics). The result is this process's share: the
            reduction over its own 2n anchors, so averaging over processes (as DDP
            does with gradients) gives the global loss.
        group: The process group (default: the world).

    Returns:
        A scalar, or the (2n,) per-anchor losses for ``reduction="none"``; float16 and
        bfloat16 inputs are computed and returned in float32.

    Raises:
        ShapeError, DTypeError, ConfigError: On bad shapes, dtypes or hyperparameters.
    """
    cfg = ntx.resolve(config, temperature, reduction, normalize)
    a, b = as_tensor("nt_xent", z1), as_tensor("nt_xent", z2)
    ntx.check_embeddings("nt_xent", tuple(a.shape), tuple(b.shape), dtype_name(a.dtype), dtype_name(b.dtype))
    if a.dtype in (torch.float16, torch.bfloat16):
        a, b = a.float(), b.float()
    h = _unit_rows(torch.cat([a, b]), cfg)  # (2n, d)
    rank, size = world(group) if gather_distributed else (0, 1)
    if size == 1:
        return _LocalNTXent.apply(h, cfg.temperature, cfg.reduction)
    n = a.shape[0]
    cols = torch.cat([gather_with_grad(h[:n], group), gather_with_grad(h[n:], group)])  # (2 W n, d)
    self_cols, pos_cols = (torch.tensor(v, device=h.device) for v in ntx.local_columns(rank, n, size))
    logits = torch.mm(h, cols.t()).div(cfg.temperature)  # (2n, 2 W n)
    logits = logits.index_put((torch.arange(2 * n, device=h.device), self_cols),
                              torch.tensor(-ntx.LARGE_NUM, dtype=logits.dtype, device=h.device), accumulate=True)
    per_anchor = torch.nn.functional.cross_entropy(logits, pos_cols, reduction="none")
    if cfg.reduction == "none":
        return per_anchor
    return per_anchor.sum() * ntx.reduction_factor(cfg.reduction, 2 * n)


def _gan_logits(where: str, logits: torch.Tensor) -> torch.Tensor:
    z = as_tensor(where, logits)
    check_logits(where, tuple(z.shape))
    return z.reshape(-1)


def gan_discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, kind: str = "ns") -> torch.Tensor:
    """The discriminator's GAN loss (:mod:`tenfold.spec.crgan.losses`): ``"ns"`` or ``"hinge"``, a 0-d tensor.

    ``"ns"`` is ``F.softplus`` (threshold 20: linear above, equal to the exact
    softplus to float64 precision there) on ``-r`` and ``f``.
    """
    where = "gan_discriminator_loss"
    check_loss(where, kind)
    r, f = _gan_logits(where, real_logits), _gan_logits(where, fake_logits)
    if kind == "ns":
        return F.softplus(-r).mean() + F.softplus(f).mean()
    return F.relu(1.0 - r).mean() + F.relu(1.0 + f).mean()


def gan_generator_loss(fake_logits: torch.Tensor, kind: str = "ns") -> torch.Tensor:
    """The generator's GAN loss: ``mean softplus(-f)`` (``"ns"``) or ``-mean f`` (``"hinge"``)."""
    where = "gan_generator_loss"
    check_loss(where, kind)
    f = _gan_logits(where, fake_logits)
    return F.softplus(-f).mean() if kind == "ns" else -f.mean()


__all__ = ["JSDLoss", "gan_discriminator_loss", "gan_generator_loss", "jsd_consistency", "nt_xent",
           "soft_target_cross_entropy"]
