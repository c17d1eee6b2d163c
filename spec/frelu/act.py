r"""FReLU, the funnel activation: ``y = max(x, T(x))`` with a learned spatial condition ``T``.

Paper: N. Ma, X. Zhang, J. Sun, "Funnel Activation for Visual Recognition",
ECCV 2020 (arXiv:2007.11824), Section 3.1, Eq. (2). Official code:
https://github.com/megvii-model/FunnelAct (MegEngine; ``resnet/frelu.py``,
``shufflenetv2/frelu_light.py``).

Math, on NCHW input ``x`` with ``C`` channels::

    T(x) = BN(DWConv_k(x))                    (variant "full", k x k, padding k // 2, groups = C, with bias)
    T(x) = BN1(DWConv_1xk(x)) + BN2(DWConv_kx1(x))   (variant "light", no conv bias, paddings (0, k//2), (k//2, 0))
    y    = max(x, T(x))                        (element-wise)

``BN`` is the BatchNorm of :mod:`tenfold.spec.batchnorm` (train mode: batch
statistics and running-average update; eval mode: running statistics). The
official ``Conv2d`` of MegEngine defaults to ``bias=True``, so the full
variant's depthwise convolution has a bias (redundant before BN in train mode,
but it is a parameter of the official checkpoints). Zero padding.

Gradient (eval mode, ``s = weight / sqrt(running_var + eps)``, cotangent ``w``)::

    m      = [x >= T(x)]                       (ties go to x; PyTorch splits ties in half)
    dL/dx  = m * w + DWConv_k^T(s * (1 - m) * w)

Parameter names (full: the attribute names of the FReLU module as published with
the paper, ``conv_frelu`` and ``bn_frelu``; light: tenfold's, numbered by branch)::

    full:  conv_frelu.weight (C, 1, k, k), conv_frelu.bias (C,), bn_frelu.{weight, bias, running_mean, running_var}
    light: conv_frelu1.weight (C, 1, 1, k), bn_frelu1.*, conv_frelu2.weight (C, 1, k, 1), bn_frelu2.*

Networks (ResNet-50-FReLU, ShuffleNetV2-FReLU, a CIFAR ResNet) are specified
in :mod:`tenfold.spec.frelu.nets`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import batchnorm as bn
from ..config import Config, param, require
from ..contracts import Tolerances
from ..dtypes import FLOAT_DTYPES, check_float_dtype
from ..errors import ConfigError, ShapeError, expected
from ..tolerance import Tolerance

PAPER = "Ma, Zhang, Sun, Funnel Activation for Visual Recognition, ECCV 2020"
OFFICIAL_CODE = "https://github.com/megvii-model/FunnelAct"

#: The dtypes each layer accepts.
DTYPES: tuple[str, ...] = FLOAT_DTYPES

VARIANTS: tuple[str, ...] = ("full", "light")


def check_kernel_size(where: str, kernel_size: object) -> int:
    """Raise :class:`ConfigError` unless ``kernel_size`` is an odd integer >= 1."""
    ok = isinstance(kernel_size, int) and not isinstance(kernel_size, bool) and kernel_size >= 1 and kernel_size % 2
    if not ok:
        raise ConfigError(expected(where, "an odd integer kernel size >= 1 (so that padding k // 2 keeps the size)",
                                   repr(kernel_size)))
    return kernel_size


@dataclass(frozen=True)
class FReLUConfig(Config):
    """Hyperparameters of one FReLU layer (the channel count is given separately)."""

    PRESETS = ("official", "light")

    variant: str = param("full", "paper Eq. (2) / official resnet/frelu.py; 'light' is shufflenetv2/frelu_light.py")
    kernel_size: int = param(3, "paper Sec. 3.1 (3x3 depthwise) / official resnet/frelu.py")
    bias: bool = param(True, "official resnet/frelu.py: MegEngine Conv2d default bias=True (light variant: no bias)")
    bn_eps: float = param(1e-5, "official code: MegEngine BatchNorm2d default eps")
    bn_momentum: float = param(0.1, "official code: MegEngine BatchNorm2d momentum 0.9, i.e. 1 - 0.1 here")

    @classmethod
    def official(cls) -> FReLUConfig:
        return cls()

    @classmethod
    def light(cls) -> FReLUConfig:
        """The light FReLU of the official ShuffleNetV2 (1xk + kx1 depthwise, no bias, two BatchNorms)."""
        return cls(variant="light", bias=False)

    def validate(self) -> None:
        require(self.variant in VARIANTS, "FReLUConfig.variant", "one of " + ", ".join(VARIANTS), repr(self.variant))
        check_kernel_size("FReLUConfig.kernel_size", self.kernel_size)
        require(isinstance(self.bias, bool), "FReLUConfig.bias", "a bool", repr(self.bias))
        require(not (self.variant == "light" and self.bias), "FReLUConfig.bias",
                "False for the light variant (the official one has no conv bias)", self.bias)
        bn.BatchNormConfig(self.bn_eps, self.bn_momentum)  # validates eps and momentum

    @property
    def batchnorm(self) -> bn.BatchNormConfig:
        return bn.BatchNormConfig(self.bn_eps, self.bn_momentum)

    @property
    def padding(self) -> int:
        return self.kernel_size // 2


def check_channels(where: str, channels: object) -> int:
    """Raise :class:`ConfigError` unless ``channels`` is an integer >= 1."""
    if not (isinstance(channels, int) and not isinstance(channels, bool) and channels >= 1):
        raise ConfigError(expected(where, "a channel count (integer >= 1)", repr(channels)))
    return channels


def check_input(where: str, shape: tuple[int, ...], channels: int, layout: str = "NCHW") -> None:
    """Validate the shape of an FReLU input: 4-D with ``channels`` channels.

    Args:
        where: Message prefix.
        shape: The input's shape.
        channels: The layer's channel count.
        layout: ``"NCHW"`` (spec, NumPy, PyTorch) or ``"NHWC"`` (TensorFlow).

    Raises:
        ShapeError: On another rank, an empty batch or another channel count.
    """
    shape = tuple(shape)
    if len(shape) != 4:
        raise ShapeError(expected(where, f"a 4-D input ({', '.join(layout)})", f"shape {shape}"))
    if shape[0] == 0:  # TF's convolutions mishandle an empty batch: refused in every layer alike
        raise ShapeError(expected(where, f"a non-empty batch ({', '.join(layout)})", f"shape {shape}"))
    axis = layout.index("C")
    if shape[axis] is not None and shape[axis] != channels:
        raise ShapeError(expected(where, f"{channels} channels (axis {axis} of {layout})",
                                  f"{shape[axis]} in shape {shape}"))


def check_dtype(dtype_name: str, where: str = "frelu") -> str:
    """Validate an input dtype name (any floating dtype of :data:`DTYPES`)."""
    return check_float_dtype(where, dtype_name, DTYPES)


def conv_names(config: FReLUConfig) -> tuple[tuple[str, str, tuple[int, int]], ...]:
    """``(conv name, BatchNorm name, (kh, kw))`` of each branch of the variant."""
    k = config.kernel_size
    if config.variant == "full":
        return (("conv_frelu", "bn_frelu", (k, k)),)
    return (("conv_frelu1", "bn_frelu1", (1, k)), ("conv_frelu2", "bn_frelu2", (k, 1)))


def param_shapes(channels: int, config: FReLUConfig | None = None, prefix: str = "",
                 folded: bool = False) -> dict[str, tuple[int, ...]]:
    """Canonical names and shapes of one FReLU layer's parameters and BatchNorm state.

    Args:
        channels: Channel count ``C``.
        config: The layer's config (default: the official full variant).
        prefix: Prepended to every name (``"layer1.0.frelu1."``).
        folded: BatchNorm folded into the convolutions (every conv then has a
            bias and there are no ``bn_*`` entries).
    """
    config = FReLUConfig() if config is None else FReLUConfig.coerce(config, "frelu.param_shapes")
    check_channels("frelu.param_shapes", channels)
    shapes: dict[str, tuple[int, ...]] = {}
    for conv, norm, (kh, kw) in conv_names(config):
        shapes[f"{prefix}{conv}.weight"] = (channels, 1, kh, kw)
        if config.bias or folded:
            shapes[f"{prefix}{conv}.bias"] = (channels,)
        if not folded:
            shapes.update(bn.param_shapes(channels, f"{prefix}{norm}."))
    return shapes


#: Forward tolerances per dtype (unit-scale inputs and weights). Reduced
#: precisions accumulate k*k products and a BatchNorm in their own precision.
_FORWARD: dict[str, Tolerance] = {
    "float64": Tolerance(atol=1e-12, rtol=1e-11),
    "float32": Tolerance(atol=2e-5, rtol=2e-5),
    "float16": Tolerance(atol=1.5e-2, rtol=1e-2),
    "bfloat16": Tolerance(atol=1.2e-1, rtol=6e-2),
}

#: Gradient tolerances (cotangents of unit scale).
_GRADIENT: dict[str, Tolerance] = {
    "float64": Tolerance(atol=1e-11, rtol=1e-10),
    "float32": Tolerance(atol=5e-5, rtol=5e-5),
    "float16": Tolerance(atol=5e-2, rtol=2e-2),
    "bfloat16": Tolerance(atol=4e-1, rtol=1e-1),
}

#: Networks: outputs after many layers (float32 within a few 1e-5 of unit-scale logits).
#: Central differences of the float64 reference (directional derivative).
_FINITE_DIFFERENCE = Tolerance(atol=1e-7, rtol=1e-6)


#: Every tolerance conformance applies to this method (:class:`tenfold.spec.contracts.Tolerances`).
TOLERANCES = Tolerances(forward=_FORWARD, gradient=_GRADIENT, finite_difference=_FINITE_DIFFERENCE)


#: The public names each layer must export for this method (checked by conformance).
EXPORTS: dict[str, tuple[str, ...]] = {
    "numpy_ref": ("frelu", "frelu_vjp", "batch_norm", "depthwise_conv2d", "conv2d", "resnet_forward",
                  "shufflenet_forward", "fold_batchnorm"),
    "torch_backend": ("FReLU", "BatchNorm2d", "FReLUResNet", "ShuffleNetV2FReLU", "build", "load_params",
                      "get_params", "fold_batchnorm"),
    "tf_backend": ("FReLU", "BatchNorm", "FReLUResNet", "ShuffleNetV2FReLU", "build", "load_params",
                   "get_params", "fold_batchnorm"),
    "export": ("export_torch", "export_tf", "onnx_model_torch", "onnx_model_tf"),
}

#: Exports whose signatures differ across layers on purpose (conformance compares all others).
API_DIFFERENCES: dict[str, str] = {
    "fold_batchnorm": "numpy_ref folds a params dict and returns (params, config); backends fold a model",
}

__all__ = ["API_DIFFERENCES", "DTYPES", "EXPORTS", "OFFICIAL_CODE", "PAPER", "TOLERANCES", "VARIANTS", "FReLUConfig",
           "check_channels", "check_dtype", "check_input", "check_kernel_size", "conv_names", "param_shapes"]
