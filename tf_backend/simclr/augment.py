"""The SimCLR augmentation pipeline for TensorFlow: plan execution in TF ops (NHWC), a tf.data map, a Keras layer.

Paper: Chen et al., ICML 2020, Appendix A. Official code: google-research/simclr
``tf2/data_util.py``. Steps and formulas: :mod:`tenfold.spec.simclr.augment`.

* :func:`apply` executes a plan on an NHWC batch, eagerly or inside a graph
  (``tf.function``, ``tf.data``): an :class:`~tenfold.spec.simclr.augment.AugmentPlan`,
  or the tensors of :func:`plan_tensors` (what the samplers below produce in a graph).
  Crop + resize + flip and the blur are batched products with the plan's
  separable matrices (``einsum``); the colour ops run, position by position of
  the random order, on the images that have them there (gather, op, scatter).
* :func:`augment_dataset` maps a ``tf.data.Dataset`` of image batches to
  ``(view1, view2)``; :class:`SimCLRAugment` is the same as a Keras layer. Both
  draw plans with :func:`tenfold.spec.simclr.augment.sample` (a NumPy generator)
  through ``tf.numpy_function``, so the sampling is the spec's own, and the
  pixel work stays in TF ops. A graph holding them cannot be serialised without
  the Python sampler (the same holds for every ``numpy_function``).

Differences from the official implementation: those of the spec; plus the
sampler runs on the host in Python (official: TF's stateful random ops).
"""

from __future__ import annotations

from collections.abc import Mapping

import keras
import numpy as np
import tensorflow as tf

from tenfold.spec.errors import ShapeError, TenfoldError, expected
from tenfold.spec.simclr import augment as spec

from .._tensors import as_tensor, dtype_name

_KEYS = ("ry", "rx", "params", "order", "active", "gray", "blur", "by", "bx")


def plan_arrays(plan: spec.AugmentPlan, dtype: str = "float32") -> dict[str, np.ndarray]:
    """The NumPy arrays of a plan that :func:`apply` consumes (matrices in ``dtype``)."""
    ry, rx = plan.resize_matrices()
    by, bx = plan.blur_matrices()
    active = np.array([[not plan.neutral(i, op) for op in range(4)] for i in range(plan.batch_size)])
    return {"ry": ry.astype(dtype), "rx": rx.astype(dtype), "params": plan.colour_params().astype(dtype),
            "order": np.asarray(plan.order, np.int32), "active": active, "gray": np.asarray(plan.gray, bool),
            "blur": np.asarray(plan.blur, bool), "by": by.astype(dtype), "bx": bx.astype(dtype)}


def plan_tensors(plan: spec.AugmentPlan, dtype: tf.DType = tf.float32) -> dict[str, tf.Tensor]:
    """:func:`plan_arrays` as tensors."""
    return {k: tf.constant(v) for k, v in plan_arrays(plan, tf.as_dtype(dtype).name).items()}


def _gray(x: tf.Tensor, w) -> tf.Tensor:
    return x[..., 0:1] * w[0] + x[..., 1:2] * w[1] + x[..., 2:3] * w[2]  # (b, H, W, 1)


def _hue(x: tf.Tensor, shift: tf.Tensor) -> tf.Tensor:
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    v = tf.reduce_max(x, axis=-1)
    c = v - tf.reduce_min(x, axis=-1)
    safe = tf.where(c > 0, c, tf.ones_like(c))
    h = tf.where(v == r, tf.math.floormod((g - b) / safe, 6.0),
                 tf.where(v == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0))
    h = tf.where(c > 0, h / 6.0, tf.zeros_like(h))
    h = tf.math.floormod(h + shift[:, None, None], 1.0)
    out = []
    for n in (5.0, 3.0, 1.0):
        k = tf.math.floormod(n + 6.0 * h, 6.0)
        out.append(v - c * tf.clip_by_value(tf.minimum(k, 4.0 - k), 0.0, 1.0))
    return tf.stack(out, axis=-1)


