"""CutMix on a small batch: the inputs, then each mixed image with its box, partner and label weight.

``tenfold show cutmix IMAGE [IMAGE ...] --out grid.png`` (every image the
same size; one image is paired with its mirror, its negative and its upside
down copy) or ``tenfold show cutmix --digits 4 --out grid.png`` (the first N
scikit-learn digits). Each input's class is its position in the batch; the
plan is drawn by :func:`tenfold.spec.cutmix.sample` from ``--seed``
(per-sample boxes with ``--granularity elem``) and executed by the NumPy reference.
"""

from __future__ import annotations

import argparse

NAMES = {"cutmix": {}}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from tenfold.spec.cutmix import GRANULARITIES, PAIRINGS, CutMixConfig

    parser.add_argument("images", nargs="*", help=".png or .npy images of one size (omit with --digits)")
    parser.add_argument("--digits", type=int, metavar="N", help="use the first N scikit-learn digits (N >= 2)")
    parser.add_argument("--out", required=True, help="the PNG file to write")
    parser.add_argument("--seed", type=int, default=0, help="seed of the plan (default 0)")
    parser.add_argument("--preset", choices=CutMixConfig.PRESETS, default="official")
    parser.add_argument("--pairing", choices=PAIRINGS, help="override the preset's pairing")
    parser.add_argument("--granularity", choices=GRANULARITIES, help="override: one box per batch or per sample")


def _batch(args) -> list:
    import numpy as np

    from tenfold.spec.errors import ShapeError, TenfoldError, expected

    from . import _grid

    if bool(args.images) == (args.digits is not None):
        raise TenfoldError(expected("tenfold show cutmix", "IMAGE paths or --digits N", "both or neither"))
    if args.digits is not None:
        if args.digits < 2:
            raise TenfoldError(expected("tenfold show cutmix --digits", "N >= 2", args.digits))
        return [_grid.digit(i) for i in range(args.digits)]
    images = [_grid.load_image(p) for p in args.images]
    if len(images) == 1:
        x = images[0]
        images = [x, x[:, :, ::-1], 255 - x, x[:, ::-1]]
    channels = max(im.shape[0] for im in images)
    images = [np.repeat(im, channels // im.shape[0], axis=0) for im in images]
    if len({im.shape for im in images}) != 1:
        raise ShapeError(expected("tenfold show cutmix", "images of one size", [im.shape for im in images]))
    return [np.ascontiguousarray(im) for im in images]


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from tenfold.numpy_ref import cutmix as ref
    from tenfold.spec import cutmix as spec

    from . import _grid

    x = np.stack(_batch(args))  # (B, C, H, W)
    b, _, h, w = x.shape
    config = spec.CutMixConfig.preset(args.preset)
    changes = {k: v for k, v in (("pairing", args.pairing), ("granularity", args.granularity)) if v is not None}
    config = config.replace(**changes) if changes else config
    plan = spec.sample(np.random.default_rng(args.seed), b, h, w, config)
    mixed, targets, lam = ref.apply(x, np.arange(b), plan, num_classes=b)
    inputs = [(x[i], [f"input {i}", f"class {i}"]) for i in range(b)]
    outputs = []
    for i in range(b):
        tile = mixed[i].copy()
        y1, y2, x1, x2 = plan.boxes[i]
        lines = [f"mixed {i}"]
        if plan.applied[i] and y1 < y2 and x1 < x2:
            lines += [f"box from {plan.partner[i]}", f"rows {y1}-{y2} cols {x1}-{x2}"]
        else:
            lines += ["empty box" if plan.applied[i] else "not mixed"]
        top = np.argsort(-targets[i])[:2]
        lines.append(" + ".join(f"{targets[i, k]:.2f}*{k}" for k in top if targets[i, k] > 0))
        outputs.append((tile, lines))
    path = _grid.save(args.out, _grid.grid([inputs, outputs]))
    print(f"wrote {path} (lam {', '.join(f'{v:.2f}' for v in lam)})")
    return 0
