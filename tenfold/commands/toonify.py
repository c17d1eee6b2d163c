"""``tenfold toonify``: blend two StyleGAN2 generators by resolution, and draw samples as a PNG grid.

``tenfold toonify blend --base A --fine B --resolution 16 [--level 0] [--width W] [--preset official|consistent]
--out C`` writes the Toonify blend of two generators of one topology (Pinkney & Adler 2020): the layers up to
the switch come from ``--fine`` (the fine-tuned model, the official ``model_1`` / "low res pkl"), the finer
layers from ``--base`` (the original, ``model_2``); the mapping network, the 4x4 conv, the noise buffers and
``latent_avg`` are ``--fine``'s, as in the official script. Without ``--width`` the switch is hard.

``tenfold toonify sample CKPT --n 16 --out grid.png [--seed 0] [--truncation 1] [--noise const|random]`` draws
``n`` images (PyTorch when installed, else NumPy; the latents come from one NumPy stream either way).

Checkpoints are ``.npz`` files of canonical (rosinality) names, or rosinality ``.pt`` files
(``{"g_ema": state_dict, "latent_avg": tensor}``, read with ``torch.load(weights_only=True)``).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

NAMES = {"toonify": {}}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    b = sub.add_parser("blend", help="blend two generators by resolution (layer swapping / interpolation)")
    b.add_argument("--base", required=True, type=Path, help="the original generator (fine layers come from it)")
    b.add_argument("--fine", required=True, type=Path,
                   help="the fine-tuned generator (coarse layers, mapping, 4x4 conv, noise, latent_avg)")
    b.add_argument("--resolution", required=True, type=int, help="switch resolution (4, 8, ... up to the models')")
    b.add_argument("--level", type=int, default=0, choices=(0, 1),
                   help="0: switch at the Const / upsampling conv; 1: at Conv1 / ToRGB (official --level)")
    b.add_argument("--width", type=float, default=None, help="logistic width (default: hard switch)")
    b.add_argument("--preset", choices=("official", "consistent"), default="official",
                   help="switch rule: 'official' (blend_models.py exactly) or 'consistent' (logistic centred "
                        "between the last kept and first taken position)")
    b.add_argument("--out", required=True, type=Path, help="output checkpoint (.npz, or .pt for rosinality's)")
    b.add_argument("--quiet", action="store_true", help="no progress lines")
    s = sub.add_parser("sample", help="draw samples of a generator as a PNG grid")
    s.add_argument("checkpoint", type=Path, help="generator checkpoint (.npz or rosinality .pt)")
    s.add_argument("--n", type=int, default=16, help="number of images")
    s.add_argument("--out", required=True, type=Path, help="PNG file")
    s.add_argument("--seed", type=int, default=0, help="seed of the latents (and noise)")
    s.add_argument("--truncation", type=float, default=1.0, help="truncation psi (needs latent_avg)")
    s.add_argument("--noise", choices=("const", "random", "zero"), default="const",
                   help="const: the checkpoint's noise buffers (randomize_noise=False); random: drawn from --seed")
    s.add_argument("--backend", choices=("auto", "torch", "numpy"), default="auto")
    s.add_argument("--scale", type=int, default=0, help="pixel repeat of each image (default: to >= 64 px)")
    s.add_argument("--quiet", action="store_true", help="no progress lines")


def run(args: argparse.Namespace) -> int:
    """Bad input raises a :class:`tenfold.spec.errors.TenfoldError`; ``tenfold`` prints it and exits 2."""
    from tenfold import progress

    with progress.Steps(f"toonify {args.action}", mode="none" if args.quiet else None) as say:
        return _blend(args, say) if args.action == "blend" else _sample(args, say)


def _blend(args: argparse.Namespace, say) -> int:
    from tenfold.numpy_ref import toonify as ref
    from tenfold.spec import toonify as spec
    say(f"reading --fine {args.fine}")
    fine, config = ref.load_checkpoint(args.fine, "tenfold toonify blend --fine")
    say(f"reading --base {args.base}")
    base, _ = ref.load_checkpoint(args.base, "tenfold toonify blend --base")
    rule = spec.BlendConfig.preset(args.preset)
    how = "hard switch" if not args.width else f"logistic of width {args.width:g}"
    say(f"blending a {config.resolution} px generator at {args.resolution} px, level {args.level} "
        f"({args.preset}, {how})")
    out = ref.blend(fine, base, args.resolution, level=args.level, width=args.width, config=rule)
    ys = spec.blend_weights(out, args.resolution, args.level, args.width, rule)
    by_pos = {spec.position_of(name): y for name, y in ys.items() if y is not None}
    say(f"writing {args.out}")
    path = ref.save_checkpoint(out, args.out)
    print("position  layer              weight of --base  weight of --fine")
    for pos in sorted(by_pos):
        r, level = 4 * 2 ** (pos // 2), pos % 2
        kind = ("Const" if r == 4 else "Conv0_up") if level == 0 else "Conv1 + ToRGB" if r > 4 else "ToRGB"
        print(f"{pos:>8}  {f'{r}x{r} {kind}':<17}  {by_pos[pos]:>16.4f}  {1 - by_pos[pos]:>16.4f}")
    print(f"never blended (from --fine): the mapping, the 4x4 conv, noise buffers, latent_avg; wrote {path}")
    return 0


def _sample(args: argparse.Namespace, say) -> int:
    from tenfold.numpy_ref import toonify as ref
    from tenfold.spec import toonify as spec
    from tenfold.spec.errors import ConfigError, expected
    if args.n < 1:
        raise ConfigError(expected("tenfold toonify sample --n", "at least 1 image", args.n))
    say(f"reading {args.checkpoint}")
    params, config = ref.load_checkpoint(args.checkpoint, "tenfold toonify sample")
    rng = np.random.default_rng(args.seed)
    z = rng.standard_normal((args.n, config.style_dim))
    noise = list(spec.sample_noise(rng, config, args.n).noises) if args.noise == "random" else args.noise
    backend = args.backend
    if backend == "auto":
        import importlib.util

        backend = "torch" if importlib.util.find_spec("torch") else "numpy"
    say(f"drawing {args.n} images of {config.resolution} px with {backend}")
    if backend == "torch":
        images = _torch_images(params, config, z, args.truncation, noise)
    else:
        images = ref.generate(z, params, config, truncation=args.truncation, noise=noise)
    scale = args.scale or max(1, math.ceil(64 / config.resolution))
    say(f"writing {args.out}")
    path = write_png(args.out, image_grid(images, scale=scale))
    print(f"wrote {path}: {args.n} images of {config.resolution} px (seed {args.seed}, truncation "
          f"{args.truncation:g}, noise {args.noise})")
    return 0


def _torch_images(params, config, z, truncation, noise) -> np.ndarray:
    import torch

    from tenfold.torch_backend import toonify as tb

    model = tb.load_params(tb.Generator(config), params).eval()
    if not isinstance(noise, str):
        noise = [torch.from_numpy(n.astype(np.float32)) for n in noise]
    out = []
    with torch.no_grad():
        for i in range(0, len(z), 16):
            out.append(model(torch.from_numpy(z[i:i + 16].astype(np.float32)), truncation=truncation,
                             noise=noise if isinstance(noise, str) else [n[i:i + 16] for n in noise]).numpy())
    return np.concatenate(out).astype(np.float64)


# -- pictures -----------------------------------------------------------------------------------


def to_uint8(images: np.ndarray) -> np.ndarray:
    """``(N, 3, H, W)`` images in [-1, 1] -> ``(N, H, W, 3)`` uint8 (rosinality ``save_image(range=(-1, 1))``)."""
    return np.clip(np.rint((np.asarray(images) + 1.0) * 127.5), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)


def image_grid(images: np.ndarray, ncol: int | None = None, scale: int = 1, gap: int = 2,
               background: int = 255) -> np.ndarray:
    """Tile ``(N, 3, H, W)`` images in [-1, 1] into one ``(H', W', 3)`` uint8 picture, ``ncol`` per row."""
    tiles = to_uint8(images)
    if scale > 1:
        tiles = tiles.repeat(scale, axis=1).repeat(scale, axis=2)
    n, h, w, _ = tiles.shape
    ncol = ncol or math.ceil(math.sqrt(n))
    nrow = math.ceil(n / ncol)
    grid = np.full((nrow * (h + gap) + gap, ncol * (w + gap) + gap, 3), background, np.uint8)
    for i in range(n):
        r, c = divmod(i, ncol)
        grid[gap + r * (h + gap):gap + r * (h + gap) + h, gap + c * (w + gap):gap + c * (w + gap) + w] = tiles[i]
    return grid


def write_png(path: str | Path, rgb: np.ndarray) -> Path:
    """Write an ``(H, W, 3)`` uint8 picture as PNG, atomically (:func:`tenfold.png.write_png`)."""
    from tenfold.png import write_png as _write

    return _write(path, np.ascontiguousarray(rgb, dtype=np.uint8))


__all__ = ["NAMES", "add_arguments", "image_grid", "run", "to_uint8", "write_png"]
