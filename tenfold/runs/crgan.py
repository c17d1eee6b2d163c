"""CR-GAN on scikit-learn's digits: the plain GAN, CR and bCR+zCR, several seeds, one quality table.

``tenfold train crgan-digits [--backend torch|tf] [--steps N] [--seeds K] [--out DIR]``

Trains the 8x8 SNDCGAN-style networks of :meth:`tenfold.spec.crgan.GANConfig.digits`
on the 1797 images of ``sklearn.datasets.load_digits`` (pixels 0..16 scaled to
[-1, 1], no resizing) with three regularisers at one fixed step budget:

* ``baseline``: the non-saturating GAN with spectral norm, no consistency term;
* ``cr``: CR of Zhang et al. (real images, lambda 10);
* ``bcr+zcr``: ICR of Zhao et al. (lambda_real = lambda_fake = 10, lambda_dis = 5,
  lambda_gen = 0.5, sigma 0.03).

T is a shift of up to 1 pixel with reflect padding and **no flip** (digits are
not mirror-symmetric; ``TransformConfig.translate_only``). Adam, lr 2e-4,
betas (0.5, 0.999) (DCGAN, Radford et al. 2016, Sec. 4), one D step per G step.

Quality is the **Frechet distance in the feature space of a small digits
classifier** trained in the same command (a CNN, its 64-unit penultimate layer,
its held-out accuracy printed): ``||mu_r - mu_g||^2 + tr(S_r + S_g - 2 (S_r S_g)^(1/2))``
between the 1797 real images and 1797 samples. **It is not the Inception FID**:
the numbers are comparable with each other, within one run, and nowhere else.
The table also gives the distance between the classifier's own train and test
splits as a floor of what two real samples score.

Writes to ``--out``: ``results.json`` (every run's distance, losses and time per
step), ``table.txt`` and one PNG grid of samples per variant (``samples-<variant>.png``,
first seed) beside ``real.png``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

NAMES = {"crgan-digits": {}}

VARIANTS = ("baseline", "cr", "bcr+zcr")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=("torch", "tf"), default="torch", help="framework (default torch)")
    parser.add_argument("--steps", type=int, default=600, help="D+G steps per run (default 600)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per variant (default 3)")
    parser.add_argument("--batch", type=int, default=64, help="batch size (default 64)")
    parser.add_argument("--lr", type=float, default=2e-4, help="Adam learning rate of D and G (default 2e-4)")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="comma-separated subset of " + ", ".join(VARIANTS))
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads of the framework (default 1: more oversubscribe a shared machine)")
    parser.add_argument("--out", default="crgan-digits-out", help="output folder (default ./crgan-digits-out)")


def variant_config(name: str):
    """The :class:`~tenfold.spec.crgan.TrainConfig` of one variant."""
    from tenfold.spec import crgan as spec

    cr = {"baseline": spec.CRConfig.none(), "cr": spec.CRConfig.cr(), "bcr+zcr": spec.CRConfig.icr()}[name]
    return spec.TrainConfig.digits().replace(cr=cr)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """``(images (1797, 1, 8, 8) in [-1, 1] float32, labels)`` from scikit-learn."""
    from sklearn.datasets import load_digits as _load

    data = _load()
    return (data.images[:, None] / 8.0 - 1.0).astype(np.float32), data.target.astype(np.int64)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (rows are samples), in float64.

    ``tr((S_a S_b)^(1/2)) = tr((S_a^(1/2) S_b S_a^(1/2))^(1/2))``, both square roots of
    symmetric PSD matrices through ``eigh`` (negative round-off eigenvalues clipped).
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))

    def sqrtm(m: np.ndarray) -> np.ndarray:
        w, v = np.linalg.eigh((m + m.T) / 2)
        return (v * np.sqrt(np.clip(w, 0, None))) @ v.T

    r = sqrtm(s_a)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(r @ s_b @ r), 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * cross)


def grid(images: np.ndarray, rows: int = 8, cols: int = 8, scale: int = 4, label: str = "") -> np.ndarray:
    """A uint8 grey picture of ``rows x cols`` images in [-1, 1] (NCHW, one channel), each ``scale`` x enlarged."""
    from tenfold.png import draw_text, text_size

    n, _, h, w = images.shape
    pad, top = 2, (12 if label else 0)
    out = np.full((top + rows * (h * scale + pad) + pad, cols * (w * scale + pad) + pad), 255, np.uint8)
    for k in range(min(n, rows * cols)):
        r, c = divmod(k, cols)
        tile = np.kron((np.clip(images[k, 0], -1, 1) + 1) * 127.5, np.ones((scale, scale))).astype(np.uint8)
        y, x = top + pad + r * (h * scale + pad), pad + c * (w * scale + pad)
        out[y:y + h * scale, x:x + w * scale] = 255 - tile  # dark strokes on white
    if label:
        rgb = np.repeat(out[:, :, None], 3, axis=2)
        draw_text(rgb, max((out.shape[1] - text_size(label)[0]) // 2, 0), 3, label, (0, 0, 0))
        return rgb
    return out


# -- the two backends -----------------------------------------------------------

class _Torch:
    def __init__(self, threads: int):
        import torch

        torch.set_num_threads(threads)
        self.torch = torch

    def classifier(self, x: np.ndarray, y: np.ndarray, seed: int):
        """Train the feature CNN; return ``features(images) -> (N, 64)`` and its held-out accuracy."""
        torch, nn = self.torch, self.torch.nn
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Conv2d(1, 16, 3, 1, 1), nn.ReLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU(),
                            nn.Flatten(), nn.Linear(32 * 16, 64), nn.ReLU(), nn.Linear(64, 10))
        train, test = _split(len(x), seed)
        opt = torch.optim.Adam(net.parameters(), 1e-3)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        rng = np.random.default_rng(seed)
        for _ in range(30):
            for idx in np.array_split(rng.permutation(train), len(train) // 64):
                opt.zero_grad()
                nn.functional.cross_entropy(net(xt[idx]), yt[idx]).backward()
                opt.step()
        net.eval()
        with torch.no_grad():
            acc = float((net(xt[test]).argmax(1) == yt[test]).float().mean())
        features = net[:-1]
        return (lambda imgs: features(torch.from_numpy(np.ascontiguousarray(imgs))).detach().numpy()), acc, train, test

    def gan(self, config, x: np.ndarray, steps: int, batch: int, lr: float, seed: int, tick):
        """Train one GAN; return ``(sample(n) -> images, mean losses of the last 100 steps, seconds per step)``."""
        from tenfold.numpy_ref.crgan import init_params
        from tenfold.torch_backend import crgan as tb

        torch = self.torch
        g, d = tb.build(config.nets, init_params(config.nets, np.random.default_rng(seed)))
        opt_g = torch.optim.Adam(g.parameters(), lr, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(d.parameters(), lr, betas=(0.5, 0.999))
        gen = torch.Generator().manual_seed(seed)
        rng, xt, hist = np.random.default_rng(seed), torch.from_numpy(x), []
        start = time.perf_counter()
        for _ in range(steps):
            real = xt[rng.choice(len(x), batch, replace=False)]
            dl = tb.d_step(d, g, real, tb.sample_d_draws(batch, config, generator=gen), config)
            opt_d.step()
            gl = tb.g_step(g, d, tb.sample_g_draws(batch, config, generator=gen), config)
            opt_g.step()
            hist.append((float(dl["total"]), float(gl["total"])))
            tick()
        per_step = (time.perf_counter() - start) / steps
        g.eval()

        def sample(n: int) -> np.ndarray:
            with torch.no_grad():
                return g(torch.randn(n, config.nets.z_dim, generator=gen)).numpy()
        return sample, np.mean(hist[-100:], axis=0), per_step


class _TF:
    def __init__(self, threads: int):
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        self.tf = tf

    def classifier(self, x: np.ndarray, y: np.ndarray, seed: int):
        import keras

        tf = self.tf
        keras.utils.set_random_seed(seed)
        feats = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
                                  keras.layers.ZeroPadding2D(1), keras.layers.Conv2D(32, 3, 2, activation="relu"),
                                  keras.layers.Flatten(), keras.layers.Dense(64, activation="relu")])
        head = keras.layers.Dense(10)
        train, test = _split(len(x), seed)
        xn = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        opt = keras.optimizers.Adam(1e-3)
        variables = None

        @tf.function
        def step(xb, yb):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(yb, head(feats(xb)),
                                                                                    from_logits=True))
            grads = tape.gradient(loss, variables)
            opt.apply_gradients(zip(grads, variables, strict=True))

        head.build((None, 64))
        variables = feats.trainable_variables + head.trainable_variables
        rng = np.random.default_rng(seed)
        for _ in range(30):
            for idx in np.array_split(rng.permutation(train), len(train) // 64):
                step(xn[idx], y[idx])
        acc = float(np.mean(np.argmax(head(feats(xn[test])).numpy(), 1) == y[test]))
        return (lambda imgs: feats(np.ascontiguousarray(imgs.transpose(0, 2, 3, 1))).numpy()), acc, train, test

    def gan(self, config, x: np.ndarray, steps: int, batch: int, lr: float, seed: int, tick):
        import keras

        from tenfold.numpy_ref.crgan import init_params
        from tenfold.tf_backend import crgan as tb

        tf = self.tf
        g, d = tb.build(config.nets, init_params(config.nets, np.random.default_rng(seed)))
        opt_g, opt_d = keras.optimizers.Adam(lr, 0.5, 0.999), keras.optimizers.Adam(lr, 0.5, 0.999)
        gen = tf.random.Generator.from_seed(seed)

        @tf.function
        def train_step(real):
            dl, grads = tb.d_step(d, g, real, tb.sample_d_draws(batch, config, generator=gen), config)
            opt_d.apply_gradients(zip(grads, d.trainable_variables, strict=True))
            gl, grads = tb.g_step(g, d, tb.sample_g_draws(batch, config, generator=gen), config)
            opt_g.apply_gradients(zip(grads, g.trainable_variables, strict=True))
            return dl["total"], gl["total"]

        xn = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        rng, hist = np.random.default_rng(seed), []
        start = time.perf_counter()
        for _ in range(steps):
            dl, gl = train_step(tf.constant(xn[rng.choice(len(x), batch, replace=False)]))
            hist.append((float(dl), float(gl)))
            tick()
        per_step = (time.perf_counter() - start) / steps

        def sample(n: int) -> np.ndarray:
            return g(gen.normal([n, config.nets.z_dim]), training=False).numpy().transpose(0, 3, 1, 2)
        return sample, np.mean(hist[-100:], axis=0), per_step


def _split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return order[: int(0.8 * n)], order[int(0.8 * n):]


def format_table(rows: dict, floor: float, acc: float, backend: str, steps: int) -> str:
    """The per-variant table: Frechet distance mean +- standard deviation over seeds, and each seed."""
    lines = [f"crgan-digits ({backend}, {steps} steps per run): Frechet distance in a digits-classifier feature "
             f"space (64-d, held-out accuracy {acc:.3f}); NOT the Inception FID, lower is better",
             f"{'variant':<10} {'FD mean':>8} {'+- std':>7}  {'per seed':<26} {'ms/step':>8}"]
    for name, runs in rows.items():
        fd = np.array([r["fd"] for r in runs])
        ms = np.mean([r["seconds_per_step"] for r in runs]) * 1000
        lines.append(f"{name:<10} {fd.mean():>8.2f} {fd.std(ddof=1) if len(fd) > 1 else 0.0:>7.2f}  "
                     f"{', '.join(f'{v:.2f}' for v in fd):<26} {ms:>8.1f}")
    lines.append(f"{'real/real':<10} {floor:>8.2f} {'':>7}  (classifier train split vs test split)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from tenfold import progress
    from tenfold.spec.checkpoints import atomic_write
    from tenfold.spec.checkpoints.files import check_writable
    from tenfold.spec.errors import ConfigError, expected

    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    bad = [v for v in variants if v not in VARIANTS]
    if bad or not variants or args.steps < 1 or args.seeds < 1 or args.batch < 2:
        raise ConfigError(expected("crgan-digits", "variants among " + ", ".join(VARIANTS) +
                                   ", steps >= 1, seeds >= 1, batch >= 2", (bad, args.steps, args.seeds, args.batch)))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    check_writable(out / "results.json", "crgan-digits --out")
    x, y = load_digits()
    backend = _Torch(args.threads) if args.backend == "torch" else _TF(args.threads)
    with progress.Steps("crgan-digits") as say:
        say(f"training the feature classifier ({args.backend})")
        features, acc, train, test = backend.classifier(x, y, 0)
        real_f = features(x)
        floor = frechet_distance(features(x[train]), features(x[test]))
    rows: dict[str, list] = {}
    groups = {f"{v} seed {s}": args.steps for v in variants for s in range(args.seeds)}
    with progress.Progress(sum(groups.values()), "crgan-digits", groups=groups, unit="steps") as bar:
        for v in variants:
            config = variant_config(v)
            for s in range(args.seeds):
                group = f"{v} seed {s}"
                sample, losses, per_step = backend.gan(config, x, args.steps, args.batch, args.lr, s,
                                                       lambda group=group: bar.advance(group))
                fake = sample(len(x))
                rows.setdefault(v, []).append({"seed": s, "fd": frechet_distance(real_f, features(fake)),
                                               "d_loss": float(losses[0]), "g_loss": float(losses[1]),
                                               "seconds_per_step": per_step})
                if s == 0:
                    from tenfold.png import write_png

                    write_png(out / f"samples-{v.replace('+', '-')}.png", grid(fake, label=f"{v} seed 0"))
    from tenfold.png import write_png

    write_png(out / "real.png", grid(x[:64], label="real digits"))
    table = format_table(rows, floor, acc, args.backend, args.steps)
    print(table)
    record = {"backend": args.backend, "steps": args.steps, "batch": args.batch, "lr": args.lr,
              "classifier_accuracy": acc, "real_vs_real_fd": floor, "metric": "Frechet distance in the 64-d "
              "penultimate features of a digits CNN trained in this run (not Inception FID)", "runs": rows,
              "configs": {v: variant_config(v).to_dict() for v in variants}}
    atomic_write(out / "results.json", lambda fh: fh.write(json.dumps(record, indent=1).encode()))
    atomic_write(out / "table.txt", lambda fh: fh.write((table + "\n").encode()))
    return 0


__all__ = ["NAMES", "VARIANTS", "add_arguments", "format_table", "frechet_distance", "grid", "load_digits", "run",
           "variant_config"]
