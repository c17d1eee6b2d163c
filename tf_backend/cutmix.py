"""CutMix for TensorFlow: NHWC batch function, graph-mode sampler, Keras preprocessing layer.

Paper: Yun et al., ICCV 2019, Sec. 3.1. Official code: clovaai/CutMix-PyTorch
(``train.py``). The math, the plan and the draw order are in :mod:`tenfold.spec.cutmix`.

* :func:`cutmix_apply` executes a plan: a :class:`~tenfold.spec.cutmix.CutMixPlan`
  (NumPy-drawn, as conformance injects it) or the dict of tensors that
  :func:`sample_tf` draws inside a graph.
* :func:`sample_tf` draws a plan with TensorFlow's stateless RNG from a seed
  tensor, so it runs inside ``tf.data.Dataset.map`` and ``tf.function``. It
  follows the same distribution as :func:`tenfold.spec.cutmix.sample`, not the
  same stream (Beta as ``G1 / (G1 + G2)`` of two Gamma draws, the permutation
  as the argsort of uniforms).
* :class:`CutMix` is a Keras layer on a batch ``(images, labels)`` (or a dict
  with ``"images"`` and ``"labels"``) returning ``(mixed, soft_targets)``;
  usable as ``dataset.batch(128).map(CutMix(num_classes=1000))``.

Speed. Both granularities are one XLA-compiled kernel (compiled once per batch
shape and dtype) in which the gather of the partners is fused into the select
of the box: the batch is read twice and written once.

Differences from the official implementation: none in the math. Label
range checks raise :class:`~tenfold.spec.errors.TenfoldError` eagerly; inside a
graph they become ``tf.debugging`` assertions (``InvalidArgumentError`` with
the same message when the graph runs).
"""

from __future__ import annotations

from collections.abc import Mapping

import keras
import tensorflow as tf

from tenfold.spec import cutmix as spec
from tenfold.spec.errors import ShapeError, TenfoldError, expected

from ._tensors import as_tensor, dtype_name
from .losses import soft_target_cross_entropy

PlanTensors = Mapping[str, tf.Tensor]


def _soft_labels(where: str, labels: object, batch_size: int | None, num_classes: int,
                 dtype: tf.DType | None) -> tf.Tensor:
    num_classes = spec.check_num_classes(where, num_classes)
    y = as_tensor(where, labels)
    if y.shape.rank is None:
        raise ShapeError(expected(where, "labels of known rank, (B,) or (B, K)", "a tensor of unknown rank"))
    shape = tuple(-1 if d is None else d for d in y.shape)
    b = -1 if batch_size is None else batch_size
    if shape and (shape[0] == -1 or b == -1):  # a batch size unknown while tracing: check the rest
        b = shape[0] if b == -1 else b
        shape = (b, *shape[1:])
    hard = spec.check_labels(where, shape, dtype_name(y.dtype), b, num_classes)
    if hard:
        y = tf.cast(y, tf.int64)
        if tf.executing_eagerly():
            if tf.size(y) > 0:
                spec.check_label_range(where, int(tf.reduce_min(y)), int(tf.reduce_max(y)), num_classes)
        else:
            msg = spec.label_range_message(where, num_classes)
            with tf.control_dependencies([tf.debugging.assert_non_negative(y, message=msg),
                                          tf.debugging.assert_less(y, tf.constant(num_classes, tf.int64),
                                                                   message=msg)]):
                y = tf.identity(y)
        return tf.one_hot(y, num_classes, dtype=dtype or tf.float32)
    return tf.cast(y, dtype or y.dtype)


def _plan_tensors(plan: spec.CutMixPlan | PlanTensors) -> dict[str, tf.Tensor]:
    if isinstance(plan, spec.CutMixPlan):
        return {"lam": tf.constant(plan.lam, tf.float64), "boxes": tf.constant(plan.boxes_array(), tf.int32),
                "partner": tf.constant(plan.partner, tf.int32), "applied": tf.constant(plan.applied, tf.bool)}
    return {"lam": tf.cast(plan["lam"], tf.float64), "boxes": tf.cast(plan["boxes"], tf.int32),
            "partner": tf.cast(plan["partner"], tf.int32), "applied": tf.cast(plan["applied"], tf.bool)}


