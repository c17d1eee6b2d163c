r"""The GAN losses CR-GAN is used with: non-saturating and hinge.

With ``r = D(x)`` the logits of real images and ``f = D(G(z))`` those of generated
ones (shape (B,) or (B, 1); means over the batch)::

    "ns"     (Goodfellow et al., NeurIPS 2014, Sec. 3, the non-saturating G loss)
             L_D = mean softplus(-r) + mean softplus(f)        (= BCE with labels 1 and 0)
             L_G = mean softplus(-f)
    "hinge"  (Lim & Ye, "Geometric GAN", 2017; the hinge loss of Miyato et al. 2018)
             L_D = mean relu(1 - r) + mean relu(1 + f)
             L_G = -mean f

softplus is ``log(1 + e^t)`` in its stable form ``logaddexp(0, t)``; ``d/dt
relu(t)`` is taken as 0 at ``t = 0`` (PyTorch's and TensorFlow's choice).

The CR paper's abstract says consistency regularisation "works effectively
with spectral normalization and various GAN architectures, loss functions and
optimizer settings" (which losses, in its Sec. 4, was not read here).
StudioGAN's CR and ICR configs use hinge (``adv_loss: "hinge"`` in
``src/configs/CIFAR10/BigGAN-Mod-CR.yaml``).
"""

from __future__ import annotations

from ..errors import ConfigError, ShapeError, expected

LOSSES: tuple[str, ...] = ("ns", "hinge")


def check_loss(where: str, kind: object) -> str:
    """Raise :class:`ConfigError` unless ``kind`` names a loss of :data:`LOSSES`."""
    if kind not in LOSSES:
        raise ConfigError(expected(where, "a GAN loss among " + ", ".join(LOSSES), repr(kind)))
    return str(kind)


def check_logits(where: str, shape: tuple[int, ...]) -> int:
    """Logits are (B,) or (B, 1) with B >= 1; return B."""
    shape = tuple(shape)
    if not (len(shape) in (1, 2) and shape[0] >= 1 and (len(shape) == 1 or shape[1] == 1)):
        raise ShapeError(expected(where, "discriminator logits of shape (B,) or (B, 1)", f"shape {shape}"))
    return int(shape[0])


__all__ = ["LOSSES", "check_logits", "check_loss"]
