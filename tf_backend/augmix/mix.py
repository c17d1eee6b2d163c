"""AugMix for TensorFlow: batched chains and mix (NHWC), a graph-mode sampler, a Keras preprocessing layer.

Paper: Hendrycks et al., ICLR 2020. Official code: google-research/augmix
(``cifar.py`` ``aug()``). The math, the plan and the draw order are in
:mod:`tenfold.spec.augmix`.

* :func:`augmix_apply` executes a plan: an :class:`~tenfold.spec.augmix.AugMixPlan`
  (NumPy-drawn, as conformance injects it) or the dict of tensors that
  :func:`sample_tf` draws inside a graph (``op_id``, ``arg``, ``coeffs``,
  ``chain_weights``, ``mix_weight``, as :meth:`AugMixPlan.arrays` lays them out).
* :func:`sample_tf` draws a plan with TensorFlow's stateless RNG from a seed,
  so it runs inside ``tf.data.Dataset.map`` and ``tf.function``. It follows
  the distribution of :func:`tenfold.spec.augmix.sample`, not its stream
  (Dirichlet and Beta from Gamma draws).
* :class:`AugMix` is a Keras layer: ``dataset.batch(128).map(AugMix())``.

Batching: the B images' k chains are one (B k, H, W, C) uint8 tensor; at each
depth step the chains are grouped by op (``tf.where`` on the op ids, a
``gather``, the batched op of :mod:`~tenfold.tf_backend.augmix.ops`, a
``tensor_scatter_nd_update``); no loop over images. With a tensor plan every
op of the config's list is traced at every step (an empty group costs little).

Differences from the official implementation: the batch at once; the same
pixels (see the spec).
"""

from __future__ import annotations

from collections.abc import Mapping

import keras
import numpy as np
import tensorflow as tf

from tenfold.spec import augmix as spec
from tenfold.spec.augmix import ops as O
from tenfold.spec.errors import ShapeError, TenfoldError, expected

from .._tensors import as_tensor, dtype_name
from . import ops

PlanTensors = Mapping[str, tf.Tensor]
_KEYS = ("op_id", "arg", "coeffs", "chain_weights", "mix_weight")


def quantize(x: tf.Tensor) -> tf.Tensor:
    """uint8 pixels: uint8 as is; floats in [0, 1] as ``uint8(clip(x * 255, 0, 255))`` in their own dtype."""
    if x.dtype == tf.uint8:
        return x
    return tf.cast(tf.clip_by_value(x * 255, 0, 255), tf.uint8)


def _plan_tensors(plan: spec.AugMixPlan | PlanTensors) -> tuple[dict[str, tf.Tensor], list[list[str]] | None]:
    """The plan as tensors, and per step the ops present (None for a tensor plan: every op may be)."""
    if isinstance(plan, spec.AugMixPlan):
        arrays = plan.arrays()
        steps = [[O.OPS[i] for i in np.unique(arrays["op_id"][:, :, d]) if i >= 0]
                 for d in range(arrays["op_id"].shape[2])]
        return {k: tf.constant(arrays[k]) for k in _KEYS}, steps
    if isinstance(plan, Mapping) and set(_KEYS) <= set(plan):
        return {"op_id": tf.cast(plan["op_id"], tf.int32), "arg": tf.cast(plan["arg"], tf.float64),
                "coeffs": tf.cast(plan["coeffs"], tf.float64),
                "chain_weights": tf.cast(plan["chain_weights"], tf.float64),
                "mix_weight": tf.cast(plan["mix_weight"], tf.float64)}, None
    raise TenfoldError(expected("augmix", "an AugMixPlan or a dict with " + ", ".join(_KEYS), type(plan).__name__))


def _check(where: str, images: object, plan: spec.AugMixPlan | PlanTensors) -> tf.Tensor:
    x = as_tensor(where, images)
    if x.shape.rank is None:
        raise ShapeError(expected(where, "a 4-D image batch (N, H, W, C)", "a tensor of unknown rank"))
    shape = tuple(-1 if d is None else d for d in x.shape)
    known = isinstance(plan, spec.AugMixPlan) and -1 not in shape
    spec.check_images(where, shape, dtype_name(x.dtype), plan if known else None, layout="NHWC")
    return x


