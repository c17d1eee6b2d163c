"""SimCLR: NT-Xent (:mod:`.loss`), the projection head (:mod:`.head`), LARS (:mod:`.lars`), the augmentation
pipeline (:mod:`.augment`).

Paper: T. Chen, S. Kornblith, M. Norouzi, G. Hinton, "A Simple Framework for
Contrastive Learning of Visual Representations", ICML 2020 (arXiv:2002.05709);
SimCLRv2: Chen et al., "Big Self-Supervised Models are Strong Semi-Supervised
Learners", NeurIPS 2020. Official code: https://github.com/google-research/simclr
(TF1 at the top level, TF2 under ``tf2/``; v1 is the first commit be133b3).

Four kinds of contract in one method: NT-Xent is a function (``nt_xent`` in
every layer, also in the shared ``losses`` modules), the head a model with
weights (:func:`head.param_shapes`), LARS a stateful step, the augmentation a
random transform (:func:`augment.sample` -> :class:`augment.AugmentPlan`).
"""

from __future__ import annotations

from ..contracts import Tolerances
from ..tolerance import Tolerance
from . import augment, head, lars, loss
from .augment import AugmentConfig, AugmentPlan, sample
from .head import HeadConfig, param_shapes
from .lars import LARSConfig
from .loss import LARGE_NUM, REDUCTIONS, NTXentConfig

PAPER = ("Chen, Kornblith, Norouzi, Hinton, A Simple Framework for Contrastive Learning of Visual "
         "Representations, ICML 2020")
OFFICIAL_CODE = "https://github.com/google-research/simclr"

#: Loss values and gradients (NT-Xent), head outputs and running statistics.
#: float32: NT-Xent's logits reach 1/tau = 100 at tau = 0.01, so a float32
#: rounding of a cosine similarity (6e-8) moves a logit by ~6e-6; per-anchor
#: losses of order log(2N) keep ~1e-5 relative error, gradients ~1e-5 of
#: their scale. Head: two or three (B x 2048)-style products and BatchNorm.
TOLERANCES = Tolerances(
    forward={"float64": Tolerance(atol=1e-12, rtol=1e-10), "float32": Tolerance(atol=5e-5, rtol=5e-5)},
    gradient={"float64": Tolerance(atol=1e-11, rtol=1e-9), "float32": Tolerance(atol=5e-5, rtol=5e-4)},
    finite_difference=Tolerance(atol=1e-7, rtol=1e-6),
)

#: LARS trajectories (parameters and momentum after every step, up to ~40 steps):
#: float64 a few ulps per step; float32 a few float32 ulps per step on unit-scale
#: parameters. The trust ratio is computed from norms, one reduction order per layer.
LARS_TOLERANCES = {
    "float64": Tolerance(atol=1e-13, rtol=1e-11),
    "float32": Tolerance(atol=2e-5, rtol=2e-5),
}

#: Augmented pixels (values in [0, 1]) against the float64 reference. float64:
#: the layers multiply the same matrices in another order. float32: resampling
#: products of up to W_in terms and the HSV round trip (a mod 6 of a float32
#: quotient), a few float32 ulps of 1 each. Pixel-exact (0 error) is only
#: promised for steps of pure selection: flips, grayscale of a gray image,
#: plans with every op off and an identity crop.
AUGMENT_TOLERANCES = {
    "float64": Tolerance(atol=1e-12, rtol=0.0),
    "float32": Tolerance(atol=2e-5, rtol=0.0),
}

#: The public names each layer must export for this method (checked by conformance).
EXPORTS: dict[str, tuple[str, ...]] = {
    "numpy_ref": ("nt_xent", "nt_xent_grad", "forward", "init_params", "step", "init_state", "LARSState", "apply"),
    "torch_backend": ("nt_xent", "NTXentLoss", "ProjectionHead", "load_params", "get_params", "LARS",
                      "lars_param_groups", "apply", "SimCLRAugment", "gather_with_grad"),
    "tf_backend": ("nt_xent", "NTXentLoss", "ProjectionHead", "load_params", "get_params", "LARS", "apply",
                   "SimCLRAugment", "augment_dataset", "gather_with_grad"),
}

#: Exports whose signatures differ across layers on purpose (conformance compares all others).
API_DIFFERENCES: dict[str, str] = {
    "nt_xent": "the backends add the data-parallel gather (gather_distributed; PyTorch also a process group); "
               "the reference is one process on the concatenated batch",
    "NTXentLoss": "PyTorch also takes a process group; tf.distribute finds its replicas from the context",
    "gather_with_grad": "PyTorch takes a process group; tf.distribute uses the current replica context",
    "LARS": "each optimizer follows its framework's constructor idiom: torch.optim (params, lr, ...), Keras "
            "(learning_rate, ...); both accept config=LARSConfig",
    "apply": "TF also executes a plan's tensors inside a graph, whose conventions then come from config",
}

__all__ = ["API_DIFFERENCES", "EXPORTS", "LARGE_NUM", "OFFICIAL_CODE", "PAPER", "REDUCTIONS", "TOLERANCES",
           "AugmentConfig", "AugmentPlan", "HeadConfig", "LARSConfig", "NTXentConfig", "augment", "head", "lars",
           "loss", "param_shapes", "sample"]
