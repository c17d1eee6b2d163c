"""upfirdn2d: upsample, FIR-filter, downsample (the resampling of StyleGAN2), NCHW, plain NumPy.

Official code: NVlabs/stylegan2 ``dnnlib/tflib/ops/upfirdn_2d.py`` (``upfirdn_2d``);
rosinality/stylegan2-pytorch ``op/upfirdn2d.py`` (``upfirdn2d_native``, its CPU
path). Per axis::

    u[up t] = x[t], zeros in between        (up - 1 zeros after every sample)
    u      <- pad u with p0 zeros before and p1 after (negative pads crop)
    v[t]    = sum_k f[k] u[t + K - 1 - k]   (a true convolution: the taps flipped), valid part only
    y[t]    = v[down t]

Output size ``(H up + p0 + p1 - K) // down + 1``.
"""

from __future__ import annotations

import numpy as np

from tenfold.spec.errors import ShapeError, expected


def upfirdn2d(x: np.ndarray, kernel: np.ndarray, up: int = 1, down: int = 1,
              pad: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Upsample by ``up`` (zero insertion), pad, convolve with the 2-D FIR ``kernel``, keep every ``down``-th.

    Args:
        x: ``(N, C, H, W)``.
        kernel: ``(K, K)`` taps (applied to every channel alike).
        up, down: Integer factors >= 1, the same on both axes.
        pad: ``(p0, p1)`` zeros before / after on both axes (negative values crop).

    Returns:
        ``(N, C, (H up + p0 + p1 - K) // down + 1, ...)``.
    """
    n, c, h, w = x.shape
    kh, kw = kernel.shape
    p0, p1 = pad
    hu, wu = h * up, w * up
    if hu + p0 + p1 < kh or wu + p0 + p1 < kw:
        raise ShapeError(expected("upfirdn2d", f"a padded size of at least the kernel {kernel.shape}",
                                  f"{hu + p0 + p1} x {wu + p0 + p1}"))
    u = np.zeros((n, c, hu, wu), dtype=np.result_type(x, kernel))
    u[:, :, ::up, ::up] = x
    u = np.pad(u, ((0, 0), (0, 0), (max(p0, 0), max(p1, 0)), (max(p0, 0), max(p1, 0))))
    u = u[:, :, max(-p0, 0):u.shape[2] - max(-p1, 0), max(-p0, 0):u.shape[3] - max(-p1, 0)]
    ho, wo = u.shape[2] - kh + 1, u.shape[3] - kw + 1
    f = kernel[::-1, ::-1]  # convolution = correlation with the flipped taps
    v = np.zeros((n, c, ho, wo), dtype=u.dtype)
    for i in range(kh):
        for j in range(kw):
            v += f[i, j] * u[:, :, i:i + ho, j:j + wo]
    return v[:, :, ::down, ::down]


__all__ = ["upfirdn2d"]
