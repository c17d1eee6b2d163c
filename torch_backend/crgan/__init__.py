"""CR-GAN for PyTorch: the penalty, the transform, the networks and one whole D and G step.

Papers: Zhang et al., ICLR 2020 (CR); Zhao et al., AAAI 2021 (bCR, zCR). No
official code; math, sources and differences from StudioGAN: :mod:`tenfold.spec.crgan`.
A training loop::

    G, D = build(GANConfig.digits())
    opt_g = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), 2e-4, betas=(0.5, 0.999))
    for x in loader:
        d_step(D, G, x, sample_d_draws(len(x), config), config); opt_d.step()
        g_step(G, D, sample_g_draws(len(x), config), config); opt_g.step()
"""

from ..layers.spectral_norm import SNConv2d, SNLinear, SpectralNorm
from ..losses import gan_discriminator_loss, gan_generator_loss
from . import nets, penalty, step, transform
from .nets import Discriminator, Generator, build, get_params, load_params
from .penalty import cr_penalty
from .step import DDraws, GDraws, d_step, g_step, sample_d_draws, sample_g_draws
from .transform import CRTransform, transform_apply

__all__ = ["CRTransform", "DDraws", "Discriminator", "GDraws", "Generator", "SNConv2d", "SNLinear", "SpectralNorm",
           "build", "cr_penalty", "d_step", "g_step", "gan_discriminator_loss", "gan_generator_loss", "get_params",
           "load_params", "nets", "penalty", "sample_d_draws", "sample_g_draws", "step", "transform",
           "transform_apply"]
