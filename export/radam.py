"""RAdam has no ONNX export: an optimizer step is training state, not an inference graph.

This module exists so that every layer has a ``tenfold.<layer>.radam`` module;
:data:`tenfold.spec.radam.EXPORTS` names nothing for the ``export`` layer.
"""

from __future__ import annotations

__all__: list[str] = []
