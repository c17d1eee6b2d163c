"""RAdam for Keras 3 on TensorFlow: a ``keras.optimizers.Optimizer``.

Paper: Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond",
ICLR 2020, Algorithm 2. Official code: LiyuanLucasLiu/RAdam (``radam/radam.py``).
Conventions and presets: :mod:`tenfold.spec.radam`.

Works in ``model.fit``, in a custom ``tf.GradientTape`` loop
(``optimizer.apply_gradients(zip(grads, vars))``), inside ``tf.function``,
under ``keras.mixed_precision.LossScaleOptimizer``, and round-trips through
``get_config`` / ``from_config``.

The per-step scalars (``rho_t``, ``r_t``, the bias corrections, the fused
step factor) are computed in float64 from the integer step counter. The
rectified phase is one ``ResourceApplyAdam`` kernel with ``beta1_power =
beta2_power = 0`` (so the kernel's own factor is 1), learning rate
``lr r_t sqrt(bc2) / bc1`` and epsilon ``eps_eff`` (see the spec's
``step_factors``): a single pass over the variable, the gradient and the
moments. The first steps (skip or momentum phase) are plain ops behind a
``tf.cond``.

Differences from the official implementation: Keras has one step counter per
optimizer (``iterations``), so a variable that got no gradient on some step
still advances its step count (the official code and PyTorch count per
parameter). The learning rate is a float32 variable in Keras, so float64
variables see ``lr`` rounded to float32. Parameter groups with different
learning rates are separate optimizers, as is usual in Keras.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from tenfold.spec import radam as spec
from tenfold.spec.errors import CheckpointError, TenfoldError, expected

from ._tensors import dtype_name

_FIELDS = ("weight_decay_mode", "threshold", "threshold_inclusive", "early", "eps_mode", "nonfinite")


@keras.saving.register_keras_serializable(package="tenfold")
class RAdam(keras.optimizers.Optimizer):
    """Rectified Adam (Liu et al., ICLR 2020; official code LiyuanLucasLiu/RAdam).

    Args:
        learning_rate: A float or a ``keras.optimizers.schedules.LearningRateSchedule``.
        beta_1, beta_2, epsilon, weight_decay: Override the same fields of ``config``
            (``betas``, ``eps``, ``weight_decay``).
        weight_decay_mode, threshold, threshold_inclusive, early, eps_mode, nonfinite: Override
            the same fields of ``config`` (``nonfinite``: ``"propagate"``, ``"skip"`` or ``"raise"``,
            for one ``apply_gradients`` call; see :mod:`tenfold.spec.radam`).
        config: Conventions and defaults (default ``RAdamConfig.official()``), or a preset name.
        **kwargs: Other ``keras.optimizers.Optimizer`` arguments (``clipnorm``,
            ``name``, ...). Keras' own ``weight_decay`` mechanism is not used: weight
            decay follows ``weight_decay_mode`` and the phase, as in the spec.

    Raises:
        ConfigError: If a hyperparameter is out of range.
    """

    def __init__(self, learning_rate: Any = None, beta_1: float | None = None, beta_2: float | None = None,
                 epsilon: float | None = None, weight_decay: float | None = None, *,
                 weight_decay_mode: str | None = None, threshold: float | None = None,
                 threshold_inclusive: bool | None = None, early: str | None = None, eps_mode: str | None = None,
                 nonfinite: str | None = None, config: spec.RAdamConfig | str | None = None, name: str = "radam",
                 **kwargs: Any) -> None:
        config = spec.RAdamConfig.official() if config is None else spec.RAdamConfig.coerce(config, "RAdam")
        changes: dict[str, Any] = {k: v for k, v in (
            ("eps", epsilon), ("weight_decay", weight_decay), ("weight_decay_mode", weight_decay_mode),
            ("threshold", threshold), ("threshold_inclusive", threshold_inclusive), ("early", early),
            ("eps_mode", eps_mode), ("nonfinite", nonfinite)) if v is not None}
        if beta_1 is not None or beta_2 is not None:
            changes["betas"] = (config.betas[0] if beta_1 is None else beta_1,
                                config.betas[1] if beta_2 is None else beta_2)
        if learning_rate is None:
            learning_rate = config.lr
        elif isinstance(learning_rate, (int, float)):
            changes["lr"] = float(learning_rate)
        kwargs.pop("weight_decay", None)
        config = config.replace(**changes)  # validates (ConfigError)
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.config = config

    def load_own_variables(self, store: Any) -> None:
        """Load a state saved by ``save_own_variables``, after checking it fits (count and shapes).

        Raises:
            CheckpointError: Listing the mismatches (a state of another model);
                nothing is assigned. (An optimizer not built yet keeps Keras'
                behaviour: a warning, nothing loaded.)
        """
        if self.built:
            keys = list(store.keys())
            if len(keys) != len(self.variables):
                raise CheckpointError(expected("RAdam.load_own_variables", f"{len(self.variables)} variables "
                                               "(this optimizer's)", f"a state of {len(keys)}"))
            check_variable_shapes("RAdam.load_own_variables", self.variables,
                                  [store[str(i)] for i in range(len(self.variables))])
        super().load_own_variables(store)

    def set_weights(self, weights: list) -> None:
        """Keras' ``set_weights``, refusing a list of another length or shapes before assigning anything."""
        if self.built:
            if len(weights) != len(self.variables):
                raise CheckpointError(expected("RAdam.set_weights", f"{len(self.variables)} arrays (this "
                                               "optimizer's variables)", f"{len(weights)}"))
            check_variable_shapes("RAdam.set_weights", self.variables, weights)
        super().set_weights(weights)

    def build(self, var_list: list) -> None:
        """Create the two moments of every variable (zeros, the variable's dtype)."""
        if self.built:
            return
        for v in var_list:
            spec.check_dtype(dtype_name(tf.as_dtype(v.dtype)), "RAdam")
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(var_list, ["momentum", "velocity"])

    def apply(self, grads: list, trainable_variables: list | None = None) -> None:
        """``apply_gradients``' work, after the ``nonfinite`` check of the whole call (see the spec).

        ``"skip"``: nothing changes (variables, moments, ``iterations``) when a
        gradient holds NaN or inf; ``"raise"``: :class:`TenfoldError` eagerly, a
        graph assertion with the same message inside ``tf.function``.
        """
        mode = self.config.nonfinite
        present = [(g, v) for g, v in zip(grads, trainable_variables or self._trainable_variables, strict=False)
                   if g is not None]
        if mode == "propagate" or not present:
            return super().apply(grads, trainable_variables)
        values = [g.values if isinstance(g, tf.IndexedSlices) else g for g, _ in present]
        finite = [tf.reduce_all(tf.math.is_finite(g)) for g in values]
        names = [f"variable {getattr(v, 'path', getattr(v, 'name', '?'))!r}" for _, v in present]
        parent = super().apply
        if tf.executing_eagerly():
            bad = [n for n, ok in zip(names, finite, strict=True) if not bool(ok)]
            if not bad:
                return parent(grads, trainable_variables)
            if mode == "raise":
                raise TenfoldError(spec.nonfinite_message("RAdam.apply_gradients", bad))
            return None  # "skip"
        all_finite = tf.reduce_all(tf.stack(finite))
        if mode == "raise":
            msg = spec.nonfinite_message("RAdam.apply_gradients", names if len(names) == 1 else ["a variable"])
            with tf.control_dependencies([tf.debugging.Assert(all_finite, [msg])]):
                return parent(grads, trainable_variables)
        if trainable_variables is not None and not self.built:
            self.build(list(trainable_variables))  # variables must not be created inside the cond
            self.built = True

        def step() -> tf.Tensor:
            parent(grads, trainable_variables)
            return tf.constant(True)

        tf.cond(all_finite, step, lambda: tf.constant(False))
        return None

    def _factors(self, learning_rate: Any) -> dict[str, tf.Tensor]:
        """The step's scalars in float64 (see ``spec.step_factors``)."""
        c = self.config
        b1, b2 = c.betas
        t = tf.cast(self.iterations + 1, tf.float64)
        lr = tf.cast(learning_rate, tf.float64)
        bc1, bc2 = 1.0 - tf.pow(tf.constant(b1, tf.float64), t), 1.0 - tf.pow(tf.constant(b2, tf.float64), t)
        rho_inf = 2.0 / (1.0 - b2) - 1.0
        rho_t = rho_inf - 2.0 * t * (1.0 - bc2) / bc2
        rect = rho_t >= c.threshold if c.threshold_inclusive else rho_t > c.threshold
        ratio = (rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)
        r = tf.sqrt(tf.maximum(ratio, 0.0))  # only used where rectified (rho_t > 4)
        eps = tf.constant(c.eps, tf.float64)  # never tf.cast(python float): that goes through float32
        eps_eff = eps if c.eps_mode == "raw" else eps * tf.sqrt(bc2)
        decay = 1.0 - lr * c.weight_decay
        return {"rect": rect, "a": lr * r * tf.sqrt(bc2) / bc1, "b": lr / bc1, "eps_eff": eps_eff, "decay": decay}

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        """One RAdam step of ``variable`` (called by ``apply_gradients`` for each variable)."""
        if isinstance(gradient, tf.IndexedSlices):
            raise TenfoldError(spec.sparse_error("RAdam.update_step"))
        c = self.config
        b1, b2 = c.betas
        var = variable.value if isinstance(variable, keras.Variable) else variable
        dtype = var.dtype
        index = self._get_variable_index(variable)
        m, v = self._momentums[index].value, self._velocities[index].value
        f = self._factors(learning_rate)
        g = tf.cast(gradient, dtype)
        spec.check_grad_shape("RAdam.update_step", tuple(var.shape), tuple(g.shape))
        if c.weight_decay_mode == "coupled" and c.weight_decay != 0:
            g = g + tf.constant(c.weight_decay, dtype) * var
        decoupled = c.weight_decay_mode == "decoupled" and c.weight_decay != 0

        def rectified() -> tf.Operation:
            deps = [var.assign(var * tf.cast(f["decay"], dtype))] if decoupled else []
            with tf.control_dependencies(deps):
                zero = tf.zeros([], dtype)
                return tf.raw_ops.ResourceApplyAdam(
                    var=var.handle, m=m.handle, v=v.handle, beta1_power=zero, beta2_power=zero,
                    lr=tf.cast(f["a"], dtype), beta1=tf.constant(b1, dtype), beta2=tf.constant(b2, dtype),
                    epsilon=tf.cast(f["eps_eff"], dtype), grad=g)

        def early() -> tf.Operation:
            ops = [m.assign_add((g - m) * tf.constant(1.0 - b1, dtype)),
                   v.assign_add((tf.square(g) - v) * tf.constant(1.0 - b2, dtype))]
            if c.early == "sgd":
                with tf.control_dependencies(ops):
                    new = var * tf.cast(f["decay"], dtype) if decoupled else var
                    ops.append(var.assign(new - m * tf.cast(f["b"], dtype)))
            return tf.group(ops)

        tf.cond(f["rect"], rectified, early)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        c = self.config
        config.update({"beta_1": c.betas[0], "beta_2": c.betas[1], "epsilon": c.eps, "weight_decay": c.weight_decay,
                       **{k: getattr(c, k) for k in _FIELDS}})
        return config


def check_variable_shapes(where: str, variables: list, values: list) -> None:
    """One :class:`CheckpointError` naming every value whose shape differs from its variable's."""
    bad = [f"{getattr(v, 'path', getattr(v, 'name', i))} {tuple(getattr(x, 'shape', ()))}, expected {tuple(v.shape)}"
           for i, (v, x) in enumerate(zip(variables, values, strict=True))
           if tuple(getattr(x, "shape", ())) != tuple(v.shape)]
    if bad:
        shown = "; ".join(bad[:10]) + (" ..." if len(bad) > 10 else "")
        raise CheckpointError(expected(where, "a state of this model (the same variable shapes)",
                                       f"{len(bad)} mis-shaped: {shown}"))


def preset(name: str, **kwargs: Any) -> RAdam:
    """``RAdam(config=RAdamConfig.preset(name), **kwargs)``."""
    return RAdam(config=spec.RAdamConfig.preset(name), **kwargs)


__all__ = ["RAdam", "preset"]
