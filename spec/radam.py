r"""RAdam: Adam with a rectified adaptive learning rate.

Paper: L. Liu, H. Jiang, P. He, W. Chen, X. Liu, J. Gao, J. Han, "On the
Variance of the Adaptive Learning Rate and Beyond", ICLR 2020
(arXiv:1908.03265), Algorithm 2. Official code:
https://github.com/LiyuanLucasLiu/RAdam (``radam/radam.py``, class ``RAdam``).

Math, for one parameter tensor ``p`` with gradient ``g`` at step
``t = 1, 2, ...`` (the step counter is per parameter and counts every step on
which the parameter had a gradient)::

    g      <- g + wd * p                       (weight_decay="coupled" only)
    m_t     = beta1 * m_{t-1} + (1 - beta1) * g
    v_t     = beta2 * v_{t-1} + (1 - beta2) * g^2
    bc1     = 1 - beta1^t,   bc2 = 1 - beta2^t
    rho_inf = 2 / (1 - beta2) - 1
    rho_t   = rho_inf - 2 t beta2^t / bc2
    r_t     = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))

    if rho_t > threshold (or >= when threshold_inclusive):        rectified step
        p <- p * (1 - lr * wd)                 (weight_decay="decoupled" only)
        p <- p - lr * r_t * sqrt(bc2) / bc1 * m_t / (sqrt(v_t) + eps)              eps="raw"
        p <- p - lr * r_t / bc1 * m_t / (sqrt(v_t / bc2) + eps)                     eps="corrected"
    elif early == "sgd":                                            bias-corrected momentum step
        p <- p * (1 - lr * wd)                 (weight_decay="decoupled" only)
        p <- p - lr / bc1 * m_t
    else (early == "skip"):                                         no change to p at all

The moments are updated on every step, in every phase. The two eps placements
are one formula, ``p -= a * m / (sqrt(v) + eps_eff)`` with
``a = lr r_t sqrt(bc2) / bc1`` and ``eps_eff = eps`` (raw) or
``eps sqrt(bc2)`` (corrected); :func:`step_factors` computes these host-side
scalars (in float64, from the integer step) for every layer.

Where implementations disagree (facts in the project's research notes,
``official_b.md`` section 3), :class:`RAdamConfig` names each choice:

===================  ==============  ==============  ==================  ==================
field                official        paper           torch               tfa
===================  ==============  ==============  ==================  ==================
threshold            5, inclusive    4, exclusive    5, exclusive        5, inclusive
early                skip            sgd             sgd                 sgd
eps                  raw, 1e-8       corrected, 1e-8 raw, 1e-8           corrected, 1e-7
weight_decay_mode    decoupled       decoupled       coupled             decoupled
===================  ==============  ==============  ==================  ==================

Non-finite gradients (``nonfinite``, the same in every layer; default
``"propagate"``, what the official code, ``torch.optim.RAdam`` and Keras do,
at no cost)::

    propagate   no check: a NaN or inf gradient element flows into m, v and p
    skip        if any gradient of the step is NaN or inf, the whole step is skipped:
                no parameter, moment or step count changes (as torch.amp.GradScaler
                and keras LossScaleOptimizer skip a step)
    raise       the same check raises a TenfoldError naming the parameters; nothing changes

"The step" is one call: ``numpy_ref.radam.step`` (one parameter group), one
parameter group of the PyTorch optimizer's ``step()``, one
``apply_gradients`` of the Keras optimizer. The check costs one reduction
over the gradients and one device-to-host read per step. Inside a
``tf.function``, ``"raise"`` is a graph assertion (``InvalidArgumentError``
with the same message when the step runs).

With beta2 = 0.999, rho_t is 1.0, 2.0, 3.0, 3.998, 4.996, 5.994 for t = 1..6:
the paper rectifies from t = 5 and the other three from t = 6. The decoupled
weight decay of TensorFlow Addons (``wd * var`` added to the update before the
multiplication by ``lr``) equals ``p * (1 - lr wd)`` followed by the step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .config import Config, param, require
from .contracts import Tolerances
from .dtypes import check_float_dtype
from .errors import ShapeError, expected
from .tolerance import Tolerance

PAPER = "Liu et al., On the Variance of the Adaptive Learning Rate and Beyond, ICLR 2020"
OFFICIAL_CODE = "https://github.com/LiyuanLucasLiu/RAdam"

EARLY_MODES: tuple[str, ...] = ("skip", "sgd")
EPS_MODES: tuple[str, ...] = ("raw", "corrected")
WEIGHT_DECAY_MODES: tuple[str, ...] = ("decoupled", "coupled")
NONFINITE_MODES: tuple[str, ...] = ("propagate", "skip", "raise")

#: The dtypes of parameters every layer accepts.
DTYPES: tuple[str, ...] = ("float16", "bfloat16", "float32", "float64")

_OFF = "LiyuanLucasLiu/RAdam radam/radam.py, RAdam.__init__/step"


@dataclass(frozen=True)
class RAdamConfig(Config):
    """Hyperparameters of RAdam, with every point of disagreement explicit.

    Presets: :meth:`official` (the default), :meth:`paper`, :meth:`torch`,
    :meth:`tfa`.
    """

    PRESETS = ("official", "paper", "torch", "tfa")

    lr: float = param(1e-3, _OFF + ": lr=1e-3")
    betas: tuple[float, float] = param((0.9, 0.999), _OFF + ": betas=(0.9, 0.999)")
    eps: float = param(1e-8, _OFF + ": eps=1e-8")
    weight_decay: float = param(0.0, _OFF + ": weight_decay=0")
    weight_decay_mode: str = param("decoupled", _OFF + ": p -= wd * lr * p just before each update")
    threshold: float = param(5.0, _OFF + ": `if N_sma >= 5` ('more conservative since it's an approximated value')")
    threshold_inclusive: bool = param(True, _OFF + ": `N_sma >= 5`")
    early: str = param("skip", _OFF + ": degenerated_to_sgd=False (commit d9fd30a) gives step_size = -1, no update")
    eps_mode: str = param("raw", _OFF + ": denom = exp_avg_sq.sqrt().add_(eps)")
    nonfinite: str = param("propagate", _OFF + ": no check (NaN and inf propagate), as torch.optim.RAdam and "
                                              "Keras; 'skip' and 'raise' are tenfold's options")

    def __post_init__(self) -> None:
        if isinstance(self.betas, list):  # JSON round trip
            object.__setattr__(self, "betas", tuple(self.betas))
        super().__post_init__()

    @classmethod
    def official(cls) -> RAdamConfig:
        """LiyuanLucasLiu/RAdam ``radam/radam.py`` at HEAD (``degenerated_to_sgd=False``)."""
        return cls()

    @classmethod
    def paper(cls) -> RAdamConfig:
        """Algorithm 2 of the paper: rectify when rho_t > 4, else a bias-corrected momentum step.

        Algorithm 2 writes ``l_t = sqrt((1 - beta2^t) / v_t)`` with no epsilon;
        the preset puts epsilon on the bias-corrected root, as Adam's paper
        (Kingma & Ba, Algorithm 1) does. The paper has no weight decay; the
        field stays decoupled (as the official code) with a default of 0.
        """
        return cls(threshold=4.0, threshold_inclusive=False, early="sgd", eps_mode="corrected")

    @classmethod
    def torch(cls) -> RAdamConfig:
        """``torch.optim.RAdam`` (torch/optim/radam.py): ``rho_t > 5``, else ``lr * m_hat``;
        weight decay coupled (L2) by default (``decoupled_weight_decay=False``)."""
        return cls(threshold=5.0, threshold_inclusive=False, early="sgd", eps_mode="raw",
                   weight_decay_mode="coupled")

    @classmethod
    def tfa(cls) -> RAdamConfig:
        """TensorFlow Addons ``RectifiedAdam`` (tensorflow_addons/optimizers/rectified_adam.py),
        without its ``total_steps`` warm-up/decay schedule: ``epsilon=1e-7``,
        ``sma_t >= sma_threshold=5``, epsilon on ``sqrt(v_hat)``, ``m_hat`` in the early
        phase, ``wd * var`` added to the update in both phases (decoupled)."""
        return cls(eps=1e-7, threshold=5.0, threshold_inclusive=True, early="sgd", eps_mode="corrected",
                   weight_decay_mode="decoupled")

    def validate(self) -> None:
        name = type(self).__name__
        require(_finite(self.lr) and self.lr >= 0, f"{name}.lr", "a finite value >= 0", self.lr)
        require(isinstance(self.betas, tuple) and len(self.betas) == 2, f"{name}.betas", "a pair (beta1, beta2)",
                self.betas)
        b1, b2 = self.betas
        require(_finite(b1) and 0 <= b1 < 1, f"{name}.betas[0]", "a value in [0, 1)", b1)
        require(_finite(b2) and 0 < b2 < 1, f"{name}.betas[1]", "a value in (0, 1)", b2)
        require(_finite(self.eps) and self.eps >= 0, f"{name}.eps", "a finite value >= 0", self.eps)
        require(_finite(self.weight_decay) and self.weight_decay >= 0, f"{name}.weight_decay",
                "a finite value >= 0", self.weight_decay)
        require(self.weight_decay_mode in WEIGHT_DECAY_MODES, f"{name}.weight_decay_mode",
                "one of " + ", ".join(WEIGHT_DECAY_MODES), repr(self.weight_decay_mode))
        require(_finite(self.threshold), f"{name}.threshold", "a finite number", self.threshold)
        require(isinstance(self.threshold_inclusive, bool), f"{name}.threshold_inclusive", "a bool",
                repr(self.threshold_inclusive))
        require(self.early in EARLY_MODES, f"{name}.early", "one of " + ", ".join(EARLY_MODES), repr(self.early))
        require(self.eps_mode in EPS_MODES, f"{name}.eps_mode", "one of " + ", ".join(EPS_MODES),
                repr(self.eps_mode))
        require(self.nonfinite in NONFINITE_MODES, f"{name}.nonfinite", "one of " + ", ".join(NONFINITE_MODES),
                repr(self.nonfinite))


def _finite(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def rho(step: int, beta2: float) -> tuple[float, float]:
    """``(rho_inf, rho_t)``: the maximum and the step-``t`` length of the approximated SMA."""
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    b2t = beta2**step
    return rho_inf, rho_inf - 2.0 * step * b2t / (1.0 - b2t)


def rectified(step: int, config: RAdamConfig) -> bool:
    """Whether step ``step`` (1-based) takes the rectified update."""
    rho_t = rho(step, config.betas[1])[1]
    return rho_t >= config.threshold if config.threshold_inclusive else rho_t > config.threshold


def rectification(step: int, beta2: float) -> float:
    """``r_t``; defined only where ``rho_t > 4``."""
    rho_inf, rho_t = rho(step, beta2)
    return math.sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))


def first_rectified_step(config: RAdamConfig, limit: int = 10_000) -> int | None:
    """The first step that is rectified (``None`` if none up to ``limit``)."""
    return next((t for t in range(1, limit + 1) if rectified(t, config)), None)


@dataclass(frozen=True)
class StepFactors:
    """Host-side scalars of one step; the update is ``p = p * decay - m * (a / (sqrt(v) + eps_eff) + b)``.

    ``phase`` is ``"rectified"``, ``"sgd"`` or ``"skip"``. ``r`` is ``r_t``
    (NaN outside the rectified phase).
    """

    step: int
    phase: str
    bc1: float
    bc2: float
    r: float
    a: float
    b: float
    eps_eff: float
    decay: float


def step_factors(step: int, lr: float, config: RAdamConfig) -> StepFactors:
    """Every scalar of step ``step`` (>= 1) for learning rate ``lr``, in float64.

    Raises:
        ConfigError: If ``step`` is not a positive integer.
    """
    require(isinstance(step, int) and step >= 1, "radam.step_factors", "an integer step >= 1", step)
    b1, b2 = config.betas
    bc1, bc2 = 1.0 - b1**step, 1.0 - b2**step
    eps_eff = config.eps if config.eps_mode == "raw" else config.eps * math.sqrt(bc2)
    decoupled = config.weight_decay_mode == "decoupled" and config.weight_decay != 0
    decay = 1.0 - lr * config.weight_decay if decoupled else 1.0
    if rectified(step, config):
        r = rectification(step, b2)
        return StepFactors(step, "rectified", bc1, bc2, r, lr * r * math.sqrt(bc2) / bc1, 0.0, eps_eff, decay)
    if config.early == "sgd":
        return StepFactors(step, "sgd", bc1, bc2, math.nan, 0.0, lr / bc1, eps_eff, decay)
    return StepFactors(step, "skip", bc1, bc2, math.nan, 0.0, 0.0, eps_eff, 1.0)


def check_dtype(dtype_name: str, where: str = "radam") -> str:
    """Validate a parameter dtype name."""
    return check_float_dtype(where, dtype_name, DTYPES)


def check_grad_shape(where: str, param_shape: tuple, grad_shape: tuple) -> None:
    """Raise :class:`ShapeError` unless a gradient has its parameter's shape."""
    if tuple(param_shape) != tuple(grad_shape):
        raise ShapeError(expected(where, f"a gradient of the parameter's shape {tuple(param_shape)}",
                                  f"shape {tuple(grad_shape)}"))


