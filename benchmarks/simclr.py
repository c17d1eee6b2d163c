"""Benchmark of SimCLR: NT-Xent against lightly, the augmentation against torchvision v2, 2-process gloo.

Three groups, each measured in a fresh process of this environment (CPU, float32):

* ``ntxent``: forward + backward of NT-Xent for N = 2048 pairs, d = 128 (a
  4096 x 4096 similarity matrix; about 9 GFLOP in the two products the math
  needs). tenfold's ``nt_xent`` (one GEMM forward, two backward, one softmax
  pass) and, for reference, the same loss through plain autograd
  (``cross_entropy`` on masked logits); lightly's ``NTXentLoss`` runs in the
  optional peer environment (``.venv-peers``) as a long-lived subprocess, and
  the two processes are timed in alternating rounds so that a drifting load
  hits both alike (the peer env has its own PyTorch build: the versions are
  printed).
* ``augment``: images per second of one augmented view of 32 uint8 images of
  3 x 128 x 128 to 96 x 96: tenfold's batched ``apply`` (plans drawn with the
  spec's sampler, included in the time) with the official preset (bicubic,
  HSV saturation, zero-padded blur) and the torchvision preset, against the
  torchvision v2 pipeline of PyTorch SimCLR ports (``RandomResizedCrop(96)``,
  flip, ``RandomApply(ColorJitter(0.8, 0.8, 0.8, 0.2), p=0.8)``,
  ``RandomGrayscale(0.2)``, ``RandomApply(GaussianBlur(9, (0.1, 2)), p=0.5)``)
  applied image by image, as a ``Dataset`` does. torchvision antialiases the
  downscaling crop; tenfold does not (see the spec).
* ``distributed``: one training step (a linear encoder 256 -> 128 under
  ``DistributedDataParallel``, NT-Xent with ``gather_distributed=True``,
  backward, LARS) on a global batch of 1024 pairs: 1 process with 2 threads
  against 2 gloo processes with 1 thread and 512 pairs each.

Run with ``tenfold bench simclr`` or ``python -m tenfold.benchmarks.simclr``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

from .common import in_subprocess, peers_python

N, D = 2048, 128
AUG_B, AUG_IN, AUG_OUT = 32, 128, 96
DIST_N, DIST_IN = 1024, 256
GROUPS = ("ntxent", "augment", "distributed")

_PEER = textwrap.dedent("""
    import json, sys, time
    import torch
    kind, seed = sys.argv[1], 0
    torch.set_num_threads(int(sys.argv[2]))
    g = torch.Generator().manual_seed(seed)
    if kind == "ntxent":
        import lightly
        from lightly.loss import NTXentLoss
        z = torch.randn(2 * %(N)d, %(D)d, generator=g)
        a, b = z[:%(N)d].clone().requires_grad_(), z[%(N)d:].clone().requires_grad_()
        loss = NTXentLoss(temperature=0.1)
        def fn():
            a.grad = b.grad = None
            loss(a, b).backward()
        name = f"lightly {lightly.__version__} NTXentLoss (torch {torch.__version__})"
    else:
        import torchvision
        from torchvision.transforms import v2
        t = v2.Compose([v2.RandomResizedCrop(%(OUT)d), v2.RandomHorizontalFlip(),
                        v2.RandomApply([v2.ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8), v2.RandomGrayscale(0.2),
                        v2.RandomApply([v2.GaussianBlur(9, (0.1, 2.0))], p=0.5), v2.ToDtype(torch.float32, scale=True)])
        imgs = [torch.randint(0, 256, (3, %(IN)d, %(IN)d), generator=g, dtype=torch.uint8) for _ in range(%(B)d)]
        def fn():
            return [t(x) for x in imgs]
        name = f"torchvision {torchvision.__version__.split('+')[0]} v2 pipeline, image by image"
    fn()
    print(json.dumps({"name": name}), flush=True)
    for line in sys.stdin:
        times = []
        for _ in range(int(line)):
            s = time.perf_counter()
            fn()
            times.append(time.perf_counter() - s)
        print(json.dumps(times), flush=True)
""") % {"N": N, "D": D, "OUT": AUG_OUT, "IN": AUG_IN, "B": AUG_B}


class _Peer:
    """A long-lived peer process that times its function on request (one JSON line per request)."""

    def __init__(self, kind: str, threads: int) -> None:
        py = peers_python()
        self.proc = None if py is None else subprocess.Popen(
            [str(py), "-c", _PEER, kind, str(threads)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
        self.name = None
        if self.proc is not None:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"peer {kind} failed:\n{self.proc.stderr.read()[-2000:]}")
            self.name = json.loads(line)["name"]

    def time(self, reps: int) -> list[float]:
        self.proc.stdin.write(f"{reps}\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        if self.proc is not None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


def _alternate(ours: dict, peer: _Peer | None, rounds: int, reps: int) -> dict[str, float]:
    """Median seconds of each of our functions and of the peer's, timed in alternating rounds."""
    for fn in ours.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in ours}
    if peer is not None and peer.name:
        times[peer.name] = []
    for _ in range(rounds):
        for k, fn in ours.items():
            for _ in range(reps):
                s = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - s)
        if peer is not None and peer.name:
            times[peer.name] += peer.time(reps)
    return {k: statistics.median(v) for k, v in times.items()}