def _run_chains(u8: tf.Tensor, p: dict[str, tf.Tensor], steps: list[list[str]] | None,
                op_list: tuple[str, ...]) -> tf.Tensor:
    """(B, k, H, W, C) uint8: every chain's result."""
    k, depth = p["op_id"].shape[1], p["op_id"].shape[2]
    shape = tf.shape(u8)
    state = tf.repeat(u8, k, axis=0)  # (B k, H, W, C)
    ids = tf.reshape(p["op_id"], [-1, depth])
    args = tf.reshape(p["arg"], [-1, depth])
    coeffs = tf.reshape(p["coeffs"], [-1, depth, 6])
    for d in range(depth):
        for op in (op_list if steps is None else steps[d]):
            members = tf.where(ids[:, d] == O.OP_ID[op])[:, 0]  # (n,)
            group = tf.gather(state, members)
            out = ops.apply_group(op, group, tf.gather(args[:, d], members), tf.gather(coeffs[:, d], members))
            state = tf.tensor_scatter_nd_update(state, members[:, None], out)
    return tf.reshape(state, tf.concat([shape[:1], [k], shape[1:]], axis=0))


def augmix_chains(images: tf.Tensor, plan: spec.AugMixPlan | PlanTensors, *,
                  op_list: tuple[str, ...] = spec.ALL_OPS) -> tf.Tensor:
    """Every chain's uint8 result (B, k, H, W, C).

    Args:
        images: (B, H, W, C), C in {1, 3}: uint8, or floats in [0, 1] (quantised first).
        plan: An :class:`~tenfold.spec.augmix.AugMixPlan` or the tensors of :func:`sample_tf`.
        op_list: For a tensor plan, the ops it may contain (the config's ``ops``).
    """
    x = _check("augmix.chains", images, plan)
    p, steps = _plan_tensors(plan)
    return _run_chains(quantize(x), p, steps, op_list)


_TF_DTYPES = {"uint8": tf.uint8, "float16": tf.float16, "bfloat16": tf.bfloat16, "float32": tf.float32,
              "float64": tf.float64}


def augmix_apply(images: tf.Tensor, plan: spec.AugMixPlan | PlanTensors, *, out_dtype: tf.DType | None = None,
                 op_list: tuple[str, ...] = spec.ALL_OPS, return_chains: bool = False):
    """Execute an AugMix plan on an NHWC batch: ``(1 - mw) x + mw sum_j w_j chain_j`` in [0, 1].

    Args:
        images: (B, H, W, C), C in {1, 3}: uint8 pixels or floats in [0, 1].
        plan: An :class:`~tenfold.spec.augmix.AugMixPlan` or the tensors of :func:`sample_tf`.
        out_dtype: None (the images' float dtype; float32 for uint8), a float
            dtype, or ``tf.uint8`` for ``round(255 * mix)``.
        op_list: For a tensor plan, the ops it may contain.
        return_chains: Also return the chains (B, k, H, W, C) uint8.

    Returns:
        The mixed batch (B, H, W, C) (and the chains), computed in float32
        (float64 for float64 images or output).
    """
    where = "augmix"
    x = _check(where, images, plan)
    out_name = spec.out_dtype_name(where, dtype_name(x.dtype), None if out_dtype is None else
                                   dtype_name(tf.as_dtype(out_dtype)))
    p, steps = _plan_tensors(plan)
    chains = _run_chains(quantize(x), p, steps, op_list)  # (B, k, H, W, C)
    compute = tf.float64 if tf.float64 in (x.dtype, _TF_DTYPES[out_name]) else tf.float32
    scale = 255.0 if out_name == "uint8" else 1.0
    mw = p["mix_weight"]  # (B,)
    weights = tf.cast(p["chain_weights"] * mw[:, None] * (scale / 255.0), compute)  # (B, k)
    mixed = tf.einsum("bk,bkhwc->bhwc", weights, tf.cast(chains, compute))
    x_scale = scale / 255.0 if x.dtype == tf.uint8 else scale
    skip = tf.reshape(tf.cast((1.0 - mw) * x_scale, compute), [-1, 1, 1, 1])
    mixed = mixed + skip * tf.cast(x, compute)
    if out_name == "uint8":
        mixed = tf.clip_by_value(tf.round(mixed), 0.0, 255.0)
    out = tf.cast(mixed, _TF_DTYPES[out_name])
    return (out, chains) if return_chains else out


