"""The CR transform ``T`` for TensorFlow (NHWC): plan execution and a layer that samples itself.

Math, sources and plan draw order: :mod:`tenfold.spec.crgan.transform`. Both
paths end in :func:`flip_shift`: a ``tf.where`` for the flips, one ``tf.pad``
(``REFLECT`` or zeros) and two batched gathers (rows, then columns). Works
eagerly and inside ``tf.function``.
"""

from __future__ import annotations

from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from tenfold.spec.crgan import transform as spec
from tenfold.spec.dtypes import check_float_dtype
from tenfold.spec.errors import TenfoldError, expected

from .._tensors import as_tensor, dtype_name

_MODES = {"reflect": "REFLECT", "zero": "CONSTANT"}


def flip_shift(x: tf.Tensor, flip: tf.Tensor, shift: tf.Tensor, max_shift: tuple[int, int],
               pad_mode: str) -> tf.Tensor:
    """``T(x)`` for NHWC ``x`` from per-sample tensors: ``flip`` (B,) bool, ``shift`` (B, 2) int ``(dy, dx)``."""
    shape = tf.shape(x)
    h, w = shape[1], shape[2]
    x = tf.where(tf.reshape(flip, [-1, 1, 1, 1]), tf.reverse(x, axis=[2]), x)
    py, px = max_shift
    if py == 0 and px == 0:
        return x
    xp = tf.pad(x, [[0, 0], [py, py], [px, px], [0, 0]], mode=_MODES[pad_mode])  # (B, H + 2py, W + 2px, C)
    shift = tf.cast(shift, tf.int32)
    rows = tf.range(h)[None, :] + shift[:, :1] + py  # (B, H)
    cols = tf.range(w)[None, :] + shift[:, 1:] + px  # (B, W)
    y = tf.gather(xp, rows, axis=1, batch_dims=1)  # (B, H, W + 2px, C)
    return tf.gather(y, cols, axis=2, batch_dims=1)  # (B, H, W, C)


class Draw(NamedTuple):
    """One transform's per-sample draws as tensors, with the padding they need."""

    flip: tf.Tensor
    shift: tf.Tensor
    max_shift: tuple[int, int]
    pad_mode: str

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        return flip_shift(x, self.flip, self.shift, self.max_shift, self.pad_mode)


def plan_tensors(plan: spec.TransformPlan) -> Draw:
    """A plan as a :class:`Draw`."""
    return Draw(tf.constant(plan.flips_array()), tf.constant(plan.shifts_array().astype(np.int32)),
                plan.max_abs_shift(), plan.pad_mode)


def transform_apply(plan: spec.TransformPlan, x: tf.Tensor) -> tf.Tensor:
    """Execute a :class:`~tenfold.spec.crgan.TransformPlan` on an NHWC float batch."""
    where = "crgan.transform_apply"
    if not isinstance(plan, spec.TransformPlan):
        raise TenfoldError(expected(where, "a TransformPlan", type(plan).__name__))
    x = as_tensor(where, x)
    check_float_dtype(where, dtype_name(x.dtype))
    spec.check_batch(where, tuple(x.shape), plan, layout="NHWC")
    return plan_tensors(plan)(x)


def sample_tensors(batch: int, height: int, width: int, config: spec.TransformConfig,
                   generator: tf.random.Generator | None = None) -> Draw:
    """Draw a :class:`Draw` with TensorFlow's RNG (``tf.random.get_global_generator()`` when None)."""
    gen = generator or tf.random.get_global_generator()
    my, mx = config.max_shifts(height, width)
    flip = gen.uniform([batch]) < config.flip_prob
    dy = gen.uniform([batch, 1], -my, my + 1, dtype=tf.int32)
    dx = gen.uniform([batch, 1], -mx, mx + 1, dtype=tf.int32)
    return Draw(flip, tf.concat([dy, dx], axis=1), (my, mx), config.pad_mode)


@keras.saving.register_keras_serializable(package="tenfold")
class CRTransform(keras.layers.Layer):
    """``T`` as a Keras layer that samples its own flips and shifts (a ``tf.random.Generator``); NHWC.

    Args:
        config: A :class:`~tenfold.spec.crgan.TransformConfig` (StudioGAN's when None).
        seed: Seed of the layer's own generator (the global generator when None).
    """

    def __init__(self, config: spec.TransformConfig | None = None, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.config = config or spec.TransformConfig()
        self.seed = seed
        self.generator = None if seed is None else tf.random.Generator.from_seed(seed)

    def call(self, x: tf.Tensor) -> tf.Tensor:
        where = "CRTransform"
        x = as_tensor(where, x)
        check_float_dtype(where, dtype_name(x.dtype))
        if x.shape.rank != 4:
            raise TenfoldError(expected(where, "a 4-D image batch (NHWC)", f"shape {tuple(x.shape)}"))
        b, h, w = tf.shape(x)[0], x.shape[1], x.shape[2]
        return sample_tensors(b, h, w, self.config, self.generator)(x)

    def get_config(self) -> dict:
        return {**super().get_config(), "config": self.config.to_dict(), "seed": self.seed}

    @classmethod
    def from_config(cls, config: dict) -> CRTransform:
        config = dict(config)
        config["config"] = spec.TransformConfig.from_dict(config["config"])
        return cls(**config)


__all__ = ["CRTransform", "Draw", "flip_shift", "plan_tensors", "sample_tensors", "transform_apply"]
