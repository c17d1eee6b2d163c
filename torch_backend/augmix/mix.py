"""AugMix for PyTorch: batched chains and mix from a plan, and a transform in the torchvision v2 call style.

Paper: Hendrycks et al., ICLR 2020. Official code: google-research/augmix
(``cifar.py`` ``aug()``). The math, the plan and the draw order are in
:mod:`tenfold.spec.augmix`.

Batching. The B images and their ``k`` chains are held in one uint8 buffer
(B, k + 1, C, H, W): slot 0 the image, slots 1..k the chains. At each depth
step, the chains are grouped by the op they apply (at most 13 groups, never a
loop over images): a group is gathered, transformed by
:mod:`~tenfold.torch_backend.augmix.ops` with one argument per image, and
written back. The mix is then one conversion of the buffer to float and one
batched matrix product with the weights ``[(1 - mw), mw w_1, ..., mw w_k]``.
Everything runs on the images' device.

Differences from the official implementation: the batch is processed at once
(the official code augments one PIL image at a time in the data loader); the
results are the same pixels (see the spec for the float32 weights).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.utils.data
from torch import nn

from tenfold.spec import augmix as spec
from tenfold.spec.augmix import ops as O
from tenfold.spec.errors import TenfoldError, expected

from .._seeding import WorkerSeeded
from .._tensors import as_tensor, dtype_name
from . import ops

_TORCH_DTYPES = {"uint8": torch.uint8, "float16": torch.float16, "bfloat16": torch.bfloat16,
                 "float32": torch.float32, "float64": torch.float64}


#: On the CPU, groups are processed in blocks whose float64 temporaries stay
#: under this size: glibc then recycles their memory instead of mapping fresh
#: pages for every temporary (page faults cost ~10x the arithmetic on large
#: tensors). On other devices the caching allocator does that and a group
#: goes at once.
CPU_CHUNK_BYTES = 2 << 20


def _blocks(n: int, bytes_per_item: int, device: torch.device) -> list[slice]:
    """Slices of ``range(n)``: one on accelerators, blocks of at most :data:`CPU_CHUNK_BYTES` on the CPU."""
    step = n if device.type != "cpu" else max(1, CPU_CHUNK_BYTES // max(1, bytes_per_item))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def quantize(x: torch.Tensor) -> torch.Tensor:
    """uint8 pixels: uint8 as is; floats in [0, 1] as ``uint8(clip(x * 255, 0, 255))`` in their own dtype."""
    if x.dtype == torch.uint8:
        return x
    return (x * 255).clamp_(0, 255).to(torch.uint8)


def _check(where: str, images: object, plan: spec.AugMixPlan) -> torch.Tensor:
    if not isinstance(plan, spec.AugMixPlan):
        raise TenfoldError(expected(where, "an AugMixPlan", type(plan).__name__))
    x = as_tensor(where, images)
    spec.check_images(where, tuple(x.shape), dtype_name(x.dtype), plan)
    return x


def _run_chains(u8: torch.Tensor, plan: spec.AugMixPlan) -> torch.Tensor:
    """The (B, k + 1, C, H, W) uint8 buffer: slot 0 the image, then each chain's result."""
    b, c, h, w = u8.shape
    k = plan.num_chains
    arrays = plan.arrays()
    buf = u8.unsqueeze(1).repeat(1, k + 1, 1, 1, 1)  # (B, k+1, C, H, W)
    state = buf.view(b * (k + 1), c, h, w)
    op_id = arrays["op_id"].reshape(b * k, -1)  # (B k, D)
    arg = arrays["arg"].reshape(b * k, -1)
    coeffs = arrays["coeffs"].reshape(b * k, -1, 6)
    slot = (np.arange(b * k) // k) * (k + 1) + 1 + np.arange(b * k) % k  # chain -> row of state
    for step in range(op_id.shape[1]):
        ids = op_id[:, step]
        for op_index in np.unique(ids[ids >= 0]):
            members = np.flatnonzero(ids == op_index)
            op = O.OPS[op_index]
            for block in _blocks(len(members), 8 * c * h * w, u8.device):
                part = members[block]
                rows = torch.as_tensor(slot[part], device=u8.device)
                group = state.index_select(0, rows)  # (n, C, H, W)
                a = torch.as_tensor(arg[part, step])
                cf = torch.as_tensor(coeffs[part, step]) if op in O.AFFINE_OPS else None
                state.index_copy_(0, rows, ops.apply_group(op, group, a, cf))
    return buf


def augmix_chains(images: torch.Tensor, plan: spec.AugMixPlan) -> torch.Tensor:
    """Every chain's uint8 result: (B, k, C, H, W) on the images' device.

    Args:
        images: (B, C, H, W), C in {1, 3}: uint8, or floats in [0, 1] (quantised first).
        plan: The plan (same B, H, W).
    """
    x = _check("augmix.chains", images, plan)
    return _run_chains(quantize(x.detach()), plan)[:, 1:]


def augmix_apply(images: torch.Tensor, plan: spec.AugMixPlan, *, out_dtype: torch.dtype | None = None,
                 return_chains: bool = False):
    """Execute an AugMix plan on an NCHW batch: ``(1 - mw) x + mw sum_j w_j chain_j`` in [0, 1].

    Args:
        images: (B, C, H, W), C in {1, 3}, any device: uint8 pixels or floats in [0, 1].
        plan: From :func:`tenfold.spec.augmix.sample` (same B, H, W).
        out_dtype: None (the images' float dtype; float32 for uint8), a float
            dtype, or ``torch.uint8`` for ``round(255 * mix)``.
        return_chains: Also return the chains (B, k, C, H, W) uint8.

    Returns:
        The mixed batch (B, C, H, W) on the images' device (and the chains).
        The mix is computed in float32 (float64 for float64 images or output).

    Raises:
        TenfoldError: On a bad batch, plan or out_dtype.
    """
    where = "augmix"
    x = _check(where, images, plan).detach()
    out_name = spec.out_dtype_name(where, dtype_name(x.dtype),
                                   None if out_dtype is None else dtype_name(out_dtype))
    b, c, h, w = x.shape
    k = plan.num_chains
    buf = _run_chains(quantize(x), plan)  # (B, k+1, C, H, W)
    compute = torch.float64 if torch.float64 in (x.dtype, _TORCH_DTYPES[out_name]) else torch.float32
    scale = 255.0 if out_name == "uint8" else 1.0
    mw = torch.as_tensor(plan.mix_weight, dtype=torch.float64)  # (B,)
    weights = torch.as_tensor(plan.chain_weights, dtype=torch.float64) * mw[:, None]  # (B, k)
    if x.dtype == torch.uint8:  # the image is slot 0 of the buffer
        coef = torch.cat([(1.0 - mw)[:, None], weights], dim=1) * (scale / 255.0)  # (B, k+1)
        src = buf.view(b, k + 1, c * h * w)
    else:
        coef = weights * (scale / 255.0)
        src = buf[:, 1:].reshape(b, k, c * h * w)
    coef = coef.to(device=x.device, dtype=compute).unsqueeze(1)  # (B, 1, k[+1])
    mixed = torch.empty(b, c * h * w, dtype=compute, device=x.device)
    per_image = src.shape[1] * c * h * w * torch.empty((), dtype=compute).element_size()
    for part in _blocks(b, per_image, x.device):
        torch.bmm(coef[part], src[part].to(compute), out=mixed[part].unsqueeze(1))
    mixed = mixed.view(b, c, h, w)
    if x.dtype != torch.uint8:
        skip = ((1.0 - mw) * scale).to(device=x.device, dtype=compute).view(b, 1, 1, 1)
        mixed.addcmul_(skip, x.to(compute))
    if out_name == "uint8":
        mixed = mixed.round_().clamp_(0, 255)
    out = mixed.to(_TORCH_DTYPES[out_name])
    return (out, buf[:, 1:]) if return_chains else out


def apply_op(op: str, images: torch.Tensor, args: torch.Tensor) -> torch.Tensor:
    """One op on every image of a uint8 batch (B, C, H, W), image i with ``args[i]`` (for per-op conformance)."""
    where = f"augmix.apply_op({op!r})"
    if op not in O.OP_INFO:
        raise TenfoldError(expected(where, "an op among " + ", ".join(O.OPS), repr(op)))
    x = as_tensor(where, images)
    b = spec.check_images(where, tuple(x.shape), dtype_name(x.dtype), None)[0]
    if x.dtype != torch.uint8:
        raise TenfoldError(expected(where, "uint8 images", f"dtype {dtype_name(x.dtype)}"))
    a = torch.as_tensor(args, dtype=torch.float64).reshape(-1).cpu()
    if a.shape != (b,):
        raise TenfoldError(expected(where, f"{b} arguments (one per image)", f"shape {tuple(a.shape)}"))
    for v in a.tolist():
        O.check_argument(where, op, float(v))
    return ops.apply_group(op, x, a)


class AugMix(WorkerSeeded, nn.Module):
    """AugMix on images, in the call style of ``torchvision.transforms.v2.AugMix``.

    Paper: Hendrycks et al., ICLR 2020. Official code: google-research/augmix.

    ``augmix(images)`` takes one image (C, H, W) or a batch (B, C, H, W),
    uint8 or floats in [0, 1], on any device, and returns the mix in [0, 1]
    (float32 for uint8 input; see ``out_dtype``). Further inputs (labels...)
    pass through unchanged: ``augmix(images, labels) -> (mixed, labels)``.
    With ``jsd=True`` the images become the official JSD triple
    ``(clean, augmix1, augmix2)`` (two plans per image, drawn in the official
    order). The plan of the last call is kept in :attr:`last_plan`.

    Args:
        severity, width, depth, alpha, all_ops, magnitudes, m_weights, image_size: See
            :class:`~tenfold.spec.augmix.AugMixConfig` (defaults: the official CIFAR recipe).
        config: A whole config instead of the fields.
        seed: Seed of the sampler (a ``numpy.random.Generator``). None: seeded
            from ``torch.initial_seed()``. In ``DataLoader`` workers the
            generator is re-seeded per worker (``[seed, worker id]``, or the
            worker's torch seed), so workers do not repeat each other's draws.
            A ``numpy.random.Generator`` is used as is.
        out_dtype: See :func:`augmix_apply`.
        jsd: Return ``(clean, augmix1, augmix2)``.

    Differences from ``torchvision.transforms.v2.AugMix``: the official ops,
    magnitudes and defaults (``AugMixConfig.torchvision()`` for torchvision's
    sampling conventions), every image of a batch with its own plan, and the
    mix returned in [0, 1] (torchvision casts it back to uint8 by truncation;
    ``out_dtype=torch.uint8`` rounds).
    """

    def __init__(self, severity: int = 3, width: int = 3, depth: int = -1, alpha: float = 1.0,
                 all_ops: bool = False, magnitudes: str = "continuous", m_weights: str = "mix",
                 image_size: int | None = None, *, config: spec.AugMixConfig | None = None,
                 seed: int | np.random.Generator | None = None, out_dtype: torch.dtype | None = None,
                 jsd: bool = False) -> None:
        super().__init__()
        self.config = config if config is not None else spec.AugMixConfig(
            severity=severity, width=width, depth=depth, alpha=alpha, all_ops=all_ops, magnitudes=magnitudes,
            m_weights=m_weights, image_size=image_size)
        self._init_rng(seed)
        self.out_dtype = out_dtype
        self.jsd = jsd
        self.last_plan: spec.AugMixPlan | None = None

    def _augment(self, images: torch.Tensor):
        x = as_tensor("AugMix", images)
        single = x.ndim == 3
        batch = x.unsqueeze(0) if single else x
        b, _, h, w = spec.check_images("AugMix", tuple(batch.shape), dtype_name(batch.dtype), None)
        if self.jsd:  # per image two aug() calls, as the official AugMixDataset: plan rows 2i and 2i + 1
            plan = spec.sample(self.rng, 2 * b, h, w, self.config)
            mixed = augmix_apply(batch.repeat_interleave(2, dim=0), plan, out_dtype=self.out_dtype)
            views = (_unit(batch, mixed.dtype), mixed[0::2], mixed[1::2])
        else:
            plan = spec.sample(self.rng, b, h, w, self.config)
            views = (augmix_apply(batch, plan, out_dtype=self.out_dtype),)
        self.last_plan = plan
        views = tuple(v[0] if single else v for v in views)
        return views if self.jsd else views[0]

    def forward(self, *inputs):
        if len(inputs) == 1 and isinstance(inputs[0], (tuple, list)):
            inputs = tuple(inputs[0])
        if not inputs:
            raise TenfoldError(expected("AugMix", "images (and optional pass-through inputs)", "no input"))
        out = self._augment(inputs[0])
        return out if len(inputs) == 1 else (out, *inputs[1:])

    def extra_repr(self) -> str:
        c = self.config
        return (f"severity={c.severity}, width={c.width}, depth={c.depth}, alpha={c.alpha}, all_ops={c.all_ops}, "
                f"magnitudes={c.magnitudes!r}, m_weights={c.m_weights!r}, jsd={self.jsd}")


def _unit(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The clean view in the mix's convention: [0, 1] floats, or uint8 pixels."""
    if dtype == torch.uint8:
        return x if x.dtype == torch.uint8 else (x.to(torch.float32) * 255).round_().clamp_(0, 255).to(torch.uint8)
    return x.to(dtype) / 255 if x.dtype == torch.uint8 else x.to(dtype)


__all__ = ["AugMix", "apply_op", "augmix_apply", "augmix_chains", "quantize"]
