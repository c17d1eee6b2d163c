"""Convolutions and padding in plain NumPy, NCHW, float64-exact.

Convolutions are sums over kernel offsets of strided slices (one ``einsum``
per offset), so each output is an exact dot product in the input's dtype.
Used by FReLU, SAN, the CR-GAN networks and StyleGAN2.
"""

from __future__ import annotations

import numpy as np

from tenfold.spec.errors import ConfigError, ShapeError, expected

PAD_MODES: tuple[str, ...] = ("zero", "reflect", "edge")


def pad2d(x: np.ndarray, padding: int | tuple[int, int, int, int], mode: str = "zero") -> np.ndarray:
    """Pad the last two axes of ``x``.

    Args:
        x: ``(..., H, W)``.
        padding: ``p`` on every side or ``(top, bottom, left, right)``.
        mode: ``"zero"``; ``"reflect"`` (mirror without repeating the edge,
            PyTorch's ``ReflectionPad2d``, index -1 -> 1); ``"edge"``
            (replicate the border).

    Raises:
        ConfigError: Unknown mode.
        ShapeError: A reflection wider than the axis it reflects (``pad >= size``).
    """
    t, b, left, right = (padding,) * 4 if isinstance(padding, int) else tuple(padding)
    widths = [(0, 0)] * (x.ndim - 2) + [(t, b), (left, right)]
    if mode == "zero":
        return np.pad(x, widths)
    if mode == "reflect":
        h, w = x.shape[-2:]
        if max(t, b) >= h or max(left, right) >= w:
            raise ShapeError(expected("pad2d", f"reflection padding smaller than the size (pads {(t, b, left, right)})",
                                      f"H x W = {h} x {w}"))
        return np.pad(x, widths, mode="reflect")
    if mode == "edge":
        return np.pad(x, widths, mode="edge")
    raise ConfigError(expected("pad2d", "a mode among " + ", ".join(PAD_MODES), repr(mode)))


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride: int = 1,
           padding: int | tuple[int, int] = 0, groups: int = 1) -> np.ndarray:
    """2-D cross-correlation, NCHW input and ``(out, in / groups, kh, kw)`` weight, zero padding.

    Args:
        x: ``(N, C_in, H, W)``.
        weight: ``(C_out, C_in / groups, kh, kw)``.
        bias: ``(C_out,)`` or None.
        stride: Same stride in both directions.
        padding: ``p`` or ``(ph, pw)`` zeros on both sides.
        groups: Channel groups (``C_in`` for a depthwise convolution).

    Returns:
        ``(N, C_out, H_out, W_out)`` with ``H_out = (H + 2 ph - kh) // stride + 1``.
    """
    ph, pw = _pair(padding)
    n, c_in, h, w = x.shape
    c_out, cg, kh, kw = weight.shape
    if c_in != cg * groups:
        raise ShapeError(expected("conv2d", f"{cg * groups} input channels", f"{c_in} in shape {x.shape}"))
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho, wo = (h + 2 * ph - kh) // stride + 1, (w + 2 * pw - kw) // stride + 1
    out = np.zeros((n, groups, c_out // groups, ho, wo), dtype=np.result_type(x, weight))
    wg = weight.reshape(groups, c_out // groups, cg, kh, kw)
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i:i + stride * (ho - 1) + 1:stride, j:j + stride * (wo - 1) + 1:stride]  # (N, C, Ho, Wo)
            out += np.einsum("bgchw,goc->bgohw", patch.reshape(n, groups, cg, ho, wo), wg[..., i, j])
    out = out.reshape(n, c_out, ho, wo)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out


def depthwise_conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None, stride: int = 1,
                     padding: int | tuple[int, int] = 0) -> np.ndarray:
    """Depthwise convolution (``groups = C``) with a ``(C, 1, kh, kw)`` weight."""
    return conv2d(x, weight, bias, stride, padding, groups=x.shape[1])


def depthwise_conv2d_vjp(x: np.ndarray, weight: np.ndarray, g: np.ndarray,
                         padding: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients ``(dx, dweight, dbias)`` of a stride-1 depthwise convolution for cotangent ``g``."""
    ph, pw = padding
    _, _, h, w = x.shape
    _, _, kh, kw = weight.shape
    ho, wo = g.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(weight)
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i:i + ho, j:j + wo] += g * weight[:, 0, i, j].reshape(1, -1, 1, 1)
            dw[:, 0, i, j] = (g * xp[:, :, i:i + ho, j:j + wo]).sum(axis=(0, 2, 3))
    return dxp[:, :, ph:ph + h, pw:pw + w], dw, g.sum(axis=(0, 2, 3))


def conv_transpose2d(x: np.ndarray, weight: np.ndarray, stride: int = 1, padding: int | tuple[int, int] = 0,
                     bias: np.ndarray | None = None) -> np.ndarray:
    """Transposed 2-D convolution (PyTorch ``conv_transpose2d(x, w, bias, stride=s, padding=p)``), NCHW.

    Every input sample scatters ``x[n, i, a, b] * weight[i, o]`` onto the output
    window starting at ``(s a, s b)``; one matrix product per kernel offset.

    Args:
        x: ``(N, C_in, H, W)``.
        weight: ``(C_in, C_out, kh, kw)`` (PyTorch's transposed-conv layout).
        stride: Same stride in both directions.
        padding: ``p`` or ``(ph, pw)`` cropped from each side of the full output
            (PyTorch's ``padding`` of a transposed conv; output padding 0).
        bias: ``(C_out,)`` or None.

    Returns:
        ``(N, C_out, s (H - 1) + kh - 2 ph, s (W - 1) + kw - 2 pw)``: the input
        gradient of :func:`conv2d` with this weight, stride and padding.
    """
    n, c_in, h, w = x.shape
    cw, c_out, kh, kw = weight.shape
    if c_in != cw:
        raise ShapeError(expected("conv_transpose2d", f"{cw} input channels", f"{c_in} in shape {x.shape}"))
    out = np.zeros((n, c_out, stride * (h - 1) + kh, stride * (w - 1) + kw), dtype=np.result_type(x, weight))
    for i in range(kh):
        for j in range(kw):
            y = np.tensordot(weight[:, :, i, j], x, axes=([0], [1]))  # (C_out, N, H, W)
            out[:, :, i:i + stride * (h - 1) + 1:stride, j:j + stride * (w - 1) + 1:stride] += y.transpose(1, 0, 2, 3)
    ph, pw = _pair(padding)
    out = out[:, :, ph:out.shape[2] - ph, pw:out.shape[3] - pw]
    return out if bias is None else out + bias.reshape(1, -1, 1, 1)


def conv2d_input_vjp(g: np.ndarray, weight: np.ndarray, input_hw: tuple[int, int], stride: int = 1,
                     padding: int | tuple[int, int] = 0) -> np.ndarray:
    """``dL/dx`` of :func:`conv2d` (groups 1) for the output cotangent ``g`` (N, C_out, Ho, Wo).

    A scatter of ``g`` times each kernel tap into a zero-padded buffer, then the
    padding is cropped; ``input_hw`` is the ``(H, W)`` of ``x``.
    """
    ph, pw = _pair(padding)
    n, _, ho, wo = g.shape
    _, c_in, kh, kw = weight.shape
    h, w = input_hw
    dxp = np.zeros((n, c_in, h + 2 * ph, w + 2 * pw), dtype=np.result_type(g, weight))
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i:i + stride * (ho - 1) + 1:stride, j:j + stride * (wo - 1) + 1:stride] += np.einsum(
                "bohw,oc->bchw", g, weight[:, :, i, j])  # (N, C_in, Ho, Wo)
    return dxp[:, :, ph:ph + h, pw:pw + w]


def conv2d_weight_vjp(x: np.ndarray, g: np.ndarray, weight_shape: tuple[int, ...], stride: int = 1,
                      padding: int | tuple[int, int] = 0) -> np.ndarray:
    """``dL/dweight`` of :func:`conv2d` (groups 1).

    ``dw[o, c, i, j] = sum over b, h, w of x_pad[b, c, i + s h, j + s w] * g[b, o, h, w]``.
    """
    ph, pw = _pair(padding)
    _, _, ho, wo = g.shape
    _, _, kh, kw = weight_shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dw = np.zeros(weight_shape, dtype=np.result_type(x, g))
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i:i + stride * (ho - 1) + 1:stride, j:j + stride * (wo - 1) + 1:stride]  # (N, C, Ho, Wo)
            dw[:, :, i, j] = np.einsum("bchw,bohw->oc", patch, g)
    return dw


def conv2d_vjp(x: np.ndarray, weight: np.ndarray, g: np.ndarray, stride: int = 1,
               padding: int | tuple[int, int] = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients ``(dx, dweight, dbias)`` of :func:`conv2d` (groups 1) for the output cotangent ``g``."""
    return (conv2d_input_vjp(g, weight, x.shape[2:], stride, padding),
            conv2d_weight_vjp(x, g, weight.shape, stride, padding), g.sum(axis=(0, 2, 3)))


def conv_transpose2d_weight_vjp(x: np.ndarray, g: np.ndarray, weight_shape: tuple[int, ...], stride: int = 1,
                                padding: int | tuple[int, int] = 0) -> np.ndarray:
    """``dL/dweight`` of :func:`conv_transpose2d` (the conv weight gradient with input and output swapped)."""
    return conv2d_weight_vjp(g, x, weight_shape, stride, padding)


def extract_patches(x: np.ndarray, kernel_size: int | tuple[int, int], mode: str = "zero",
                    padding: int | tuple[int, int] | None = None) -> np.ndarray:
    """Every ``kh x kw`` neighbourhood of every pixel, stride 1 (an "unfold" that keeps the image axes).

    Args:
        x: ``(N, C, H, W)``.
        kernel_size: ``k`` or ``(kh, kw)``.
        mode: Padding mode of :func:`pad2d` (``"zero"``, ``"reflect"``, ``"edge"``).
        padding: ``p`` or ``(ph, pw)`` on both sides; default ``(kh // 2, kw // 2)``
            (the output keeps ``H x W`` for odd kernels).

    Returns:
        ``(N, C, kh * kw, H_out, W_out)`` with ``out[n, c, i * kw + j, h, w] = xp[n, c, h + i, w + j]``
        (``xp`` padded): the tap order of ``torch.nn.functional.unfold``, whose channel
        ``c * kh * kw + t`` is ``out[:, c, t]`` flattened over the image.
    """
    kh, kw = _pair(kernel_size)
    ph, pw = (kh // 2, kw // 2) if padding is None else _pair(padding)
    xp = pad2d(x, (ph, ph, pw, pw), mode)
    ho, wo = xp.shape[-2] - kh + 1, xp.shape[-1] - kw + 1
    return np.stack([xp[..., i:i + ho, j:j + wo] for i in range(kh) for j in range(kw)], axis=-3)


__all__ = ["PAD_MODES", "conv2d", "conv2d_input_vjp", "conv2d_vjp", "conv2d_weight_vjp", "conv_transpose2d",
           "conv_transpose2d_weight_vjp", "depthwise_conv2d", "depthwise_conv2d_vjp", "extract_patches", "pad2d"]