def _worker_ntxent(rounds: int) -> list[dict]:
    import torch
    import torch.nn.functional as F

    from tenfold.spec.simclr.loss import LARGE_NUM
    from tenfold.torch_backend.simclr import nt_xent

    torch.set_num_threads(2)
    g = torch.Generator().manual_seed(0)
    z = torch.randn(2 * N, D, generator=g)
    a, b = z[:N].clone().requires_grad_(), z[N:].clone().requires_grad_()

    def ours():
        a.grad = b.grad = None
        nt_xent(a, b, 0.1).backward()

    def autograd():
        a.grad = b.grad = None
        h = F.normalize(torch.cat([a, b]), dim=1)
        logits = (h @ h.t()) / 0.1 - LARGE_NUM * torch.eye(2 * N)
        F.cross_entropy(logits, (torch.arange(2 * N) + N) % (2 * N)).backward()

    peer = _Peer("ntxent", 2)
    try:
        t = _alternate({f"tenfold nt_xent (torch {torch.__version__})": ours, "plain autograd, same math": autograd},
                       peer, rounds, 3)
    finally:
        peer.close()
    return [{"group": "ntxent", "variant": k, "ms": 1e3 * v} for k, v in t.items()]


def _worker_augment(rounds: int) -> list[dict]:
    import numpy as np
    import torch

    from tenfold.spec.simclr import augment as spec
    from tenfold.torch_backend.simclr import apply

    torch.set_num_threads(2)
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (AUG_B, 3, AUG_IN, AUG_IN), generator=g, dtype=torch.uint8)
    rng = np.random.default_rng(0)
    fns = {}
    for name, cfg in (("tenfold apply, official preset (batched)", spec.AugmentConfig()),
                      ("tenfold apply, torchvision preset (batched)", spec.AugmentConfig.torchvision())):
        fns[name] = lambda cfg=cfg: apply(spec.sample(rng, AUG_B, AUG_IN, AUG_IN, AUG_OUT, AUG_OUT, cfg), x)
    peer = _Peer("augment", 2)
    try:
        t = _alternate(fns, peer, rounds, 2)
    finally:
        peer.close()
    return [{"group": "augment", "variant": k, "ms": 1e3 * v, "images_per_s": AUG_B / v} for k, v in t.items()]


