r"""ViT: the Vision Transformer (an image is worth 16x16 words).

Paper: A. Dosovitskiy et al., "An Image is Worth 16x16 Words: Transformers for
Image Recognition at Scale", ICLR 2021 (arXiv:2010.11929), Section 3.1, Eq. 1-4.
Official code: https://github.com/google-research/vision_transformer
(``vit_jax/models_vit.py``, ``vit_jax/configs/models.py``, ``vit_jax/checkpoint.py``).

Math (images NCHW in this spec; ``P`` the patch size, ``D`` the width)::

    z_0   = [x_cls; E(x_p^1); ...; E(x_p^N)] + E_pos      E: Conv(P x P, stride P, VALID) == a Dense on patches
    z'_l  = z_{l-1} + MHA(LN(z_{l-1}))                     pre-LN blocks, l = 1..L
    z_l   = z'_l + MLP(LN(z'_l))                           MLP = Dense(mlp_dim) -> GELU -> Dense(D)
    y     = LN(z_L)                                        ``encoder_norm`` on every token
    h     = y[:, 0]            (classifier "token")        or mean_n y[:, n]  (classifier "gap", no cls token)
    h     = tanh(Dense(h))     (only with ``representation_size``: the "pre_logits" layer)
    logits = Dense(h)          (``head``)

    MHA(x) = concat_h softmax(q_h k_h^T / sqrt(d_h)) v_h  W_out,   q_h = x Wq_h + bq_h, ...
    LN(x)  = (x - mean) / sqrt(var + eps) * scale + bias,           eps = 1e-6 (Flax default)
    GELU   = x Phi(x) (exact, erf)  or  0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))  (tanh)

Facts taken from the official code (see shared research, official_a.md section 3):

* GELU: ``flax.linen.gelu`` = ``jax.nn.gelu`` whose default is ``approximate=True``,
  the tanh form; timm (``nn.GELU()``) uses the exact erf form. Both are options
  here (``gelu="tanh"`` / ``"exact"``); the default follows the official code.
* LayerNorm epsilon is 1e-6 (Flax's default), stated explicitly because
  PyTorch defaults to 1e-5 and Keras to 1e-3.
* The "gap" classifier has no class token and averages the tokens *after*
  ``encoder_norm`` (timm's ``fc_norm`` variant differs and is not modelled).
* Input normalisation: ``(x - 127.5) / 127.5`` on RGB in [0, 255], i.e.
  mean = std = 0.5 on [0, 1] images (``input_pipeline.py``; timm agrees).
* Position-embedding resize (``checkpoint.py: interpolate_posembed``): the
  grid without the class token goes through ``scipy.ndimage.zoom(order=1)``,
  bilinear with corners aligned. timm's ``_load_weights`` uses
  ``F.interpolate(bilinear, align_corners=False)``. Both are
  :func:`resize_pos_embedding` methods ("official", "timm").

Parameters use the official ``.npz`` names (:func:`param_shapes`), so
official checkpoints are the canonical format.
"""

from . import checkpoint, model, posembed
from .model import *  # noqa: F403
from .model import __all__ as _model_all
from .posembed import resize_pos_embedding, resized_config

__all__ = ["checkpoint", "model", "posembed", "resize_pos_embedding", "resized_config", *_model_all]
