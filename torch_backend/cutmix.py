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

Speed. On the CPU the work is done by NumPy on the tensor's own memory (only
the bulk copy of a kept batch is torch's multi-threaded ``copy_``). A new
output batch (when the input is kept) is allocated on huge pages
(:mod:`tenfold.torch_backend._cpu_alloc`), which makes faulting it in about
half as costly as for ``Tensor.clone``. One box per batch (the official
mode) is a copy of the batch plus one block copy of the box per sample; with
``inplace=True`` only the boxes move, each once (the partner permutation is
followed cycle by cycle, one box held aside per cycle). One box per sample
(``elem``) is one gather of the partners and one masked copy, with no
per-sample Python loop. On other devices (and for bfloat16) the same steps are
torch ops: a clone and one indexed copy of the box, or one gather and one
``torch.where``.

Differences from the official implementation: none in the math (see the spec
for presets of the official, paper, torchvision and timm conventions). The
official code mixes two cross-entropies with the scalar lambda; here the
equivalent soft target is returned.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.utils.data
from torch import nn

from tenfold.spec import cutmix as spec
from tenfold.spec.errors import TenfoldError, expected

from . import _cpu_alloc
from ._seeding import WorkerSeeded
from ._tensors import as_tensor, dtype_name
from .losses import soft_target_cross_entropy

_NUMPY_OK = {torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.float16, torch.float32,
             torch.float64}


def _labels(where: str, labels: object, batch_size: int, num_classes: int) -> tuple[torch.Tensor, bool]:
    """Validated labels and whether they are class indices (True) or soft rows (False)."""
    num_classes = spec.check_num_classes(where, num_classes)
    y = as_tensor(where, labels)
    hard = spec.check_labels(where, tuple(y.shape), dtype_name(y.dtype), batch_size, num_classes)
    if hard and y.device.type != "meta":
        lo, hi = torch.aminmax(y)  # one host sync: the price of a clear error
        spec.check_label_range(where, int(lo), int(hi), num_classes)
    return y, hard


def _targets(y: torch.Tensor, hard: bool, plan: spec.CutMixPlan, num_classes: int, dtype: torch.dtype | None,
             device: torch.device) -> torch.Tensor:
    """``lam * y + (1 - lam) * y[partner]`` as (B, K) soft rows."""
    b = plan.batch_size
    if hard and device.type == "cpu" and (dtype or torch.float32) in _NUMPY_OK and y.device.type == "cpu":
        # Small and single-threaded in NumPy: no wake-up of torch's thread pool for 0.5 MB of zeros.
        yn = y.numpy().astype(np.int64)
        lam_n = np.asarray(plan.lam, dtype=np.float64)
        out_n = np.zeros((b, num_classes), dtype=torch.empty(0, dtype=dtype or torch.float32).numpy().dtype)
        rows_n = np.arange(b)
        out_n[rows_n, yn] += lam_n
        out_n[rows_n, yn[np.asarray(plan.partner)]] += 1.0 - lam_n
        return torch.from_numpy(out_n)
    index = torch.as_tensor(plan.partner, dtype=torch.int64, device=device)
    if hard:  # two scatters into zeros instead of one-hot rows and three full-size products
        dtype = dtype or torch.float32
        lam = torch.tensor(plan.lam, dtype=torch.float64).to(device=device, dtype=dtype)  # (B,)
        y = y.to(device=device, dtype=torch.int64)
        rows = torch.arange(b, device=device)
        out = torch.zeros(b, num_classes, dtype=dtype, device=device)
        out.index_put_((rows, y), lam, accumulate=True)
        out.index_put_((rows, y.index_select(0, index)), 1.0 - lam, accumulate=True)
        return out
    y = y.to(device=device, dtype=dtype or y.dtype)
    lam = torch.tensor(plan.lam, dtype=torch.float64).to(device=device, dtype=y.dtype)[:, None]  # (B, 1)
    return lam * y + (1.0 - lam) * y.index_select(0, index)  # (B, K)


# -- CPU: NumPy on the tensor's memory ---------------------------------------------

def _numpy_view(x: torch.Tensor) -> np.ndarray | None:
    """The tensor's memory as an ndarray, when it is on the CPU in a dtype NumPy has."""
    if x.device.type == "cpu" and x.dtype in _NUMPY_OK:
        return x.detach().numpy()
    return None


