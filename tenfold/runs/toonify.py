"""Toonify on digits: a StyleGAN2 trained on 0-4, fine-tuned on 5-9, blended at each resolution (one PNG sweep).

``tenfold train toonify-digits [--out-dir runs/toonify-digits] [--steps 2400] [--finetune-steps 1000]``

1. Data: scikit-learn's digits (8x8, 0..16), bilinearly resized to 16x16, scaled to [-1, 1], gray as RGB.
2. Base: :class:`tenfold.torch_backend.toonify.Generator` (``StyleGAN2Config.digits()``: 16 px, 32 channels,
   32-dim latents, 4 mapping layers) against a small equalized-lr discriminator on the digits 0-4, with the
   StyleGAN2 recipe: non-saturating logistic loss, lazy R1 on reals (every 4 steps), Adam (0, 0.99),
   lr 0.002, an exponential moving average of the generator (``g_ema``, what is sampled and blended).
3. Fine-tune: both networks continue on the digits 5-9 (Toonify's fine-tuning of FFHQ on cartoons).
4. Blend (:func:`tenfold.numpy_ref.toonify.blend`, the official hard switch): for each resolution r in
   4, 8, 16, the layers up to r come from the fine-tuned model and the finer ones from the base.
5. ``sweep.png``: row 1 the base model, then one row per switch resolution (the last, r = 16, is the
   fine-tuned model itself); columns are fixed latents ``w`` from the base model's mapping (truncation 0.7),
   fed to every row's synthesis network, as Toonify feeds a face's FFHQ latent to the blended model.

The checkpoints ``base.npz`` and ``fine.npz`` (canonical names) are written too, so that
``tenfold toonify blend --base base.npz --fine fine.npz --resolution 8 --out blended.npz`` and
``tenfold toonify sample blended.npz --out grid.png`` work on them. Runs in a few minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

NAMES = {"toonify-digits": {}}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out-dir", type=Path, default=Path("runs/toonify-digits"), help="where to write")
    parser.add_argument("--steps", type=int, default=2400, help="training steps on the digits 0-4")
    parser.add_argument("--finetune-steps", type=int, default=1000, help="fine-tuning steps on the digits 5-9")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.002)
    parser.add_argument("--r1", type=float, default=0.5, help="R1 weight gamma (applied every 4 steps, x4)")
    parser.add_argument("--columns", type=int, default=8, help="latents (columns) in the sweep")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (0: torch's default; on a shared machine 1 is fastest)")
    parser.add_argument("--log-every", type=int, default=100, help="steps between progress lines")
    parser.add_argument("--quiet", action="store_true")


def load_digits_16(classes: tuple[int, ...]) -> np.ndarray:
    """Digits of ``classes`` as ``(N, 3, 16, 16)`` float32 in [-1, 1] (bilinear 2x, gray as RGB)."""
    import torch
    import torch.nn.functional as F
    from sklearn.datasets import load_digits

    data = load_digits()
    keep = np.isin(data.target, classes)
    x = torch.from_numpy(data.images[keep].astype(np.float32) / 8.0 - 1.0)[:, None]  # (N, 1, 8, 8)
    x = F.interpolate(x, size=(16, 16), mode="bilinear", align_corners=False).clamp(-1, 1)
    return x.expand(-1, 3, -1, -1).numpy().copy()


def _discriminator(channels: int = 32):
    """A small equalized-lr discriminator (16 -> 8 -> 4, minibatch stddev, two dense layers)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    from tenfold.torch_backend.toonify.generator import EqualLinear

    class EqualConv(nn.Module):
        def __init__(self, c_in: int, c_out: int, k: int):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(c_out, c_in, k, k))
            self.bias = nn.Parameter(torch.zeros(c_out))
            self.scale, self.pad = 1 / math.sqrt(c_in * k * k), k // 2

        def forward(self, x):
            return F.leaky_relu(F.conv2d(x, self.weight * self.scale, self.bias, padding=self.pad), 0.2) * math.sqrt(2)

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            c = channels
            self.body = nn.ModuleList([EqualConv(3, c, 1), EqualConv(c, c, 3), EqualConv(c, c, 3),
                                       EqualConv(c, c, 3), EqualConv(c, c, 3)])
            self.final = EqualConv(c + 1, c, 3)
            self.fc = nn.Sequential(EqualLinear(c * 16, c, activation=(0.2, math.sqrt(2))), EqualLinear(c, 1))

        def forward(self, x):
            x = self.body[0](x)
            for i in (1, 3):  # two stages: conv, conv, 2x2 average pool (16 -> 8 -> 4)
                x = F.avg_pool2d(self.body[i + 1](self.body[i](x)), 2)
            std = x.reshape(min(4, x.shape[0]), -1, *x.shape[1:]).var(0, unbiased=False).add(1e-8).sqrt()
            std = std.mean(dim=(1, 2, 3)).reshape(-1, 1, 1, 1).repeat(min(4, x.shape[0]), 1, 4, 4)
            x = self.final(torch.cat([x, std], 1))  # minibatch stddev feature (groups of 4)
            return self.fc(x.flatten(1))

    return Discriminator()


