r"""CR-GAN: consistency regularisation for GANs (CR, bCR, zCR) with its networks and one whole training step.

Papers: H. Zhang, Z. Zhang, A. Odena, H. Lee, "Consistency Regularization for
Generative Adversarial Networks", ICLR 2020 (arXiv:1910.12027); Z. Zhao,
S. Singh, H. Lee, Z. Zhang, A. Odena, H. Zhang, "Improved Consistency
Regularization for GANs", AAAI 2021 (arXiv:2002.04724). No official code was
released; the only maintained implementation read for facts is StudioGAN
(POSTECH-CVLab/PyTorch-StudioGAN: ``src/worker.py``, ``src/utils/cr.py``,
``src/utils/sample.py``, ``src/configs/CIFAR10/BigGAN-Mod-{CR,ICR}.yaml``).

The pieces, one module each (the same file names in every layer):

* :mod:`.penalty` — ``pen(a, b) = (1/B) sum_i ||a_i - b_i||^2`` and the weights
  of CR (``lambda_real``), bCR (``lambda_real``, ``lambda_fake``) and zCR
  (``lambda_dis`` on D, ``-lambda_gen`` on G, noise ``sigma_noise``), with the
  sentence (or the lack of one) behind every default;
* :mod:`.transform` — the augmentation ``T`` (per-sample flip, then an integer
  shift with reflect or zero padding) as a frozen plan;
* :mod:`.losses` — the non-saturating and hinge GAN losses;
* :mod:`.nets` — the SNDCGAN-style generator and spectrally normalised
  discriminator (``param_shapes``); spectral normalisation itself is the
  shared :mod:`tenfold.spec.spectral_norm`;
* :mod:`.step` — one whole discriminator step and one generator step: the call
  order, the losses, and the plans of their random draws.

Quick reference (``D(.)`` = final logit, ``T`` = flip + shift)::

    L_D = loss_D(D(x), D(G(z)))
          + lambda_real pen(D(x), D(T(x)))                       CR (Zhang), bCR (Zhao)
          + lambda_fake pen(D(G(z)), D(T(G(z))))                 bCR
          + lambda_dis  pen(D(G(z)), D(G(z + dz)))               zCR, dz ~ N(0, sigma_noise^2 I)
    L_G = loss_G(D(G(z))) - lambda_gen pen(G(z), G(z + dz))      zCR (rewards G for diversity)

Defaults: ICR = bCR + zCR with lambda_real = lambda_fake = 10, lambda_dis = 5,
lambda_gen = 0.5, sigma_noise = 0.03 (the ICR paper's values per the project's
research notes; **the paper sentences were not read here**, see
:mod:`.penalty`); StudioGAN's ICR config differs (lambda_dis 20, radius 0.05,
MSELoss), preset ``CRConfig.studiogan_icr()``.
"""

from __future__ import annotations

from ..contracts import Tolerances
from ..tolerance import Tolerance
from . import losses, nets, penalty, step, transform
from .losses import LOSSES, check_logits, check_loss
from .nets import GANConfig, discriminator_param_shapes, generator_param_shapes, param_shapes
from .penalty import REDUCTIONS, CRConfig, check_pair
from .step import D_TERMS, G_TERMS, DStepPlan, GStepPlan, TrainConfig, sample_d_step, sample_g_step
from .transform import PAD_MODES, TransformConfig, TransformPlan, sample

PAPER = ("Zhang et al., Consistency Regularization for Generative Adversarial Networks, ICLR 2020; "
         "Zhao et al., Improved Consistency Regularization for GANs, AAAI 2021")
OFFICIAL_CODE = "none released (facts from POSTECH-CVLab/PyTorch-StudioGAN)"

#: Outputs (logits, images, penalties, losses, SN and BatchNorm state) and gradients, against the float64
#: reference. Measured worst cases over seeds 0-2 (every suite): float64 within rtol 1e-11 (outputs) and
#: 5e-16 absolute (gradients); float32 within rtol 2e-4 (outputs) and 4e-7 + 3e-5 relative (gradients).
TOLERANCES = Tolerances(
    forward={"float64": Tolerance(atol=1e-13, rtol=1e-10), "float32": Tolerance(atol=1e-6, rtol=2e-4)},
    gradient={"float64": Tolerance(atol=1e-13, rtol=1e-10), "float32": Tolerance(atol=4e-6, rtol=5e-4)},
    finite_difference=Tolerance(atol=1e-7, rtol=1e-6),
)
#: The transform moves values: exact in every dtype.
EXACT = Tolerance(atol=0.0, rtol=0.0)

#: The public names each layer must export for this method (conformance checks them).
EXPORTS: dict[str, tuple[str, ...]] = {
    "numpy_ref": ("cr_penalty", "apply", "gan_discriminator_loss", "gan_generator_loss", "spectral_norm",
                  "generator", "discriminator", "init_params", "d_step", "g_step", "d_step_loss", "g_step_loss"),
    "torch_backend": ("cr_penalty", "transform_apply", "CRTransform", "gan_discriminator_loss", "gan_generator_loss",
                      "SpectralNorm", "Generator", "Discriminator", "load_params", "get_params", "d_step", "g_step"),
    "tf_backend": ("cr_penalty", "transform_apply", "CRTransform", "gan_discriminator_loss", "gan_generator_loss",
                   "SpectralNorm", "Generator", "Discriminator", "load_params", "get_params", "d_step", "g_step"),
}

#: Exports whose signatures differ across layers on purpose (conformance compares all others).
API_DIFFERENCES: dict[str, str] = {
    "CRTransform": "each samples with its framework's RNG: a torch.Generator (PyTorch) or a seed for a "
                   "tf.random.Generator (Keras layer config must be serialisable)",
    "SpectralNorm": "the raw weight's shape in the framework's own layout: PyTorch (out, in, kh, kw) as "
                    "weight_shape, TensorFlow (kh, kw, in, out) as kernel_shape",
}

__all__ = ["API_DIFFERENCES", "D_TERMS", "EXACT", "EXPORTS", "G_TERMS", "LOSSES", "OFFICIAL_CODE", "PAD_MODES",
           "PAPER", "REDUCTIONS", "TOLERANCES", "CRConfig", "DStepPlan", "GANConfig", "GStepPlan", "TrainConfig",
           "TransformConfig", "TransformPlan", "check_logits", "check_loss", "check_pair",
           "discriminator_param_shapes", "generator_param_shapes", "losses", "nets", "param_shapes", "penalty",
           "sample", "sample_d_step", "sample_g_step", "step", "transform"]
