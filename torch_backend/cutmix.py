"""CutMix for PyTorch: a batch function, a transform in the style of ``torchvision.transforms.v2``, a loss.

Paper: Yun et al., ICCV 2019, Sec. 3.1. Official code: clovaai/CutMix-PyTorch
(``train.py``). The math, the plan and the draw order are in :mod:`tenfold.spec.cutmix`.

``cutmix_apply(images, labels, plan, num_classes)`` executes a plan on an NCHW
batch on any device; :class:`CutMix` draws the plan itself (a NumPy
generator) and is used like ``torchvision.transforms.v2.CutMix``::

    cutmix = CutMix(num_classes=1000)                      # the official recipe
    loader = DataLoader(ds, batch_size=128, collate_fn=lambda b: cutmix(*default_collate(b)))
    for images, targets in loader:
        loss = soft_target_cross_entropy(model(images), targets)

Speed. One box per batch (the official mode) is a copy of the batch plus a
paste of the box: the copy goes through NumPy on the CPU, whose allocator asks
the kernel for huge pages (``madvise``), which makes a fresh 77 MB buffer about
half as costly to fault in as ``Tensor.clone``; the paste is one strided slice
copy per sample there, and one indexed copy on other devices. With
``inplace=True`` only the box moves (plus a temporary copy of it). One box per
sample (``elem``) is one gather of the partners and one masked select, with no
per-sample Python loop.

Differences from the official implementation: none in the math (see the spec
for presets of the official, paper, torchvision and timm conventions). The
official code mixes two cross-entropies with the scalar lambda; here the
equivalent soft target is returned.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from tenfold.spec import cutmix as spec
from tenfold.spec.errors import ShapeError, TenfoldError, expected

from ._tensors import as_tensor, dtype_name

_NUMPY_OK = {torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.float16, torch.float32,
             torch.float64}


def _soft_labels(where: str, labels: object, batch_size: int, num_classes: int, dtype: torch.dtype | None,
                 device: torch.device) -> torch.Tensor:
    """Validated labels as float soft rows (B, K) of ``dtype`` on ``device``."""
    num_classes = spec.check_num_classes(where, num_classes)
    y = as_tensor(where, labels)
    hard = spec.check_labels(where, tuple(y.shape), dtype_name(y.dtype), batch_size, num_classes)
    if hard:
        lo, hi = torch.aminmax(y)  # one host sync: the price of a clear error
        spec.check_label_range(where, int(lo), int(hi), num_classes)
        y = torch.nn.functional.one_hot(y.to(device=device, dtype=torch.int64), num_classes)
        return y.to(dtype or torch.float32)
    return y.to(device=device, dtype=dtype or y.dtype)


def _fresh_copy(x: torch.Tensor) -> torch.Tensor:
    """A copy of ``x``; on the CPU through NumPy (huge-page-advised allocation, see module doc)."""
    if x.device.type == "cpu" and x.dtype in _NUMPY_OK and x.is_contiguous():
        return torch.from_numpy(x.detach().numpy().copy())
    return x.detach().clone(memory_format=torch.contiguous_format)


def _paste_shared(out: torch.Tensor, src: torch.Tensor, box: tuple[int, int, int, int],
                  partner: Sequence[int], pairing: str | None) -> None:
    """``out[:, :, box] = src[partner, :, box]`` for one box shared by the batch (``out`` is not ``src``)."""
    y1, y2, x1, x2 = box
    b = out.shape[0]
    if y1 == y2 or x1 == x2:
        return
    if out.device.type == "cpu" and out.dtype in _NUMPY_OK:
        on, sn = out.numpy(), src.detach().numpy()
        for i, j in enumerate(partner):  # B strided block copies, no temporary (one shared box only)
            on[i, :, y1:y2, x1:x2] = sn[j, :, y1:y2, x1:x2]
        return
    region = src[:, :, y1:y2, x1:x2]  # (B, C, h, w) view
    if pairing == "roll" or tuple(partner) == tuple((i - 1) % b for i in range(b)):
        out[1:, :, y1:y2, x1:x2] = region[:-1]  # roll(1, 0) as two slice copies
        out[:1, :, y1:y2, x1:x2] = region[-1:]
        return
    index = torch.as_tensor(partner, dtype=torch.int64, device=out.device)
    out[:, :, y1:y2, x1:x2] = region.index_select(0, index)  # (B, C, h, w), the one temporary


def _paste_shared_inplace(x: torch.Tensor, box: tuple[int, int, int, int], partner: Sequence[int]) -> None:
    """``x[:, :, box] = x[partner, :, box]`` through one temporary copy of the box."""
    y1, y2, x1, x2 = box
    if y1 == y2 or x1 == x2:
        return
    index = torch.as_tensor(partner, dtype=torch.int64, device=x.device)
    patch = x[:, :, y1:y2, x1:x2].index_select(0, index)  # (B, C, h, w) taken before writing
    x[:, :, y1:y2, x1:x2] = patch


def _gather(x: torch.Tensor, partner: Sequence[int]) -> torch.Tensor:
    """``x[partner]`` as a fresh tensor (on the CPU through NumPy, see the module doc)."""
    if x.device.type == "cpu" and x.dtype in _NUMPY_OK:
        return torch.from_numpy(np.take(x.detach().numpy(), np.asarray(partner, dtype=np.int64), axis=0))
    return x.detach().index_select(0, torch.as_tensor(partner, dtype=torch.int64, device=x.device))


def _paste_elem(x: torch.Tensor, plan: spec.CutMixPlan, inplace: bool) -> torch.Tensor:
    """One box per sample: ``where(inside box i, x[partner], x)``, with no Python loop over samples."""
    dev = x.device
    _, _, h, w = x.shape
    boxes = torch.as_tensor(plan.boxes, dtype=torch.int64, device=dev)  # (B, 4)
    applied = torch.as_tensor(plan.applied, dtype=torch.bool, device=dev)  # (B,)
    rows = torch.arange(h, device=dev)
    cols = torch.arange(w, device=dev)
    in_y = (rows >= boxes[:, 0:1]) & (rows < boxes[:, 1:2]) & applied[:, None]  # (B, H)
    in_x = (cols >= boxes[:, 2:3]) & (cols < boxes[:, 3:4])  # (B, W)
    mask = (in_y[:, :, None] & in_x[:, None, :])[:, None]  # (B, 1, H, W)
    gathered = _gather(x, plan.partner)  # (B, C, H, W), read before any write
    out = x if inplace else gathered
    return torch.where(mask, gathered, x.detach(), out=out)


def cutmix_apply(images: torch.Tensor, labels: torch.Tensor, plan: spec.CutMixPlan, num_classes: int, *,
                 inplace: bool = False, target_dtype: torch.dtype | None = None,
                 pairing: str | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Execute a CutMix plan on an NCHW batch.

    Args:
        images: (B, C, H, W) tensor, uint8, any other integer or float dtype, any device.
        labels: Class indices (B,) of an integer dtype, or soft / one-hot rows (B, K) of a float dtype.
        plan: A :class:`~tenfold.spec.cutmix.CutMixPlan` for this B, H, W.
        num_classes: K.
        inplace: Write the result into ``images`` (which must then not be needed
            any more); only the box region is moved.
        target_dtype: dtype of the targets; default float32 for class indices,
            the labels' dtype for soft labels.
        pairing: Optional hint, the pairing the plan was drawn with (``"roll"``
            lets the shared-box path avoid a temporary). Never changes results.

    Returns:
        ``(mixed, targets, lam)``: mixed images (same dtype and device; ``images``
        itself when ``inplace``), soft targets (B, K) and the effective lambda
        per sample (float64, (B,), on the CPU).

    Raises:
        TenfoldError: On a non-4-D batch, a batch not matching the plan, labels
            of the wrong batch size, dtype or range, or ``num_classes < 1``.
    """
    where = "cutmix"
    if not isinstance(plan, spec.CutMixPlan):
        raise TenfoldError(expected(where, "a CutMixPlan", type(plan).__name__))
    x = as_tensor(where, images)
    b, _, _ = spec.check_images(where, tuple(x.shape), dtype_name(x.dtype), plan)
    y = _soft_labels(where, labels, b, num_classes, target_dtype, x.device)  # (B, K)
    if inplace and x.requires_grad:
        raise TenfoldError(expected(where, "images that do not require grad for inplace=True", "requires_grad"))
    if not any(plan.applied):
        out = x if inplace else _fresh_copy(x)
    elif not plan.shared:
        out = _paste_elem(x, plan, inplace)
    elif inplace:
        out = x
        _paste_shared_inplace(out, plan.boxes[0], plan.partner)
    else:
        out = _fresh_copy(x)
        _paste_shared(out, x, plan.boxes[0], plan.partner, pairing)
    lam = torch.tensor(plan.lam, dtype=torch.float64)  # (B,)
    lam_t = lam.to(device=y.device, dtype=y.dtype)[:, None]  # (B, 1)
    index = torch.as_tensor(plan.partner, dtype=torch.int64, device=y.device)
    targets = lam_t * y + (1.0 - lam_t) * y.index_select(0, index)  # (B, K)
    return out, targets, lam


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


