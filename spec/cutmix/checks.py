"""Input validation every CutMix layer calls, so one bad input gives one error everywhere."""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError, DTypeError, ShapeError, TenfoldError, expected
from .config import IMAGE_DTYPES, INT_LABEL_DTYPES, SOFT_LABEL_DTYPES
from .plan import CutMixPlan


def check_images(where: str, shape: tuple[int, ...], dtype_name: str, plan: CutMixPlan | None,
                 layout: str = "NCHW") -> tuple[int, int, int]:
    """Validate an image batch; return ``(B, H, W)``.

    Raises:
        ShapeError: If the batch is not 4-D, is empty, or does not match the plan.
        DTypeError: If the dtype is not a real numeric type of :data:`IMAGE_DTYPES`.
    """
    if len(shape) != 4:
        raise ShapeError(expected(where, f"a 4-D image batch ({', '.join(layout)})", f"shape {tuple(shape)}"))
    if shape[0] == 0:  # a plan has at least one sample
        raise ShapeError(expected(where, f"a non-empty image batch ({', '.join(layout)})", f"shape {tuple(shape)}"))
    if dtype_name not in IMAGE_DTYPES:
        raise DTypeError(expected(where, "images of dtype " + ", ".join(IMAGE_DTYPES), f"dtype {dtype_name}"))
    b = shape[0]
    h, w = (shape[2], shape[3]) if layout == "NCHW" else (shape[1], shape[2])
    if plan is not None and (b, h, w) != (plan.batch_size, plan.height, plan.width):
        raise ShapeError(expected(where, f"images with B={plan.batch_size}, H={plan.height}, W={plan.width} "
                                  "as in the plan", f"B={b}, H={h}, W={w}"))
    return b, h, w


def check_num_classes(where: str, num_classes: object) -> int:
    if not (isinstance(num_classes, (int, np.integer)) and not isinstance(num_classes, bool) and num_classes >= 1):
        raise ConfigError(expected(where, "num_classes, an int >= 1", repr(num_classes)))
    return int(num_classes)


def check_labels(where: str, shape: tuple[int, ...], dtype_name: str, batch_size: int, num_classes: int) -> bool:
    """Validate labels' shape and dtype; return True for hard (class index) labels.

    Hard labels: shape (B,), an integer dtype. Soft labels: shape (B, K), a float dtype.

    Raises:
        ShapeError, DTypeError: With the expected form in the message.
    """
    if dtype_name in INT_LABEL_DTYPES:
        if tuple(shape) != (batch_size,):
            raise ShapeError(expected(where, f"class-index labels of shape ({batch_size},) (one per image)",
                                      f"shape {tuple(shape)}"))
        return True
    if dtype_name in SOFT_LABEL_DTYPES:
        if tuple(shape) != (batch_size, num_classes):
            raise ShapeError(expected(where, f"soft labels of shape ({batch_size}, {num_classes})",
                                      f"shape {tuple(shape)}"))
        return False
    raise DTypeError(expected(where, "integer class labels or float soft labels", f"dtype {dtype_name}"))


def label_range_message(where: str, num_classes: int) -> str:
    return expected(where, f"class labels in [0, {num_classes})", "a label out of that range")


def check_label_range(where: str, lo: int, hi: int, num_classes: int) -> None:
    """Raise :class:`TenfoldError` unless every class index lies in ``[0, num_classes)``."""
    if lo < 0 or hi >= num_classes:
        raise TenfoldError(expected(where, f"class labels in [0, {num_classes})", f"labels in [{lo}, {hi}]"))


__all__ = ["check_images", "check_label_range", "check_labels", "check_num_classes", "label_range_message"]
