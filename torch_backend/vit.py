"""ViT for PyTorch: an ``nn.Module`` on ``scaled_dot_product_attention``, plus checkpoint loaders.

Paper: Dosovitskiy et al., ICLR 2021. Official code: google-research/vision_transformer
(``vit_jax/models_vit.py``). The module's own parameter names and layouts are
timm's (``patch_embed.proj``, ``blocks.i.attn.qkv``, ...), so a timm
``state_dict`` loads directly; canonical (official ``.npz``) params are
converted in one place, :mod:`tenfold.spec.vit.checkpoint`.

Differences from the official implementation: q, k and v are one fused
``Linear`` (as in timm) instead of three Dense layers; the arithmetic is the
same. Dropout is applied in training mode only, attention dropout through
SDPA's ``dropout_p``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tenfold.spec import vit as spec
from tenfold.spec.vit import checkpoint as ckpt

from ._tensors import as_tensor, dtype_name, to_param_dtype
from .checkpoints import read_state_dict


class _Block(nn.Module):
    """Pre-LN encoder block: ``x + MHA(LN(x))`` then ``x + MLP(LN(x))``."""

    def __init__(self, config: spec.ViTConfig) -> None:
        super().__init__()
        d, eps = config.hidden_size, config.layer_norm_eps
        self.num_heads = config.num_heads
        self.attn_drop = config.attention_dropout_rate
        self.norm1 = nn.LayerNorm(d, eps=eps)
        self.attn = nn.Module()
        self.attn.qkv = nn.Linear(d, 3 * d)
        self.attn.proj = nn.Linear(d, d)
        self.norm2 = nn.LayerNorm(d, eps=eps)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(d, config.mlp_dim)
        self.mlp.fc2 = nn.Linear(config.mlp_dim, d)
        self.gelu = "tanh" if config.gelu == "tanh" else "none"
        self.drop = nn.Dropout(config.dropout_rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        qkv = self.attn.qkv(self.norm1(x)).reshape(b, n, 3, self.num_heads, d // self.num_heads)  # (B, N, 3, H, dh)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # 3 x (B, H, N, dh)
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_drop if self.training else 0.0)
        y = y.transpose(1, 2).reshape(b, n, d)  # (B, N, D)
        x = x + self.drop(self.attn.proj(y))
        y = F.gelu(self.mlp.fc1(self.norm2(x)), approximate=self.gelu)  # (B, N, mlp)
        return x + self.drop(self.mlp.fc2(self.drop(y)))


class ViT(nn.Module):
    """Vision Transformer classifier taking NCHW images.

    Paper: Dosovitskiy et al., ICLR 2021. Official code: google-research/vision_transformer.

    Args:
        config: The model configuration (:class:`tenfold.spec.vit.ViTConfig`).

    Call with ``(B, C, S, S)`` float images; returns ``(B, num_classes)``
    logits. Works under ``torch.autocast("cpu", torch.bfloat16)``.
    """

    def __init__(self, config: spec.ViTConfig) -> None:
        super().__init__()
        self.config = config = spec.ViTConfig.coerce(config, "ViT")
        d, p = config.hidden_size, config.patch_size
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(config.in_channels, d, kernel_size=p, stride=p)
        if config.classifier == "token":
            self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embed = nn.Parameter(torch.empty(1, config.num_tokens, d).normal_(std=0.02))
        self.pos_drop = nn.Dropout(config.dropout_rate)
        self.blocks = nn.ModuleList(_Block(config) for _ in range(config.num_layers))
        self.norm = nn.LayerNorm(d, eps=config.layer_norm_eps)
        if config.representation_size is not None:
            self.pre_logits = nn.Module()
            self.pre_logits.fc = nn.Linear(d, config.representation_size)
        self.head = nn.Linear(config.representation_size or d, config.num_classes)
        nn.init.zeros_(self.head.weight)  # official: head kernel_init=zeros
        nn.init.zeros_(self.head.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features before the head, ``(B, width)``."""
        x = as_tensor("ViT", x)
        if not torch.compiler.is_compiling():
            spec.check_images(tuple(x.shape), dtype_name(x.dtype), self.config, "NCHW", "ViT")
            x = to_param_dtype(x, self)
        x = self.patch_embed.proj(x).flatten(2).transpose(1, 2)  # (B, N, D)
        if self.config.classifier == "token":
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1).to(x.dtype), x], dim=1)  # (B, N+1, D)
        x = self.pos_drop(x + self.pos_embed.to(x.dtype))
        for block in self.blocks:
            x = block(x)
        x = self.norm(x)
        x = x[:, 0] if self.config.classifier == "token" else x.mean(dim=1)  # (B, D)
        if self.config.representation_size is not None:
            x = torch.tanh(self.pre_logits.fc(x))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))  # (B, classes)


# -- weights in and out ----------------------------------------------------------------

def load_params(model: ViT, params: Mapping[str, np.ndarray]) -> ViT:
    """Copy canonical params (official ``.npz`` layout) into ``model`` (dtype and device kept).

    Raises:
        CheckpointError: Listing every missing, unexpected and mis-shaped key.
    """
    sd = ckpt.to_timm(params, model.config, "load_params")  # validates the canonical params
    ref = model.state_dict()
    with torch.no_grad():
        for key, value in sd.items():
            ref[key].copy_(torch.from_numpy(np.ascontiguousarray(value)).to(ref[key].dtype))
    return model


def get_params(model: ViT) -> dict[str, np.ndarray]:
    """The model's weights as canonical params (NumPy arrays in the model's dtype; bfloat16 as float32)."""
    sd = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    sd = {k: (v.float() if v.dtype == torch.bfloat16 else v).numpy() for k, v in sd.items()}
    return ckpt.from_timm(sd, model.config, resize=None, where="get_params")


def load_npz(model: ViT, path: str | os.PathLike, resize: str | None = "official") -> ViT:
    """Load an official ``.npz`` checkpoint (no pickle); resize the position embedding if needed."""
    return load_params(model, ckpt.load_npz(path, model.config, resize))


def load_timm_state_dict(model: ViT, state_dict: Mapping[str, object] | str | os.PathLike,
                         resize: str | None = "timm") -> ViT:
    """Load a timm ``vit_*`` state_dict (a dict of tensors or a file read with ``weights_only=True``).

    The conversion (q/k/v split, transposes) is :func:`tenfold.spec.vit.checkpoint.from_timm`.
    """
    if isinstance(state_dict, (str, os.PathLike)):
        state_dict = read_state_dict(state_dict, strip_prefix="")
    arrays = {k: (v.detach().cpu().to(torch.float64 if v.dtype == torch.float64 else torch.float32).numpy()
                  if isinstance(v, torch.Tensor) else np.asarray(v)) for k, v in state_dict.items()}
    return load_params(model, ckpt.from_timm(arrays, model.config, resize, where="load_timm_state_dict"))


__all__ = ["ViT", "get_params", "load_npz", "load_params", "load_timm_state_dict"]
