r"""The self-attention operator of SAN (``SAM``): pairwise and patchwise, every relation of the paper.

Paper: H. Zhao, J. Jia, V. Koltun, "Exploring Self-attention for Image
Recognition", CVPR 2020, Section 3 (Eqs. 1-5). Official code:
https://github.com/hszhao/SAN ``model/san.py`` (class ``SAM``) and
``lib/sa/functions/{subtraction,subtraction2,aggregation}_{refpad,zeropad}.py``
(CUDA kernels; each file's ``test_*`` function is the Unfold/ReflectionPad
reference that tenfold's NumPy layer follows).

Notation. Input ``x`` is NCHW with ``C_in`` channels; ``R(i)`` is the ``k x k``
footprint centred on pixel ``i`` (stride 1, dilation 1, ``pad = k // 2``),
enumerated ``t = kh * k + kw``; three 1x1 convolutions with bias give::

    x1 = conv1(x)   (rel channels: phi)     x2 = conv2(x)   (rel: psi)     x3 = conv3(x)   (out: beta)

A neighbour ``j = i + t - pad`` outside the image is read from the padded map:
``padding="reflect"`` (official, ``pad_mode=1``: index -1 -> 1, the edge pixel
not repeated, as ``torch.nn.ReflectionPad2d``) or ``"zero"`` (the official
``*_zeropad`` kernels: the neighbour is 0, so subtraction gives ``x1_i - 0``
and aggregation drops the term).

**Aggregation** (both kinds, Eq. 1/4; ``aggregation_refpad.py``), with the
weights shared across channels in the official *interleaved* pattern
``C_w = out / share``, channel ``c`` using weight channel ``c mod C_w``::

    y[n, c, i] = sum_t w[n, c mod C_w, t, i] * x3[n, c, i + t - pad]

**Pairwise** (``sa_type="pairwise"``, Eq. 2): ``w[., t, i] = softmax_t(gamma([delta(x1_i, x2_j), p_i - p_j]))``.
Relations ``delta`` (paper Sec. 3.1; the official code implements only subtraction)::

    subtraction    x1_i - x2_j                  rel channels  (official; Subtraction2)
    summation      x1_i + x2_j                  rel
    hadamard       x1_i * x2_j                  rel
    concatenation  [x1_i, x2_j]                 2 rel  (x1 first)
    dot            sum_c x1_i[c] x2_j[c]        1      (no 1/sqrt(d) scaling: the paper gives none)

Position encoding (official ``position()`` + ``conv_p`` + ``Subtraction``;
paper Sec. 3.1 "Position encoding"): the map ``P`` of shape ``(2, H, W)`` with
``P[0, h, w] = linspace(-1, 1, W)[w]`` (x coordinate first) and ``P[1, h, w] =
linspace(-1, 1, H)[h]`` (``linspace(-1, 1, 1) = [-1]``), ``p = conv_p(P)`` (a
1x1 conv 2 -> 2 with bias), then ``p_i - p_j`` with ``p_j`` padded like ``x2``
(reflected coordinates, or 0). It is concatenated after ``delta``
(``position=False`` drops it and ``conv_p``: the paper's ablation, Table 6).

gamma (``conv_w``, official indices)::

    0 BN(C_d + 2)   1 ReLU   2 Conv1x1(C_d + 2 -> rel, no bias)   3 BN(rel)   4 ReLU   5 Conv1x1(rel -> C_w, bias)

applied to the ``(N, C_d + 2, k^2, H*W)`` tensor, so in train mode BatchNorm
statistics span ``N * k^2 * H * W`` values per channel; then softmax over the
``k^2`` axis (official ``nn.Softmax(dim=-2)``).

**Patchwise** (``sa_type="patchwise"``, Eq. 4): ``w[., :, i] = gamma(delta(x_R(i)))``, viewed
``(C_w, k^2)`` (output channel ``o = c_w * k^2 + t``), **no softmax and no position encoding**
(official). Relations (paper Sec. 3.2; the official code implements only concatenation)::

    concatenation  [x1_i, unfold(x2)_i]         rel (k^2 + 1)   (official; unfold channel c k^2 + t)
    star           [x1_i . x2_j]_{j in R(i)}    k^2             (dot over channels, j in t order)
    clique         [x1_j . x2_l]_{j, l in R(i)} k^4             (channel t_j k^2 + t_l)

gamma (``conv_w``)::

    0 BN(C_d)   1 ReLU   2 Conv1x1(C_d -> C_w, no bias)   3 BN(C_w)   4 ReLU   5 Conv1x1(C_w -> k^2 C_w, bias)

Parameter names (official ``SAM`` attribute names, PyTorch layouts)::

    conv1.{weight (rel, in, 1, 1), bias}  conv2.{...}  conv3.{weight (out, in, 1, 1), bias}
    conv_w.0.{weight, bias, running_mean, running_var, num_batches_tracked}  conv_w.2.weight
    conv_w.3.{BN}  conv_w.5.{weight, bias}  conv_p.{weight (2, 2, 1, 1), bias}   (pairwise with position)

Limits: with reflection padding ``H`` and ``W`` must exceed ``pad`` (the
official kernels reflect once and read out of bounds silently beyond that;
tenfold raises :class:`ShapeError`). Zero padding works for any ``H, W >= 1``.

Differences from the official implementation: stride and dilation are fixed
at 1 (every SAN uses them; the official patchwise stride-2 path is broken);
the paper-only relations are tenfold's reading of the paper's equations.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import batchnorm as bn
from ..config import Config, param, require
from ..dtypes import check_float_dtype
from ..errors import ShapeError, expected

SA_TYPES: tuple[str, ...] = ("pairwise", "patchwise")
PAIRWISE_RELATIONS: tuple[str, ...] = ("subtraction", "summation", "hadamard", "concatenation", "dot")
PATCHWISE_RELATIONS: tuple[str, ...] = ("concatenation", "star", "clique")
RELATIONS: dict[str, tuple[str, ...]] = {"pairwise": PAIRWISE_RELATIONS, "patchwise": PATCHWISE_RELATIONS}
#: The relation the official code implements for each kind (the default).
OFFICIAL_RELATION: dict[str, str] = {"pairwise": "subtraction", "patchwise": "concatenation"}
PADDINGS: tuple[str, ...] = ("reflect", "zero")

#: The dtypes every layer accepts and conformance tests (half precisions are not part of SAN's contract).
DTYPES: tuple[str, ...] = ("float32", "float64")

#: Where each relation comes from.
RELATION_SOURCES: dict[str, str] = {
    "pairwise/subtraction": "official lib/sa/functions/subtraction2_refpad.py; paper Sec. 3.1",
    "pairwise/summation": "paper Sec. 3.1 (not in the official code)",
    "pairwise/hadamard": "paper Sec. 3.1 (not in the official code)",
    "pairwise/concatenation": "paper Sec. 3.1 (not in the official code)",
    "pairwise/dot": "paper Sec. 3.1 (not in the official code)",
    "patchwise/concatenation": "official model/san.py (unfold_j + ReflectionPad2d); paper Sec. 3.2",
    "patchwise/star": "paper Sec. 3.2, star-product (not in the official code)",
    "patchwise/clique": "paper Sec. 3.2, clique-product (not in the official code)",
}


def _is_int(v: object, low: int = 1) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= low


@dataclass(frozen=True)
class SAMConfig(Config):
    """One SAN self-attention operator (``SAM``), its channels and options.

    Attributes:
        in_planes, rel_planes, out_planes: Channels of ``x``, of ``x1``/``x2`` and of ``x3``/``y``.
        share_planes: Channels that share one aggregation weight (``C_w = out / share``).
        kernel_size: The footprint ``k`` (odd).
        sa_type: ``"pairwise"`` or ``"patchwise"``.
        relation: ``None`` for the official one of ``sa_type``, else one of :data:`RELATIONS`.
        padding: ``"reflect"`` (official) or ``"zero"``.
        position: Pairwise position encoding (official: on).
        bn_eps, bn_momentum: The BatchNorms of gamma (torch convention).
    """

    PRESETS = ("official",)

    in_planes: int = param(64, "official SAN: the block width (64 in stage 0)")
    rel_planes: int = param(4, "official SAN._make_layer: planes // 16")
    out_planes: int = param(16, "official SAN._make_layer: mid_planes = planes // 4")
    share_planes: int = param(8, "official SAN._make_layer / Bottleneck: share_planes = 8")
    kernel_size: int = param(3, "official config/imagenet/*.yaml: kernels [3, 7, 7, 7, 7]")
    sa_type: str = param("pairwise", "official model/san.py: sa_type 0 (pairwise) or 1 (patchwise)")
    relation: str | None = param(None, "official: subtraction (pairwise) / concatenation (patchwise); "
                                       "paper Sec. 3 for the others")
    padding: str = param("reflect", "official SAM: pad_mode=1 (reflection) everywhere; patchwise ReflectionPad2d")
    position: bool = param(True, "official SAM (pairwise): conv_p on position(); paper Sec. 3.1")
    bn_eps: float = param(1e-5, "official: nn.BatchNorm2d default eps")
    bn_momentum: float = param(0.1, "official: nn.BatchNorm2d default momentum")

    @classmethod
    def official(cls) -> SAMConfig:
        return cls()

    def validate(self) -> None:
        w = "SAMConfig"
        for name in ("in_planes", "rel_planes", "out_planes", "share_planes"):
            require(_is_int(getattr(self, name)), f"{w}.{name}", "an integer >= 1", repr(getattr(self, name)))
        require(_is_int(self.kernel_size) and self.kernel_size % 2 == 1, f"{w}.kernel_size",
                "an odd integer >= 1 (stride 1, padding k // 2 keeps the size)", repr(self.kernel_size))
        require(self.out_planes % self.share_planes == 0, f"{w}.out_planes",
                f"a multiple of share_planes = {self.share_planes} (interleaved weight sharing)", self.out_planes)
        require(self.sa_type in SA_TYPES, f"{w}.sa_type", "one of " + ", ".join(SA_TYPES), repr(self.sa_type))
        require(self.relation is None or self.relation in RELATIONS[self.sa_type], f"{w}.relation",
                f"None or a {self.sa_type} relation among " + ", ".join(RELATIONS[self.sa_type]), repr(self.relation))
        require(self.padding in PADDINGS, f"{w}.padding", "one of " + ", ".join(PADDINGS), repr(self.padding))
        require(isinstance(self.position, bool), f"{w}.position", "a bool", repr(self.position))
        bn.BatchNormConfig(self.bn_eps, self.bn_momentum)

    @property
    def rel(self) -> str:
        """The relation in use (the official one when ``relation`` is None)."""
        return self.relation or OFFICIAL_RELATION[self.sa_type]

    @property
    def pad(self) -> int:
        """Padding of the footprint (official ``(dilation * (k - 1) + 1) // 2`` with dilation 1)."""
        return self.kernel_size // 2

    @property
    def taps(self) -> int:
        """``k^2``, the footprint size."""
        return self.kernel_size ** 2

    @property
    def weight_planes(self) -> int:
        """``C_w = out_planes / share_planes``: distinct aggregation weights per pixel and tap."""
        return self.out_planes // self.share_planes

    @property
    def uses_position(self) -> bool:
        """Whether the position encoding is active (pairwise only)."""
        return self.sa_type == "pairwise" and self.position

    @property
    def delta_planes(self) -> int:
        """Channels of the relation ``delta`` (before the position channels)."""
        r, k2 = self.rel_planes, self.taps
        return {"subtraction": r, "summation": r, "hadamard": r, "concatenation": 2 * r if self.sa_type == "pairwise"
                else r * (k2 + 1), "dot": 1, "star": k2, "clique": k2 * k2}[self.rel]

    @property
    def gamma_in(self) -> int:
        """Channels entering gamma: ``delta`` plus the 2 position channels where used."""
        return self.delta_planes + (2 if self.uses_position else 0)

    @property
    def gamma_hidden(self) -> int:
        """Channels after gamma's first conv (official: rel for pairwise, C_w for patchwise)."""
        return self.rel_planes if self.sa_type == "pairwise" else self.weight_planes

    @property
    def gamma_out(self) -> int:
        """Channels of gamma's output: ``C_w`` (pairwise, per tap) or ``k^2 C_w`` (patchwise)."""
        return self.weight_planes if self.sa_type == "pairwise" else self.taps * self.weight_planes

    @property
    def batchnorm(self) -> bn.BatchNormConfig:
        return bn.BatchNormConfig(self.bn_eps, self.bn_momentum)


def bn_shapes(channels: int, prefix: str) -> dict[str, tuple[int, ...]]:
    """One BatchNorm's entries with PyTorch's ``num_batches_tracked`` counter (shape ``()``, int64)."""
    return {**bn.param_shapes(channels, prefix), f"{prefix}num_batches_tracked": ()}


def sam_param_shapes(config: SAMConfig, prefix: str = "") -> dict[str, tuple[int, ...]]:
    """Canonical names and shapes of one ``SAM`` (official attribute names; ``prefix`` ends with a dot)."""
    c = config
    s: dict[str, tuple[int, ...]] = {}
    for name, out in (("conv1", c.rel_planes), ("conv2", c.rel_planes), ("conv3", c.out_planes)):
        s[f"{prefix}{name}.weight"] = (out, c.in_planes, 1, 1)
        s[f"{prefix}{name}.bias"] = (out,)
    g = f"{prefix}conv_w."
    s.update(bn_shapes(c.gamma_in, g + "0."))
    s[g + "2.weight"] = (c.gamma_hidden, c.gamma_in, 1, 1)
    s.update(bn_shapes(c.gamma_hidden, g + "3."))
    s[g + "5.weight"] = (c.gamma_out, c.gamma_hidden, 1, 1)
    s[g + "5.bias"] = (c.gamma_out,)
    if c.uses_position:
        s[f"{prefix}conv_p.weight"] = (2, 2, 1, 1)
        s[f"{prefix}conv_p.bias"] = (2,)
    return s


def is_counter(name: str) -> bool:
    """BatchNorm's ``num_batches_tracked``: optional in every parameter dict (PyTorch-only state)."""
    return name.endswith("num_batches_tracked")


def is_state(name: str) -> bool:
    """Entries that are not trained by gradients (running statistics and the counter)."""
    return name.endswith(("running_mean", "running_var", "num_batches_tracked"))


def check_dtype(dtype_name: str, where: str) -> str:
    """Raise :class:`DTypeError` unless the input is a float of :data:`DTYPES`."""
    return check_float_dtype(where, dtype_name, DTYPES)


def min_size(kernel_size: int, padding: str) -> int:
    """The smallest H (and W) a ``k x k`` footprint works on: ``k // 2 + 1`` with reflection, else 1."""
    return kernel_size // 2 + 1 if padding == "reflect" else 1


def size_rule(kernel_size: int, padding: str) -> str:
    """Why :func:`min_size` is what it is, for messages."""
    need = min_size(kernel_size, padding)
    if padding == "reflect":
        return f"H and W >= {need} (kernel {kernel_size}: reflection padding {kernel_size // 2} needs H, W > " \
               f"{kernel_size // 2})"
    return f"H and W >= {need}"


def check_spatial(where: str, h: int, w: int, kernel_size: int, padding: str) -> None:
    """Raise :class:`ShapeError` if an ``h x w`` map is too small for a ``k x k`` footprint."""
    need = min_size(kernel_size, padding)
    if h < need or w < need:
        raise ShapeError(expected(where, size_rule(kernel_size, padding), f"H x W = {h} x {w}"))


def check_input(where: str, shape: tuple[int, ...], config: SAMConfig) -> None:
    """Validate an NCHW input shape of a ``SAM`` (rank, channels, size against the padding)."""
    shape = tuple(int(d) if d is not None else -1 for d in shape)
    if len(shape) != 4:
        raise ShapeError(expected(where, f"a 4-D input (N, {config.in_planes}, H, W)", f"shape {shape}"))
    if shape[1] != config.in_planes:
        raise ShapeError(expected(where, f"{config.in_planes} channels (axis 1 of NCHW)", f"shape {shape}"))
    if shape[2] >= 0 and shape[3] >= 0:
        check_spatial(where, shape[2], shape[3], config.kernel_size, config.padding)


def check_train_batch(where: str, n: int, h: int, w: int) -> None:
    """Train-mode BatchNorm inside gamma needs more than one value per channel."""
    if n * h * w <= 1:
        raise ShapeError(expected(where, "more than one value per channel in train mode (N*H*W > 1)",
                                  f"N, H, W = {n}, {h}, {w}"))


__all__ = ["DTYPES", "OFFICIAL_RELATION", "PADDINGS", "PAIRWISE_RELATIONS", "PATCHWISE_RELATIONS", "RELATIONS",
           "RELATION_SOURCES", "SA_TYPES", "SAMConfig", "bn_shapes", "check_dtype", "check_input", "check_spatial",
           "check_train_batch", "is_counter", "is_state", "min_size", "sam_param_shapes", "size_rule"]
