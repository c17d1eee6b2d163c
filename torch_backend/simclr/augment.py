"""The SimCLR augmentation pipeline for PyTorch: batched execution of per-image plans, and a v2-style transform.

Paper: Chen et al., ICML 2020, Appendix A. Official code: google-research/simclr
``tf2/data_util.py``. Steps and formulas: :mod:`tenfold.spec.simclr.augment`.

:func:`apply` executes an :class:`~tenfold.spec.simclr.augment.AugmentPlan` on
a whole NCHW batch at once, on any device, with no per-image Python loop over
pixels:

* crop + resize + flip: one ``einsum`` (batched GEMMs) with the plan's
  separable resampling matrices (``R_y x R_x^T``; built on the host in float64,
  one (H, H_in) and one (W, W_in) matrix per image);
* colour jitter: for each of the four positions of the random order, each op
  runs once on the images that have it there (an index gather, the op, an
  index copy back);
* grayscale: one ``torch.where``;
* blur: a depthwise convolution with per-image kernels (the batch folded into
  the channel axis), only over the blurred images.

:class:`SimCLRAugment` samples the plans itself (a NumPy generator, seeded as
:class:`tenfold.torch_backend.cutmix.CutMix` is) and is called like a
``torchvision.transforms.v2`` transform on a batch: ``view1, view2 = aug(images)``.

Differences from the official implementation: those of the spec (exact
resampling weights, a clip after the resize); plus the blur as a convolution
(summation order differs from the float64 reference by rounding only).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
import torch.utils.data
from torch import nn

from tenfold.spec.errors import TenfoldError, expected
from tenfold.spec.simclr import augment as spec

from .._seeding import WorkerSeeded
from .._tensors import as_tensor, dtype_name


def _gray(x: torch.Tensor, w: tuple[float, float, float]) -> torch.Tensor:
    """(b, 3, H, W) -> (b, 1, H, W) luma."""
    return x[:, 0:1] * w[0] + x[:, 1:2] * w[1] + x[:, 2:3] * w[2]


def _hue(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Rotate the HSV hue of (b, 3, H, W) by ``shift`` (b,) turns (the spec's formulas)."""
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    v = x.amax(dim=1)
    c = v - x.amin(dim=1)
    safe = torch.where(c > 0, c, torch.ones_like(c))
    h = torch.where(v == r, torch.remainder((g - b) / safe, 6.0),
                    torch.where(v == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0))
    h = torch.where(c > 0, h / 6.0, torch.zeros_like(h))
    h = torch.remainder(h + shift[:, None, None], 1.0)
    out = []
    for n in (5.0, 3.0, 1.0):
        k = torch.remainder(n + 6.0 * h, 6.0)
        out.append(v - c * torch.clamp(torch.minimum(k, 4.0 - k), 0.0, 1.0))
    return torch.stack(out, dim=1)


def _op(x: torch.Tensor, op: int, value: torch.Tensor, plan: spec.AugmentPlan) -> torch.Tensor:
    """Colour op ``op`` on (b, 3, H, W) with per-image ``value`` (b,), then the clip to [0, 1]."""
    v4 = value[:, None, None, None]
    if op == 0:
        y = x + v4 if plan.brightness_mode == "additive" else x * v4
    elif op == 1:
        m = x.mean(dim=(2, 3), keepdim=True) if plan.contrast_mean == "channel" else \
            _gray(x, plan.gray_weights).mean(dim=(1, 2, 3), keepdim=True)
        y = (x - m) * v4 + m
    elif op == 2:
        if plan.saturation_mode == "blend":
            y = v4 * x + (1.0 - v4) * _gray(x, plan.gray_weights)
        else:
            mx = x.amax(dim=1, keepdim=True)
            c = mx - x.amin(dim=1, keepdim=True)
            ratio = torch.minimum(torch.clamp_min(v4, 0.0), mx / torch.where(c > 0, c, torch.ones_like(c)))
            y = mx - (mx - x) * torch.where(c > 0, ratio, torch.ones_like(ratio))
    else:
        y = _hue(x, value)
    return y.clamp_(0.0, 1.0)


def _blur(x: torch.Tensor, kernels: torch.Tensor, padding: str) -> torch.Tensor:
    """Separable blur of (b, 3, H, W) with per-image kernels (b, k): depthwise convs over b * 3 channels."""
    b, ch, h, w = x.shape
    k = kernels.shape[1]
    r = (k - 1) // 2
    weight = kernels.repeat_interleave(ch, dim=0)  # (b * 3, k)
    y = x.reshape(1, b * ch, h, w)
    if padding == "reflect" and r > 0:
        y = F.conv2d(F.pad(y, (r, r, 0, 0), mode="reflect") if w > 1 else F.pad(y, (r, r, 0, 0)),
                     weight[:, None, None, :], groups=b * ch)
        y = F.conv2d(F.pad(y, (0, 0, r, r), mode="reflect") if h > 1 else F.pad(y, (0, 0, r, r)),
                     weight[:, None, :, None], groups=b * ch)
    else:
        y = F.conv2d(y, weight[:, None, None, :], padding=(0, r), groups=b * ch)
        y = F.conv2d(y, weight[:, None, :, None], padding=(r, 0), groups=b * ch)
    return y.reshape(b, ch, h, w)