def _box_mask_np(plan: spec.CutMixPlan) -> np.ndarray:
    """(B, 1, H, W) bool: inside sample i's box (and CutMix applied to it)."""
    boxes = plan.boxes_array()  # (B, 4)
    applied = np.asarray(plan.applied)[:, None]
    rows, cols = np.arange(plan.height), np.arange(plan.width)
    in_y = (rows >= boxes[:, 0:1]) & (rows < boxes[:, 1:2]) & applied  # (B, H)
    in_x = (cols >= boxes[:, 2:3]) & (cols < boxes[:, 3:4])  # (B, W)
    return (in_y[:, :, None] & in_x[:, None, :])[:, None]  # (B, 1, H, W)


def _fresh(xn: np.ndarray) -> np.ndarray:
    """An uninitialised array like ``xn`` (huge-page-advised memory when large)."""
    return _cpu_alloc.empty(xn.shape, xn.dtype)


def _copy_of(x: torch.Tensor, xn: np.ndarray) -> np.ndarray:
    """A copy of the batch in fresh memory; the bulk copy is torch's (multi-threaded) ``copy_``."""
    out = _fresh(xn)
    torch.from_numpy(out).copy_(x.detach())
    return out


def _paste_inplace_shared(xn: np.ndarray, box: tuple[int, int, int, int], partner: tuple[int, ...]) -> None:
    """``xn[i, box] = xn[partner[i], box]`` for all i, in place, moving each box once.

    A permutation is followed cycle by cycle, so only one sample's box is held
    aside per cycle; any other partner map goes through a copy of all the boxes.
    """
    y1, y2, x1, x2 = box
    region = xn[:, :, y1:y2, x1:x2]  # (B, C, h, w) view
    b = len(partner)
    if sorted(partner) != list(range(b)):
        region[...] = np.take(region, np.asarray(partner), axis=0)
        return
    done = [False] * b
    for start in range(b):
        if done[start]:
            continue
        done[start] = True
        if partner[start] == start:
            continue
        held = region[start].copy()  # (C, h, w): the first box of the cycle, overwritten first
        i = start
        while partner[i] != start:
            region[i] = region[partner[i]]
            i = partner[i]
            done[i] = True
        region[i] = held


def _mix_numpy(x: torch.Tensor, xn: np.ndarray, plan: spec.CutMixPlan, inplace: bool) -> np.ndarray:
    """Execute the paste on ``xn``, the memory of ``x``; returns ``xn`` itself when ``inplace``, else a new array."""
    partner = np.asarray(plan.partner, dtype=np.int64)
    if not any(plan.applied):
        return xn if inplace else _copy_of(x, xn)
    if plan.shared:
        y1, y2, x1, x2 = plan.boxes[0]
        if inplace:
            if y1 < y2 and x1 < x2:
                _paste_inplace_shared(xn, (y1, y2, x1, x2), plan.partner)
            return xn
        out = _copy_of(x, xn)  # (B, C, H, W)
        for i, j in enumerate(plan.partner):  # one shared box: B block copies, no temporary
            out[i, :, y1:y2, x1:x2] = xn[j, :, y1:y2, x1:x2]
        return out
    mask = _box_mask_np(plan)  # (B, 1, H, W)
    gathered = _fresh(xn)
    np.take(xn, partner, axis=0, out=gathered, mode="clip")  # every partner, read before any write
    if inplace:
        np.copyto(xn, gathered, where=mask)
        return xn
    np.copyto(gathered, xn, where=~mask)
    return gathered


# -- other devices and dtypes: torch ops, no per-sample loop --------------------------