def apply_op(op: str, images: tf.Tensor, args: tf.Tensor) -> tf.Tensor:
    """One op on every image of a uint8 NHWC batch, image i with ``args[i]`` (for per-op conformance)."""
    where = f"augmix.apply_op({op!r})"
    if op not in O.OP_INFO:
        raise TenfoldError(expected(where, "an op among " + ", ".join(O.OPS), repr(op)))
    x = as_tensor(where, images)
    shape = tuple(-1 if d is None else d for d in x.shape)
    spec.check_images(where, shape, dtype_name(x.dtype), None, layout="NHWC")
    if x.dtype != tf.uint8:
        raise TenfoldError(expected(where, "uint8 images", f"dtype {dtype_name(x.dtype)}"))
    a = tf.reshape(tf.cast(args, tf.float64), [-1])
    if tf.executing_eagerly():
        if a.shape[0] != shape[0]:
            raise TenfoldError(expected(where, f"{shape[0]} arguments (one per image)", f"shape {tuple(a.shape)}"))
        for v in a.numpy().tolist():
            O.check_argument(where, op, float(v))
    coeffs = ops.affine_coefficients_tf(op, a, tf.shape(x)[1], tf.shape(x)[2]) if op in O.AFFINE_OPS else \
        tf.zeros([tf.shape(a)[0], 6], tf.float64)
    if op in O.AFFINE_OPS and tf.executing_eagerly():  # the spec's exact doubles (rotate: Pillow's rounding)
        h, w = shape[1], shape[2]
        coeffs = tf.constant([O.affine_coefficients(op, float(v), h, w) for v in a.numpy()], tf.float64)
    return ops.apply_group(op, x, a, tf.reshape(coeffs, [-1, 6]))


# -- sampling in a graph ----------------------------------------------------------------------

def _gamma(shape, seed, alpha: float) -> tf.Tensor:
    return tf.random.stateless_gamma(shape, seed, alpha=alpha, dtype=tf.float64)


def _arguments(config: spec.AugMixConfig, op_idx: tf.Tensor, level: tf.Tensor, sign: tf.Tensor, height, width):
    """Per drawn op (index into ``config.ops``), its argument: the spec's maps in float64."""
    sx = tf.cast(config.image_size or width, tf.float64)
    sy = tf.cast(config.image_size or height, tf.float64)
    s = tf.cast(sign, tf.float64)
    trunc = tf.math.floor  # levels are positive: Python's int() is floor
    table = {}
    if config.magnitudes == "continuous":
        table = {"posterize": 4.0 - trunc(level * 4 / 10), "rotate": s * trunc(level * 30 / 10),
                 "solarize": 256.0 - trunc(level * 256 / 10), "shear_x": s * (level * 0.3 / 10),
                 "translate_x": s * trunc(level * (sx / 3) / 10), "translate_y": s * trunc(level * (sy / 3) / 10),
                 "enhance": level * 1.8 / 10 + 0.1}
    else:
        table = {"posterize": tf.round(4.0 - level / 2.25), "rotate": s * (30.0 * level / 9),
                 "solarize": 255.0 * (1.0 - level / 9), "shear_x": s * (0.3 * level / 9),
                 "translate_x": s * trunc(level * (sx / 3.0) / 9), "translate_y": s * trunc(level * (sy / 3.0) / 9),
                 "enhance": 1.0 + s * (0.9 * level / 9)}
    table["shear_y"] = table["shear_x"]
    zero = tf.zeros_like(level)
    per_op = [table.get(op, table["enhance"] if op in O.ENHANCE_OPS else zero) for op in config.ops]
    return tf.gather(tf.stack(per_op, axis=-1), op_idx[..., None], batch_dims=op_idx.shape.rank)[..., 0]


