"""tenfold.numpy_ref: forward math of every method in plain NumPy.

Readable, float64-exact, and the oracle of the conformance suite. One module
per method id (``tenfold.numpy_ref.mish.mish(x)``). Importing this package
imports neither PyTorch nor TensorFlow.
"""

from __future__ import annotations

from . import augmix, crgan, cutmix, frelu, mish, radam, san, simclr, toonify, vit

__all__ = ["augmix", "crgan", "cutmix", "frelu", "mish", "radam", "san", "simclr", "toonify", "vit"]
