r"""NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR, on one process and across many.

Paper: T. Chen, S. Kornblith, M. Norouzi, G. Hinton, "A Simple Framework for
Contrastive Learning of Visual Representations", ICML 2020 (arXiv:2002.05709),
Sec. 2.1, Eq. (1) and Algorithm 1. Official code: google-research/simclr,
``objective.py`` ``add_contrastive_loss`` (``tf2/objective.py`` is the same math).

Math. Two views of N images give embeddings ``z1, z2`` of shape (N, d);
``h = [z1; z2]`` (2N, d), row ``k`` and row ``k + N`` are a positive pair::

    h_k     = z_k / sqrt(max(||z_k||^2, eps))            (normalize=True; tf.math.l2_normalize, eps 1e-12)
    S_kj    = h_k . h_j / tau                            (2N, 2N)
    L_kj    = S_kj - LARGE_NUM * [k == j]                (the self logit is masked *after* the division by tau)
    l_k     = -L_{k, pos(k)} + log sum_j exp(L_kj)       pos(k) = k + N mod 2N
    paper    = 1/(2N) sum_k l_k                          (Eq. (1) and Algorithm 1)
    official = loss_a + loss_b = 2 * paper               (two batch means, one per view; objective.py)

``LARGE_NUM = 1e9`` (objective.py). exp(-1e9 + ...) is exactly 0 in every
float type, so the masked logit drops out of the sum and receives no
gradient; masking after the division keeps it exactly so at any temperature
(``S_kk = 1/tau`` is at most 1e4 for tau >= 1e-4). Every layer evaluates the
log-sum-exp with its row maximum subtracted, so the loss stays finite for
tau = 0.01 (logits up to 100) and for duplicate embeddings (every logit
equal: ``l_k = log(2N - 1)``).

Reductions (:data:`REDUCTIONS`): ``"official"`` (the default: the value the
official code optimises, twice the paper's), ``"paper"`` (also lightly's
``NTXentLoss`` and pytorch-metric-learning's with the SimCLR labels),
``"sum"`` (sum over the 2N anchors) and ``"none"`` (the 2N per-anchor losses,
view-1 anchors first).

Global-batch semantics (data parallel; official ``tpu_cross_replica_concat``).
With W processes of n local pairs each, every process gathers ``z1`` and
``z2`` from all processes (global N = W n, process r's rows at
``[r n, (r + 1) n)``), and scores only its *own* 2n anchors against all
``2 W n`` columns; its anchors' self and positive columns are offset by
``r n`` (:func:`local_columns`). The per-process loss is the reduction over
its local anchors, so the mean of the per-process losses is the global loss,
and gradients reach every process's embeddings through the gather: the
backward of the gather sums, over all processes, the gradient with respect to
each gathered block and returns each process its own block. A data-parallel
step that averages gradients over processes (DDP) or sums per-replica losses
divided by W (``tf.distribute``) therefore takes the gradient of the global
loss. The official TPU code does the same with a one-hot scatter and
``cross_replica_sum``.

Gradient (what :func:`tenfold.numpy_ref.losses.nt_xent_grad` writes out), with
``P`` the row-softmax of ``L``, ``Y`` the one-hot positives and ``c`` the
reduction's factor (1/(2N), 1/N, 1)::

    dLoss/dS = G = c (P - Y),      dLoss/dh = (G + G^T) h / tau
    dLoss/dz = (dh - h (h . dh)) / ||z||     (||z||^2 > eps; else dh / sqrt(eps))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..config import Config, param, require
from ..dtypes import check_float_dtype
from ..errors import ConfigError, ShapeError, expected

OFFICIAL_CODE = "https://github.com/google-research/simclr"
_OBJ = "google-research/simclr objective.py add_contrastive_loss"
_RUN = "google-research/simclr run.py / tf2/run.py"

REDUCTIONS: tuple[str, ...] = ("official", "paper", "sum", "none")

#: ``LARGE_NUM`` of objective.py: subtracted from the self-similarity logits after the division by tau.
LARGE_NUM = 1e9

#: Loss dtypes every layer accepts (float16 and bfloat16 are computed in float32 by the backends).
DTYPES: tuple[str, ...] = ("float16", "bfloat16", "float32", "float64")


@dataclass(frozen=True)
class NTXentConfig(Config):
    """Hyperparameters of NT-Xent. Presets: ``official`` (default), ``paper``, ``cifar``, ``lightly``."""

    PRESETS = ("official", "paper", "cifar", "lightly")

    temperature: float = param(0.1, _RUN + ": --temperature 0.1 (ImageNet); README CIFAR-10 recipe 0.5")
    reduction: str = param("official", _OBJ + ": loss = loss_a + loss_b (each a batch mean), 2x Eq. (1)")
    normalize: bool = param(True, _RUN + ": --hidden_norm True (tf.math.l2_normalize)")
    eps: float = param(1e-12, "tf.math.l2_normalize(epsilon=1e-12), a floor on the squared norm")

    @classmethod
    def official(cls) -> NTXentConfig:
        """``add_contrastive_loss`` with run.py's ImageNet flags: tau 0.1, twice the paper's value."""
        return cls()

    @classmethod
    def paper(cls) -> NTXentConfig:
        """Eq. (1) / Algorithm 1: the mean over the 2N anchors (half the official value)."""
        return cls(reduction="paper")

    @classmethod
    def cifar(cls) -> NTXentConfig:
        """The README CIFAR-10 recipe: ``--temperature=0.5`` (official reduction)."""
        return cls(temperature=0.5)

    @classmethod
    def lightly(cls) -> NTXentConfig:
        """lightly ``NTXentLoss()`` defaults: tau 0.5, mean over 2N anchors (F.normalize's eps differs: 1e-12
        on the norm, not on its square)."""
        return cls(temperature=0.5, reduction="paper")

    def validate(self) -> None:
        check_temperature("NTXentConfig.temperature", self.temperature)
        check_reduction("NTXentConfig.reduction", self.reduction)
        require(isinstance(self.normalize, bool), "NTXentConfig.normalize", "a bool", repr(self.normalize))
        require(isinstance(self.eps, (int, float)) and not isinstance(self.eps, bool) and self.eps > 0
                and math.isfinite(self.eps), "NTXentConfig.eps", "a finite number > 0", repr(self.eps))


def check_temperature(where: str, temperature: object) -> float:
    """Raise :class:`ConfigError` unless the temperature is a finite number >= 1e-4."""
    ok = isinstance(temperature, (int, float)) and not isinstance(temperature, bool) and math.isfinite(temperature)
    require(ok and temperature >= 1e-4, where, "a finite temperature >= 1e-4", repr(temperature))
    return float(temperature)


def check_reduction(where: str, reduction: object) -> str:
    require(reduction in REDUCTIONS, where, "a reduction among " + ", ".join(REDUCTIONS), repr(reduction))
    return str(reduction)


def resolve(config: NTXentConfig | None, temperature: float | None, reduction: str | None,
            normalize: bool | None, where: str = "nt_xent") -> NTXentConfig:
    """The config a call uses: ``config`` (official when None) with the given fields replaced (validated)."""
    if config is not None and not isinstance(config, NTXentConfig):
        raise ConfigError(expected(where, "an NTXentConfig", type(config).__name__))
    config = config or NTXentConfig()
    changes = {k: v for k, v in (("temperature", temperature), ("reduction", reduction), ("normalize", normalize))
               if v is not None}
    if "temperature" in changes:
        check_temperature(f"{where}: temperature", changes["temperature"])
    if "reduction" in changes:
        check_reduction(f"{where}: reduction", changes["reduction"])
    return config.replace(**changes) if changes else config


def check_embeddings(where: str, shape1: tuple, shape2: tuple, dtype1: str, dtype2: str) -> tuple[int, int]:
    """Validate the two views' embeddings; return ``(N, d)``.

    Raises:
        ShapeError: Unless both are (N, d) of one shape with N >= 1 and d >= 1
            (a single pair has no negatives but a defined loss: 0 when N = 1).
        DTypeError: Unless both have one floating dtype.
    """
    shape1, shape2 = tuple(shape1), tuple(shape2)
    if len(shape1) != 2 or shape1 != shape2:
        raise ShapeError(expected(where, "two embeddings of one shape (N, d)", f"{shape1} and {shape2}"))
    if any(d is not None and d < 1 for d in shape1):
        raise ShapeError(expected(where, "N >= 1 pairs of dimension d >= 1", f"shape {shape1}"))
    check_float_dtype(where, dtype1, DTYPES)
    if dtype2 != dtype1:
        raise ShapeError(expected(where, "two embeddings of one dtype", f"{dtype1} and {dtype2}"))
    return shape1[0], shape1[1]


def reduction_factor(reduction: str, anchors: int) -> float:
    """The factor ``c`` that multiplies the sum of per-anchor losses (1/(2N), 1/N or 1; ``anchors`` = 2N)."""
    if reduction == "paper":
        return 1.0 / anchors
    if reduction == "official":
        return 2.0 / anchors
    return 1.0


def local_columns(rank: int, local_n: int, world_size: int) -> tuple[list[int], list[int]]:
    """Global column indices of process ``rank``'s 2n anchors: ``(self_columns, positive_columns)``.

    Columns are ``[gathered z1; gathered z2]`` (2 W n); local anchors are
    ``[z1_local; z2_local]`` in this order.
    """
    n_global = local_n * world_size
    own = [rank * local_n + i for i in range(local_n)]
    self_cols = own + [n_global + c for c in own]
    pos_cols = [n_global + c for c in own] + own
    return self_cols, pos_cols


__all__ = ["DTYPES", "LARGE_NUM", "REDUCTIONS", "NTXentConfig", "check_embeddings", "check_reduction",
           "check_temperature", "local_columns", "reduction_factor", "resolve"]
