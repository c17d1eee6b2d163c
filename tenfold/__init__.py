"""tenfold: ten deep-learning methods of 2020 as one spec, a NumPy reference,
PyTorch and TensorFlow backends proved equal to it, and ONNX exports.

The layers are sub-packages: ``tenfold.spec``, ``tenfold.numpy_ref``,
``tenfold.torch_backend``, ``tenfold.tf_backend``, ``tenfold.export`` and
``tenfold.conformance``. Importing ``tenfold`` itself imports none of them.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