def sample_tf(seed: tf.Tensor, batch_size, height, width, config: spec.AugMixConfig | None = None) -> dict:
    """Draw a plan with TF's stateless RNG (graph-safe; sizes may be tensors).

    Args:
        seed: int32/int64 tensor of shape (2,), as for ``tf.random.stateless_*``.
        batch_size, height, width: Python ints or scalar int tensors.
        config: An :class:`~tenfold.spec.augmix.AugMixConfig` (official when None).

    Returns:
        ``op_id`` int32 (B, k, D) (ids of :data:`tenfold.spec.augmix.OPS`, -1
        past a chain's depth), ``arg`` float64 (B, k, D), ``coeffs`` float64
        (B, k, D, 6), ``chain_weights`` float64 (B, k), ``mix_weight`` float64
        (B,), ``m`` float64 (B,), ``levels`` float64 and ``signs`` int32 (B, k, D).
    """
    config = spec.AugMixConfig() if config is None else config
    if not isinstance(config, spec.AugMixConfig):
        raise TenfoldError(expected("sample_tf", "an AugMixConfig", type(config).__name__))
    b = tf.cast(batch_size, tf.int32)
    k, depth = config.width, (config.depth if config.depth > 0 else 3)
    s = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 8)
    a = float(config.alpha)
    g = _gamma(tf.stack([b, k]), s[0], a)
    weights = g / tf.reduce_sum(g, axis=1, keepdims=True)  # Dirichlet
    g1, g2 = _gamma(tf.stack([b]), s[1], a), _gamma(tf.stack([b]), s[2], a)
    m = g1 / (g1 + g2)  # Beta
    if config.depth > 0:
        chain_depth = tf.fill(tf.stack([b, k]), depth)
    else:
        chain_depth = tf.random.stateless_uniform(tf.stack([b, k]), s[3], minval=1, maxval=4, dtype=tf.int32)
    shape = tf.stack([b, k, depth])
    n_ops = len(config.ops)
    op_idx = tf.random.stateless_uniform(shape, s[4], minval=0, maxval=n_ops, dtype=tf.int32)
    has_level = tf.constant([O.OP_INFO[op].has_level for op in config.ops])
    signed = tf.constant([O.OP_INFO[op].signed for op in config.ops])
    if config.magnitudes == "continuous":
        level = tf.random.stateless_uniform(shape, s[5], minval=0.1, maxval=float(config.severity), dtype=tf.float64)
        flip = tf.random.stateless_uniform(shape, s[6], dtype=tf.float64) > 0.5
    else:
        level = tf.cast(tf.random.stateless_uniform(shape, s[5], minval=0, maxval=config.severity, dtype=tf.int32),
                        tf.float64)
        flip = tf.random.stateless_uniform(shape, s[6], dtype=tf.float64) <= 0.5
    level = tf.where(tf.gather(has_level, op_idx), level, tf.zeros_like(level))
    sign = tf.where(tf.gather(signed, op_idx) & flip, -1, 1)
    arg = _arguments(config, op_idx, level, sign, height, width)
    global_id = tf.gather(tf.constant([O.OP_ID[op] for op in config.ops], tf.int32), op_idx)
    active = tf.range(depth)[None, None, :] < chain_depth[..., None]
    op_id = tf.where(active, global_id, -1)
    flat_arg = tf.reshape(arg, [-1])
    coeffs = tf.tile(tf.constant([O.IDENTITY], tf.float64), tf.stack([tf.size(flat_arg), 1]))
    flat_id = tf.reshape(op_id, [-1])
    for op in O.AFFINE_OPS:
        if op in config.ops:
            coeffs = tf.where((flat_id == O.OP_ID[op])[:, None],
                              ops.affine_coefficients_tf(op, flat_arg, height, width), coeffs)
    coeffs = tf.reshape(coeffs, tf.concat([tf.shape(arg), [6]], axis=0))
    mix_weight = m if config.m_weights == "mix" else 1.0 - m
    return {"op_id": op_id, "arg": tf.where(active, arg, 0.0), "coeffs": coeffs, "chain_weights": weights,
            "mix_weight": mix_weight, "m": m, "levels": tf.where(active, level, 0.0),
            "signs": tf.where(active, sign, 1)}