@torch.no_grad()
def apply(plan: spec.AugmentPlan, images: torch.Tensor) -> torch.Tensor:
    """Execute one view's plan on an NCHW RGB batch (any device).

    Args:
        plan: From :func:`tenfold.spec.simclr.augment.sample` for this batch.
        images: (B, 3, H_in, W_in) uint8 (divided by 255) or float32/float64 in [0, 1].

    Returns:
        (B, 3, H, W) in [0, 1]: float32 for uint8 input, else the input dtype.

    Raises:
        TenfoldError: On a non-RGB, non-4-D batch, a bad dtype, or a batch not matching the plan.
    """
    where = "simclr.augment"
    if not isinstance(plan, spec.AugmentPlan):
        raise TenfoldError(expected(where, "an AugmentPlan", type(plan).__name__))
    x = as_tensor(where, images)
    spec.check_images(where, tuple(x.shape), dtype_name(x.dtype), plan)
    dt = torch.float32 if x.dtype == torch.uint8 else x.dtype
    dev = x.device
    x = x.to(dt) / 255.0 if images.dtype == torch.uint8 else x
    ry, rx = (torch.from_numpy(m).to(device=dev, dtype=dt) for m in plan.resize_matrices())
    y = torch.einsum("bhi,bciw,bvw->bchv", ry, x, rx).clamp_(0.0, 1.0)  # (B, 3, H, W), batched GEMMs
    params = torch.from_numpy(plan.colour_params()).to(device=dev, dtype=dt)  # (B, 4)
    for t in range(4):
        for op in range(4):
            idx = [i for i in range(plan.batch_size) if plan.order[i][t] == op and not plan.neutral(i, op)]
            if idx:
                sel = torch.tensor(idx, device=dev)
                y.index_copy_(0, sel, _op(y.index_select(0, sel), op, params[sel, op], plan))
    if any(plan.gray):
        mask = torch.tensor(plan.gray, device=dev)[:, None, None, None]
        y = torch.where(mask, _gray(y, plan.gray_weights).expand_as(y), y)
    y = y.clamp_(0.0, 1.0)
    blurred = [i for i in range(plan.batch_size) if plan.blur[i]]
    if blurred and plan.blur_radius > 0:
        sel = torch.tensor(blurred, device=dev)
        kernels = torch.from_numpy(plan.blur_kernels()[blurred]).to(device=dev, dtype=dt)
        y.index_copy_(0, sel, _blur(y.index_select(0, sel), kernels, plan.blur_padding).clamp_(0.0, 1.0))
    return y


class SimCLRAugment(WorkerSeeded, nn.Module):
    """SimCLR's augmentation as a batch transform: ``view1, view2 = aug(images)`` (``torchvision.transforms.v2``
    call style: a tensor batch in, tensors out).

    Args:
        size: Output ``(height, width)`` (or one int).
        config: An :class:`~tenfold.spec.simclr.augment.AugmentConfig` (official when None).
        views: How many independently augmented views to return (2 for SimCLR).
        seed: Seed of the sampler (a ``numpy.random.Generator``); None: from
            ``torch.initial_seed()``; re-seeded per ``DataLoader`` worker.

    The plans of the last call are kept in :attr:`last_plans`.
    """

    def __init__(self, size: int | tuple[int, int], config: spec.AugmentConfig | None = None, views: int = 2,
                 seed: int | np.random.Generator | None = None) -> None:
        super().__init__()
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.config = config or spec.AugmentConfig()
        self.views = views
        self._init_rng(seed)
        self.last_plans: list[spec.AugmentPlan] = []

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = as_tensor("SimCLRAugment", images)
        b, h, w = spec.check_images("SimCLRAugment", tuple(x.shape), dtype_name(x.dtype), None)
        self.last_plans = [spec.sample(self.rng, b, h, w, *self.size, self.config) for _ in range(self.views)]
        return tuple(apply(p, x) for p in self.last_plans)

    def extra_repr(self) -> str:
        return f"size={self.size}, views={self.views}, crop={self.config.crop!r}, blur_p={self.config.blur_p}"


__all__ = ["SimCLRAugment", "apply"]
