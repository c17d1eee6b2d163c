"""CR-GAN for TensorFlow/Keras (NHWC): the penalty, the transform, the networks and one whole D and G step.

Papers: Zhang et al., ICLR 2020 (CR); Zhao et al., AAAI 2021 (bCR, zCR). No
official code; math, sources and differences from StudioGAN: :mod:`tenfold.spec.crgan`.
A training step::

    G, D = build(GANConfig.digits())
    terms, grads = d_step(D, G, x, sample_d_draws(batch, config), config)
    opt_d.apply_gradients(zip(grads, D.trainable_variables))
    terms, grads = g_step(G, D, sample_g_draws(batch, config), config)
    opt_g.apply_gradients(zip(grads, G.trainable_variables))
"""

from ..layers.spectral_norm import SNConv, SNDense, SpectralNorm
from ..losses import gan_discriminator_loss, gan_generator_loss
from . import nets, penalty, step, transform
from .nets import Discriminator, Generator, build, canonical_grads, get_params, load_params
from .penalty import cr_penalty
from .step import DDraws, GDraws, d_step, g_step, sample_d_draws, sample_g_draws
from .transform import CRTransform, transform_apply

__all__ = ["CRTransform", "DDraws", "Discriminator", "GDraws", "Generator", "SNConv", "SNDense", "SpectralNorm",
           "build", "canonical_grads", "cr_penalty", "d_step", "g_step", "gan_discriminator_loss",
           "gan_generator_loss", "get_params", "load_params", "nets", "penalty", "sample_d_draws", "sample_g_draws",
           "step", "transform", "transform_apply"]
