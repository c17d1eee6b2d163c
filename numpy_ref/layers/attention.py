"""Multi-head dot-product self-attention in plain NumPy (the official ViT layout).

Kernels follow Flax's ``MultiHeadDotProductAttention``: query/key/value
``(D, heads, head_dim)`` with biases ``(heads, head_dim)``, out ``(heads, head_dim, D)``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .activations import softmax


def multi_head_attention(x: np.ndarray, p: Mapping[str, np.ndarray], prefix: str) -> np.ndarray:
    """Self-attention of ``x`` ``(B, N, D)`` with entries ``prefix/{query,key,value,out}/{kernel,bias}``."""
    q = np.einsum("bnd,dhk->bhnk", x, p[f"{prefix}/query/kernel"], optimize=True) + p[f"{prefix}/query/bias"][:, None]
    k = np.einsum("bnd,dhk->bhnk", x, p[f"{prefix}/key/kernel"], optimize=True) + p[f"{prefix}/key/bias"][:, None]
    v = np.einsum("bnd,dhk->bhnk", x, p[f"{prefix}/value/kernel"], optimize=True) + p[f"{prefix}/value/bias"][:, None]
    q = q / np.sqrt(q.shape[-1])  # official: query scaled by 1/sqrt(head_dim) before the product
    weights = softmax(q @ k.transpose(0, 1, 3, 2))  # (B, H, N, N)
    heads = weights @ v  # (B, H, N, dh)
    return np.einsum("bhnk,hkd->bnd", heads, p[f"{prefix}/out/kernel"], optimize=True) + p[f"{prefix}/out/bias"]


__all__ = ["multi_head_attention"]
