"""Benchmark of AugMix: tenfold's batched transform against torchvision's AugMix and the official NumPy/PIL loop.

Images per second at 32 and 224 px, batch 128, uint8 and float32 input (NCHW,
CPU), in one run:

* ``tenfold torch``: ``tenfold.torch_backend.augmix.AugMix`` on the whole
  batch (sampling included; every image its own plan; the official ops,
  exact to Pillow).
* ``tenfold tf`` (``--group tf``): the Keras ``AugMix`` layer, eagerly.
* ``torchvision v2.AugMix per image``: ``torchvision.transforms.v2.AugMix()``
  applied image by image (its batched call would share one op set across the
  batch), in the optional peer environment (``.venv-peers``).
* ``official loop (PIL)``: a re-implementation, for timing, of the official
  ``cifar.py`` ``aug()`` per image: ``np.random`` draws, the
  ``augmentations.py`` PIL calls, the float32 mix (uint8 input); for float32
  input the ``augment_and_mix.py`` variant that converts to uint8 around every op.

The peer code runs in its own interpreter (``-c``, importing only numpy, PIL,
torch and torchvision), alternating with tenfold's rounds so that a drifting
load hits both alike. Reported: median wall time per batch and images/s by
wall time and by process CPU time (on a shared machine the CPU time is the
steadier figure; on a GPU, ``--device cuda``, the wall time is the figure).
Threads: ``--threads`` (default 1) in every process.
Run with ``tenfold bench augmix`` or ``python -m tenfold.benchmarks.augmix``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from .common import emit, peers_python

BATCH = 128
SIZES = (32, 224)
DTYPES = ("uint8", "float32")

#: The peer side, self-contained (the peer environment's ``tenfold`` may be another checkout).
PEER_CODE = r'''
import json, sys, time
import numpy as np
import torch
from PIL import Image, ImageEnhance, ImageOps
args = json.loads(sys.argv[1])
torch.set_num_threads(args["threads"])
IMAGE_SIZE = 32

def int_parameter(l, m): return int(l * m / 10)
def float_parameter(l, m): return float(l) * m / 10.
def sample_level(n): return np.random.uniform(low=0.1, high=n)
def autocontrast(im, _): return ImageOps.autocontrast(im)
def equalize(im, _): return ImageOps.equalize(im)
def posterize(im, s): return ImageOps.posterize(im, 4 - int_parameter(sample_level(s), 4))
def rotate(im, s):
    d = int_parameter(sample_level(s), 30)
    return im.rotate(-d if np.random.uniform() > 0.5 else d, resample=Image.BILINEAR)
def solarize(im, s): return ImageOps.solarize(im, 256 - int_parameter(sample_level(s), 256))
def _affine(im, data): return im.transform((IMAGE_SIZE, IMAGE_SIZE), Image.AFFINE, data, resample=Image.BILINEAR)
def shear_x(im, s):
    l = float_parameter(sample_level(s), 0.3)
    return _affine(im, (1, -l if np.random.uniform() > 0.5 else l, 0, 0, 1, 0))
def shear_y(im, s):
    l = float_parameter(sample_level(s), 0.3)
    return _affine(im, (1, 0, 0, -l if np.random.uniform() > 0.5 else l, 1, 0))
def translate_x(im, s):
    l = int_parameter(sample_level(s), IMAGE_SIZE / 3)
    return _affine(im, (1, 0, -l if np.random.random() > 0.5 else l, 0, 1, 0))
def translate_y(im, s):
    l = int_parameter(sample_level(s), IMAGE_SIZE / 3)
    return _affine(im, (1, 0, 0, 0, 1, -l if np.random.random() > 0.5 else l))
OPS = [autocontrast, equalize, posterize, rotate, solarize, shear_x, shear_y, translate_x, translate_y]

def aug_pil(img):  # cifar.py aug(): PIL image in, float32 CHW mix in [0, 1] out
    ws = np.float32(np.random.dirichlet([1] * 3)); m = np.float32(np.random.beta(1, 1))
    pre = lambda im: np.asarray(im, dtype=np.float32).transpose(2, 0, 1) / 255.0
    mix = np.zeros_like(pre(img))
    for i in range(3):
        a = img.copy()
        for _ in range(np.random.randint(1, 4)):
            a = np.random.choice(OPS)(a, 3)
        mix += ws[i] * pre(a)
    return (1 - m) * pre(img) + m * mix

def aug_float(x):  # augment_and_mix.py: HWC float in [0, 1]; uint8 round trip around every op
    ws = np.float32(np.random.dirichlet([1] * 3)); m = np.float32(np.random.beta(1, 1))
    mix = np.zeros_like(x)
    for i in range(3):
        a = x.copy()
        for _ in range(np.random.randint(1, 4)):
            im = Image.fromarray(np.clip(a * 255., 0, 255).astype(np.uint8))
            a = np.asarray(np.random.choice(OPS)(im, 3)) / 255.
        mix += ws[i] * a
    return (1 - m) * x + m * mix

dev = torch.device(args["device"])
def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize()
def timed(fn, repeat):
    fn(); sync()
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time(); fn(); sync()
        walls.append(time.perf_counter() - w); cpus.append(time.process_time() - c)
    return sorted(walls)[len(walls) // 2], sorted(cpus)[len(cpus) // 2]

rows = []
np.random.seed(0)
for size in args["sizes"]:
    IMAGE_SIZE = size
    g = torch.Generator().manual_seed(0)
    x8 = torch.randint(0, 256, (args["batch"], 3, size, size), generator=g, dtype=torch.uint8)
    for dtype in args["dtypes"]:
        x = (x8 if dtype == "uint8" else x8.float() / 255).to(dev)
        fns = {}
        try:
            import torchvision
            from torchvision.transforms import v2
            t = v2.AugMix()
            fns["torchvision %s v2.AugMix per image%s" % (torchvision.__version__.split("+")[0],
                                                          "" if dev.type == "cpu" else " (" + dev.type + ")")] = \
                lambda t=t, x=x: [t(x[i]) for i in range(x.shape[0])]
        except ImportError:
            pass
        if dev.type != "cpu":
            pass  # the official loop is PIL: CPU only
        elif dtype == "uint8":
            pils = [Image.fromarray(v.permute(1, 2, 0).numpy()) for v in x8]
            fns["official loop (PIL)"] = lambda p=pils: [aug_pil(im) for im in p]
        else:
            hwc = [v.permute(1, 2, 0).numpy() for v in x]
            fns["official loop (PIL, augment_and_mix.py)"] = lambda h=hwc: [aug_float(v) for v in h]
        for name, fn in fns.items():
            wall, cpu = timed(fn, args["repeat"])
            rows.append({"size": size, "dtype": dtype, "variant": name, "wall": wall, "cpu": cpu})
print(json.dumps({"rows": rows}))
'''


def _ours(sizes, dtypes, repeat: int, threads: int, groups: tuple[str, ...], device: str = "cpu") -> list[dict]:
    import torch

    from tenfold.torch_backend.augmix import AugMix

    torch.set_num_threads(threads)
    dev = torch.device(device)

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize()

    rows = []
    tf_layer = None
    if "tf" in groups:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf

        from tenfold.tf_backend.augmix import AugMix as KerasAugMix

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf_layer = KerasAugMix(seed=0)
    for size in sizes:
        g = torch.Generator().manual_seed(0)
        x8 = torch.randint(0, 256, (BATCH, 3, size, size), generator=g, dtype=torch.uint8)
        for dtype in dtypes:
            x = (x8 if dtype == "uint8" else x8.float() / 255).to(dev)
            transform = AugMix(seed=0)
            suffix = "" if dev.type == "cpu" else f" ({dev.type})"
            fns = {f"tenfold torch AugMix (batch){suffix}": lambda t=transform, x=x: t(x)}
            if tf_layer is not None:
                xt = tf.constant(x.permute(0, 2, 3, 1).numpy())
                fns["tenfold tf AugMix layer (batch, eager)"] = lambda xt=xt: tf_layer(xt).shape
            for name, fn in fns.items():
                fn()
                sync()
                walls, cpus = [], []
                for _ in range(repeat):
                    w, c = time.perf_counter(), time.process_time()
                    fn()
                    sync()
                    walls.append(time.perf_counter() - w)
                    cpus.append(time.process_time() - c)
                rows.append({"size": size, "dtype": dtype, "variant": name, "wall": statistics.median(walls),
                             "cpu": statistics.median(cpus)})
    return rows


def _peers(py, sizes, dtypes, repeat: int, threads: int, device: str = "cpu") -> list[dict]:
    spec = json.dumps({"sizes": list(sizes), "dtypes": list(dtypes), "repeat": repeat, "threads": threads,
                       "batch": BATCH, "device": device})
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = subprocess.run([str(py), "-c", PEER_CODE, spec], capture_output=True, text=True, env=env, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"the peer worker failed under {py}:\n{proc.stderr[-2000:]}")
    return json.loads(lines[-1])["rows"]


def run(sizes=SIZES, dtypes=DTYPES, repeat: int = 3, rounds: int = 2, threads: int = 1,
        groups: tuple[str, ...] = ("torch",), peers: bool = True, device: str = "cpu") -> tuple[list[dict], list[str]]:
    """Alternate ``rounds`` of peer and tenfold measurements; keep each variant's best round (least disturbed)."""
    from tenfold import progress

    py = peers_python() if peers else None
    notes = []
    if py is None:
        notes.append("torchvision and the official PIL loop skipped: no .venv-peers (or TENFOLD_PEERS_PYTHON)"
                     if peers else "peers skipped (--no-peers)")
    best: dict = {}
    with progress.Steps("bench augmix") as say:
        for r in range(rounds):
            batches = []
            if py is not None:
                say(f"round {r + 1}/{rounds}: peers")
                batches.append(_peers(py, sizes, dtypes, repeat, threads, device))
            say(f"round {r + 1}/{rounds}: tenfold")
            batches.append(_ours(sizes, dtypes, repeat, threads, groups, device))
            for row in (row for b in batches for row in b):
                key = (row["size"], row["dtype"], row["variant"])
                if key not in best or row["cpu"] < best[key]["cpu"]:
                    best[key] = row
    return list(best.values()), notes


