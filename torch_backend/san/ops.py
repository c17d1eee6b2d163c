"""The SAN self-attention operator (``SAM``) for PyTorch: any device, no custom kernels.

Paper: Zhao, Jia, Koltun, CVPR 2020, Section 3. Official code: hszhao/SAN
``model/san.py`` (``SAM``) and ``lib/sa`` (CUDA/CuPy kernels, which raise
``NotImplementedError`` on CPU tensors). Math and names:
:mod:`tenfold.spec.san.ops`; the module's attributes are the official ones
(``conv1``, ``conv2``, ``conv3``, ``conv_w.{0,2,3,5}``, ``conv_p``), so its
``state_dict`` keys are the canonical names.

Three execution paths compute the same function:

* **full** (train mode, or whenever autograd records): the official
  formulation on ``(N, C, k^2, H*W)`` tensors built with ``F.unfold`` of the
  padded maps (the official test references); gamma's BatchNorms see every
  footprint value (train-mode statistics as the official code). Aggregation shifts and accumulates
  (``addcmul_`` over the ``k^2`` taps on views of the padded ``x3``), never
  materialising the ``k^2`` footprints of ``x3``.
* **lean** (eval mode without autograd, e.g. under ``torch.inference_mode``;
  :mod:`tenfold.torch_backend.san.lean`): BatchNorms act as per-channel affine maps, so gamma, the weights and the
  aggregation run one kernel row (``k`` taps) at a time: neither the
  ``k^2``-wide relation tensor nor the ``(N, C_w, k^2, H*W)`` weights of the
  layer ever exist (peak ``1/k`` of them); the pairwise softmax is computed
  online (running maximum and sum, earlier rows rescaled), the first
  BatchNorm is folded into the relation (subtraction, summation, patchwise
  concatenation) and the second into its convolution, and the position term
  is computed once per call.
* **export** (inside ``torch.export``/``torch.onnx.export``): the full
  formulation with one unfold per operator built from the ``k^2`` shifted
  slices of the padded ``[x2, x3]`` (ONNX ``Slice`` + ``Concat``, which
  onnxruntime runs ~3x faster than the ``Gather`` im2col that ``F.unfold``
  exports to) and aggregation as multiply-and-sum over the taps; the position
  term is a constant of the map size times ``conv_p`` (no slices for it).

Differences from the official implementation: stride and dilation 1 only
(every SAN); PyTorch's default initialisation.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tenfold.spec.san import ops as spec

from .._tensors import as_tensor, dtype_name
from ..layers.norm import BatchNorm2d

#: Padded map widths up to which aggregation accumulates over flattened rows (measured faster on CPUs below ~32).
_FLAT_MAX_WIDTH = 24


def _exporting() -> bool:
    """Inside torch.export / torch.onnx.export / TorchScript tracing (graph-size matters, in-place ``out=`` cannot)."""
    compiler = getattr(torch, "compiler", None)
    if compiler is not None and hasattr(compiler, "is_exporting") and compiler.is_exporting():
        return True
    return torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()


def static_shape(x: torch.Tensor) -> tuple[int | None, ...]:
    """``x.shape`` with symbolic dimensions (torch.export's dynamic batch) as None, so checks never specialise them."""
    return tuple(d if isinstance(d, int) else None for d in x.shape)


def pad(x: torch.Tensor, p: int, padding: str) -> torch.Tensor:
    """Pad the last two axes by ``p`` (``"reflect"``: ``ReflectionPad2d``; ``"zero"``)."""
    if p == 0:
        return x
    return F.pad(x, (p, p, p, p), mode="reflect" if padding == "reflect" else "constant")


def unfold(x: torch.Tensor, kernel_size: int, padding: str) -> torch.Tensor:
    """``(N, C, H, W) -> (N, C, k^2, H*W)``: every footprint of the padded map (``F.unfold`` order).

    Inside export it is the stack of the ``k^2`` shifted slices (ONNX ``Slice`` + ``Concat``, which
    onnxruntime runs ~5x faster than the ``Gather``-based im2col ``F.unfold`` exports to).
    """
    n, c, h, w = x.shape
    k = kernel_size
    xp = pad(x, k // 2, padding)
    if _exporting():  # k row bands, then k columns of each: k + k^2 slice nodes instead of 2 k^2
        bands = [xp[..., i:i + h, :] for i in range(k)]
        return torch.stack([b[..., j:j + w] for b in bands for j in range(k)], 2).view(n, c, k * k, h * w)
    return F.unfold(xp, k).view(n, c, k * k, h * w)


def position_map(h: int, w: int, like: torch.Tensor) -> torch.Tensor:
    """The official ``position(H, W)`` on ``like``'s device and dtype: ``(1, 2, H, W)``, x coordinate first."""
    loc_w = torch.linspace(-1.0, 1.0, w, device=like.device, dtype=like.dtype).view(1, w).expand(h, w)
    loc_h = torch.linspace(-1.0, 1.0, h, device=like.device, dtype=like.dtype).view(h, 1).expand(h, w)
    return torch.stack([loc_w, loc_h]).unsqueeze(0)


def aggregation(x: torch.Tensor, w: torch.Tensor, kernel_size: int, padding: str = "reflect") -> torch.Tensor:
    """``y[n, c, i] = sum_t w[n, c mod C_w, t, i] * x[n, c, i + t - pad]`` (official ``Aggregation``).

    Args:
        x: ``(N, C, H, W)``.
        w: ``(N, C_w, k^2, H*W)``, ``C_w`` dividing ``C`` (interleaved sharing: channel ``c`` uses ``c mod C_w``).
        kernel_size: ``k``.
        padding: ``"reflect"`` or ``"zero"``.

    Returns:
        ``(N, C, H, W)``. Autograd works; outside export the taps are accumulated one
        at a time on views (no ``k^2``-fold copy of ``x``).
    """
    n, c, h, wd = x.shape
    k, cw = kernel_size, w.shape[1]
    if _exporting():
        patches = unfold(x, k, padding).view(n, c // cw, cw, k * k, h * wd)  # (N, G, C_w, k^2, L)
        return (patches * w.unsqueeze(1)).sum(dim=3).view(n, c, h, wd)
    acc = RowAccumulator(x, cw, k, padding)
    for i in range(k):
        acc.add_row(w[:, :, i * k:(i + 1) * k], i)
    return acc.result()


class RowAccumulator:
    """``y = sum_t w_t * shift_t(x)`` built one kernel row of taps at a time, on views of the padded ``x``.

    Channel ``c`` of ``x`` takes weight channel ``c mod C_w`` (official interleaved sharing). Large maps
    accumulate ``k`` shifted 2-D views per row; small maps (padded width up to ``_FLAT_MAX_WIDTH``) are
    computed on the padded width, where every tap is one contiguous run of the flattened padded map (long
    inner loops instead of rows of ``W``; the ``2 pad`` extra columns per row are dropped at the end).
    The lean eval paths feed it one row of weights at a time, so the ``(N, C_w, k^2, H*W)`` weights never
    exist at once; autograd works through it.
    """

    def __init__(self, x: torch.Tensor, weight_planes: int, kernel_size: int, padding: str):
        n, c, h, w = x.shape
        k, p, cw = kernel_size, kernel_size // 2, weight_planes
        self.shape, self.k, self.cw, self.p = (n, c, h, w), k, cw, p
        xp = pad(x, p, padding)
        self.wp = w + 2 * p
        self.flat = self.wp <= _FLAT_MAX_WIDTH
        if self.flat:
            self.span = h * self.wp - 2 * p  # the last row's extra columns would read past the padded map
            self.xs = xp.reshape(n, c // cw, cw, -1)  # (N, G, C_w, Hp * Wp)
            self.y = x.new_zeros((n, c // cw, cw, h * self.wp))
        else:
            self.xs = xp.view(n, c // cw, cw, h + 2 * p, self.wp)  # channel c = g * C_w + c_w
            self.y = x.new_zeros((n, c // cw, cw, h, w))

    def add_row(self, w_row: torch.Tensor, i: int) -> None:
        """Add the taps ``i k .. i k + k - 1``; ``w_row``: ``(N, C_w, k, H*W)``."""
        n, _, h, w = self.shape
        k, cw = self.k, self.cw
        if self.flat:
            wp, span = self.wp, self.span
            wf = F.pad(w_row.reshape(n, cw, k, h, w), (0, 2 * self.p)).view(n, 1, cw, k, h * wp)
            acc = self.y[..., :span]
            for j in range(k):
                acc.addcmul_(self.xs[..., i * wp + j:i * wp + j + span], wf[:, :, :, j, :span])
        else:
            wt = w_row.reshape(n, 1, cw, k, h, w)
            for j in range(k):
                self.y.addcmul_(self.xs[..., i:i + h, j:j + w], wt[:, :, :, j])

    def valid(self) -> torch.Tensor:
        """The accumulated output as ``(N, G, C_w, H, W)`` (a view)."""
        n, c, h, w = self.shape
        if self.flat:
            return self.y.view(n, c // self.cw, self.cw, h, self.wp)[..., :w]
        return self.y

    def result(self) -> torch.Tensor:
        """``(N, C, H, W)`` (a view of the accumulator)."""
        n, c, h, w = self.shape
        if self.flat:
            return self.y.view(n, c, h, self.wp)[..., :w]
        return self.y.view(n, c, h, w)


def relation(x1: torch.Tensor, x2: torch.Tensor, config: spec.SAMConfig, xj: torch.Tensor | None = None,
             xk: torch.Tensor | None = None) -> torch.Tensor:
    """The relation ``delta`` (``(N, C_d, k^2, L)`` pairwise, ``(N, C_d, 1, L)`` patchwise); see the spec.

    ``xj`` / ``xk``: the footprints of ``x2`` / ``x1`` when already unfolded (``(N, r, k^2, L)``).
    """
    n, r, h, w = x1.shape
    k2, rel = config.taps, config.rel
    xi = x1.reshape(n, r, 1, h * w)
    xj = unfold(x2, config.kernel_size, config.padding) if xj is None else xj  # (N, r, k^2, L)
    if config.sa_type == "pairwise":
        if rel == "subtraction":
            return xi - xj
        if rel == "summation":
            return xi + xj
        if rel == "hadamard":
            return xi * xj
        if rel == "concatenation":
            return torch.cat([xi.expand(-1, -1, k2, -1), xj], 1)
        return (xi * xj).sum(1, keepdim=True)
    if rel == "concatenation":
        return torch.cat([xi, xj.reshape(n, r * k2, 1, h * w)], 1)
    if rel == "star":
        return (xi * xj).sum(1).unsqueeze(2)
    xk = unfold(x1, config.kernel_size, config.padding) if xk is None else xk
    return torch.einsum("nrjl,nrml->njml", xk, xj).reshape(n, k2 * k2, 1, h * w)


@functools.lru_cache(maxsize=64)
def _coordinate_differences(h: int, w: int, kernel_size: int, padding: str) -> tuple[np.ndarray, np.ndarray]:
    """``(D, Z)``: ``D[c, t, i] = P[c, i] - P[c, j]`` of the coordinate map ``P`` (``P[c, j]`` reflected, or 0
    outside with zero padding) and ``Z[t, i] = 1`` where ``j`` falls outside with zero padding; ``(2, k^2, H*W)``
    and ``(k^2, H*W)``, float64 constants of the size alone.

    Since ``p = conv_p(P)`` is affine, ``p_i - p_j = W D + b Z``: the bias cancels wherever ``p_j`` is a
    (reflected) pixel and survives where zero padding makes ``p_j = 0`` (official ``Subtraction``).
    """
    k, pw = kernel_size, kernel_size // 2
    loc = np.stack([np.broadcast_to(np.linspace(-1.0, 1.0, w)[None, :], (h, w)),
                    np.broadcast_to(np.linspace(-1.0, 1.0, h)[:, None], (h, w))])  # (2, H, W), x first
    locp = np.pad(loc, ((0, 0), (pw, pw), (pw, pw)), mode="reflect" if padding == "reflect" else "constant")
    inside = np.ones((h + 2 * pw, w + 2 * pw)) if padding == "reflect" else np.pad(np.ones((h, w)), pw)
    pj = np.stack([locp[:, i:i + h, j:j + w] for i in range(k) for j in range(k)], 1).reshape(2, k * k, h * w)
    out = 1.0 - np.stack([inside[i:i + h, j:j + w] for i in range(k) for j in range(k)]).reshape(k * k, h * w)
    return loc.reshape(2, 1, h * w) - pj, out


def _affine(bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """An eval-mode BatchNorm as ``y = s x + t`` per channel."""
    s = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
    return s, bn.bias - bn.running_mean * s


class SAM(nn.Module):
    """SAN's self-attention operator, pairwise or patchwise, on any device.

    Paper: Zhao, Jia, Koltun, CVPR 2020, Eqs. (1)-(5). Official code: hszhao/SAN ``model/san.py``.

    Args:
        config: The operator (:class:`tenfold.spec.san.ops.SAMConfig`).
        dtype, device: Of the parameters.

    Attributes:
        lean: Use the lean eval path when it applies (default True; False forces the full path).
    """

    def __init__(self, config: spec.SAMConfig | None = None, dtype: torch.dtype | None = None,
                 device: torch.device | str | None = None):
        super().__init__()
        self.config = c = config or spec.SAMConfig()
        kw = dict(dtype=dtype, device=device)
        self.conv1 = nn.Conv2d(c.in_planes, c.rel_planes, 1, **kw)
        self.conv2 = nn.Conv2d(c.in_planes, c.rel_planes, 1, **kw)
        self.conv3 = nn.Conv2d(c.in_planes, c.out_planes, 1, **kw)
        self.conv_w = nn.Sequential(BatchNorm2d(c.gamma_in, c.batchnorm, dtype).to(device), nn.ReLU(),
                                    nn.Conv2d(c.gamma_in, c.gamma_hidden, 1, bias=False, **kw),
                                    BatchNorm2d(c.gamma_hidden, c.batchnorm, dtype).to(device), nn.ReLU(),
                                    nn.Conv2d(c.gamma_hidden, c.gamma_out, 1, **kw))
        self.conv_p = nn.Conv2d(2, 2, 1, **kw) if c.uses_position else None
        self.lean = True

    def _qkv_joint(self, x: torch.Tensor) -> torch.Tensor:
        """``[conv1(x), conv2(x), conv3(x)]`` as one convolution (the input read once): ``(N, 2 rel + out, H, W)``."""
        weight = torch.cat([self.conv1.weight, self.conv2.weight, self.conv3.weight])
        bias = torch.cat([self.conv1.bias, self.conv2.bias, self.conv3.bias])
        return F.conv2d(x, weight, bias)

    def _qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        r = self.config.rel_planes
        return self._qkv_joint(x).split([r, r, self.config.out_planes], 1)

    def _position(self, x: torch.Tensor) -> torch.Tensor:
        """``p_i - p_j`` of ``p = conv_p(position(H, W))``: ``(1, 2, k^2, L)``."""
        h, w = x.shape[-2:]
        d, z = _coordinate_differences(int(h), int(w), self.config.kernel_size, self.config.padding)
        d = torch.as_tensor(d, dtype=x.dtype, device=x.device)  # (2, k^2, L)
        z = torch.as_tensor(z, dtype=x.dtype, device=x.device)  # (k^2, L)
        wp = self.conv_p.weight.flatten(1)  # (2, 2)
        return (torch.einsum("oc,ctl->otl", wp, d) + self.conv_p.bias[:, None, None] * z).unsqueeze(0)

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        """The aggregation weights ``(N, C_w, k^2, H*W)`` of input ``x`` (full path)."""
        x1, x2, _ = self._qkv(x)
        return self._weights_full(x, x1, x2)

    def _weights_full(self, x, x1, x2) -> torch.Tensor:
        c = self.config
        n, _, h, w = x.shape
        delta = relation(x1, x2, c)
        if c.sa_type == "pairwise":
            if c.uses_position:
                delta = torch.cat([delta, self._position(x).expand(n, -1, -1, -1)], 1)
            return torch.softmax(self.conv_w(delta), dim=2)  # (N, C_w, k^2, L)
        return self.conv_w(delta).view(n, c.weight_planes, c.taps, h * w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, in_planes, H, W) -> (N, out_planes, H, W)``.

        Raises:
            ShapeError: Wrong rank or channels, a map too small for the reflection
                padding, or a single value per channel in train mode.
            DTypeError: A non-float input.
        """
        x = as_tensor("SAM", x)
        spec.check_dtype(dtype_name(x.dtype), "SAM")
        spec.check_input("SAM", static_shape(x), self.config)
        if self.training and not _exporting():
            spec.check_train_batch("SAM", x.shape[0], x.shape[2], x.shape[3])
        if self.lean and not self.training and not torch.is_grad_enabled() and not _exporting():
            return self._forward_lean(x)
        if _exporting():
            return self._forward_export(x)
        x1, x2, x3 = self._qkv(x)
        w = self._weights_full(x, x1, x2)
        return aggregation(x3, w, self.config.kernel_size, self.config.padding)

    def _forward_export(self, x: torch.Tensor) -> torch.Tensor:
        """The full formulation for export: footprints of ``x2`` and ``x3`` (and ``x1`` for the clique product)
        as stacks of k^2 slices, gamma without concatenated copies in eval mode."""
        c = self.config
        n, _, h, w = x.shape
        r, k2, cw = c.rel_planes, c.taps, c.weight_planes
        folded = not self.training and c.rel in ("subtraction", "summation")
        if folded:  # BN0(x1 -+ x2_j) = (s x1 + t) -+ s x2_j: BatchNorm 0 goes into conv1 and conv2
            s0, t0 = _affine(self.conv_w[0])
            s0, t0 = s0[:r, None, None, None], t0[:r]
            weight = torch.cat([self.conv1.weight * s0, self.conv2.weight * s0, self.conv3.weight])
            bias = torch.cat([self.conv1.bias * s0.flatten() + t0, self.conv2.bias * s0.flatten(), self.conv3.bias])
            x1, x2, x3 = F.conv2d(x, weight, bias).split([r, r, c.out_planes], 1)
        else:
            x1, x2, x3 = self._qkv(x)
        # separate unfolds: onnxruntime copies on every Split, and one over k^2-wide footprints costs more
        # than the extra Slice nodes
        xj = unfold(x2, c.kernel_size, c.padding)  # (N, r, k^2, L)
        xk = unfold(x1, c.kernel_size, c.padding) if c.rel == "clique" else None
        if self.training:  # (torch.export of a train-mode model) gamma on the concatenated input
            delta = relation(x1, x2, c, xj=xj, xk=xk)
            if c.uses_position:
                delta = torch.cat([delta, self._position(x).expand(n, -1, -1, -1)], 1)
            logits = self.conv_w(delta)
        elif c.sa_type == "patchwise" and c.rel == "concatenation":  # no concatenated copy of the footprints
            logits = self._gamma_split([x1.reshape(n, r, 1, h * w), xj.reshape(n, r * k2, 1, h * w)])
        else:  # the relation, and the batch-free position channels added after conv 2 (no Expand/Concat)
            delta = relation(x1, x2, c, xj=xj, xk=xk)
            logits = self._gamma_split([delta, self._position(x)] if c.uses_position else [delta], folded)
        wt = torch.softmax(logits, dim=2) if c.sa_type == "pairwise" else logits.view(n, cw, k2, h * w)
        patches = unfold(x3, c.kernel_size, c.padding).view(n, c.out_planes // cw, cw, k2, h * w)  # g C_w + c_w
        return (patches * wt.unsqueeze(1)).sum(dim=3).view(n, c.out_planes, h, w)

    def _gamma_split(self, parts: list[torch.Tensor], first_normalised: bool = False) -> torch.Tensor:
        """Eval-mode gamma on the channel concatenation of ``parts`` without concatenating them.

        BatchNorm 0 and ReLU act per channel and conv 2 is linear, so each part gets its slice of both
        and the conv 2 results are summed (broadcasting a batch-1 part, the position channels).
        ``first_normalised``: BatchNorm 0 is already folded into the first part.
        """
        bn0, conv2 = self.conv_w[0], self.conv_w[2]
        hidden, start = None, 0
        for index, part in enumerate(parts):
            stop = start + part.shape[1]
            if index == 0 and first_normalised:
                z = torch.relu(part)
            else:
                z = torch.relu(F.batch_norm(part, bn0.running_mean[start:stop], bn0.running_var[start:stop],
                                            bn0.weight[start:stop], bn0.bias[start:stop], False, 0.0, bn0.eps))
            term = F.conv2d(z, conv2.weight[:, start:stop])
            hidden = term if hidden is None else hidden + term
            start = stop
        return self.conv_w[5](self.conv_w[4](self.conv_w[3](hidden)))

    # -- the lean eval path -------------------------------------------------------------------------------

    def _forward_lean(self, x: torch.Tensor) -> torch.Tensor:
        c = self.config
        x1, x2, x3 = self._qkv(x)
        if c.sa_type == "pairwise" or c.rel == "concatenation":
            from . import lean

            acc = RowAccumulator(x3, c.weight_planes, c.kernel_size, c.padding)
            if c.sa_type == "pairwise":
                lean.pairwise(self, x, x1, x2, acc)
            else:
                lean.patchwise_concatenation(self, x1, x2, acc)
            return acc.result()
        # star and clique (paper-only): the full formulation
        return aggregation(x3, self._weights_full(x, x1, x2), c.kernel_size, c.padding)


__all__ = ["SAM", "aggregation", "pad", "position_map", "relation", "unfold"]
