"""NT-Xent for TensorFlow/Keras: the shared :func:`tenfold.tf_backend.losses.nt_xent` and a Keras loss.

Paper: Chen et al., ICML 2020, Eq. (1). Official code: google-research/simclr
``objective.py`` (``tf2/objective.py``). Math, reductions, global-batch
semantics: :mod:`tenfold.spec.simclr.loss`.

Data parallel with ``tf.distribute`` (see :mod:`tenfold.tf_backend.distributed`)::

    strategy = tf.distribute.MirroredStrategy()          # or MultiWorkerMirroredStrategy() with TF_CONFIG
    def replica_step(x1, x2):
        with tf.GradientTape() as tape:
            loss = nt_xent(model(x1), model(x2), gather_distributed=True)
            scaled = loss / strategy.num_replicas_in_sync  # gradients are summed over replicas
        optimizer.apply_gradients(zip(tape.gradient(scaled, model.trainable_variables),
                                      model.trainable_variables))
        return loss
    strategy.run(replica_step, args=(x1, x2))
"""

from __future__ import annotations

import keras
import tensorflow as tf

from tenfold.spec.simclr import loss as spec

from ..distributed import gather_with_grad
from ..losses import nt_xent


@keras.saving.register_keras_serializable(package="tenfold")
class NTXentLoss(keras.losses.Loss):
    """NT-Xent as a Keras loss on the official layout: ``y_pred`` is ``[z1; z2]`` (2n, d); ``y_true`` is ignored.

    ``model.compile(loss=NTXentLoss())`` for a model that returns both views'
    projections concatenated; :meth:`pair` takes the two views separately.

    Args:
        temperature, reduction, normalize: Override the fields of ``config`` (``reduction`` is
            NT-Xent's: ``"official"``, ``"paper"`` or ``"sum"``).
        config: A :class:`~tenfold.spec.simclr.loss.NTXentConfig` (official when None).
        gather_distributed: Negatives from every replica (inside ``strategy.run``).
    """

    def __init__(self, temperature: float | None = None, reduction: str | None = None, *,
                 normalize: bool | None = None, config: spec.NTXentConfig | None = None,
                 gather_distributed: bool = False, name: str = "nt_xent", **kwargs) -> None:
        kwargs.pop("reduction", None)
        super().__init__(name=name, reduction="sum", **kwargs)
        self.config = spec.resolve(config, temperature, reduction, normalize, "NTXentLoss")
        if self.config.reduction == "none":
            spec.check_reduction("NTXentLoss: reduction", "a scalar reduction")
        self.gather_distributed = gather_distributed

    def pair(self, z1: tf.Tensor, z2: tf.Tensor) -> tf.Tensor:
        return nt_xent(z1, z2, config=self.config, gather_distributed=self.gather_distributed)

    def call(self, y_true, y_pred):
        z1, z2 = tf.split(y_pred, 2, axis=0)
        return self.pair(z1, z2)

    def get_config(self) -> dict:
        c = self.config
        return {"name": self.name, "temperature": c.temperature, "reduction": c.reduction,
                "normalize": c.normalize, "gather_distributed": self.gather_distributed}


__all__ = ["NTXentLoss", "gather_with_grad", "nt_xent"]