class CutMix(nn.Module):
    """CutMix on a batch ``(images, labels)``, in the call style of ``torchvision.transforms.v2.CutMix``.

    Paper: Yun et al., ICCV 2019. Official code: clovaai/CutMix-PyTorch.

    ``cutmix(images, labels)`` or ``cutmix((images, labels))`` returns
    ``(mixed_images, soft_targets)``; the plan of the last call is kept in
    :attr:`last_plan`. Usable in a ``collate_fn``.

    Args:
        num_classes: K.
        alpha, prob, correct_lam, pairing, granularity: See
            :class:`~tenfold.spec.cutmix.CutMixConfig` (defaults: the official recipe).
        config: A whole config instead of the five fields.
        seed: Seed or ``numpy.random.Generator`` of the sampler.
        inplace: Overwrite the input batch (faster; see :func:`cutmix_apply`).
        target_dtype: dtype of the targets (default float32 for class indices).

    Differences from ``torchvision.transforms.v2.CutMix``: the official
    pairing and a probability by default (``CutMixConfig.torchvision()``
    reproduces torchvision's conventions), any number dtype, soft labels in.
    """

    def __init__(self, num_classes: int, alpha: float = 1.0, prob: float = 1.0, correct_lam: bool = True,
                 pairing: str = "randperm", granularity: str = "batch", *, config: spec.CutMixConfig | None = None,
                 seed: int | np.random.Generator | None = None, inplace: bool = False,
                 target_dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.config = config if config is not None else spec.CutMixConfig(
            alpha=alpha, prob=prob, correct_lam=correct_lam, pairing=pairing, granularity=granularity)
        self.num_classes = spec.check_num_classes("CutMix", num_classes)
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.inplace = inplace
        self.target_dtype = target_dtype
        self.last_plan: spec.CutMixPlan | None = None

    def forward(self, *inputs):
        if len(inputs) == 1 and isinstance(inputs[0], (tuple, list)):
            inputs = tuple(inputs[0])
        if len(inputs) != 2:
            raise TenfoldError(expected("CutMix", "a batch (images, labels)", f"{len(inputs)} inputs"))
        images, labels = inputs
        x = as_tensor("CutMix", images)
        b, h, w = spec.check_images("CutMix", tuple(x.shape), dtype_name(x.dtype), None)
        plan = spec.sample(self.rng, b, h, w, self.config)
        self.last_plan = plan
        mixed, targets, _ = cutmix_apply(x, labels, plan, self.num_classes, inplace=self.inplace,
                                         target_dtype=self.target_dtype, pairing=self.config.pairing)
        return mixed, targets

    def extra_repr(self) -> str:
        c = self.config
        return (f"num_classes={self.num_classes}, alpha={c.alpha}, prob={c.prob}, correct_lam={c.correct_lam}, "
                f"pairing={c.pairing!r}, granularity={c.granularity!r}, inplace={self.inplace}")


__all__ = ["CutMix", "cutmix_apply", "soft_target_cross_entropy"]
