"""The SimCLR projection head for Keras 3, with the official checkpoint's variable names.

Paper: Chen et al., ICML 2020, Sec. 2.1; SimCLRv2 Sec. 2. Official code:
google-research/simclr ``model_util.py`` ``projection_head``. Layout and
conventions: :mod:`tenfold.spec.simclr.head`.

Variables are created under the official scopes, so their Keras paths end in
the canonical names (``.../nl_0/dense/kernel``,
``.../nl_0/batch_normalization/gamma``), which is what the official LARS
exclusion patterns match (:class:`tenfold.tf_backend.simclr.LARS`).
BatchNorm follows the spec's convention (momentum = weight of the new batch,
unbiased running variance), not ``keras.layers.BatchNormalization``'s.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tenfold.spec.contracts import check_params
from tenfold.spec.dtypes import check_float_dtype
from tenfold.spec.simclr import head as spec

from .._tensors import as_tensor, dtype_name


class _Dense(keras.layers.Layer):
    def __init__(self, d_in: int, d_out: int, std: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.kernel = self.add_weight(shape=(d_in, d_out), name="kernel",
                                      initializer=keras.initializers.RandomNormal(stddev=std))

    def call(self, x):
        return tf.matmul(x, tf.cast(self.kernel, x.dtype))


class _BatchNorm(keras.layers.Layer):
    def __init__(self, channels: int, eps: float, momentum: float, center: bool, **kwargs) -> None:
        super().__init__(**kwargs)
        self.eps, self.momentum, self.center = eps, momentum, center
        self.gamma = self.add_weight(shape=(channels,), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(channels,), initializer="zeros", name="beta") if center else None
        self.moving_mean = self.add_weight(shape=(channels,), initializer="zeros", trainable=False,
                                           name="moving_mean")
        self.moving_variance = self.add_weight(shape=(channels,), initializer="ones", trainable=False,
                                               name="moving_variance")

    def call(self, x, training=False):
        cast = lambda v: tf.cast(v, x.dtype)  # noqa: E731
        if training:
            mean, var = tf.nn.moments(x, axes=[0])  # (C,) biased
            n = tf.cast(tf.shape(x)[0], x.dtype)
            m = self.momentum
            self.moving_mean.assign(tf.cast((1 - m) * cast(self.moving_mean) + m * mean, self.moving_mean.dtype))
            unbiased = var * n / (n - 1)
            self.moving_variance.assign(
                tf.cast((1 - m) * cast(self.moving_variance) + m * unbiased, self.moving_variance.dtype))
        else:
            mean, var = cast(self.moving_mean), cast(self.moving_variance)
        beta = cast(self.beta) if self.center else None
        return tf.nn.batch_normalization(x, mean, var, beta, cast(self.gamma), self.eps)


class _Layer(keras.layers.Layer):
    def __init__(self, d_in: int, d_out: int, config: spec.HeadConfig, last: bool, **kwargs) -> None:
        super().__init__(**kwargs)
        self.last = last
        with keras.name_scope(self.name):
            self.dense = _Dense(d_in, d_out, config.init_std, name="dense", dtype=self.dtype_policy)
            self.bn = _BatchNorm(d_out, config.bn_eps, config.bn_momentum, center=not last,
                                 name="batch_normalization", dtype=self.dtype_policy)

    def call(self, x, training=False):
        y = self.bn(self.dense(x), training=training)
        return y if self.last else tf.nn.relu(y)


@keras.saving.register_keras_serializable(package="tenfold")
class ProjectionHead(keras.layers.Layer):
    """The SimCLR projection head ``g(.)`` (Chen et al., ICML 2020; official ``model_util.projection_head``).

    Args:
        config: A :class:`~tenfold.spec.simclr.head.HeadConfig` (``HeadConfig.v2()`` when None).
        **kwargs: Keras layer arguments (``dtype="float64"``, ``name``).

    Input (B, in_dim), output (B, out_dim); ``training=True`` uses batch statistics (B > 1).
    """

    def __init__(self, config: spec.HeadConfig | None = None, name: str = "head_contrastive", **kwargs) -> None:
        if isinstance(config, dict):
            config = spec.HeadConfig.from_dict(config)
        super().__init__(name=name, **kwargs)
        self.config = config or spec.HeadConfig()
        last = self.config.num_layers - 1
        with keras.name_scope(self.name):
            self.blocks = [_Layer(i, o, self.config, j == last, name=spec.layer_prefix(j)[:-1],
                                  dtype=self.dtype_policy)
                           for j, (i, o) in enumerate(self.config.widths())]
        self.built = True

    def build(self, input_shape=None) -> None:
        self.built = True

    def call(self, x, training=False):
        where = "ProjectionHead"
        x = as_tensor(where, x)
        check_float_dtype(where, dtype_name(x.dtype))
        spec.check_input(where, tuple(x.shape), self.config, bool(training))
        for block in self.blocks:
            x = block(x, training=training)
        return x

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.config.out_dim)

    def get_config(self) -> dict:
        return {**super().get_config(), "config": self.config.to_dict()}


def _variables(model: ProjectionHead) -> dict[str, keras.Variable]:
    out = {}
    for j, block in enumerate(model.blocks):
        p = spec.layer_prefix(j)
        out[p + "dense/kernel"] = block.dense.kernel
        for n in spec.BN_NAMES:
            v = getattr(block.bn, n)
            if v is not None:
                out[p + "batch_normalization/" + n] = v
    return out


def get_params(model: ProjectionHead) -> dict[str, np.ndarray]:
    """Canonical parameters and running statistics of ``model`` as NumPy arrays."""
    return {k: np.array(v.numpy()) for k, v in _variables(model).items()}


def load_params(model: ProjectionHead, params: dict[str, np.ndarray]) -> ProjectionHead:
    """Assign canonical ``params`` to ``model`` (cast to its dtype), in place.

    Raises:
        CheckpointError: Listing every missing, unexpected or mis-shaped entry.
    """
    check_params(params, spec.param_shapes(model.config), "load_params")
    for k, v in _variables(model).items():
        v.assign(np.asarray(params[k]).astype(v.dtype))
    return model


__all__ = ["ProjectionHead", "get_params", "load_params"]
