"""LARS for Keras 3 on TensorFlow: a ``keras.optimizers.Optimizer`` with the official exclusions.

Paper: You, Gitman, Ginsburg, arXiv:1708.03888; SimCLR Sec. B.1. Official
code: google-research/simclr ``lars_optimizer.py`` (a TF1 optimizer). Math and
presets: :mod:`tenfold.spec.simclr.lars`.

Exclusions are decided, as in the official code, by regular expressions on
the variable's name: here its Keras ``path`` (for
:class:`~tenfold.tf_backend.simclr.ProjectionHead`,
``head_contrastive/nl_0/batch_normalization/gamma``, the official name), plus
``exclude_vectors`` for rank <= 1 variables. Works in ``model.fit``, in a
``tf.GradientTape`` loop and inside ``tf.function``.

Differences from the official implementation: Keras keeps the learning rate
in a float32 variable (float64 variables see it rounded to float32); the
momentum buffer has the variable's dtype (official: float32).
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from tenfold.spec.errors import TenfoldError
from tenfold.spec.simclr import lars as spec

from .._tensors import dtype_name

_FIELDS = ("momentum", "eta", "nesterov", "classic_momentum", "exclude_from_weight_decay",
           "exclude_from_layer_adaptation", "exclude_vectors")


@keras.saving.register_keras_serializable(package="tenfold")
class LARS(keras.optimizers.Optimizer):
    """Layer-wise adaptive rate scaling (You et al. 2017) as in SimCLR's ``lars_optimizer.py``.

    Args:
        learning_rate: A float or a ``LearningRateSchedule`` (default ``config.lr``).
        momentum, weight_decay, eta, nesterov, classic_momentum, exclude_from_weight_decay,
            exclude_from_layer_adaptation, exclude_vectors: Override the fields of ``config``.
        config: Defaults and conventions (``LARSConfig.official()`` when None).
        **kwargs: Other ``keras.optimizers.Optimizer`` arguments (``clipnorm``, ``name``...);
            Keras' own decoupled ``weight_decay`` is not used.

    Raises:
        ConfigError: On a hyperparameter out of range.
    """

    def __init__(self, learning_rate: Any = None, momentum: float | None = None, weight_decay: float | None = None,
                 eta: float | None = None, *, nesterov: bool | None = None, classic_momentum: bool | None = None,
                 exclude_from_weight_decay: tuple[str, ...] | None = None,
                 exclude_from_layer_adaptation: tuple[str, ...] | None = None, exclude_vectors: bool | None = None,
                 config: spec.LARSConfig | None = None, name: str = "lars", **kwargs: Any) -> None:
        config = config or spec.LARSConfig.official()
        changes: dict[str, Any] = {k: v for k, v in (
            ("momentum", momentum), ("weight_decay", weight_decay), ("eta", eta), ("nesterov", nesterov),
            ("classic_momentum", classic_momentum), ("exclude_vectors", exclude_vectors)) if v is not None}
        for k, v in (("exclude_from_weight_decay", exclude_from_weight_decay),
                     ("exclude_from_layer_adaptation", exclude_from_layer_adaptation)):
            if v is not None:
                changes[k] = tuple(v)
        if learning_rate is None:
            learning_rate = config.lr
        elif isinstance(learning_rate, (int, float)):
            changes["lr"] = float(learning_rate)
        kwargs.pop("weight_decay", None)
        config = config.replace(**changes)
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.config = config

    def build(self, var_list: list) -> None:
        if self.built:
            return
        for v in var_list:
            spec.check_dtype(dtype_name(tf.as_dtype(v.dtype)), "LARS")
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "momentum")

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        if isinstance(gradient, tf.IndexedSlices):
            raise TenfoldError(spec.sparse_error("LARS.update_step"))
        c = self.config
        var = variable.value if isinstance(variable, keras.Variable) else variable
        dtype = var.dtype
        v = self._momentums[self._get_variable_index(variable)].value
        g = tf.cast(gradient, dtype)
        spec.check_grad_shape("LARS.update_step", tuple(var.shape), tuple(g.shape))
        name = getattr(variable, "path", None) or getattr(variable, "name", "")
        use_wd, use_adapt = spec.exclusions(name, len(var.shape), c)
        if use_wd:
            g = g + tf.constant(c.weight_decay, dtype) * var
        lr = tf.cast(learning_rate, dtype)
        mu = tf.constant(c.momentum, dtype)
        if c.classic_momentum:
            scaled = lr * _trust(var, g, c.eta) if use_adapt else lr
            new_v = mu * v + scaled * g
            v.assign(new_v)
            var.assign_sub(mu * new_v + scaled * g if c.nesterov else new_v)
        else:
            new_v = mu * v + g
            v.assign(new_v)
            u = mu * new_v + g if c.nesterov else new_v
            scaled = lr * _trust(var, u, c.eta) if use_adapt else lr
            var.assign_sub(scaled * u)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        c = self.config
        config.update({"weight_decay": c.weight_decay, **{k: getattr(c, k) for k in _FIELDS}})
        return config


def _trust(w: tf.Tensor, u: tf.Tensor, eta: float) -> tf.Tensor:
    """``eta ||w|| / ||u||`` where both norms are > 0, else 1 (the official ``tf.where`` guards)."""
    wn, un = tf.norm(w), tf.norm(u)
    ok = tf.logical_and(wn > 0, un > 0)
    return tf.where(ok, tf.constant(eta, w.dtype) * wn / tf.where(ok, un, tf.ones_like(un)), tf.ones_like(wn))


__all__ = ["LARS"]
