"""ViT forward pass in plain NumPy, straight from a canonical params dict (float64-exact).

Paper: Dosovitskiy et al., ICLR 2021. Official code: google-research/vision_transformer
(``vit_jax/models_vit.py``). See :mod:`tenfold.spec.vit` for the math. Inference
only: dropout is the identity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from tenfold.spec import vit as spec
from tenfold.spec.errors import ConfigError, expected
from tenfold.spec.vit.checkpoint import check_params

from ._arrays import as_array, dtype_name
from .layers.activations import gelu
from .layers.attention import multi_head_attention
from .layers.norm import layer_norm


def _embed(images: np.ndarray, p: Mapping[str, np.ndarray], config: spec.ViTConfig) -> np.ndarray:
    """Patch embedding (a VALID P x P conv with stride P == a Dense on flattened HWC patches)."""
    b, c, h, w = images.shape
    s = config.patch_size
    x = images.transpose(0, 2, 3, 1).reshape(b, h // s, s, w // s, s, c)  # (B, gh, P, gw, P, C)
    x = x.transpose(0, 1, 3, 2, 4, 5).reshape(b, (h // s) * (w // s), s * s * c)  # (B, N, P*P*C), (ph, pw, c) order
    kernel = p["embedding/kernel"].reshape(s * s * c, -1)  # HWIO -> (P*P*C, D)
    return x @ kernel + p["embedding/bias"]  # (B, N, D)


def features(images: object, params: Mapping[str, np.ndarray], config: spec.ViTConfig) -> np.ndarray:
    """The pooled representation fed to the head (after ``pre_logits`` when present), ``(B, width)``."""
    config = spec.ViTConfig.coerce(config, "vit")
    x = as_array("vit", images)
    spec.check_images(x.shape, dtype_name(x.dtype), config, "NCHW", "vit")
    check_params(params, config, "vit")
    p = {k: np.asarray(v, dtype=np.float64 if x.dtype == np.float64 else np.float32) for k, v in params.items()}
    x = x.astype(np.float64 if x.dtype == np.float64 else np.float32)
    eps = config.layer_norm_eps
    z = _embed(x, p, config)  # (B, N, D)
    if config.classifier == "token":
        cls = np.broadcast_to(p["cls"], (z.shape[0], 1, z.shape[2]))
        z = np.concatenate([cls, z], axis=1)  # (B, N+1, D)
    z = z + p["Transformer/posembed_input/pos_embedding"]
    for i in range(config.num_layers):
        b = spec.block_prefix(i)
        y = layer_norm(z, p[f"{b}/LayerNorm_0/scale"], p[f"{b}/LayerNorm_0/bias"], eps)
        z = z + multi_head_attention(y, p, f"{b}/MultiHeadDotProductAttention_1")
        y = layer_norm(z, p[f"{b}/LayerNorm_2/scale"], p[f"{b}/LayerNorm_2/bias"], eps)
        y = gelu(y @ p[f"{b}/MlpBlock_3/Dense_0/kernel"] + p[f"{b}/MlpBlock_3/Dense_0/bias"], config.gelu)
        z = z + (y @ p[f"{b}/MlpBlock_3/Dense_1/kernel"] + p[f"{b}/MlpBlock_3/Dense_1/bias"])
    z = layer_norm(z, p["Transformer/encoder_norm/scale"], p["Transformer/encoder_norm/bias"], eps)
    h = z[:, 0] if config.classifier == "token" else z.mean(axis=1)  # (B, D)
    if config.representation_size is not None:
        h = np.tanh(h @ p["pre_logits/kernel"] + p["pre_logits/bias"])  # (B, R)
    return h


def vit(images: object, params: Mapping[str, np.ndarray], config: spec.ViTConfig, *,
        training: bool = False) -> np.ndarray:
    """ViT logits for NCHW images from canonical params (official ``.npz`` names).

    Args:
        images: ``(B, C, S, S)`` float array (normalised: the official
            pipeline maps [0, 255] to [-1, 1]). float64 is computed in
            float64; other floats in float32.
        params: Canonical params (:func:`tenfold.spec.vit.param_shapes`),
            checked by :func:`tenfold.spec.contracts.check_params`.
        training: Must be False (inference only; dropout is the identity).
        config: The model configuration.

    Returns:
        ``(B, num_classes)`` logits.

    Raises:
        DTypeError, ShapeError: For bad images (see :func:`tenfold.spec.vit.check_images`).
        CheckpointError: Missing, unexpected or mis-shaped parameters.
    """
    if training:
        raise ConfigError(expected("vit", "training=False (the reference has no dropout: inference only)", training))
    config = spec.ViTConfig.coerce(config, "vit")
    h = features(images, params, config)
    return h @ np.asarray(params["head/kernel"], h.dtype) + np.asarray(params["head/bias"], h.dtype)


def init_params(config: spec.ViTConfig, rng: np.random.Generator, head_scale: float = 1.0) -> dict[str, np.ndarray]:
    """Random float64 params for tests: fan-in scaled normals, LayerNorm scales near 1.

    Differences from the official initialisation: the official head is
    zero-initialised and the class token zero; here both are random so that
    every parameter influences the output (a test would miss a dropped term
    otherwise).
    """
    out = {}
    config = spec.ViTConfig.coerce(config, "init_params")
    for name, shape in spec.param_shapes(config).items():
        if name.endswith("/scale"):
            out[name] = 1.0 + 0.1 * rng.standard_normal(shape)
        elif name.endswith("/bias") or name == "cls" or name.endswith("pos_embedding"):
            out[name] = 0.1 * rng.standard_normal(shape)
        else:
            fan_in = math.prod(shape[:-1]) if not name.endswith("out/kernel") else shape[0] * shape[1]
            if "query" in name or "key" in name or "value" in name:
                fan_in = shape[0]
            std = 1.0 / math.sqrt(fan_in) * (head_scale if name.startswith("head") else 1.0)
            out[name] = std * rng.standard_normal(shape)
    return out


__all__ = ["features", "init_params", "vit"]