def report(rows: list[dict], notes: list[str], threads: int, device: str = "cpu") -> str:
    lines = [f"AugMix, batch {BATCH}, NCHW, {device}, {threads} CPU thread(s); best of the rounds by CPU time",
             f"{'px':>4} {'dtype':<8} {'variant':<42} {'ms/batch':>9} {'img/s wall':>11} {'img/s cpu':>10}"]
    for r in sorted(rows, key=lambda r: (r["size"], r["dtype"], r["variant"])):
        lines.append(f"{r['size']:>4} {r['dtype']:<8} {r['variant']:<42} {1e3 * r['wall']:>9.1f} "
                     f"{BATCH / r['wall']:>11.0f} {BATCH / r['cpu']:>10.0f}")
    by = {(r["size"], r["dtype"], r["variant"]): r for r in rows}
    for (size, dtype, variant), ours in sorted(by.items()):
        if not variant.startswith("tenfold"):
            continue
        for (s2, d2, v2), peer in sorted(by.items()):
            if (s2, d2) == (size, dtype) and not v2.startswith("tenfold"):
                lines.append(f"{size} px {dtype}: {variant} is x{peer['wall'] / ours['wall']:.1f} (wall) / "
                             f"x{peer['cpu'] / ours['cpu']:.1f} (cpu) the throughput of {v2}")
    lines += [f"note: {n}" for n in notes]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tenfold bench augmix", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, action="append", help="image size (repeatable; default 32 and 224)")
    parser.add_argument("--dtype", action="append", choices=DTYPES, help="input dtype (repeatable; default both)")
    parser.add_argument("--repeat", type=int, default=3, help="timed batches per variant and round (default 3)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating peer/tenfold rounds (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads in every process (default 1)")
    parser.add_argument("--group", action="append", choices=("torch", "tf"), help="tenfold backends (default torch)")
    parser.add_argument("--no-peers", action="store_true", help="time tenfold only")
    parser.add_argument("--device", default="cpu", help="torch device of tenfold and torchvision (cuda: the GPU "
                        "check; the official PIL loop stays on the CPU)")
    parser.add_argument("--json", help="also write the measurements to this file")
    args = parser.parse_args(argv)
    rows, notes = run(tuple(args.size or SIZES), tuple(args.dtype or DTYPES), args.repeat, args.rounds,
                      args.threads, tuple(args.group or ("torch",)), not args.no_peers, args.device)
    return emit(report(rows, notes, args.threads, args.device), {"rows": rows, "notes": notes}, args.json)


if __name__ == "__main__":
    sys.exit(main())