def nonfinite_message(where: str, names: list[str]) -> str:
    """The message of ``nonfinite="raise"`` (every layer), naming the parameters with a NaN or inf gradient."""
    shown = ", ".join(names[:10]) + (" ..." if len(names) > 10 else "")
    return expected(where, "finite gradients (RAdamConfig.nonfinite='raise')", f"NaN or inf in the gradient of {shown}")


def sparse_error(where: str) -> str:
    """The message for a sparse gradient, which no layer supports."""
    return expected(where, "a dense gradient (RAdam has no sparse update)", "a sparse gradient")


#: Trajectory tolerances on parameters and moments after up to ~60 steps, per
#: dtype. float64: the layers compute the same formula in a different order
#: (fused kernels, eps folded in), a few ulps per step (measured: at most
#: 3.3e-16 absolute on unit-scale parameters after 60 steps). float32: an
#: update's relative error is a few float32 ulps and accumulates over the
#: steps on parameters of unit scale (measured: at most 7.2e-6 absolute).
_FORWARD: dict[str, Tolerance] = {
    "float64": Tolerance(atol=1e-13, rtol=1e-11),
    "float32": Tolerance(atol=2e-5, rtol=2e-5),
}

#: Every tolerance conformance applies to this method (:class:`tenfold.spec.contracts.Tolerances`).
TOLERANCES = Tolerances(forward=_FORWARD)

#: The public names each layer must export for this method (checked by conformance).
EXPORTS: dict[str, tuple[str, ...]] = {
    "numpy_ref": ("step", "init_state", "RAdamState"),
    "torch_backend": ("RAdam",),
    "tf_backend": ("RAdam",),
}

#: Exports whose signatures differ across layers on purpose (conformance compares all others).
API_DIFFERENCES: dict[str, str] = {
    "RAdam": "each optimizer follows its framework's constructor idiom: torch.optim (params, lr, betas, eps, "
             "weight_decay), Keras (learning_rate, beta_1, beta_2, epsilon, ...); both accept config=RAdamConfig",
}
