"""upfirdn2d for TensorFlow (NHWC) with plain ops: zero insertion, pad, depthwise FIR, stride.

The operation of :func:`tenfold.numpy_ref.layers.upfirdn.upfirdn2d`
(NVlabs/stylegan2 ``dnnlib/tflib/ops/upfirdn_2d.py``, whose ``impl="ref"``
path is built the same way), in channels-last layout; runs eagerly and inside
``tf.function``, in float32 and float64.
"""

from __future__ import annotations

import tensorflow as tf


def upfirdn2d(x: tf.Tensor, kernel: tf.Tensor, up: int = 1, down: int = 1,
              pad: tuple[int, int] = (0, 0)) -> tf.Tensor:
    """Upsample by ``up`` (zero insertion), pad ``(p0, p1)``, convolve with ``kernel``, keep every ``down``-th.

    Args:
        x: ``(N, H, W, C)`` with static ``H, W, C``.
        kernel: ``(K, K)`` FIR taps (a true convolution: flipped before the correlation).
        up, down: Integer factors >= 1.
        pad: Zeros before / after on both axes (negative values crop).
    """
    _, h, w, c = x.shape
    p0, p1 = pad
    if up > 1:
        n = tf.shape(x)[0]
        x = tf.reshape(x, (n, h, 1, w, 1, c))
        x = tf.pad(x, [[0, 0], [0, 0], [0, up - 1], [0, 0], [0, up - 1], [0, 0]])  # the sample first
        x = tf.reshape(x, (n, h * up, w * up, c))
    x = tf.pad(x, [[0, 0], [max(p0, 0), max(p1, 0)], [max(p0, 0), max(p1, 0)], [0, 0]])
    if p0 < 0 or p1 < 0:
        hh, ww = x.shape[1], x.shape[2]
        x = x[:, max(-p0, 0):hh - max(-p1, 0), max(-p0, 0):ww - max(-p1, 0), :]
    kh, kw = kernel.shape
    taps = tf.cast(tf.reverse(kernel, [0, 1]), x.dtype)
    taps = tf.tile(tf.reshape(taps, (kh, kw, 1, 1)), (1, 1, c, 1))  # (K, K, C, 1)
    y = tf.nn.depthwise_conv2d(x, taps, [1, 1, 1, 1], "VALID")  # (N, H', W', C)
    return y[:, ::down, ::down, :] if down > 1 else y


__all__ = ["upfirdn2d"]
