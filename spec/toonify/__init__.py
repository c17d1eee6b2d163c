"""Toonify: the StyleGAN2 generator (:mod:`.generator`) and the resolution-dependent blend (:mod:`.blend`).

Paper: Pinkney & Adler, "Resolution Dependent GAN Interpolation for
Controllable Image Synthesis Between Domains", NeurIPS 2020 workshop
(arXiv:2010.05334); StyleGAN2: Karras et al., CVPR 2020. Official code:
justinpinkney/toonify, justinpinkney/stylegan2 (``blend_models.py``), NVlabs/stylegan2;
canonical names from rosinality/stylegan2-pytorch. The names of both modules
are re-exported here (``tenfold.spec.toonify.StyleGAN2Config``).
"""

from tenfold.spec.contracts import Tolerances
from tenfold.spec.tolerance import Tolerance

from . import blend, generator
from .blend import *  # noqa: F403
from .blend import __all__ as _blend_all
from .generator import *  # noqa: F403
from .generator import OFFICIAL_CODE, PAPER  # noqa: F401  (the model spec's identity)
from .generator import __all__ as _generator_all

#: Tolerances of the generator and its pieces against numpy_ref in float64 (outputs are O(1) images;
#: float32 rounding accumulates over ~2 log2(R) modulated convs with demodulation).
TOLERANCES = Tolerances(
    forward={"float64": Tolerance(atol=1e-10, rtol=1e-9), "float32": Tolerance(atol=2e-4, rtol=2e-4)},
    gradient={"float64": Tolerance(atol=1e-9, rtol=1e-8), "float32": Tolerance(atol=1e-3, rtol=1e-3)},
    finite_difference=Tolerance(atol=1e-6, rtol=1e-5),
)

#: Blend weights are exact arithmetic on the same inputs: float64 round-off only.
BLEND_TOLERANCE = Tolerance(atol=1e-12, rtol=1e-12)

#: The names each layer's ``toonify`` package must export (the API conformance row checks them).
EXPORTS: dict[str, tuple[str, ...]] = {
    "numpy_ref": ("generate", "mapping", "synthesis", "modulated_conv2d", "to_rgb", "init_params", "mean_latent",
                  "blend", "save_checkpoint", "load_checkpoint"),
    "torch_backend": ("Generator", "modulated_conv2d", "load_params", "get_params", "load_rosinality",
                      "save_rosinality", "rosinality_params", "blend_models"),
    "tf_backend": ("Generator", "modulated_conv2d", "load_params", "get_params", "blend_models"),
}

#: Exports whose signatures differ across layers on purpose (conformance compares all others).
API_DIFFERENCES: dict[str, str] = {
    "Generator": "the PyTorch module also offers fused=True (rosinality's grouped-conv form, for comparison); "
                 "the Keras model takes Keras' dtype argument",
    "modulated_conv2d": "PyTorch only: fused=True (per-sample weights and a grouped conv, rosinality's form)",
}

__all__ = ["API_DIFFERENCES", "BLEND_TOLERANCE", "EXPORTS", "TOLERANCES", "blend", "generator", *_blend_all,
           *_generator_all]
