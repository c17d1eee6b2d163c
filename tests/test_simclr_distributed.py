"""NT-Xent across processes: torch.distributed (gloo, 2 CPU processes) and tf.distribute (2 logical CPUs).

Oracle: the float64 NumPy reference on the concatenated global batch
(:func:`tenfold.numpy_ref.losses.nt_xent` and its written-out gradient).
With W processes, process r's loss is the reduction over its own anchors, so
the mean of the W losses is the global loss, and the gradient process r
receives for its embeddings is W times the global loss's gradient (it sums the
contributions of every process's loss through the gather's backward).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tenfold.numpy_ref.losses import nt_xent, nt_xent_grad

W, N_LOCAL, DIM, TAU = 2, 3, 5, 0.2


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(12)
    return rng.normal(size=(W * N_LOCAL, DIM)), rng.normal(size=(W * N_LOCAL, DIM))


def _torch_worker(rank: int, init_file: str, out_dir: str) -> None:
    import torch
    import torch.distributed as dist

    from tenfold.torch_backend.simclr import NTXentLoss

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=W)
    try:
        z1, z2 = _data()
        rows = slice(rank * N_LOCAL, (rank + 1) * N_LOCAL)
        out = {}
        for reduction in ("official", "paper"):
            a = torch.tensor(z1[rows], requires_grad=True)
            b = torch.tensor(z2[rows], requires_grad=True)
            loss = NTXentLoss(TAU, reduction, gather_distributed=True)(a, b)
            loss.backward()
            out[reduction] = {"loss": float(loss), "g1": a.grad.tolist(), "g2": b.grad.tolist()}
        # Only rank 0's loss counts; rank 1 still runs the backward (a collective) with a zero loss.
        a = torch.tensor(z1[rows], requires_grad=True)
        b = torch.tensor(z2[rows], requires_grad=True)
        loss = NTXentLoss(TAU, "paper", gather_distributed=True)(a, b)
        (loss if rank == 0 else loss * 0.0).backward()
        out["cross"] = {"g1": a.grad.tolist(), "g2": b.grad.tolist()}
        with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as fh:
            json.dump(out, fh)
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def torch_results(tmp_path_factory):
    pytest.importorskip("torch")
    import torch.multiprocessing as mp

    tmp = tmp_path_factory.mktemp("dist")
    mp.spawn(_torch_worker, args=(str(tmp / "init"), str(tmp)), nprocs=W, join=True)
    return [json.loads((tmp / f"rank{r}.json").read_text()) for r in range(W)]


@pytest.mark.parametrize("reduction", ["official", "paper"])
def test_torch_gloo_two_processes_equal_the_concatenated_batch(torch_results, reduction):
    z1, z2 = _data()
    losses = [r[reduction]["loss"] for r in torch_results]
    assert np.mean(losses) == pytest.approx(float(nt_xent(z1, z2, TAU, reduction)), rel=1e-12, abs=1e-12)
    g1, g2 = nt_xent_grad(z1, z2, TAU, reduction)
    got1 = np.concatenate([r[reduction]["g1"] for r in torch_results])
    got2 = np.concatenate([r[reduction]["g2"] for r in torch_results])
    np.testing.assert_allclose(got1, W * g1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got2, W * g2, rtol=1e-10, atol=1e-12)


def test_torch_gradient_crosses_ranks(torch_results):
    """Rank 1's loss is zero, yet its embeddings get rank 0's loss's gradient through the gather."""
    z1, z2 = _data()
    upstream = np.zeros(2 * W * N_LOCAL)  # rank 0's anchors: rows 0..n-1 of each view, scaled as rank 0 does
    upstream[:N_LOCAL] = upstream[W * N_LOCAL:W * N_LOCAL + N_LOCAL] = 1.0 / (2 * N_LOCAL)
    g1, g2 = nt_xent_grad(z1, z2, TAU, "none", upstream=upstream)
    rank1 = torch_results[1]["cross"]
    rows = slice(N_LOCAL, 2 * N_LOCAL)
    assert np.abs(rank1["g1"]).max() > 1e-3  # not zero: it came from rank 0
    np.testing.assert_allclose(rank1["g1"], g1[rows], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rank1["g2"], g2[rows], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(torch_results[0]["cross"]["g1"], g1[:N_LOCAL], rtol=1e-10, atol=1e-12)


_TF_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from tenfold.tf_backend.simclr import nt_xent
    W, N, TAU = %(W)d, %(N)d, %(TAU)r
    z1, z2 = (np.asarray(v) for v in json.loads(sys.stdin.read()))
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == W
    out = {}
    for reduction, only_first in (("official", False), ("paper", False), ("paper", True)):
        def value_fn(ctx, arr):
            r = ctx.replica_id_in_sync_group
            return tf.constant(arr[r * N:(r + 1) * N])
        a = strategy.experimental_distribute_values_from_function(lambda ctx: value_fn(ctx, z1))
        b = strategy.experimental_distribute_values_from_function(lambda ctx: value_fn(ctx, z2))

        @tf.function
        def step(a, b, reduction=reduction, only_first=only_first):
            def replica_fn(a, b):
                with tf.GradientTape() as tape:
                    tape.watch([a, b])
                    loss = nt_xent(a, b, TAU, reduction, gather_distributed=True)
                    r = tf.distribute.get_replica_context().replica_id_in_sync_group
                    used = loss * tf.cast(r == 0, loss.dtype) if only_first else loss
                ga, gb = tape.gradient(used, [a, b])
                return loss, ga, gb
            return strategy.run(replica_fn, args=(a, b))

        loss, ga, gb = step(a, b)
        key = "cross" if only_first else reduction
        out[key] = {"loss": [float(v) for v in strategy.experimental_local_results(loss)],
                    "g1": np.concatenate([v.numpy() for v in strategy.experimental_local_results(ga)]).tolist(),
                    "g2": np.concatenate([v.numpy() for v in strategy.experimental_local_results(gb)]).tolist()}
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def tf_results():
    pytest.importorskip("tensorflow")
    z1, z2 = _data()
    script = _TF_SCRIPT % {"W": W, "N": N_LOCAL, "TAU": TAU}
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-c", script], input=json.dumps([z1.tolist(), z2.tolist()]),
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("reduction", ["official", "paper"])
def test_tf_mirrored_two_replicas_equal_the_concatenated_batch(tf_results, reduction):
    z1, z2 = _data()
    r = tf_results[reduction]
    assert np.mean(r["loss"]) == pytest.approx(float(nt_xent(z1, z2, TAU, reduction)), rel=1e-12, abs=1e-12)
    g1, g2 = nt_xent_grad(z1, z2, TAU, reduction)
    np.testing.assert_allclose(r["g1"], W * g1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r["g2"], W * g2, rtol=1e-10, atol=1e-12)


def test_tf_gradient_crosses_replicas(tf_results):
    z1, z2 = _data()
    upstream = np.zeros(2 * W * N_LOCAL)
    upstream[:N_LOCAL] = upstream[W * N_LOCAL:W * N_LOCAL + N_LOCAL] = 1.0 / (2 * N_LOCAL)
    g1, g2 = nt_xent_grad(z1, z2, TAU, "none", upstream=upstream)
    r = tf_results["cross"]
    assert np.abs(np.asarray(r["g1"])[N_LOCAL:]).max() > 1e-3
    np.testing.assert_allclose(r["g1"], g1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r["g2"], g2, rtol=1e-10, atol=1e-12)
