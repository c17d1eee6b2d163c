r"""The SimCLR projection head g(.): Dense + BatchNorm layers, the last one without centre.

Paper: Chen et al., ICML 2020, Sec. 2.1 (``z = g(h) = W2 relu(W1 h)``) and
Appendix B.4; SimCLRv2 (Chen et al., NeurIPS 2020, Sec. 2) deepens it to three
layers. Official code: google-research/simclr ``model_util.py``
(``projection_head``, ``linear_layer``) and ``resnet.py`` (``batch_norm_relu``).

Math, for input ``h`` of shape (B, in_dim) and L = ``num_layers``::

    layer j < L-1:  x <- relu(BN_j(x @ kernel_j))            (width mid_dim, BN with beta)
    layer L-1:      z  = BN_{L-1}(x @ kernel_{L-1})           (width out_dim, BN without beta: center=False)

Each Dense has no bias (``use_bias and not use_bn`` is False: the BN beta
replaces it) and a kernel drawn from N(0, 0.01^2)
(``tf.random_normal_initializer(stddev=.01)``); every BN has a gamma
initialised to 1. The hidden width is the input's (``mid_dim =
hiddens.shape[-1]``); the output is 128-d (``--proj_out_dim`` /
``--head_proj_dim``). v1 (first commit be133b3: ``--num_nlh_layers=1``, i.e.
``nl_0`` then ``nl_1``) has two layers; v2 (HEAD: ``--num_proj_layers=3``)
three. ``num_layers=1`` is the official ``--proj_head_mode=linear``.

BatchNorm over the batch axis (B values per feature), in the spec's
convention (:mod:`tenfold.spec.batchnorm`): eps 1e-5 (``BATCH_NORM_EPSILON``),
momentum 0.1 (= 1 - ``--batch_norm_decay=0.9``).

Canonical parameter names are the official TF1 checkpoint's, without the
``head_contrastive/`` scope (:func:`param_shapes`)::

    nl_{j}/dense/kernel                       (in, out)       Dense kernel, x @ kernel
    nl_{j}/batch_normalization/gamma          (out,)
    nl_{j}/batch_normalization/beta           (out,)          all but the last layer
    nl_{j}/batch_normalization/moving_mean    (out,)
    nl_{j}/batch_normalization/moving_variance (out,)

so the official LARS exclusion patterns (``batch_normalization``, ``bias``)
apply to them unchanged.

Differences from the official implementation: the running variance takes the
unbiased batch variance (``var * B / (B - 1)``, PyTorch's convention, shared by
every tenfold BatchNorm); TF's non-fused BatchNorm on these rank-2 inputs uses
the biased one. Outputs in train mode and the running means are unaffected.
``global_bn`` (cross-replica statistics) is not modelled: under data parallelism
each process normalises its own batch (wrap with ``SyncBatchNorm`` for that).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ..batchnorm import BatchNormConfig
from ..config import Config, param, require
from ..errors import ShapeError, expected

_MU = "google-research/simclr model_util.py projection_head / linear_layer"

#: The four BatchNorm entries of a layer in the official checkpoint (``beta`` absent in the last layer).
BN_NAMES: tuple[str, ...] = ("gamma", "beta", "moving_mean", "moving_variance")
#: Entries that training updates without gradients.
STATE_SUFFIXES: tuple[str, ...] = ("moving_mean", "moving_variance")


@dataclass(frozen=True)
class HeadConfig(Config):
    """Shape and conventions of the projection head. Presets: ``v2`` (default, HEAD), ``v1``, ``linear``."""

    PRESETS = ("v2", "v1", "linear")

    in_dim: int = param(2048, "ResNet-50 (1x) pooled features, the head's input in the paper")
    mid_dim: int | None = param(None, _MU + ": mid_dim = hiddens.shape[-1] (None: in_dim)")
    out_dim: int = param(128, "tf2/run.py --proj_out_dim 128 (v1 run.py --head_proj_dim 128)")
    num_layers: int = param(3, "tf2/run.py --num_proj_layers 3 (SimCLRv2); v1: 2")
    bn_eps: float = param(1e-5, "google-research/simclr resnet.py BATCH_NORM_EPSILON = 1e-5")
    bn_momentum: float = param(0.1, "run.py --batch_norm_decay 0.9, i.e. 1 - 0.1 in the spec's convention")
    init_std: float = param(0.01, _MU + ": kernel_initializer=tf.random_normal_initializer(stddev=.01)")

    @classmethod
    def v2(cls, **kw) -> HeadConfig:
        """SimCLRv2 / repository HEAD: three layers."""
        return cls(**kw)

    @classmethod
    def v1(cls, **kw) -> HeadConfig:
        """SimCLR v1 (first commit, ``--num_nlh_layers=1``): two layers, the paper's ``W2 relu(W1 h)``."""
        return cls(num_layers=2, **kw)

    @classmethod
    def linear(cls, **kw) -> HeadConfig:
        """``--proj_head_mode=linear``: one Dense + BN without centre."""
        return cls(num_layers=1, **kw)

    @property
    def hidden(self) -> int:
        return self.in_dim if self.mid_dim is None else self.mid_dim

    @property
    def bn(self) -> BatchNormConfig:
        return BatchNormConfig(eps=self.bn_eps, momentum=self.bn_momentum)

    def widths(self) -> list[tuple[int, int]]:
        """``(in, out)`` of each Dense layer."""
        dims = [self.in_dim] + [self.hidden] * (self.num_layers - 1) + [self.out_dim]
        return list(itertools.pairwise(dims))

    def validate(self) -> None:
        name = type(self).__name__
        for field in ("in_dim", "out_dim", "num_layers"):
            v = getattr(self, field)
            require(isinstance(v, int) and not isinstance(v, bool) and v >= 1, f"{name}.{field}", "an int >= 1",
                    repr(v))
        require(self.mid_dim is None or (isinstance(self.mid_dim, int) and self.mid_dim >= 1), f"{name}.mid_dim",
                "None or an int >= 1", repr(self.mid_dim))
        require(isinstance(self.init_std, (int, float)) and self.init_std > 0, f"{name}.init_std", "a number > 0",
                repr(self.init_std))
        BatchNormConfig(eps=self.bn_eps, momentum=self.bn_momentum)  # validates both


