"""AugMix on one image: the original, every chain and the mix, with each chain's ops and levels under its tile.

``tenfold show augmix IMAGE --out grid.png`` (IMAGE: .png, or .npy of uint8 or
[0, 1] floats) or ``tenfold show augmix --digits 3 --out grid.png`` (a
scikit-learn digit). The plan is drawn by :func:`tenfold.spec.augmix.sample`
from ``--seed`` and executed by the NumPy reference (``--backend torch`` or
``tf`` runs that backend instead; the pixels are the same).
"""

from __future__ import annotations

import argparse

NAMES = {"augmix": {}}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from tenfold.spec.augmix import AugMixConfig

    parser.add_argument("image", nargs="?", help="a .png or .npy image (omit with --digits)")
    parser.add_argument("--digits", type=int, metavar="INDEX", help="use scikit-learn digit INDEX as the image")
    parser.add_argument("--out", required=True, help="the PNG file to write")
    parser.add_argument("--seed", type=int, default=0, help="seed of the plan (default 0)")
    parser.add_argument("--preset", choices=AugMixConfig.PRESETS, default="official",
                        help="AugMixConfig preset (default official)")
    parser.add_argument("--severity", type=int, help="override the preset's severity (1-10)")
    parser.add_argument("--width", type=int, help="override the number of chains")
    parser.add_argument("--all-ops", action="store_true", help="also color, contrast, brightness, sharpness")
    parser.add_argument("--backend", choices=("numpy", "torch", "tf"), default="numpy")


def _chains_and_mix(backend: str, plan, x):
    if backend == "torch":
        import torch

        from tenfold.torch_backend import augmix as tb

        mixed, chains = tb.augmix_apply(torch.from_numpy(x), plan, out_dtype=torch.uint8, return_chains=True)
        return chains.numpy(), mixed.numpy()
    if backend == "tf":
        import tensorflow as tf

        from tenfold.tf_backend import augmix as tfb

        mixed, chains = tfb.augmix_apply(tf.constant(x.transpose(0, 2, 3, 1)), plan, out_dtype=tf.uint8,
                                         return_chains=True)
        return chains.numpy().transpose(0, 1, 4, 2, 3), mixed.numpy().transpose(0, 3, 1, 2)
    from tenfold.numpy_ref import augmix as ref

    return ref.chains(plan, x), ref.apply(plan, x, out_dtype="uint8")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from tenfold.spec import augmix as spec
    from tenfold.spec.errors import TenfoldError, expected

    from . import _grid

    if (args.image is None) == (args.digits is None):
        raise TenfoldError(expected("tenfold show augmix", "one IMAGE or --digits INDEX", "both or neither"))
    x = _grid.digit(args.digits) if args.digits is not None else _grid.load_image(args.image)
    config = spec.AugMixConfig.preset(args.preset)
    changes = {k: v for k, v in (("severity", args.severity), ("width", args.width)) if v is not None}
    if args.all_ops:
        changes["all_ops"] = True
    config = config.replace(**changes) if changes else config
    _, h, w = x.shape
    plan = spec.sample(np.random.default_rng(args.seed), 1, h, w, config)
    chains, mixed = _chains_and_mix(args.backend, plan, x[None])
    tiles = [(x, ["original", f"{w}x{h} seed {args.seed}"])]
    for j in range(plan.num_chains):
        lines = [f"chain {j + 1}  w={plan.chain_weights[0][j]:.2f}"]
        lines += plan.describe(0, j).split(", ")
        tiles.append((chains[0, j], lines))
    tiles.append((mixed[0], ["mix", f"m={plan.mix_weight[0]:.2f}", f"severity {config.severity}"]))
    path = _grid.save(args.out, _grid.grid([tiles]))
    print(f"wrote {path}")
    return 0
