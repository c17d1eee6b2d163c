"""CutMix has no ONNX export: it is a data-pipeline transform, not part of a model.

The conformance API check of the ``onnx`` backend imports this module; the
spec's ``EXPORTS`` lists no names for the ``export`` layer.
"""

from __future__ import annotations

__all__: list[str] = []
