r"""The consistency penalties of CR-GAN (CR, bCR, zCR) and their weights.

Papers: H. Zhang, Z. Zhang, A. Odena, H. Lee, "Consistency Regularization for
Generative Adversarial Networks", ICLR 2020 (arXiv:1910.12027) — CR; Z. Zhao,
S. Singh, H. Lee, Z. Zhang, A. Odena, H. Zhang, "Improved Consistency
Regularization for GANs", AAAI 2021 (arXiv:2002.04724) — bCR, zCR, ICR = bCR + zCR.
No official code was released (the Google research page of the CR paper says
"Our code is open-sourced at URL blinded for peer review"; no release followed).

The penalty. For two batches ``a``, ``b`` of the same shape (B, ...)::

    pen(a, b) = (1/B) sum_i ||a_i - b_i||^2          reduction "sum" (default): squared L2 per sample,
                                                     averaged over the batch (the papers' ||.||^2)
    pen(a, b) = mean over every element (a - b)^2    reduction "mean": torch.nn.MSELoss, StudioGAN

For the discriminator terms ``a`` and ``b`` are the logits ``D(.)`` of shape
(B,) or (B, 1): both reductions agree. They differ for the generator's zCR term,
where ``a`` and ``b`` are images: "mean" is "sum" divided by ``C * H * W``.

The terms (``D(.)`` is the final logit, before any sigmoid)::

    CR   (Zhang)   L_D += lambda_real * pen(D(x), D(T(x)))                     real images only
    bCR  (Zhao)    L_D += lambda_real * pen(D(x), D(T(x)))
                        + lambda_fake * pen(D(G(z)), D(T(G(z))))               G(z) detached in the D step
    zCR  (Zhao)    L_D += lambda_dis  * pen(D(G(z)), D(G(z + dz)))             dz ~ N(0, sigma_noise^2 I)
                   L_G += -lambda_gen * pen(G(z), G(z + dz))                   note the minus: G is rewarded
                                                                               for changing its output
    ICR  = bCR + zCR.

Gradients flow through both arguments of every penalty (no stop-gradient on
either side; StudioGAN's ``l2_loss(real_dict["adv_output"], real_prl_dict["adv_output"])``
is the same). CR is bCR with ``lambda_fake = 0``; a term whose lambda is 0 is
not computed at all (its extra network passes are skipped).

Sources of the defaults (see :class:`CRConfig`), and what could be verified:

* CR paper: only the abstract could be read here ("we augment data passing
  into the GAN discriminator and penalize the sensitivity of the discriminator
  to these augmentations"; an earlier Google-research abstract: "penalize the
  sensitivity of the penultimate layer"). That the term uses the final logit
  and real images only, and that lambda = 10: summaries of Sec. 3 and 4
  (shimopino/papers-challenge#141: the experiments regularise only the last
  layer's output; the emergentmind summary: "computed only on the final logit
  of D and only for real samples ... The generator update is unchanged") and
  StudioGAN ``src/configs/CIFAR10/BigGAN-Mod-CR.yaml`` (``cr_lambda: 10.0``, read).
  **The paper's sentence giving lambda = 10 was not read.**
* ICR paper: the introduction was read ("the augmentations are only applied to
  the real images and not to generated samples, making the whole procedure
  somewhat imbalanced ... the generator can learn these artificial augmentation
  features and introduce them into generated samples as undesirable
  artifacts"); Algorithms 1 and 2 as quoted in a review (happy-jihye.github.io,
  "ICR-GAN" review): ``L_real = ||D(x) - D(T(x))||^2``,
  ``L_fake = ||D(G(z)) - D(T(G(z)))||^2``, ``L_gen = -||G(z) - G(T(z))||^2``,
  "the generator is encouraged to be sensitive to the augmentations while the
  discriminator is encouraged to be insensitive to them".
  **The hyperparameter sentences (lambda_real = lambda_fake = 10,
  sigma_noise = 0.03, lambda_dis = 5, lambda_gen = 0.5) were not read in the
  paper text**; they are the values of the project's research notes
  (official_b.md section 5) and of third-party re-implementations
  (``add_noise(z, sigma_noise=0.03)``, ``lambda_real=10, lambda_fake=10, lambda_dis=5``).
* StudioGAN ``src/configs/CIFAR10/BigGAN-Mod-ICR.yaml`` (read) differs: ``radius: 0.05,
  g_lambda: 0.5, d_lambda: 20.0, real_lambda: 10.0, fake_lambda: 10.0`` (preset :meth:`CRConfig.studiogan_icr`),
  and its ``l2_loss`` is ``torch.nn.MSELoss()`` (reduction "mean").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..config import Config, param, require
from ..errors import ShapeError, expected

REDUCTIONS: tuple[str, ...] = ("sum", "mean")

_ICR = "Zhao et al. 2021 (ICR) value per the research notes official_b.md §5 (the paper sentence was not read here)"


@dataclass(frozen=True)
class CRConfig(Config):
    """The weights of the consistency terms, the zCR noise scale and the penalty's reduction.

    The defaults are ICR (bCR + zCR) with the paper values; presets:
    ``none`` (plain GAN), ``cr`` (Zhang et al.), ``bcr``, ``zcr``, ``icr``
    (the default) and ``studiogan_icr``.
    """

    PRESETS = ("none", "cr", "bcr", "zcr", "icr", "studiogan_icr")

    lambda_real: float = param(10.0, "CR (Zhang et al. 2020) lambda = 10, as StudioGAN BigGAN-Mod-CR.yaml "
                                     "cr_lambda: 10.0, and " + _ICR + ": lambda_real = 10")
    lambda_fake: float = param(10.0, _ICR + ": lambda_fake = 10")
    lambda_dis: float = param(5.0, _ICR + ": lambda_dis = 5")
    lambda_gen: float = param(0.5, _ICR + ": lambda_gen = 0.5")
    sigma_noise: float = param(0.03, _ICR + ": sigma_noise = 0.03")
    reduction: str = param("sum", "the papers' ||.||^2: squared L2 per sample, batch mean (StudioGAN: MSELoss)")

    @classmethod
    def none(cls) -> CRConfig:
        """No consistency term: the plain GAN."""
        return cls(lambda_real=0.0, lambda_fake=0.0, lambda_dis=0.0, lambda_gen=0.0)

    @classmethod
    def cr(cls) -> CRConfig:
        """CR (Zhang et al. 2020): real images only, lambda = 10."""
        return cls(lambda_real=10.0, lambda_fake=0.0, lambda_dis=0.0, lambda_gen=0.0)

    @classmethod
    def bcr(cls) -> CRConfig:
        """bCR (Zhao et al. 2021): real and generated images, lambda_real = lambda_fake = 10."""
        return cls(lambda_dis=0.0, lambda_gen=0.0)

    @classmethod
    def zcr(cls) -> CRConfig:
        """zCR (Zhao et al. 2021): latent noise sigma 0.03, lambda_dis = 5, lambda_gen = 0.5."""
        return cls(lambda_real=0.0, lambda_fake=0.0)

    @classmethod
    def icr(cls) -> CRConfig:
        """ICR = bCR + zCR with the paper values (the default)."""
        return cls()

    @classmethod
    def studiogan_icr(cls) -> CRConfig:
        """StudioGAN ``BigGAN-Mod-ICR.yaml``: radius 0.05, d_lambda 20, g_lambda 0.5, MSELoss (reduction "mean")."""
        return cls(lambda_dis=20.0, sigma_noise=0.05, reduction="mean")

    def validate(self) -> None:
        for name in ("lambda_real", "lambda_fake", "lambda_dis", "lambda_gen", "sigma_noise"):
            v = getattr(self, name)
            require(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0,
                    f"CRConfig.{name}", "a finite number >= 0", repr(v))
        require(self.reduction in REDUCTIONS, "CRConfig.reduction", "one of " + ", ".join(REDUCTIONS),
                repr(self.reduction))
        require(not ((self.lambda_dis > 0 or self.lambda_gen > 0) and self.sigma_noise == 0),
                "CRConfig.sigma_noise", "a noise scale > 0 when zCR is on (lambda_dis or lambda_gen > 0)",
                repr(self.sigma_noise))

    @property
    def uses_real(self) -> bool:
        return self.lambda_real > 0

    @property
    def uses_fake(self) -> bool:
        return self.lambda_fake > 0

    @property
    def uses_latent(self) -> bool:
        """Whether the latent perturbation ``dz`` is drawn (zCR on for D or G)."""
        return self.lambda_dis > 0 or self.lambda_gen > 0


def check_pair(where: str, a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> int:
    """Validate the two batches of a penalty; return the batch size B.

    Raises:
        ShapeError: Unequal shapes, or no batch axis.
    """
    if tuple(a_shape) != tuple(b_shape) or len(a_shape) < 1 or a_shape[0] < 1:
        raise ShapeError(expected(where, "two batches of one shape (B, ...) with B >= 1",
                                  f"{tuple(a_shape)} and {tuple(b_shape)}"))
    return int(a_shape[0])


__all__ = ["REDUCTIONS", "CRConfig", "check_pair"]