def layer_prefix(j: int) -> str:
    return f"nl_{j}/"


def param_shapes(config: HeadConfig) -> dict[str, tuple[int, ...]]:
    """Canonical names and shapes (official TF1 checkpoint names; see the module docstring)."""
    shapes: dict[str, tuple[int, ...]] = {}
    last = config.num_layers - 1
    for j, (d_in, d_out) in enumerate(config.widths()):
        p = layer_prefix(j)
        shapes[p + "dense/kernel"] = (d_in, d_out)
        for n in BN_NAMES:
            if n == "beta" and j == last:
                continue  # center=False on the output layer
            shapes[p + "batch_normalization/" + n] = (d_out,)
    return shapes


def state_names(config: HeadConfig) -> list[str]:
    """The running statistics among :func:`param_shapes` (no gradient; updated in train mode)."""
    return [k for k in param_shapes(config) if k.endswith(STATE_SUFFIXES)]


def check_input(where: str, shape: tuple, config: HeadConfig, training: bool) -> int:
    """Validate a (B, in_dim) input; return B. Train mode needs B > 1 (the unbiased variance)."""
    shape = tuple(shape)
    if len(shape) != 2 or (shape[1] is not None and shape[1] != config.in_dim):
        raise ShapeError(expected(where, f"features of shape (B, {config.in_dim})", f"shape {shape}"))
    if training and shape[0] is not None and shape[0] <= 1:
        raise ShapeError(expected(where, "a batch of more than one sample in train mode", f"shape {shape}"))
    return shape[0]


__all__ = ["BN_NAMES", "HeadConfig", "check_input", "layer_prefix", "param_shapes", "state_names"]