def _op(x: tf.Tensor, op: int, value: tf.Tensor, conv: spec.AugmentConfig | spec.AugmentPlan) -> tf.Tensor:
    v4 = value[:, None, None, None]
    if op == 0:
        y = x + v4 if conv.brightness_mode == "additive" else x * v4
    elif op == 1:
        m = tf.reduce_mean(x, axis=[1, 2], keepdims=True) if conv.contrast_mean == "channel" else \
            tf.reduce_mean(_gray(x, conv.gray_weights), axis=[1, 2, 3], keepdims=True)
        y = (x - m) * v4 + m
    elif op == 2:
        if conv.saturation_mode == "blend":
            y = v4 * x + (1.0 - v4) * _gray(x, conv.gray_weights)
        else:
            mx = tf.reduce_max(x, axis=-1, keepdims=True)
            c = mx - tf.reduce_min(x, axis=-1, keepdims=True)
            ratio = tf.minimum(tf.maximum(v4, 0.0), mx / tf.where(c > 0, c, tf.ones_like(c)))
            y = mx - (mx - x) * tf.where(c > 0, ratio, tf.ones_like(ratio))
    else:
        y = _hue(x, value)
    return tf.clip_by_value(y, 0.0, 1.0)


def apply(plan: spec.AugmentPlan | Mapping[str, tf.Tensor], images: tf.Tensor,
          config: spec.AugmentConfig | None = None) -> tf.Tensor:
    """Execute one view's plan on an NHWC RGB batch (eagerly or in a graph).

    Args:
        plan: An :class:`~tenfold.spec.simclr.augment.AugmentPlan`, or its tensors
            (:func:`plan_tensors`; then the conventions come from ``config``).
        images: (B, H_in, W_in, 3) uint8 (divided by 255) or float32/float64 in [0, 1].
        config: The conventions of a tensor plan (official when None); ignored for an AugmentPlan.

    Returns:
        (B, H, W, 3) in [0, 1]: float32 for uint8 input, else the input dtype.
    """
    where = "simclr.augment"
    x = as_tensor(where, images)
    if x.shape.rank is None:
        raise ShapeError(expected(where, "a 4-D image batch (N, H, W, C)", "a tensor of unknown rank"))
    shape = tuple(-1 if d is None else d for d in x.shape)
    if isinstance(plan, spec.AugmentPlan):
        spec.check_images(where, shape, dtype_name(x.dtype), None if -1 in shape else plan, layout="NHWC")
        conv = plan
        dt = tf.float32 if x.dtype == tf.uint8 else x.dtype
        p = plan_tensors(plan, dt)
    elif isinstance(plan, Mapping) and set(_KEYS) <= set(plan):
        spec.check_images(where, shape, dtype_name(x.dtype), None, layout="NHWC")
        conv = config or spec.AugmentConfig()
        dt = tf.float32 if x.dtype == tf.uint8 else x.dtype
        p = {k: (tf.cast(plan[k], dt) if k in ("ry", "rx", "params", "by", "bx") else plan[k]) for k in _KEYS}
    else:
        raise TenfoldError(expected(where, "an AugmentPlan or its tensors", type(plan).__name__))
    x = tf.cast(x, dt) / 255.0 if x.dtype == tf.uint8 else x
    y = tf.einsum("bhi,biwc->bhwc", p["ry"], x)  # (B, H, W_in, 3)
    y = tf.clip_by_value(tf.einsum("bhjc,bwj->bhwc", y, p["rx"]), 0.0, 1.0)  # (B, H, W, 3)
    order, active = tf.cast(p["order"], tf.int32), tf.cast(p["active"], tf.bool)
    for t in range(4):
        for op in range(4):
            idx = tf.where(tf.logical_and(tf.equal(order[:, t], op), active[:, op]))  # (k, 1)
            sub = tf.gather_nd(y, idx)
            y = tf.tensor_scatter_nd_update(y, idx, _op(sub, op, tf.gather_nd(p["params"][:, op], idx), conv))
    g = tf.cast(p["gray"], tf.bool)[:, None, None, None]
    y = tf.clip_by_value(tf.where(g, tf.broadcast_to(_gray(y, conv.gray_weights), tf.shape(y)), y), 0.0, 1.0)
    blurred = tf.einsum("bhi,biwc->bhwc", p["by"], y)
    blurred = tf.clip_by_value(tf.einsum("bhjc,bwj->bhwc", blurred, p["bx"]), 0.0, 1.0)
    return tf.where(tf.cast(p["blur"], tf.bool)[:, None, None, None], blurred, y)


