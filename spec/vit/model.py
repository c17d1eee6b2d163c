"""ViT configuration, presets, canonical parameter shapes, input rules and tolerances (see :mod:`tenfold.spec.vit`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from ..config import Config, param, require
from ..contracts import Tolerances
from ..dtypes import FLOAT_DTYPES, check_float_dtype
from ..errors import ConfigError, ShapeError, expected
from ..tolerance import Tolerance

PAPER = "Dosovitskiy et al., An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale, ICLR 2021"
OFFICIAL_CODE = "https://github.com/google-research/vision_transformer"

CLASSIFIERS: tuple[str, ...] = ("token", "gap")
GELUS: tuple[str, ...] = ("tanh", "exact")
RESIZE_METHODS: tuple[str, ...] = ("official", "timm")

#: Input normalisation of the official input pipeline, on [0, 1] RGB images.
MEAN: tuple[float, float, float] = (0.5, 0.5, 0.5)
STD: tuple[float, float, float] = (0.5, 0.5, 0.5)

#: (hidden, mlp, heads, layers) of the official model sizes (vit_jax/configs/models.py).
SIZES: dict[str, tuple[int, int, int, int]] = {
    "Ti": (192, 768, 3, 12),
    "S": (384, 1536, 6, 12),
    "B": (768, 3072, 12, 12),
    "L": (1024, 4096, 16, 24),
    "H": (1280, 5120, 16, 32),
}

#: Official dropout rate per size at the repository HEAD (0.1 for L and H).
_DROPOUT = {"Ti": 0.0, "S": 0.0, "B": 0.0, "L": 0.1, "H": 0.1}

#: The official named models ("size/patch").
OFFICIAL_MODELS: tuple[str, ...] = ("Ti/16", "S/16", "S/32", "B/8", "B/16", "B/32", "L/16", "L/32", "H/14")


@dataclass(frozen=True)
class ViTConfig(Config):
    """Configuration of a ViT classifier (defaults: ViT-B/16 at 224 px, ImageNet-1k head).

    Presets: :meth:`preset` accepts the official names ``"B/16"`` etc. (also
    as ``"b16"``) and ``"tiny"`` (a test-sized model).
    """

    PRESETS: ClassVar[tuple[str, ...]] = (*OFFICIAL_MODELS, "tiny")

    image_size: int = param(224, "paper Section 4.1 and the official fine-tuning configs (224; 384 for fine-tunes)")
    patch_size: int = param(16, "vit_jax/configs/models.py: ViT-B/16 patches.size = (16, 16)")
    in_channels: int = param(3, "RGB input (vit_jax/input_pipeline.py)")
    hidden_size: int = param(768, "vit_jax/configs/models.py: ViT-B hidden_size")
    mlp_dim: int = param(3072, "vit_jax/configs/models.py: ViT-B transformer.mlp_dim")
    num_heads: int = param(12, "vit_jax/configs/models.py: ViT-B transformer.num_heads")
    num_layers: int = param(12, "vit_jax/configs/models.py: ViT-B transformer.num_layers")
    num_classes: int = param(1000, "ImageNet-1k fine-tuned checkpoints (imagenet2012)")
    classifier: str = param("token", "vit_jax/configs/models.py: classifier = 'token'")
    representation_size: int | None = param(None, "vit_jax/configs/models.py: None for fine-tuned models "
                                                   "(the hidden size for imagenet21k pre-training)")
    dropout_rate: float = param(0.0, "vit_jax/configs/models.py at HEAD: 0.0 for Ti/S/B, 0.1 for L/H")
    attention_dropout_rate: float = param(0.0, "vit_jax/configs/models.py: attention_dropout_rate = 0.0")
    layer_norm_eps: float = param(1e-6, "flax.linen.LayerNorm default epsilon (used by models_vit.py)")
    gelu: str = param("tanh", "models_vit.py MlpBlock: nn.gelu, whose default is approximate=True (tanh form); "
                              "timm uses the exact form")

    # -- presets -----------------------------------------------------------

    @classmethod
    def official(cls, name: str, **overrides) -> ViTConfig:
        """An official model by name (``"B/16"``, ``"L/32"``, ...), with optional field overrides."""
        if name not in OFFICIAL_MODELS:
            raise ConfigError(expected("ViTConfig.official", "one of " + ", ".join(OFFICIAL_MODELS), repr(name)))
        size, patch = name.split("/")
        hidden, mlp, heads, layers = SIZES[size]
        fields = dict(patch_size=int(patch), hidden_size=hidden, mlp_dim=mlp, num_heads=heads, num_layers=layers,
                      dropout_rate=_DROPOUT[size])
        fields.update(overrides)
        return cls(**fields)

    @classmethod
    def tiny(cls, **overrides) -> ViTConfig:
        """A test-sized model: 16 px images, patch 8, width 16, 2 heads, 2 layers, 5 classes."""
        fields = dict(image_size=16, patch_size=8, hidden_size=16, mlp_dim=32, num_heads=2, num_layers=2,
                      num_classes=5)
        fields.update(overrides)
        return cls(**fields)

    @classmethod
    def preset(cls, name: str, **overrides) -> ViTConfig:
        """Build a preset: an official name (``"B/16"`` or ``"b16"``) or ``"tiny"``."""
        canon = {m.replace("/", "").lower(): m for m in OFFICIAL_MODELS}
        if name == "tiny":
            return cls.tiny(**overrides)
        name = canon.get(name.replace("/", "").lower(), name)
        if name not in OFFICIAL_MODELS:
            raise ConfigError(expected("ViTConfig.preset", "one of " + ", ".join(cls.PRESETS), repr(name)))
        return cls.official(name, **overrides)

    # -- derived quantities --------------------------------------------------

    @property
    def grid(self) -> tuple[int, int]:
        """Patches along (height, width)."""
        return (self.image_size // self.patch_size, self.image_size // self.patch_size)

    @property
    def num_prefix_tokens(self) -> int:
        """1 for the class token ("token" classifier), else 0."""
        return 1 if self.classifier == "token" else 0

    @property
    def num_tokens(self) -> int:
        gh, gw = self.grid
        return gh * gw + self.num_prefix_tokens

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    def validate(self) -> None:
        for name in ("image_size", "patch_size", "in_channels", "hidden_size", "mlp_dim", "num_heads",
                     "num_layers", "num_classes"):
            value = getattr(self, name)
            require(isinstance(value, int) and not isinstance(value, bool) and value > 0, f"ViTConfig.{name}",
                    "a positive integer", repr(value))
        require(self.image_size % self.patch_size == 0, "ViTConfig.image_size",
                f"a multiple of patch_size {self.patch_size}", self.image_size)
        require(self.hidden_size % self.num_heads == 0, "ViTConfig.hidden_size",
                f"a multiple of num_heads {self.num_heads}", self.hidden_size)
        require(self.classifier in CLASSIFIERS, "ViTConfig.classifier", "one of " + ", ".join(CLASSIFIERS),
                repr(self.classifier))
        require(self.gelu in GELUS, "ViTConfig.gelu", "one of " + ", ".join(GELUS), repr(self.gelu))
        rep = self.representation_size
        require(rep is None or (isinstance(rep, int) and rep > 0), "ViTConfig.representation_size",
                "None or a positive integer", repr(rep))
        for name in ("dropout_rate", "attention_dropout_rate"):
            value = getattr(self, name)
            require(isinstance(value, (int, float)) and 0.0 <= value < 1.0, f"ViTConfig.{name}",
                    "a rate in [0, 1)", repr(value))
        require(isinstance(self.layer_norm_eps, (int, float)) and self.layer_norm_eps > 0, "ViTConfig.layer_norm_eps",
                "a value > 0", repr(self.layer_norm_eps))


# -- parameters ------------------------------------------------------------

def block_prefix(i: int) -> str:
    """Canonical name prefix of encoder block ``i``."""
    return f"Transformer/encoderblock_{i}"


def param_shapes(config: ViTConfig) -> dict[str, tuple[int, ...]]:
    """Canonical parameter names and shapes: the official ``.npz`` layout.

    Kernels are Flax's: the patch embedding is HWIO ``(P, P, C, D)``, Dense
    kernels are ``(in, out)``, attention projections are ``(D, heads, head_dim)``
    and the output projection ``(heads, head_dim, D)``.
    """
    config = ViTConfig.coerce(config, "vit.param_shapes")
    d, p, c, h, dh = config.hidden_size, config.patch_size, config.in_channels, config.num_heads, config.head_dim
    shapes: dict[str, tuple[int, ...]] = {"embedding/kernel": (p, p, c, d), "embedding/bias": (d,)}
    if config.classifier == "token":
        shapes["cls"] = (1, 1, d)
    shapes["Transformer/posembed_input/pos_embedding"] = (1, config.num_tokens, d)
    for i in range(config.num_layers):
        b = block_prefix(i)
        shapes[f"{b}/LayerNorm_0/scale"] = (d,)
        shapes[f"{b}/LayerNorm_0/bias"] = (d,)
        for name in ("query", "key", "value"):
            shapes[f"{b}/MultiHeadDotProductAttention_1/{name}/kernel"] = (d, h, dh)
            shapes[f"{b}/MultiHeadDotProductAttention_1/{name}/bias"] = (h, dh)
        shapes[f"{b}/MultiHeadDotProductAttention_1/out/kernel"] = (h, dh, d)
        shapes[f"{b}/MultiHeadDotProductAttention_1/out/bias"] = (d,)
        shapes[f"{b}/LayerNorm_2/scale"] = (d,)
        shapes[f"{b}/LayerNorm_2/bias"] = (d,)
        shapes[f"{b}/MlpBlock_3/Dense_0/kernel"] = (d, config.mlp_dim)
        shapes[f"{b}/MlpBlock_3/Dense_0/bias"] = (config.mlp_dim,)
        shapes[f"{b}/MlpBlock_3/Dense_1/kernel"] = (config.mlp_dim, d)
        shapes[f"{b}/MlpBlock_3/Dense_1/bias"] = (d,)
    shapes["Transformer/encoder_norm/scale"] = (d,)
    shapes["Transformer/encoder_norm/bias"] = (d,)
    width = d
    if config.representation_size is not None:
        shapes["pre_logits/kernel"] = (d, config.representation_size)
        shapes["pre_logits/bias"] = (config.representation_size,)
        width = config.representation_size
    shapes["head/kernel"] = (width, config.num_classes)
    shapes["head/bias"] = (config.num_classes,)
    return shapes


def num_params(config: ViTConfig) -> int:
    """Number of scalar parameters."""
    return sum(math.prod(s) for s in param_shapes(config).values())


def flops_per_image(config: ViTConfig) -> int:
    """Multiply-add FLOPs (2 per MAC) of one forward pass, matrix products only."""
    n, d, m = config.num_tokens, config.hidden_size, config.mlp_dim
    patches = (config.grid[0] * config.grid[1]) * (config.patch_size ** 2 * config.in_channels) * d
    per_block = n * d * 3 * d + 2 * n * n * d + n * d * d + 2 * n * d * m
    head = d * (config.representation_size or 0) + (config.representation_size or d) * config.num_classes
    return 2 * (patches + config.num_layers * per_block + head)


# -- input validation (every layer calls this) --------------------------------

LAYOUTS: tuple[str, ...] = ("NCHW", "NHWC")


def check_images(shape: Sequence[int | None], dtype_name: str, config: ViTConfig, layout: str = "NCHW",
                 where: str = "vit") -> None:
    """Validate a batch of images for ``config``; one message for every layer.

    Args:
        shape: The input's shape (``None`` for unknown dimensions, as in a traced graph).
        dtype_name: Canonical dtype name of the input.
        config: The model's configuration.
        layout: ``"NCHW"`` (spec, NumPy, PyTorch, ONNX) or ``"NHWC"`` (TensorFlow).
        where: Message prefix.

    Raises:
        DTypeError: For a non-floating dtype.
        ShapeError: For a wrong rank, an empty batch, a wrong channel count
            (including channels-last images given to an NCHW model), or image size.
    """
    check_float_dtype(where, dtype_name, FLOAT_DTYPES)
    c, s, p = config.in_channels, config.image_size, config.patch_size
    want = f"(N, {c}, {s}, {s})" if layout == "NCHW" else f"(N, {s}, {s}, {c})"
    shape = tuple(shape)
    if len(shape) != 4:
        raise ShapeError(expected(where, f"a 4-D batch of {layout} images {want}", f"shape {shape}"))
    if shape[0] == 0:  # numpy and torch would return (0, classes), TF's conv2d returns its input: refused alike
        raise ShapeError(expected(where, f"a non-empty batch {want}", f"shape {shape}"))
    if layout == "NCHW":
        ch, hw = shape[1], shape[2:]
        if ch is not None and ch != c and shape[3] == c:
            raise ShapeError(expected(where, f"NCHW images {want} (channels first)",
                                      f"shape {shape}, which looks channels-last (NHWC); "
                                      "use x.permute(0, 3, 1, 2)"))
    else:
        ch, hw = shape[3], shape[1:3]
        if ch is not None and ch != c and shape[1] == c:
            raise ShapeError(expected(where, f"NHWC images {want} (channels last)",
                                      f"shape {shape}, which looks channels-first (NCHW); "
                                      "use tf.transpose(x, (0, 2, 3, 1))"))
    if ch is not None and ch != c:
        raise ShapeError(expected(where, f"{c} channels, {layout} images {want}", f"shape {shape}"))
    for dim in hw:
        if dim is not None and dim % p != 0:
            raise ShapeError(expected(where, f"height and width multiples of the patch size {p} ({layout} {want})",
                                      f"shape {shape}"))
    if any(dim is not None and dim != s for dim in hw):
        raise ShapeError(expected(where, f"{s}x{s} images {want}, the size the position embedding was built for "
                                         "(resize it with resize_pos_embedding for another size)",
                                  f"shape {shape}"))


# -- position-embedding resize ---------------------------------------------------

#: bfloat16, 2^-8 relative rounding per product, normalisations in float32).
_FORWARD: dict[str, Tolerance] = {
    "float64": Tolerance(atol=1e-12, rtol=1e-10),
    "float32": Tolerance(atol=1e-4, rtol=1e-4),
    "bfloat16": Tolerance(atol=6e-2, rtol=6e-2),
}

#: Backend gradients (float64) against central finite differences of numpy_ref.
_FINITE_DIFFERENCE = Tolerance(atol=1e-7, rtol=1e-6)

#: Tolerance of an exported ONNX model (float32) against numpy_ref.
_ONNX = _FORWARD["float32"]

#: Every tolerance conformance applies to this method (:class:`tenfold.spec.contracts.Tolerances`).
TOLERANCES = Tolerances(forward=_FORWARD, gradient=_FORWARD, finite_difference=_FINITE_DIFFERENCE,
                        onnx={"float32": _ONNX})

EXPORTS: dict[str, tuple[str, ...]] = {
    "numpy_ref": ("vit", "init_params", "layer_norm", "gelu"),
    "torch_backend": ("ViT", "load_params", "get_params", "load_npz", "load_timm_state_dict"),
    "tf_backend": ("ViT", "load_params", "get_params", "load_npz", "load_timm_state_dict"),
    "export": ("export_vit", "vit_metadata"),
}


def check_dtype(dtype_name: str, where: str = "vit") -> str:
    return check_float_dtype(where, dtype_name, FLOAT_DTYPES)


__all__ = [
    "CLASSIFIERS",
    "EXPORTS",
    "GELUS",
    "LAYOUTS",
    "MEAN",
    "OFFICIAL_CODE",
    "OFFICIAL_MODELS",
    "PAPER",
    "RESIZE_METHODS",
    "SIZES",
    "STD",
    "TOLERANCES",
    "ViTConfig",
    "block_prefix",
    "check_dtype",
    "check_images",
    "flops_per_image",
    "num_params",
    "param_shapes",
]