def _resolve_plan(where: str, plan: object, shape: tuple[int, ...]) -> spec.CutMixPlan | PlanTensors:
    """A dict of TF tensors (what :func:`sample_tf` returns) as it is; anything else through
    :func:`tenfold.spec.cutmix.as_plan`, the conversion (and errors) of the NumPy and PyTorch layers."""
    _, h, w, _ = shape
    if isinstance(plan, Mapping) and set(spec.PLAN_KEYS) <= set(plan) and (
            any(isinstance(plan[k], (tf.Tensor, tf.Variable)) for k in spec.PLAN_KEYS) or -1 in (h, w)):
        return plan
    return spec.as_plan(where, plan, h, w)


def _check_plan_size(where: str, x: tf.Tensor, shape: tuple[int, ...], plan: spec.CutMixPlan | PlanTensors,
                     lam: tf.Tensor) -> tf.Tensor:
    """The ShapeError of :func:`tenfold.spec.cutmix.check_images` for every known size; an assertion with the
    same wording for the sizes a traced graph does not know."""
    b, h, w, _ = shape
    if isinstance(plan, spec.CutMixPlan):
        want = (plan.batch_size, plan.height, plan.width)
    else:
        want = (lam.shape[0] if lam.shape[0] is not None else -1, h, w)  # a tensor plan has no size of its own
    got = (b, h, w)
    if any(g != -1 and p != -1 and g != p for g, p in zip(got, want, strict=True)):
        fmt = tuple("?" if v == -1 else v for v in (*want, *got))
        raise ShapeError(expected(where, f"images with B={fmt[0]}, H={fmt[1]}, W={fmt[2]} as in the plan",
                                  f"B={fmt[3]}, H={fmt[4]}, W={fmt[5]}"))
    if -1 not in got and -1 not in want:
        return x
    msg = expected(where, "images with the batch size, height and width of the plan", "another size")
    dyn = tf.shape(x)
    want_t = tf.stack([tf.shape(lam)[0] if want[0] == -1 else want[0], *(dyn[i] if v == -1 else v
                                                                         for i, v in ((1, want[1]), (2, want[2])))])
    with tf.control_dependencies([tf.debugging.assert_equal(dyn[:3], want_t, message=msg)]):
        return tf.identity(x)


@tf.function(jit_compile=True, reduce_retracing=True)
def _paste(x: tf.Tensor, partner: tf.Tensor, boxes: tf.Tensor, applied: tf.Tensor) -> tf.Tensor:
    """``where(inside box i, x[partner], x)`` in one fused XLA kernel (both granularities).

    XLA fuses the gather into the select, so the batch is read twice and written
    once; measured faster on the CPU than assembling one shared box by slicing
    and concatenation (TF's dynamic-bound slices copy element by element).
    """
    h, w = tf.shape(x)[1], tf.shape(x)[2]
    rows, cols = tf.range(h), tf.range(w)
    in_y = (rows >= boxes[:, 0:1]) & (rows < boxes[:, 1:2]) & applied[:, None]  # (B, H)
    in_x = (cols >= boxes[:, 2:3]) & (cols < boxes[:, 3:4])  # (B, W)
    mask = (in_y[:, :, None] & in_x[:, None, :])[:, :, :, None]  # (B, H, W, 1)
    return tf.where(mask, tf.gather(x, partner), x)


def _targets(y: tf.Tensor, lam: tf.Tensor, partner: tf.Tensor) -> tf.Tensor:
    lam = tf.cast(lam, y.dtype)[:, None]  # (B, 1)
    return lam * y + (1.0 - lam) * tf.gather(y, partner)  # (B, K)


