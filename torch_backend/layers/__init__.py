"""Building blocks shared by several methods for PyTorch (NCHW), one concept a file: ``norm``, ``upfirdn``."""

from .norm import BatchNorm2d
from .upfirdn import upfirdn2d

__all__ = ["BatchNorm2d", "upfirdn2d"]
