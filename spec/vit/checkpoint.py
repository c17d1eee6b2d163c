"""ViT checkpoints: validation, the official ``.npz`` reader and the timm layout.

The canonical layout is the official ``.npz`` one (:func:`tenfold.spec.vit.param_shapes`).
This module is the *one* place where other layouts are converted:

* official ``.npz`` files (google-research/vision_transformer, pre-Linen
  names) load as they are, without pickle; a ``params/`` or ``opt/target/``
  prefix (big_vision / optimizer dumps) is stripped;
* timm ``state_dict`` names (timm/models/vision_transformer.py,
  ``_load_weights``) map to canonical ones with these transposes:

  ======================================  =========================================  ==========================
  timm                                    canonical                                  conversion (canonical -> timm)
  ======================================  =========================================  ==========================
  ``patch_embed.proj.weight`` (D,C,P,P)   ``embedding/kernel`` (P,P,C,D) HWIO        ``transpose(3, 2, 0, 1)``
  ``cls_token`` / ``pos_embed``           ``cls`` / ``.../pos_embedding``            none
  ``blocks.i.attn.qkv.weight`` (3D, D)    ``query|key|value/kernel`` (D, H, dh)      ``concat_q,k,v(k.reshape(D, D).T)``
  ``blocks.i.attn.qkv.bias`` (3D,)        ``query|key|value/bias`` (H, dh)           ``concat_q,k,v(b.reshape(D))``
  ``blocks.i.attn.proj.weight`` (D, D)    ``out/kernel`` (H, dh, D)                  ``k.reshape(D, D).T``
  ``*.weight`` of Linear (out, in)        Dense ``kernel`` (in, out)                 ``.T``
  LayerNorm ``weight``                    LayerNorm ``scale``                        none
  ======================================  =========================================  ==========================

  The PyTorch backend stores its weights in the timm layout, so it uses the
  same two functions (:func:`to_timm`, :func:`from_timm`).

Every loader validates with :func:`check_params`, which raises one
:class:`CheckpointError` listing every missing, unexpected and mis-shaped key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .. import checkpoints
from ..contracts import check_params as contract_check
from ..errors import CheckpointError, expected
from .model import ViTConfig, block_prefix, param_shapes
from .posembed import resize_pos_embedding

POSEMB = "Transformer/posembed_input/pos_embedding"
_STRIP = ("params/", "opt/target/")


def check_params(params: Mapping[str, object], config: ViTConfig, where: str = "vit checkpoint") -> None:
    """Raise :class:`CheckpointError` unless ``params`` has exactly the canonical keys and shapes.

    :func:`tenfold.spec.contracts.check_params` with the model described: the
    message lists every problem at once (missing, unexpected, mis-shaped and
    non-real entries).
    """
    shapes = param_shapes(config)
    contract_check(params, shapes, where, what=f"the {len(shapes)} parameters of {_describe(config)}")


def _describe(config: ViTConfig) -> str:
    return (f"ViT(image {config.image_size}, patch {config.patch_size}, width {config.hidden_size}, "
            f"{config.num_layers} layers, {config.num_classes} classes, classifier {config.classifier!r}, "
            f"representation_size {config.representation_size})")


def adapt_pos_embedding(params: dict[str, np.ndarray], config: ViTConfig, resize: str | None = "official"
                        ) -> dict[str, np.ndarray]:
    """Resize ``params``' position embedding to ``config``'s grid when it was trained for another one.

    A checkpoint for 224 px (grid 14) can thus build a 384 px model (grid 24).
    With ``resize=None`` nothing is changed (and :func:`check_params` then
    reports the shape mismatch).
    """
    pe = params.get(POSEMB)
    want = param_shapes(config).get(POSEMB)
    if resize is None or pe is None or np.ndim(pe) != 3 or tuple(np.shape(pe)) == want:
        return params
    if np.shape(pe)[2] != want[2]:
        return params  # a width mismatch is reported by check_params, not hidden here
    out = dict(params)
    out[POSEMB] = resize_pos_embedding(np.asarray(pe), config.grid, config.num_prefix_tokens, method=resize)
    return out


def _strip_prefix(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    for prefix in _STRIP:
        if params and all(k.startswith(prefix) for k in params):
            return {k[len(prefix):]: v for k, v in params.items()}
    return params


def from_npz_arrays(arrays: Mapping[str, np.ndarray], config: ViTConfig, resize: str | None = "official",
                    where: str = "load_npz") -> dict[str, np.ndarray]:
    """Canonical params from the arrays of an official ``.npz`` (prefix stripped, position embedding resized)."""
    params = adapt_pos_embedding(_strip_prefix(dict(arrays)), config, resize)
    check_params(params, config, where)
    return params


def load_npz(path: str | os.PathLike, config: ViTConfig, resize: str | None = "official") -> dict[str, np.ndarray]:
    """Read an official ViT ``.npz`` checkpoint (no pickle) into canonical params.

    Args:
        path: The ``.npz`` file (e.g. ``ViT-B_16.npz`` or an AugReg file).
        config: The model it must fit.
        resize: How to resize the position embedding if the file was trained
            at another image size ("official", "timm", or None to refuse).

    Returns:
        Canonical params (float arrays as stored).

    Raises:
        CheckpointError: If the file is unreadable (missing, truncated,
            corrupt, not an ``.npz``, object arrays) or does not fit ``config``.
    """
    path = Path(path)
    return from_npz_arrays(checkpoints.load_npz(path, "load_npz"), config, resize, f"load_npz({path.name})")


def save_npz(params: Mapping[str, np.ndarray], path: str | os.PathLike) -> Path:
    """Write canonical params as an official-layout ``.npz`` (atomically, with the umask's mode)."""
    return checkpoints.save_npz(params, path)


# -- timm layout ------------------------------------------------------------------------

_BLOCK_SIMPLE = {  # timm suffix -> (canonical suffix, transpose 2-D kernel)
    "norm1.weight": ("LayerNorm_0/scale", False),
    "norm1.bias": ("LayerNorm_0/bias", False),
    "norm2.weight": ("LayerNorm_2/scale", False),
    "norm2.bias": ("LayerNorm_2/bias", False),
    "mlp.fc1.weight": ("MlpBlock_3/Dense_0/kernel", True),
    "mlp.fc1.bias": ("MlpBlock_3/Dense_0/bias", False),
    "mlp.fc2.weight": ("MlpBlock_3/Dense_1/kernel", True),
    "mlp.fc2.bias": ("MlpBlock_3/Dense_1/bias", False),
    "attn.proj.bias": ("MultiHeadDotProductAttention_1/out/bias", False),
}
_TOP_SIMPLE = {
    "cls_token": ("cls", False),
    "pos_embed": (POSEMB, False),
    "patch_embed.proj.bias": ("embedding/bias", False),
    "norm.weight": ("Transformer/encoder_norm/scale", False),
    "norm.bias": ("Transformer/encoder_norm/bias", False),
    "pre_logits.fc.weight": ("pre_logits/kernel", True),
    "pre_logits.fc.bias": ("pre_logits/bias", False),
    "head.weight": ("head/kernel", True),
    "head.bias": ("head/bias", False),
}
_QKV = ("query", "key", "value")


def to_timm(params: Mapping[str, np.ndarray], config: ViTConfig, where: str = "to_timm") -> dict[str, np.ndarray]:
    """Canonical params -> timm ``state_dict`` names and layouts (see the module table).

    ``pre_logits`` (absent from timm's ViT) is named ``pre_logits.fc``. ``where``
    prefixes the :class:`CheckpointError` of invalid params.
    """
    check_params(params, config, where)
    d = config.hidden_size
    out: dict[str, np.ndarray] = {}
    for t, (c, tr) in _TOP_SIMPLE.items():
        if c in params:
            out[t] = np.asarray(params[c]).T if tr else np.asarray(params[c])
    out["patch_embed.proj.weight"] = np.asarray(params["embedding/kernel"]).transpose(3, 2, 0, 1)  # HWIO -> OIHW
    for i in range(config.num_layers):
        b, t = block_prefix(i), f"blocks.{i}."
        for ts, (cs, tr) in _BLOCK_SIMPLE.items():
            v = np.asarray(params[f"{b}/{cs}"])
            out[t + ts] = v.T if tr else v
        att = f"{b}/MultiHeadDotProductAttention_1"
        out[t + "attn.qkv.weight"] = np.concatenate(
            [np.asarray(params[f"{att}/{n}/kernel"]).reshape(d, d).T for n in _QKV], axis=0)  # (3D, D)
        out[t + "attn.qkv.bias"] = np.concatenate([np.asarray(params[f"{att}/{n}/bias"]).reshape(d) for n in _QKV])
        out[t + "attn.proj.weight"] = np.asarray(params[f"{att}/out/kernel"]).reshape(d, d).T  # (D, H*dh)
    return out


def from_timm(state_dict: Mapping[str, np.ndarray], config: ViTConfig, resize: str | None = "timm",
              where: str = "from_timm") -> dict[str, np.ndarray]:
    """timm ``state_dict`` (NumPy arrays) -> canonical params; the inverse of :func:`to_timm`.

    Keys the mapping does not know and arrays whose shape cannot be converted
    are reported together with the missing ones in one :class:`CheckpointError`.

    Args:
        state_dict: timm names to arrays (a ``module.`` prefix is stripped).
        config: The model it must fit.
        resize: Position-embedding resize method if the grid differs
            (default "timm", the method timm itself uses), or None.
        where: Message prefix.
    """
    sd = {k.removeprefix("module."): np.asarray(v) for k, v in state_dict.items()}
    d, h, dh = config.hidden_size, config.num_heads, config.head_dim
    out: dict[str, np.ndarray] = {}
    unknown: list[str] = []
    bad: list[str] = []
    for key, v in sd.items():
        if key in _TOP_SIMPLE:
            c, tr = _TOP_SIMPLE[key]
            out[c] = v.T if tr else v
        elif key == "patch_embed.proj.weight":
            if v.ndim != 4:
                bad.append(f"{key}: expected 4 dimensions, got {v.shape}")
                continue
            out["embedding/kernel"] = v.transpose(2, 3, 1, 0)  # OIHW -> HWIO
        elif key.startswith("blocks.") and key.count(".") >= 2:
            i, suffix = key.split(".", 2)[1:]
            if not i.isdigit():
                unknown.append(key)
                continue
            b, att = block_prefix(int(i)), f"{block_prefix(int(i))}/MultiHeadDotProductAttention_1"
            if suffix in _BLOCK_SIMPLE:
                c, tr = _BLOCK_SIMPLE[suffix]
                out[f"{b}/{c}"] = v.T if tr else v
            elif suffix == "attn.qkv.weight":
                if v.shape != (3 * d, d):
                    bad.append(f"{key}: expected {(3 * d, d)}, got {v.shape}")
                    continue
                for n, part in zip(_QKV, np.split(v, 3, axis=0), strict=True):
                    out[f"{att}/{n}/kernel"] = part.T.reshape(d, h, dh)
            elif suffix == "attn.qkv.bias":
                if v.shape != (3 * d,):
                    bad.append(f"{key}: expected {(3 * d,)}, got {v.shape}")
                    continue
                for n, part in zip(_QKV, np.split(v, 3), strict=True):
                    out[f"{att}/{n}/bias"] = part.reshape(h, dh)
            elif suffix == "attn.proj.weight":
                if v.shape != (d, d):
                    bad.append(f"{key}: expected {(d, d)}, got {v.shape}")
                    continue
                out[f"{att}/out/kernel"] = v.T.reshape(h, dh, d)
            else:
                unknown.append(key)
        else:
            unknown.append(key)
    if unknown or bad:
        shapes = param_shapes(config)
        missing = [k for k in shapes if k not in out]
        parts = [f"{len(unknown)} unexpected keys {sorted(unknown)}"] if unknown else []
        if bad:
            parts.append(f"{len(bad)} mis-shaped arrays [{'; '.join(bad)}]")
        if missing:
            parts.append(f"{len(missing)} missing canonical keys {missing}")
        raise CheckpointError(expected(where, f"a timm ViT state_dict for {_describe(config)}", "; ".join(parts)))
    out = adapt_pos_embedding(out, config, resize)
    check_params(out, config, where)
    return out




def fit_config(config: ViTConfig, shapes: Mapping[str, tuple[int, ...]]) -> ViTConfig:
    """``config`` with the head read off a checkpoint's array shapes (official or timm names).

    Sets ``num_classes`` (from the head), ``representation_size`` (from a
    ``pre_logits`` layer, or None) and ``classifier`` ("token" when there is a
    class token, else "gap"); everything else must come from the preset.
    """
    shapes = {k.removeprefix("module.").removeprefix("params/").removeprefix("opt/target/"): tuple(v)
              for k, v in shapes.items()}
    changes: dict[str, object] = {}
    for key in ("head/bias", "head.bias"):
        if len(shapes.get(key, ())) == 1:  # a malformed head is left to check_params to report
            changes["num_classes"] = shapes[key][0]
            break
    if "embedding/kernel" in shapes or "patch_embed.proj.weight" in shapes:
        changes["representation_size"] = next((shapes[k][0] for k in ("pre_logits/bias", "pre_logits.fc.bias")
                                               if len(shapes.get(k, ())) == 1), None)
        changes["classifier"] = "token" if ("cls" in shapes or "cls_token" in shapes) else "gap"
    return config.replace(**changes)


__all__ = ["POSEMB", "adapt_pos_embedding", "check_params", "fit_config", "from_npz_arrays", "from_timm", "load_npz",
           "save_npz", "to_timm"]