def train_gan(g, g_ema, d, data: np.ndarray, steps: int, args: argparse.Namespace, label: str, say,
              rng: np.random.Generator) -> None:
    """The StyleGAN2 loop (logistic loss, lazy R1, EMA), on ``data``; updates the three models in place."""
    import torch
    import torch.nn.functional as F

    g_opt = torch.optim.Adam(g.parameters(), lr=args.lr, betas=(0.0, 0.99))
    d_opt = torch.optim.Adam(d.parameters(), lr=args.lr, betas=(0.0, 0.99))
    real_all = torch.from_numpy(data)
    decay = 0.5 ** (args.batch / (10 * 1000.0)) if steps > 1 else 0.0  # rosinality's accum for a 10k-image half-life
    stats: list[tuple[float, float]] = []
    for step in range(1, steps + 1):
        real = real_all[torch.from_numpy(rng.integers(0, len(data), args.batch))]
        z = torch.randn(args.batch, g.config.style_dim)
        fake = g(z, noise="random")
        d_loss = F.softplus(d(fake.detach())).mean() + F.softplus(-d(real)).mean()
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        d_opt.step()
        if step % 4 == 0 and args.r1 > 0:  # lazy R1 (every 4 steps, weight x 4)
            real.requires_grad_(True)
            (grad,) = torch.autograd.grad(d(real).sum(), real, create_graph=True)
            r1 = grad.pow(2).flatten(1).sum(1).mean()
            d_opt.zero_grad(set_to_none=True)
            (args.r1 / 2 * r1 * 4).backward()
            d_opt.step()
            real.requires_grad_(False)
        z = torch.randn(args.batch, g.config.style_dim)
        g_loss = F.softplus(-d(g(z, noise="random"))).mean()
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        with torch.no_grad():
            for pe, p in zip(g_ema.parameters(), g.parameters(), strict=True):
                pe.mul_(decay).add_(p, alpha=1 - decay)
        stats.append((d_loss.item(), g_loss.item()))
        if step % args.log_every == 0 or step == steps:
            dl, gl = np.mean(stats, axis=0)
            stats.clear()
            say(f"{label} step {step}/{steps}: D loss {dl:.3f}, G loss {gl:.3f}")


def run(args: argparse.Namespace) -> int:
    """Needs PyTorch and scikit-learn (``tenfold[torch,data]``); ``tenfold`` names a missing one."""
    from tenfold import progress

    with progress.Steps("toonify-digits", mode="none" if args.quiet else None) as say:
        return _run(args, say)


def _run(args: argparse.Namespace, say) -> int:
    import copy

    import torch

    from tenfold.commands.toonify import image_grid, write_png
    from tenfold.numpy_ref import toonify as ref
    from tenfold.spec import toonify as spec
    from tenfold.torch_backend import toonify as tb

    start = time.perf_counter()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    config = spec.StyleGAN2Config.digits()
    base_data, fine_data = load_digits_16((0, 1, 2, 3, 4)), load_digits_16((5, 6, 7, 8, 9))
    say(f"digits 0-4: {len(base_data)} images, 5-9: {len(fine_data)} images, 16x16; generator "
        f"{spec.num_params(config)} parameters")
    g, d = tb.Generator(config), _discriminator()
    g_ema = copy.deepcopy(g).eval()
    for p in g_ema.parameters():
        p.requires_grad_(False)
    train_gan(g, g_ema, d, base_data, args.steps, args, "base (0-4)", say, rng)
    base = tb.get_params(g_ema)
    train_gan(g, g_ema, d, fine_data, args.finetune_steps, args, "fine-tune (5-9)", say, rng)
    fine = tb.get_params(g_ema)
    for params in (base, fine):
        params["latent_avg"] = ref.mean_latent(params, config).astype(np.float32)
    out = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    ref.save_checkpoint(base, out / "base.npz")
    ref.save_checkpoint(fine, out / "fine.npz")

    # the sweep: fixed W latents from the base model, every row's synthesis network
    z = np.random.default_rng(args.seed + 1).standard_normal((args.columns, config.style_dim))
    w = ref.mapping(z, base, config)
    w = base["latent_avg"] + 0.7 * (w - base["latent_avg"])
    rows = [("base (0-4)", base)] + [(f"layers up to {r}x{r} from the fine-tuned model", ref.blend(
        fine, base, r)) for r in config.resolutions]
    images = []
    for label, params in rows:
        model = tb.load_params(tb.Generator(config), params).eval()
        with torch.no_grad():
            images.append(model(torch.from_numpy(w.astype(np.float32)), input_is_latent=True).numpy())
        say(f"row {len(images)}: {label}")
    path = write_png(out / "sweep.png", image_grid(np.concatenate(images), ncol=args.columns, scale=4))
    print(f"wrote {path} in {time.perf_counter() - start:.0f} s; rows: " + "; ".join(label for label, _ in rows))
    print(f"checkpoints: {out / 'base.npz'}, {out / 'fine.npz'}")
    return 0


__all__ = ["NAMES", "add_arguments", "load_digits_16", "run", "train_gan"]