@keras.saving.register_keras_serializable(package="tenfold")
class AugMix(keras.layers.Layer):
    """AugMix as a Keras preprocessing layer on NHWC images, usable in ``tf.data`` ``map``.

    Paper: Hendrycks et al., ICLR 2020. Official code: google-research/augmix.

    Called on images (one (H, W, C) or a batch (B, H, W, C), uint8 or floats
    in [0, 1]) it returns the mix in [0, 1] (float32 for uint8 input); called
    as ``layer(images, labels)``, on a tuple ``(images, labels, ...)`` or on a
    dict with ``"images"`` it replaces the images and passes the rest through. With ``training=False`` the images
    are only converted to the output dtype. Randomness: a
    ``tf.random.Generator`` seeded from ``seed`` feeds :func:`sample_tf`.

    Args:
        severity, width, depth, alpha, all_ops, magnitudes, m_weights, image_size:
            See :class:`~tenfold.spec.augmix.AugMixConfig` (defaults: the official CIFAR recipe).
        config: A whole config instead of the fields.
        seed: Seed of the generator (non-deterministic when None).
        out_dtype: Output dtype name (None: float32 for uint8, else the input's).
        jsd: Return the official JSD triple ``(clean, augmix1, augmix2)`` (two plans per image).
    """

    def __init__(self, severity: int = 3, width: int = 3, depth: int = -1, alpha: float = 1.0,
                 all_ops: bool = False, magnitudes: str = "continuous", m_weights: str = "mix",
                 image_size: int | None = None, *, config: spec.AugMixConfig | None = None, seed: int | None = None,
                 out_dtype: str | None = None, jsd: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.config = config if config is not None else spec.AugMixConfig(
            severity=severity, width=width, depth=depth, alpha=alpha, all_ops=all_ops, magnitudes=magnitudes,
            m_weights=m_weights, image_size=image_size)
        self.seed = seed
        self.out_dtype = out_dtype
        self.jsd = bool(jsd)
        self._rng = tf.random.Generator.from_seed(seed) if seed is not None else \
            tf.random.Generator.from_non_deterministic_state()

    def _augment(self, images, training: bool):
        x = as_tensor("AugMix", images)
        single = x.shape.rank == 3
        batch = x[None] if single else x
        shape = tuple(-1 if d is None else d for d in batch.shape)
        spec.check_images("AugMix", shape, dtype_name(batch.dtype), None, layout="NHWC")
        out_name = spec.out_dtype_name("AugMix", dtype_name(batch.dtype), self.out_dtype)
        scale = 1.0 / 255.0 if batch.dtype == tf.uint8 else 1.0
        clean = tf.cast(tf.cast(batch, tf.float32) * scale, _TF_DTYPES[out_name]) if out_name != "uint8" else \
            quantize(batch)
        if not training:
            out = (clean, clean, clean) if self.jsd else clean
        else:
            dyn = tf.shape(batch)
            views = 2 if self.jsd else 1  # per image two aug() calls, as the official AugMixDataset
            plan = sample_tf(self._rng.make_seeds(1)[:, 0], dyn[0] * views, dyn[1], dyn[2], self.config)
            mixed = augmix_apply(tf.repeat(batch, views, axis=0), plan, out_dtype=_TF_DTYPES[out_name],
                                 op_list=self.config.ops)
            out = (clean, mixed[0::2], mixed[1::2]) if self.jsd else mixed
        if single:
            return tuple(v[0] for v in out) if self.jsd else out[0]
        return out

    def call(self, inputs, labels=None, training: bool = True):
        if labels is not None:  # dataset.map(layer) on (images, labels) elements
            return self._augment(inputs, training), labels
        if isinstance(inputs, Mapping):
            return {**inputs, "images": self._augment(inputs["images"], training)}
        if isinstance(inputs, (tuple, list)):
            return (self._augment(inputs[0], training), *inputs[1:])
        return self._augment(inputs, training)

    def get_config(self) -> dict:
        c = self.config
        return {**super().get_config(), "severity": c.severity, "width": c.width, "depth": c.depth, "alpha": c.alpha,
                "all_ops": c.all_ops, "magnitudes": c.magnitudes, "m_weights": c.m_weights,
                "image_size": c.image_size, "seed": self.seed, "out_dtype": self.out_dtype, "jsd": self.jsd}

    def compute_output_shape(self, input_shape):
        return input_shape


__all__ = ["AugMix", "apply_op", "augmix_apply", "augmix_chains", "quantize", "sample_tf"]
