"""CR-GAN in plain NumPy: the penalty, the transform, the networks and one whole D and G step (float64).

Papers: Zhang et al., ICLR 2020 (CR); Zhao et al., AAAI 2021 (bCR, zCR). No
official code; the math, the sources and the differences from StudioGAN are in
:mod:`tenfold.spec.crgan`. Modules: :mod:`.penalty` (``cr_penalty``),
:mod:`.transform` (``apply``), :mod:`.nets` (``generator``, ``discriminator``,
``init_params``), :mod:`.step` (``d_step``, ``g_step`` and their plain losses).
The GAN losses are the shared :mod:`tenfold.numpy_ref.losses`, spectral norm
the shared :mod:`tenfold.numpy_ref.layers.spectral_norm`.
"""

from ..layers.spectral_norm import spectral_norm
from ..losses import gan_discriminator_loss, gan_generator_loss
from . import nets, penalty, step, transform
from .nets import discriminator, generator, init_params
from .penalty import cr_penalty
from .step import StepResult, d_step, d_step_loss, g_step, g_step_loss
from .transform import apply

__all__ = ["StepResult", "apply", "cr_penalty", "d_step", "d_step_loss", "discriminator", "g_step", "g_step_loss",
           "gan_discriminator_loss", "gan_generator_loss", "generator", "init_params", "nets", "penalty",
           "spectral_norm", "step", "transform"]
