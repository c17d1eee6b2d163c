"""Building blocks shared by several methods for PyTorch (NCHW), one concept a file: ``norm``."""

from .norm import BatchNorm2d

__all__ = ["BatchNorm2d"]
