"""tenfold.tf_backend: every method as TensorFlow functions and Keras layers (NHWC).

One module per method id (``tenfold.tf_backend.mish``); the most-used classes
are re-exported here. Importing it imports TensorFlow and Keras, never PyTorch.
"""

from __future__ import annotations

from . import augmix, crgan, cutmix, frelu, mish, radam, san, simclr, toonify, vit
from .mish import Mish

__all__ = ["Mish", "augmix", "crgan", "cutmix", "frelu", "mish", "radam", "san", "simclr", "toonify", "vit"]
