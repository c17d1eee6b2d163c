r"""Spectral normalisation of a weight, with its persistent power-iteration state.

Paper: T. Miyato, T. Kataoka, M. Koyama, Y. Yoshida, "Spectral Normalization for
Generative Adversarial Networks", ICLR 2018 (arXiv:1802.05957), Algorithm 1.
Reference implementation of the convention used here: PyTorch
``torch.nn.utils.spectral_norm`` (``torch/nn/utils/spectral_norm.py``), which
StudioGAN (``src/utils/ops.py``, ``snconv2d``/``snlinear``) wraps.

A weight ``W`` of any rank is viewed as the matrix ``W_mat = W.reshape(out, -1)``
(rows: the output units, dim 0 in PyTorch's layout; columns: the rest in
PyTorch's order ``(in, kh, kw)``). State: ``u`` (out,) and ``v`` (in * kh * kw,).
``normalize(a) = a / max(||a||_2, eps)`` (``torch.nn.functional.normalize``).

A call in **training** mode first runs ``n_power_iterations`` steps, then uses
the new vectors; a call in **eval** mode uses the stored ones::

    order "vu" (default):   v <- normalize(W_mat^T u);  u <- normalize(W_mat v)
    order "uv":             u <- normalize(W_mat v);    v <- normalize(W_mat^T u)
    sigma = u . (W_mat v)
    W_sn  = W / sigma

``u`` and ``v`` are constants for the gradient (no gradient flows through the
power iteration), but ``sigma`` is differentiated through ``W``::

    dL/dW = G / sigma - (<G, W> / sigma^2) * (u v^T reshaped like W),   G = dL/dW_sn

**Each training-mode call advances the state once** (PyTorch's forward
pre-hook): a discriminator called four times in one step performs four power
iterations, and its state after the step depends on the number and the order of
its calls; :mod:`tenfold.spec.crgan.step` fixes both.

Canonical parameter names of a normalised layer ``name``: ``name.weight_orig``
(the raw weight, PyTorch layout), ``name.weight_u``, ``name.weight_v`` — the
state-dict names of ``torch.nn.utils.spectral_norm``.

Differences between implementations (what the config names):

* order: Miyato's Algorithm 1 and ``torch.nn.utils.spectral_norm`` update ``v``
  then ``u`` ("vu"); ``torch.nn.utils.parametrizations.spectral_norm``
  (``_SpectralNorm._power_method``) updates ``u`` then ``v`` ("uv"). Both store
  both vectors and compute ``sigma = u . W v`` afterwards.
* eps: PyTorch's default 1e-12; StudioGAN passes ``eps=1e-6`` (``src/utils/ops.py``).
* initialisation (not part of the math): PyTorch draws ``u``, ``v`` from N(0, 1)
  and normalises them; the parametrization then runs 15 iterations at
  registration. A loaded state replaces both.
* Keras 3 ``keras.layers.SpectralNormalization`` stores only ``u``, stops the
  gradient through ``sigma`` and writes ``W / sigma`` back into the kernel
  variable in training mode; it is not this convention (the TF backend has its
  own layer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .config import Config, param, require

ORDERS: tuple[str, ...] = ("vu", "uv")

SN_SUFFIXES: tuple[str, ...] = ("weight_orig", "weight_u", "weight_v")


@dataclass(frozen=True)
class SpectralNormConfig(Config):
    """Power iterations per training-mode call, the normalisation epsilon and the update order."""

    PRESETS = ("torch", "torch_parametrizations", "studiogan")

    n_power_iterations: int = param(1, "Miyato et al. 2018, Sec. 2.1/Algorithm 1: one iteration per update; "
                                       "torch.nn.utils.spectral_norm n_power_iterations=1")
    eps: float = param(1e-12, "torch.nn.utils.spectral_norm eps=1e-12 (F.normalize: a / max(||a||, eps))")
    order: str = param("vu", "Miyato et al. 2018 Algorithm 1 and torch.nn.utils.spectral_norm: v first, then u")

    @classmethod
    def torch(cls) -> SpectralNormConfig:
        """``torch.nn.utils.spectral_norm`` defaults (the default here)."""
        return cls()

    @classmethod
    def torch_parametrizations(cls) -> SpectralNormConfig:
        """``torch.nn.utils.parametrizations.spectral_norm``: ``u`` is updated before ``v``."""
        return cls(order="uv")

    @classmethod
    def studiogan(cls) -> SpectralNormConfig:
        """StudioGAN ``snconv2d``/``snlinear``: ``torch.nn.utils.spectral_norm(..., eps=1e-6)``."""
        return cls(eps=1e-6)

    def validate(self) -> None:
        require(isinstance(self.n_power_iterations, int) and not isinstance(self.n_power_iterations, bool)
                and self.n_power_iterations >= 1, "SpectralNormConfig.n_power_iterations", "an int >= 1",
                repr(self.n_power_iterations))
        require(isinstance(self.eps, (int, float)) and not isinstance(self.eps, bool) and math.isfinite(self.eps)
                and self.eps > 0, "SpectralNormConfig.eps", "a finite number > 0", repr(self.eps))
        require(self.order in ORDERS, "SpectralNormConfig.order", "one of " + ", ".join(ORDERS), repr(self.order))


def param_shapes(name: str, weight_shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """Canonical entries of one normalised weight: ``weight_orig``, ``weight_u`` (out,), ``weight_v`` (rest,)."""
    out = int(weight_shape[0])
    rest = int(math.prod(weight_shape[1:]))
    return {f"{name}.weight_orig": tuple(weight_shape), f"{name}.weight_u": (out,), f"{name}.weight_v": (rest,)}


__all__ = ["ORDERS", "SN_SUFFIXES", "SpectralNormConfig", "param_shapes"]
