"""upfirdn2d for PyTorch (NCHW) with plain ops (no custom CUDA kernel): zero insertion, pad, depthwise FIR, stride.

The same operation as :func:`tenfold.numpy_ref.layers.upfirdn.upfirdn2d`
(NVlabs/stylegan2 ``upfirdn_2d``; rosinality ``upfirdn2d_native``), built from
``F.pad`` and a grouped ``F.conv2d``, so it runs and differentiates on any
device and dtype.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def upfirdn2d(x: torch.Tensor, kernel: torch.Tensor, up: int = 1, down: int = 1,
              pad: tuple[int, int] = (0, 0)) -> torch.Tensor:
    """Upsample by ``up`` (zero insertion), pad ``(p0, p1)``, convolve with ``kernel``, keep every ``down``-th.

    Args:
        x: ``(N, C, H, W)``.
        kernel: ``(K, K)`` FIR taps (a true convolution: flipped before the correlation).
        up, down: Integer factors >= 1.
        pad: Zeros before / after on both axes (negative values crop).
    """
    n, c, h, w = x.shape
    p0, p1 = pad
    if up > 1:
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])  # (N, C, H, up, W, up), the sample first
        x = x.reshape(n, c, h * up, w * up)
    x = F.pad(x, [max(p0, 0), max(p1, 0), max(p0, 0), max(p1, 0)])
    if p0 < 0 or p1 < 0:
        x = x[:, :, max(-p0, 0):x.shape[2] - max(-p1, 0), max(-p0, 0):x.shape[3] - max(-p1, 0)]
    kh, kw = kernel.shape
    taps = torch.flip(kernel, [0, 1]).to(x.dtype).reshape(1, 1, kh, kw).expand(c, 1, kh, kw)
    y = F.conv2d(x, taps, groups=c)  # (N, C, H', W')
    return y[:, :, ::down, ::down] if down > 1 else y


__all__ = ["upfirdn2d"]