class _Sampler:
    """Draws plans on the host for ``tf.numpy_function`` (a NumPy generator per sampler)."""

    def __init__(self, size: tuple[int, int], config: spec.AugmentConfig, seed) -> None:
        self.size, self.config = size, config
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    def __call__(self, shape: np.ndarray, dtype: str):
        b, h, w = (int(v) for v in shape[:3])
        plan = spec.sample(self.rng, b, h, w, *self.size, self.config)
        a = plan_arrays(plan, dtype.decode() if isinstance(dtype, bytes) else str(dtype))
        return tuple(a[k] for k in _KEYS)

    def tensors(self, x: tf.Tensor, dt: tf.DType) -> dict[str, tf.Tensor]:
        out = tf.numpy_function(self, [tf.shape(x), dt.name],
                                [dt, dt, dt, tf.int32, tf.bool, tf.bool, tf.bool, dt, dt], stateful=True)
        h, w = self.size
        shapes = {"ry": [None, h, x.shape[1]], "rx": [None, w, x.shape[2]], "params": [None, 4], "order": [None, 4],
                  "active": [None, 4], "gray": [None], "blur": [None], "by": [None, h, h], "bx": [None, w, w]}
        res = {}
        for k, v in zip(_KEYS, out, strict=True):
            v.set_shape(shapes[k])
            res[k] = v
        return res


def augment_dataset(dataset: tf.data.Dataset, size: int | tuple[int, int], config: spec.AugmentConfig | None = None,
                    seed: int | np.random.Generator | None = None, views: int = 2) -> tf.data.Dataset:
    """Map a dataset of NHWC image batches to ``views`` augmented views each (``(view1, view2)``).

    Args:
        dataset: Elements are (B, H, W, 3) uint8 or float batches (``ds.batch(B)`` first).
        size: Output ``(height, width)`` or one int.
        config: An :class:`~tenfold.spec.simclr.augment.AugmentConfig` (official when None).
        seed: Seed of the host-side NumPy sampler.
        views: Number of views.
    """
    size = (size, size) if isinstance(size, int) else tuple(size)
    config = config or spec.AugmentConfig()
    sampler = _Sampler(size, config, seed)

    def fn(x):
        dt = tf.float32 if x.dtype == tf.uint8 else x.dtype
        return tuple(apply(sampler.tensors(x, dt), x, config) for _ in range(views))

    return dataset.map(fn, num_parallel_calls=1, deterministic=True)


@keras.saving.register_keras_serializable(package="tenfold")
class SimCLRAugment(keras.layers.Layer):
    """SimCLR's augmentation as a Keras layer on NHWC batches: ``view1, view2 = layer(images)``.

    Args:
        size: Output ``(height, width)`` or one int.
        config: An :class:`~tenfold.spec.simclr.augment.AugmentConfig` (official when None).
        views: Number of views (2).
        seed: Seed of the host-side NumPy sampler.
    """

    def __init__(self, size, config: spec.AugmentConfig | None = None, views: int = 2, seed: int | None = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(config, dict):
            config = spec.AugmentConfig.from_dict(config)
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.config = config or spec.AugmentConfig()
        self.views, self.seed = views, seed
        self._sampler = _Sampler(self.size, self.config, seed)

    def call(self, images):
        x = as_tensor("SimCLRAugment", images)
        dt = tf.float32 if x.dtype == tf.uint8 else x.dtype
        return tuple(apply(self._sampler.tensors(x, dt), x, self.config) for _ in range(self.views))

    def get_config(self) -> dict:
        return {**super().get_config(), "size": list(self.size), "config": self.config.to_dict(),
                "views": self.views, "seed": self.seed}


__all__ = ["SimCLRAugment", "apply", "augment_dataset", "plan_arrays", "plan_tensors"]
