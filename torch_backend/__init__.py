"""tenfold.torch_backend: every method as PyTorch functions, modules and optimizers.

One module per method id (``tenfold.torch_backend.mish``); the most-used
classes are re-exported here. Importing it imports PyTorch, never TensorFlow.
"""

from __future__ import annotations

from . import augmix, crgan, cutmix, frelu, mish, radam, san, simclr, toonify, vit
from .mish import Mish

__all__ = ["Mish", "augmix", "crgan", "cutmix", "frelu", "mish", "radam", "san", "simclr", "toonify", "vit"]
