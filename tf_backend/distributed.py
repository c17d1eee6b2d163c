"""Collectives with gradients for data-parallel losses under ``tf.distribute`` (NT-Xent's global batch).

Built on the strategy's replica context (``MirroredStrategy``,
``MultiWorkerMirroredStrategy``, ``TPUStrategy``): :func:`gather_with_grad` is
``ReplicaContext.all_gather`` along axis 0, whose gradient sums the upstream
gradient over the replicas and hands each replica its own block, so a loss on
the gathered tensor sends gradients to the replica that produced each row.

Multi-worker use: the same code runs under
``tf.distribute.MultiWorkerMirroredStrategy()`` with ``TF_CONFIG`` naming the
workers (one process per host); the replica context, and so this gather, spans
every device of every worker. Scale the per-replica loss by
``1 / num_replicas_in_sync`` before ``apply_gradients`` (gradients are summed
across replicas), as ``tf.nn.compute_average_loss`` does.
"""

from __future__ import annotations

import tensorflow as tf


def world() -> tuple[tf.Tensor | int, int]:
    """``(replica id, number of replicas)`` of the current replica context; ``(0, 1)`` outside any strategy."""
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return 0, 1
    return ctx.replica_id_in_sync_group, ctx.num_replicas_in_sync


def gather_with_grad(x: tf.Tensor) -> tf.Tensor:
    """Concatenate ``x`` (n, ...) from every replica along axis 0, differentiably (identity with one replica).

    Must be called in a replica context (inside ``strategy.run``) by every replica, with the same ``n``.
    """
    ctx = tf.distribute.get_replica_context()
    if ctx is None or ctx.num_replicas_in_sync == 1:
        return x
    return ctx.all_gather(x, axis=0)


__all__ = ["gather_with_grad", "world"]