def cutmix_apply(images: tf.Tensor, labels: tf.Tensor, plan: spec.CutMixPlan | PlanTensors, num_classes: int, *,
                 target_dtype: tf.DType | None = None) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Execute a CutMix plan on an NHWC batch (eagerly or inside a graph).

    Args:
        images: (B, H, W, C) tensor of uint8, another integer or a float dtype.
        labels: Class indices (B,) of an integer dtype, or soft rows (B, K) of a float dtype.
        plan: A :class:`~tenfold.spec.cutmix.CutMixPlan`, its ``to_dict()``, or the
            tensors of :func:`sample_tf` (``lam`` (B,), ``boxes`` (B, 4) as y1, y2,
            x1, x2, ``partner`` (B,), ``applied`` (B,)).
        num_classes: K.
        target_dtype: dtype of the targets; default float32 for class indices,
            the labels' dtype for soft labels.

    Returns:
        ``(mixed, targets, lam)``: mixed images (same dtype), soft targets (B, K)
        and the effective lambda per sample (float64, (B,)).

    Raises:
        TenfoldError: On a non-4-D batch, a batch not matching the plan (the
            ShapeError of the other layers, also inside ``tf.function``; a size
            a traced graph does not know is checked when it runs, by an
            assertion with the same wording), labels of the wrong batch size,
            dtype or range, or ``num_classes < 1``.
    """
    return _cutmix_apply("cutmix", images, labels, plan, num_classes, target_dtype)


def _cutmix_apply(where: str, images, labels, plan, num_classes: int,
                  target_dtype: tf.DType | None) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """:func:`cutmix_apply`, its errors prefixed with ``where`` (the entry point the user called)."""
    x = as_tensor(where, images)
    if x.shape.rank is None:
        raise ShapeError(expected(where, "a 4-D image batch (N, H, W, C)", "a tensor of unknown rank"))
    shape = tuple(-1 if d is None else d for d in x.shape)
    spec.check_images(where, shape, dtype_name(x.dtype), None, layout="NHWC")
    plan = _resolve_plan(where, plan, shape)
    p = _plan_tensors(plan)
    x = _check_plan_size(where, x, shape, plan, p["lam"])
    b = x.shape[0]
    y = _soft_labels(where, labels, b, num_classes, target_dtype)  # (B, K)
    out = _paste(x, p["partner"], p["boxes"], p["applied"])
    return out, _targets(y, p["lam"], p["partner"]), p["lam"]


def _beta(shape, seed: tf.Tensor, alpha: float) -> tf.Tensor:
    seeds = tf.random.experimental.stateless_split(seed, 2)
    g1 = tf.random.stateless_gamma(shape, seeds[0], alpha=alpha, dtype=tf.float64)
    g2 = tf.random.stateless_gamma(shape, seeds[1], alpha=alpha, dtype=tf.float64)
    return g1 / (g1 + g2)


def sample_tf(seed: tf.Tensor, batch_size, height, width,
              config: spec.CutMixConfig | None = None) -> dict[str, tf.Tensor]:
    """Draw a plan with TF's stateless RNG (graph-safe; sizes may be tensors).

    Args:
        seed: int32/int64 tensor of shape (2,), as for ``tf.random.stateless_*``.
        batch_size, height, width: Python ints or scalar int tensors.
        config: A :class:`~tenfold.spec.cutmix.CutMixConfig` (official when None).

    Returns:
        ``{"lam", "boxes", "partner", "applied", "lam_sampled", "centres"}``:
        float64 (B,), int32 (B, 4) as y1, y2, x1, x2, int32 (B,), bool (B,),
        float64 (B,), int32 (B, 2) as cy, cx.
    """
    config = spec.CutMixConfig() if config is None else spec.CutMixConfig.coerce(config, "sample_tf")
    b = tf.cast(batch_size, tf.int32)
    h = tf.cast(height, tf.int32)
    w = tf.cast(width, tf.int32)
    s = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 5)
    n = 1 if config.granularity == "batch" else b
    applied = tf.random.stateless_uniform([n], s[0], dtype=tf.float64) < config.prob
    lam_s = _beta([n], s[1], float(config.alpha))
    if config.pairing == "randperm":
        partner = tf.cast(tf.argsort(tf.random.stateless_uniform([b], s[2])), tf.int32)
    elif config.pairing == "roll":
        partner = tf.math.floormod(tf.range(b) - 1, b)
    else:
        partner = b - 1 - tf.range(b)
    cy = tf.random.stateless_uniform([n], s[3], minval=0, maxval=h, dtype=tf.int32)
    cx = tf.random.stateless_uniform([n], s[4], minval=0, maxval=w, dtype=tf.int32)
    cut = tf.sqrt(1.0 - lam_s)
    cut_h = tf.cast(tf.floor(tf.cast(h, tf.float64) * cut), tf.int32) // 2
    cut_w = tf.cast(tf.floor(tf.cast(w, tf.float64) * cut), tf.int32) // 2
    zero = tf.zeros_like(cy)
    y1 = tf.where(applied, tf.clip_by_value(cy - cut_h, 0, h), zero)
    y2 = tf.where(applied, tf.clip_by_value(cy + cut_h, 0, h), zero)
    x1 = tf.where(applied, tf.clip_by_value(cx - cut_w, 0, w), zero)
    x2 = tf.where(applied, tf.clip_by_value(cx + cut_w, 0, w), zero)
    area = tf.cast((y2 - y1) * (x2 - x1), tf.float64) / tf.cast(h * w, tf.float64)
    lam = (1.0 - area) if config.correct_lam else lam_s
    lam = tf.where(applied, lam, tf.ones_like(lam))
    lam_s = tf.where(applied, lam_s, tf.ones_like(lam_s))
    boxes = tf.stack([y1, y2, x1, x2], axis=1)  # (n, 4)
    centres = tf.stack([tf.where(applied, cy, zero), tf.where(applied, cx, zero)], axis=1)  # (n, 2)
    if config.granularity == "batch":
        lam, lam_s, applied = (tf.repeat(v, b, axis=0) for v in (lam, lam_s, applied))
        boxes = tf.repeat(boxes, b, axis=0)
        centres = tf.repeat(centres, b, axis=0)
        partner = tf.where(applied, partner, tf.range(b))
    return {"lam": lam, "boxes": boxes, "partner": partner, "applied": applied, "lam_sampled": lam_s,
            "centres": centres}


@keras.saving.register_keras_serializable(package="tenfold")
class CutMix(keras.layers.Layer):
    """CutMix as a Keras preprocessing layer on NHWC batches, usable in ``tf.data`` ``map``.

    Paper: Yun et al., ICCV 2019. Official code: clovaai/CutMix-PyTorch.

    Called as ``layer(images, labels)``, on a tuple ``(images, labels)`` or on
    ``{"images": ..., "labels": ...}`` (so ``dataset.map(layer)`` works) it
    returns ``(mixed, soft_targets)`` (or the dict with ``"labels"`` replaced by
    the soft targets). With ``training=False`` images pass through and the
    labels become one-hot. Randomness: a ``tf.random.Generator`` seeded from
    ``seed`` feeds :func:`sample_tf`.

    Args:
        num_classes: K.
        alpha, prob, correct_lam, pairing, granularity: See
            :class:`~tenfold.spec.cutmix.CutMixConfig` (defaults: the official recipe).
        config: A whole :class:`~tenfold.spec.cutmix.CutMixConfig` instead (a preset); overrides the above.
        seed: Seed of the generator (non-deterministic when None).
        target_dtype: dtype of the targets (default float32 for class indices, else the labels' dtype).
    """

    def __init__(self, num_classes: int, alpha: float = 1.0, prob: float = 1.0, correct_lam: bool = True,
                 pairing: str = "randperm", granularity: str = "batch", *, config: spec.CutMixConfig | None = None,
                 seed: int | None = None, target_dtype: tf.DType | str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.config = spec.CutMixConfig.coerce(config, "CutMix") if config is not None else spec.CutMixConfig(
            alpha=alpha, prob=prob, correct_lam=correct_lam, pairing=pairing, granularity=granularity)
        self.target_dtype = None if target_dtype is None else tf.as_dtype(target_dtype)
        self.num_classes = spec.check_num_classes("CutMix", num_classes)
        self.seed = seed
        self._rng = tf.random.Generator.from_seed(seed) if seed is not None else \
            tf.random.Generator.from_non_deterministic_state()

    def call(self, inputs, labels=None, training: bool = True):
        as_dict = isinstance(inputs, Mapping)
        if labels is not None:
            images = inputs
            as_dict = False
        elif as_dict:
            images, labels = inputs["images"], inputs["labels"]
        elif isinstance(inputs, (tuple, list)) and len(inputs) == 2:
            images, labels = inputs
        else:
            raise TenfoldError(expected("CutMix", "a batch (images, labels) or a dict with images and labels",
                                        type(inputs).__name__))
        x = as_tensor("CutMix", images)
        shape = tuple(-1 if d is None else d for d in x.shape)
        spec.check_images("CutMix", shape, dtype_name(x.dtype), None, layout="NHWC")
        if training:
            dyn = tf.shape(x)
            plan = sample_tf(self._rng.make_seeds(1)[:, 0], dyn[0], dyn[1], dyn[2], self.config)
            mixed, targets, _ = _cutmix_apply("CutMix", x, labels, plan, self.num_classes, self.target_dtype)
        else:
            mixed = x
            targets = _soft_labels("CutMix", labels, x.shape[0], self.num_classes, self.target_dtype)
        if as_dict:
            return {**inputs, "images": mixed, "labels": targets}
        return mixed, targets

    def get_config(self) -> dict:
        c = self.config
        return {**super().get_config(), "num_classes": self.num_classes, "alpha": c.alpha, "prob": c.prob,
                "correct_lam": c.correct_lam, "pairing": c.pairing, "granularity": c.granularity, "seed": self.seed,
                "target_dtype": None if self.target_dtype is None else self.target_dtype.name}

    def compute_output_shape(self, input_shape):
        return input_shape


__all__ = ["CutMix", "cutmix_apply", "sample_tf", "soft_target_cross_entropy"]