def _dist_worker(rank: int, world: int, init_file: str, out_file: str, steps: int) -> None:
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from tenfold.torch_backend.simclr import LARS, nt_xent

    torch.set_num_threads(2 // world)
    if world > 1:
        dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    torch.manual_seed(0)
    model = torch.nn.Linear(DIST_IN, 128)
    net = DistributedDataParallel(model) if world > 1 else model
    opt = LARS(model.named_parameters(), lr=0.1)
    n = DIST_N // world
    x = torch.randn(2, n, DIST_IN, generator=torch.Generator().manual_seed(rank))
    times = []
    for _ in range(steps):
        s = time.perf_counter()
        opt.zero_grad()
        z = net(x.reshape(2 * n, DIST_IN))
        nt_xent(z[:n], z[n:], 0.1, gather_distributed=world > 1).backward()
        opt.step()
        times.append(time.perf_counter() - s)
    if rank == 0:
        with open(out_file, "w") as fh:
            json.dump(times[2:], fh)
    if world > 1:
        dist.destroy_process_group()


def _worker_distributed(rounds: int) -> list[dict]:
    import torch.multiprocessing as mp

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for world in (1, 2):
            out = os.path.join(tmp, f"w{world}.json")
            mp.spawn(_dist_worker, args=(world, os.path.join(tmp, f"init{world}"), out, rounds * 3 + 2),
                     nprocs=world, join=True)
            with open(out) as fh:
                ms = 1e3 * statistics.median(json.load(fh))
            rows.append({"group": "distributed", "variant": f"{world} process(es) x {2 // world} thread(s)",
                         "ms": ms})
    return rows


WORKERS = {"ntxent": _worker_ntxent, "augment": _worker_augment, "distributed": _worker_distributed}


def run(rounds: int = 5, groups: tuple[str, ...] = GROUPS) -> tuple[list[dict], list[str]]:
    rows, notes = [], []
    if peers_python() is None:
        notes.append("lightly and torchvision skipped: no .venv-peers next to the repo (or TENFOLD_PEERS_PYTHON)")
    for group in groups:
        rows += in_subprocess("tenfold.benchmarks.simclr", "--worker", group, "--rounds", str(rounds))["rows"]
    return rows, notes


def report(rows: list[dict], notes: list[str]) -> str:
    lines = ["SimCLR on the CPU (median ms; peers timed in alternating rounds in the same run)",
             f"{'group':<12} {'variant':<70} {'ms':>9} {'images/s':>9}"]
    for r in rows:
        ips = f"{r['images_per_s']:>9.0f}" if "images_per_s" in r else ""
        lines.append(f"{r['group']:<12} {r['variant']:<70} {r['ms']:>9.1f} {ips}")
    by = {(r["group"], r["variant"]): r["ms"] for r in rows}
    for group, ours_prefix, peer_prefix in (("ntxent", "tenfold nt_xent", "lightly"),
                                            ("augment", "tenfold apply, official", "torchvision"),
                                            ("augment", "tenfold apply, torchvision", "torchvision")):
        mine = [(v, ms) for (g, v), ms in by.items() if g == group and v.startswith(ours_prefix)]
        peers = [(v, ms) for (g, v), ms in by.items() if g == group and v.startswith(peer_prefix)]
        for (mv, mms), (pv, pms) in ((m, p) for m in mine for p in peers):
            lines.append(f"{group}: {mv} is x{pms / mms:.2f} the speed of {pv}")
    d1 = next((ms for (g, v), ms in by.items() if g == "distributed" and v.startswith("1 ")), None)
    d2 = next((ms for (g, v), ms in by.items() if g == "distributed" and v.startswith("2 ")), None)
    if d1 and d2:
        lines.append(f"distributed: a 2-process gloo step takes x{d2 / d1:.2f} the time of the 1-process step "
                     f"(global batch {DIST_N} pairs both)")
    lines += [f"note: {n}" for n in notes]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tenfold bench simclr", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--group", action="append", choices=GROUPS, help="ntxent, augment, distributed (repeatable)")
    parser.add_argument("--json", help="also write the measurements to this file")
    parser.add_argument("--worker", choices=GROUPS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps({"rows": WORKERS[args.worker](args.rounds)}))
        return 0
    rows, notes = run(args.rounds, tuple(args.group or GROUPS))
    print(report(rows, notes))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"rows": rows, "notes": notes}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