def _mix_torch(x: torch.Tensor, plan: spec.CutMixPlan, inplace: bool, pairing: str | None) -> torch.Tensor:
    x = x if inplace else x.detach()
    if not any(plan.applied):
        return x if inplace else x.clone(memory_format=torch.contiguous_format)
    dev = x.device
    index = torch.as_tensor(plan.partner, dtype=torch.int64, device=dev)
    if plan.shared:
        y1, y2, x1, x2 = plan.boxes[0]
        out = x if inplace else x.clone(memory_format=torch.contiguous_format)
        if y1 == y2 or x1 == x2:
            return out
        region = x[:, :, y1:y2, x1:x2]  # (B, C, h, w) view
        b = x.shape[0]
        if not inplace and (pairing == "roll" or tuple(plan.partner) == tuple((i - 1) % b for i in range(b))):
            out[1:, :, y1:y2, x1:x2] = region[:-1]  # roll(1, 0) as two slice copies
            out[:1, :, y1:y2, x1:x2] = region[-1:]
        else:
            out[:, :, y1:y2, x1:x2] = region.index_select(0, index)  # (B, C, h, w), read before written
        return out
    _, _, h, w = x.shape
    boxes = torch.as_tensor(plan.boxes, dtype=torch.int64, device=dev)  # (B, 4)
    applied = torch.as_tensor(plan.applied, dtype=torch.bool, device=dev)  # (B,)
    rows = torch.arange(h, device=dev)
    cols = torch.arange(w, device=dev)
    in_y = (rows >= boxes[:, 0:1]) & (rows < boxes[:, 1:2]) & applied[:, None]  # (B, H)
    in_x = (cols >= boxes[:, 2:3]) & (cols < boxes[:, 3:4])  # (B, W)
    mask = (in_y[:, :, None] & in_x[:, None, :])[:, None]  # (B, 1, H, W)
    gathered = x.index_select(0, index)  # (B, C, H, W), read before any write
    return torch.where(mask, gathered, x, out=x if inplace else gathered)


def cutmix_apply(images: torch.Tensor, labels: torch.Tensor, plan: spec.CutMixPlan, num_classes: int, *,
                 inplace: bool = False, target_dtype: torch.dtype | None = None,
                 pairing: str | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Execute a CutMix plan on an NCHW batch.

    Args:
        images: (B, C, H, W) tensor, uint8, any other integer or float dtype, any device.
        labels: Class indices (B,) of an integer dtype, or soft / one-hot rows (B, K) of a float dtype.
        plan: A :class:`~tenfold.spec.cutmix.CutMixPlan` for this B, H, W, or its
            ``to_dict()``, or a dict of arrays (:func:`tenfold.spec.cutmix.as_plan`).
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
    return _cutmix_apply("cutmix", images, labels, plan, num_classes, inplace, target_dtype, pairing)


def _cutmix_apply(where: str, images, labels, plan, num_classes: int, inplace: bool, target_dtype,
                  pairing: str | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`cutmix_apply`, its errors prefixed with ``where`` (the entry point the user called)."""
    x = as_tensor(where, images)
    _, h, w = spec.check_images(where, tuple(x.shape), dtype_name(x.dtype), None)
    plan = spec.as_plan(where, plan, h, w)
    b, _, _ = spec.check_images(where, tuple(x.shape), dtype_name(x.dtype), plan)
    y, hard = _labels(where, labels, b, num_classes)
    if inplace and x.requires_grad:
        raise TenfoldError(expected(where, "images that do not require grad for inplace=True", "requires_grad"))
    xn = _numpy_view(x)
    if xn is not None:
        mixed = _mix_numpy(x, xn, plan, inplace)
        out = x if inplace else torch.from_numpy(mixed)
    else:
        out = _mix_torch(x, plan, inplace, pairing)
    targets = _targets(y, hard, plan, num_classes, target_dtype, x.device)  # (B, K)
    return out, targets, torch.tensor(plan.lam, dtype=torch.float64)


class CutMix(WorkerSeeded, nn.Module):
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
        seed: Seed of the sampler (a ``numpy.random.Generator``). None: seeded
            from ``torch.initial_seed()``, so ``torch.manual_seed`` makes it
            reproducible. In ``DataLoader`` workers the generator is re-seeded
            per worker (``[seed, worker id]``, or the worker's torch seed), so
            workers do not repeat each other's draws. A ``numpy.random.Generator``
            is used as is.
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
        self.config = spec.CutMixConfig.coerce(config, "CutMix") if config is not None else spec.CutMixConfig(
            alpha=alpha, prob=prob, correct_lam=correct_lam, pairing=pairing, granularity=granularity)
        self.num_classes = spec.check_num_classes("CutMix", num_classes)
        self._init_rng(seed)
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
        mixed, targets, _ = _cutmix_apply("CutMix", x, labels, plan, self.num_classes, self.inplace,
                                          self.target_dtype, self.config.pairing)
        return mixed, targets

    def extra_repr(self) -> str:
        c = self.config
        return (f"num_classes={self.num_classes}, alpha={c.alpha}, prob={c.prob}, correct_lam={c.correct_lam}, "
                f"pairing={c.pairing!r}, granularity={c.granularity!r}, inplace={self.inplace}")


__all__ = ["CutMix", "cutmix_apply", "soft_target_cross_entropy"]
