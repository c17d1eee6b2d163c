"""The CR transform ``T`` for PyTorch: plan execution on any device, and a transform that samples itself.

Math, sources and the draw order of plans: :mod:`tenfold.spec.crgan.transform`.
``transform_apply(plan, x)`` executes a plan on an NCHW batch; :class:`CRTransform`
draws flips and shifts with torch's generator on the batch's device (the same
distribution, not the same numbers as the NumPy plan sampler). Both end in
:func:`flip_shift`: a ``torch.where`` for the flips, one ``F.pad`` (reflect or
zeros) and one gather of every output pixel.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from tenfold.spec.crgan import transform as spec
from tenfold.spec.dtypes import check_float_dtype
from tenfold.spec.errors import TenfoldError, expected

from .._tensors import as_tensor, dtype_name

_MODES = {"reflect": "reflect", "zero": "constant"}


def flip_shift(x: torch.Tensor, flip: torch.Tensor, shift: torch.Tensor, max_shift: tuple[int, int],
               pad_mode: str) -> torch.Tensor:
    """``T(x)`` from per-sample tensors.

    Args:
        x: (B, C, H, W).
        flip: (B,) bool.
        shift: (B, 2) int64 ``(dy, dx)``, ``|dy| <= max_shift[0]``, ``|dx| <= max_shift[1]``.
        max_shift: The padding ``(py, px)``.
        pad_mode: ``"reflect"`` or ``"zero"``.
    """
    b, _, h, w = x.shape
    x = torch.where(flip.view(b, 1, 1, 1), x.flip(3), x)
    py, px = max_shift
    if py == 0 and px == 0:
        return x
    xp = F.pad(x, (px, px, py, py), mode=_MODES[pad_mode])  # (B, C, H + 2 py, W + 2 px)
    dev = x.device
    rows = torch.arange(h, device=dev).view(1, h) + shift[:, :1] + py  # (B, H)
    cols = torch.arange(w, device=dev).view(1, w) + shift[:, 1:] + px  # (B, W)
    bi = torch.arange(b, device=dev).view(b, 1, 1)
    out = xp[bi, :, rows.view(b, h, 1), cols.view(b, 1, w)]  # (B, H, W, C)
    return out.permute(0, 3, 1, 2)  # (B, C, H, W)


class Draw(NamedTuple):
    """One transform's per-sample draws as tensors, with the padding they need."""

    flip: torch.Tensor  # (B,) bool
    shift: torch.Tensor  # (B, 2) int64
    max_shift: tuple[int, int]
    pad_mode: str

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return flip_shift(x, self.flip, self.shift, self.max_shift, self.pad_mode)


def plan_tensors(plan: spec.TransformPlan, device: torch.device | str | None = None) -> Draw:
    """A plan as a :class:`Draw` on ``device``."""
    flip = torch.as_tensor(plan.flips_array(), device=device)
    shift = torch.as_tensor(plan.shifts_array(), device=device)
    return Draw(flip, shift, plan.max_abs_shift(), plan.pad_mode)


def transform_apply(plan: spec.TransformPlan, x: torch.Tensor) -> torch.Tensor:
    """Execute a :class:`~tenfold.spec.crgan.TransformPlan` on an NCHW float batch (a new tensor)."""
    where = "crgan.transform_apply"
    if not isinstance(plan, spec.TransformPlan):
        raise TenfoldError(expected(where, "a TransformPlan", type(plan).__name__))
    x = as_tensor(where, x)
    check_float_dtype(where, dtype_name(x.dtype))
    spec.check_batch(where, tuple(x.shape), plan)
    return plan_tensors(plan, x.device)(x)


def sample_tensors(batch: int, height: int, width: int, config: spec.TransformConfig, device=None,
                   generator: torch.Generator | None = None) -> Draw:
    """Draw a :class:`Draw` with torch's RNG (flip: U[0, 1) < p; shifts: uniform integers)."""
    my, mx = config.max_shifts(height, width)
    flip = torch.rand(batch, device=device, generator=generator) < config.flip_prob
    dy = torch.randint(-my, my + 1, (batch, 1), device=device, generator=generator)
    dx = torch.randint(-mx, mx + 1, (batch, 1), device=device, generator=generator)
    return Draw(flip, torch.cat([dy, dx], dim=1), (my, mx), config.pad_mode)


class CRTransform(torch.nn.Module):
    """``T`` as a module that samples its own flips and shifts (torch RNG, the batch's device).

    Args:
        config: A :class:`~tenfold.spec.crgan.TransformConfig` (StudioGAN's when None).
        generator: An optional ``torch.Generator`` (on the batch's device).
    """

    def __init__(self, config: spec.TransformConfig | None = None, generator: torch.Generator | None = None):
        super().__init__()
        self.config = config or spec.TransformConfig()
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        where = "CRTransform"
        x = as_tensor(where, x)
        check_float_dtype(where, dtype_name(x.dtype))
        if x.ndim != 4:
            raise TenfoldError(expected(where, "a 4-D image batch (NCHW)", f"shape {tuple(x.shape)}"))
        b, _, h, w = x.shape
        return sample_tensors(b, h, w, self.config, x.device, self.generator)(x)


__all__ = ["CRTransform", "Draw", "flip_shift", "plan_tensors", "sample_tensors", "transform_apply"]
