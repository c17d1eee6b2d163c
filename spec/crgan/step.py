r"""One whole discriminator step and one generator step of a consistency-regularised GAN.

Every layer executes the same calls in the same order, so that the BatchNorm
running statistics of G and the spectral-norm state of D after a step are
defined (each training-mode call of D advances its power iteration once, each
training-mode call of G updates its running statistics once). Both networks are
in training mode throughout (the usual PyTorch loop, modules left in ``train()``).

Discriminator step (gradients with respect to D's ``weight_orig`` and ``bias``
only; everything G produces is a constant here)::

    x_f  = G(z)                                           G call 1
    x_e  = G(z + dz)                  if lambda_dis > 0   G call 2
    r    = D(x)                                           D call 1
    f    = D(x_f)                                         D call 2
    r_t  = D(T_real(x))               if lambda_real > 0  D call 3
    f_t  = D(T_fake(x_f))             if lambda_fake > 0  D call 4
    f_e  = D(x_e)                     if lambda_dis > 0   D call 5
    L_D  = loss_D(r, f) + lambda_real pen(r, r_t) + lambda_fake pen(f, f_t) + lambda_dis pen(f, f_e)

Generator step (gradients with respect to G's trainable parameters; D's
parameters are constants, but its spectral-norm state still advances)::

    x_f  = G(z)                                           G call 1
    x_e  = G(z + dz)                  if lambda_gen > 0   G call 2
    f    = D(x_f)                                         D call 1
    L_G  = loss_G(f) - lambda_gen pen(x_f, x_e)

``loss_D``/``loss_G``: :mod:`.losses`; ``pen``: :mod:`.penalty`; ``T``:
:mod:`.transform`. The z and dz of the two steps are independent draws; the
optimizer update is not part of a step (the backends apply their own Adam).

Differences from StudioGAN (``src/worker.py``, ``src/utils/sample.py``, read):
the same call order, each D call separate (so with ``torch.nn.utils.spectral_norm``
its SN state also advances once per call); StudioGAN draws ``zs_eps`` whenever
zCR is on and generates ``G(zs_eps)`` in both steps, where this spec skips the
G call of a step whose own zCR weight is 0; StudioGAN stops G's BatchNorm
running statistics in the D step (``self.Gen.apply(misc.untrack_bn_statistics)``
in ``train_discriminator``) and tracks them in the G step
(``misc.track_bn_statistics``), where here every G call updates them.

Randomness is split from the math: :func:`sample_d_step` / :func:`sample_g_step`
draw a frozen, JSON-serialisable plan (latents, latent noise, transform plans)::

    D step:  z = rng.standard_normal((B, z_dim))
             real plan = transform.sample(rng, B, S, S, transform)    if lambda_real > 0
             fake plan = transform.sample(rng, B, S, S, transform)    if lambda_fake > 0
             dz = sigma_noise * rng.standard_normal((B, z_dim))       if lambda_dis > 0
    G step:  z = rng.standard_normal((B, z_dim))
             dz = sigma_noise * rng.standard_normal((B, z_dim))       if lambda_gen > 0
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import Config, param, require
from ..errors import ConfigError, ShapeError, TenfoldError, expected
from . import losses as _losses
from . import nets as _nets
from . import penalty as _penalty
from . import transform as _transform

_ICR_DEFAULT = _penalty.CRConfig()
_T_DEFAULT = _transform.TransformConfig()
_NETS_DEFAULT = _nets.GANConfig()


@dataclass(frozen=True)
class TrainConfig(Config):
    """Everything a D or G step needs: the GAN loss, the CR weights, the transform and the networks.

    Presets: :meth:`icr` (the default), :meth:`crgan`, :meth:`baseline`,
    :meth:`digits` (the ``tenfold train crgan-digits`` setting with ICR).
    """

    PRESETS = ("icr", "crgan", "baseline", "digits")

    loss: str = param("ns", "Goodfellow et al. 2014 non-saturating loss (StudioGAN's CR configs use hinge)")
    cr: _penalty.CRConfig = param(_ICR_DEFAULT, "ICR (bCR + zCR) with the paper values; see penalty.py")  # noqa: RUF009
    transform: _transform.TransformConfig = param(_T_DEFAULT, "StudioGAN apply_diffaug4cr")  # noqa: RUF009
    nets: _nets.GANConfig = param(_NETS_DEFAULT, "Miyato et al. 2018 Table 3 standard CNN")  # noqa: RUF009

    @classmethod
    def icr(cls) -> TrainConfig:
        """ICR (bCR + zCR), the default."""
        return cls()

    @classmethod
    def crgan(cls) -> TrainConfig:
        """CR of Zhang et al. (real images only, lambda 10)."""
        return cls(cr=_penalty.CRConfig.cr())

    @classmethod
    def baseline(cls) -> TrainConfig:
        """No consistency term."""
        return cls(cr=_penalty.CRConfig.none())

    @classmethod
    def digits(cls) -> TrainConfig:
        """8x8 digits networks, ICR, translation only (digits are not mirror-symmetric): shifts of up to 1 px."""
        return cls(transform=_transform.TransformConfig.translate_only(), nets=_nets.GANConfig.digits())

    def validate(self) -> None:
        _losses.check_loss("TrainConfig.loss", self.loss)
        for name, kind in (("cr", _penalty.CRConfig), ("transform", _transform.TransformConfig),
                           ("nets", _nets.GANConfig)):
            require(isinstance(getattr(self, name), kind), f"TrainConfig.{name}", f"a {kind.__name__}",
                    type(getattr(self, name)).__name__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict` (the nested configs are rebuilt)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(expected("TrainConfig.from_dict", "keys among " + ", ".join(sorted(names)), unknown))
        kw = dict(data)
        for name, kind in (("cr", _penalty.CRConfig), ("transform", _transform.TransformConfig),
                           ("nets", _nets.GANConfig)):
            if isinstance(kw.get(name), dict):
                kw[name] = kind.from_dict(kw[name])
        return cls(**kw)


Matrix = tuple[tuple[float, ...], ...]


def _matrix(where: str, a: object, rows: int | None = None, cols: int | None = None) -> Matrix:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2 or (rows is not None and arr.shape[0] != rows) or (cols is not None and arr.shape[1] != cols):
        raise ConfigError(expected(where, f"a ({rows or 'B'}, {cols or 'z_dim'}) matrix", f"shape {arr.shape}"))
    if not np.isfinite(arr).all():
        raise ConfigError(expected(where, "finite values", "a NaN or an infinity"))
    return tuple(tuple(float(v) for v in row) for row in arr)


@dataclass(frozen=True)
class DStepPlan:
    """The random draws of one discriminator step (see the module docstring).

    Attributes:
        z: Latents, B rows of z_dim floats.
        dz: Latent noise of zCR (same shape), or None when lambda_dis = 0.
        real: The transform plan of ``T(x)``, or None when lambda_real = 0.
        fake: The transform plan of ``T(G(z))``, or None when lambda_fake = 0.
    """

    z: Matrix
    dz: Matrix | None = None
    real: _transform.TransformPlan | None = None
    fake: _transform.TransformPlan | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "z", _matrix("DStepPlan.z", self.z))
        b, k = len(self.z), len(self.z[0])
        if self.dz is not None:
            object.__setattr__(self, "dz", _matrix("DStepPlan.dz", self.dz, b, k))
        for name in ("real", "fake"):
            p = getattr(self, name)
            if p is not None and (not isinstance(p, _transform.TransformPlan) or p.batch_size != b):
                raise ConfigError(expected(f"DStepPlan.{name}", f"a TransformPlan for {b} samples", repr(p)))

    @property
    def batch_size(self) -> int:
        return len(self.z)

    def z_array(self) -> np.ndarray:
        return np.asarray(self.z, dtype=np.float64)

    def z_eps_array(self) -> np.ndarray:
        """``z + dz`` in float64 (every layer casts this sum, so the addition is not a source of differences)."""
        if self.dz is None:
            raise TenfoldError(expected("DStepPlan.z_eps_array", "a plan with dz (lambda_dis > 0)", "dz = None"))
        return self.z_array() + np.asarray(self.dz, dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {"z": [list(r) for r in self.z], "dz": None if self.dz is None else [list(r) for r in self.dz],
                "real": None if self.real is None else self.real.to_dict(),
                "fake": None if self.fake is None else self.fake.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DStepPlan:
        names = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(data, dict) or set(data) != names:
            raise ConfigError(expected("DStepPlan.from_dict", "exactly the keys " + ", ".join(sorted(names)),
                                       sorted(data) if isinstance(data, dict) else type(data).__name__))
        plan = lambda d: None if d is None else _transform.TransformPlan.from_dict(d)  # noqa: E731
        return cls(data["z"], data["dz"], plan(data["real"]), plan(data["fake"]))


@dataclass(frozen=True)
class GStepPlan:
    """The random draws of one generator step: latents and (when lambda_gen > 0) their zCR noise."""

    z: Matrix
    dz: Matrix | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "z", _matrix("GStepPlan.z", self.z))
        if self.dz is not None:
            object.__setattr__(self, "dz", _matrix("GStepPlan.dz", self.dz, len(self.z), len(self.z[0])))

    @property
    def batch_size(self) -> int:
        return len(self.z)

    def z_array(self) -> np.ndarray:
        return np.asarray(self.z, dtype=np.float64)

    def z_eps_array(self) -> np.ndarray:
        if self.dz is None:
            raise TenfoldError(expected("GStepPlan.z_eps_array", "a plan with dz (lambda_gen > 0)", "dz = None"))
        return self.z_array() + np.asarray(self.dz, dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        return {"z": [list(r) for r in self.z], "dz": None if self.dz is None else [list(r) for r in self.dz]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GStepPlan:
        names = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(data, dict) or set(data) != names:
            raise ConfigError(expected("GStepPlan.from_dict", "exactly the keys " + ", ".join(sorted(names)),
                                       sorted(data) if isinstance(data, dict) else type(data).__name__))
        return cls(data["z"], data["dz"])


def _check(where: str, rng: object, batch_size: object, config: object) -> TrainConfig:
    if not isinstance(config, TrainConfig):
        raise ConfigError(expected(where, "a TrainConfig", type(config).__name__))
    if not isinstance(rng, np.random.Generator):
        raise TenfoldError(expected(where, "a numpy.random.Generator", type(rng).__name__))
    if not (isinstance(batch_size, (int, np.integer)) and not isinstance(batch_size, bool) and batch_size >= 1):
        raise ShapeError(expected(f"{where}: batch_size", "an int >= 1", repr(batch_size)))
    return config


def sample_d_step(rng: np.random.Generator, batch_size: int, config: TrainConfig) -> DStepPlan:
    """Draw the plan of one discriminator step (draw order in the module docstring)."""
    config = _check("crgan.sample_d_step", rng, batch_size, config)
    b, k, s = int(batch_size), config.nets.z_dim, config.nets.image_size
    z = rng.standard_normal((b, k))
    real = _transform.sample(rng, b, s, s, config.transform) if config.cr.uses_real else None
    fake = _transform.sample(rng, b, s, s, config.transform) if config.cr.uses_fake else None
    dz = config.cr.sigma_noise * rng.standard_normal((b, k)) if config.cr.lambda_dis > 0 else None
    return DStepPlan(z, dz, real, fake)


def sample_g_step(rng: np.random.Generator, batch_size: int, config: TrainConfig) -> GStepPlan:
    """Draw the plan of one generator step."""
    config = _check("crgan.sample_g_step", rng, batch_size, config)
    b, k = int(batch_size), config.nets.z_dim
    z = rng.standard_normal((b, k))
    dz = config.cr.sigma_noise * rng.standard_normal((b, k)) if config.cr.lambda_gen > 0 else None
    return GStepPlan(z, dz)


def check_d_plan(where: str, plan: object, config: TrainConfig) -> DStepPlan:
    """The plan must be a DStepPlan holding exactly the draws the config's terms need."""
    if not isinstance(plan, DStepPlan):
        raise TenfoldError(expected(where, "a DStepPlan", type(plan).__name__))
    cr, s = config.cr, config.nets.image_size
    for name, needed in (("real", cr.uses_real), ("fake", cr.uses_fake), ("dz", cr.lambda_dis > 0)):
        if (getattr(plan, name) is not None) != needed:
            raise ConfigError(expected(f"{where}: plan.{name}", "present" if needed else "None (its lambda is 0)",
                                       "None" if needed else "a value"))
    for p in (plan.real, plan.fake):
        if p is not None and (p.height, p.width) != (s, s):
            raise ShapeError(expected(where, f"transform plans for {s}x{s} images", f"{p.height}x{p.width}"))
    _nets.check_latents(where, (plan.batch_size, len(plan.z[0])), config.nets)
    return plan


def check_g_plan(where: str, plan: object, config: TrainConfig) -> GStepPlan:
    if not isinstance(plan, GStepPlan):
        raise TenfoldError(expected(where, "a GStepPlan", type(plan).__name__))
    if (plan.dz is not None) != (config.cr.lambda_gen > 0):
        raise ConfigError(expected(f"{where}: plan.dz", "present" if config.cr.lambda_gen > 0 else
                                   "None (lambda_gen is 0)", "None" if plan.dz is None else "a value"))
    _nets.check_latents(where, (plan.batch_size, len(plan.z[0])), config.nets)
    return plan


#: Names of the loss terms a step reports (a term whose lambda is 0 is reported as 0).
D_TERMS: tuple[str, ...] = ("adv", "cr_real", "cr_fake", "zcr_dis", "total")
G_TERMS: tuple[str, ...] = ("adv", "zcr_gen", "total")

__all__ = ["D_TERMS", "G_TERMS", "DStepPlan", "GStepPlan", "TrainConfig", "check_d_plan", "check_g_plan",
           "sample_d_step", "sample_g_step"]
