"""Benchmark of CR-GAN: the cost of each consistency regulariser against the plain GAN step and its extra passes.

One training step (D step + Adam, G step + Adam) of the SNDCGAN-style networks,
for the plain GAN, CR, bCR, zCR and bCR+zCR, and the unit costs of the network
passes a regulariser adds (measured the same run, the same batch):

* ``D``: one discriminator forward + backward (spectral norm included);
* ``G0``: one generator forward without gradients (the fakes of the D step);
* ``G``: one generator forward + backward;
* ``T``: one application of the transform (flip + shift) to the batch.

A regulariser's extra passes per step are: CR ``D + T``; bCR ``2 D + 2 T``;
zCR ``G0 + D`` (D step) ``+ G`` (G step); bCR+zCR the sum. The report gives
each variant's step time, its ratio to the plain step, the time its extra
passes predict (plain + extra passes) and measured / predicted: 1.0 means the
regulariser costs exactly its passes, more means overhead beyond them (the
penalty, loss bookkeeping, optimizer). One row times the plain step with
PyTorch's own ``torch.nn.utils.spectral_norm`` discriminator, the peer of
tenfold's spectral-norm layer (both one power iteration per call).

Medians over ``--repeat`` timings of ``--inner`` steps, all variants
round-robin in one process so they see the same machine load. Run with
``tenfold bench crgan`` (``--threads 1``, the default, gives stable figures on
a shared machine; ``--config sndcgan`` for Miyato's 32x32 sizes at a quarter
width).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from .common import emit

VARIANTS = ("plain", "cr", "bcr", "zcr", "bcr+zcr")
EXTRA = {"plain": {}, "cr": {"D": 1, "T": 1}, "bcr": {"D": 2, "T": 2}, "zcr": {"G0": 1, "D": 1, "G": 1},
         "bcr+zcr": {"D": 3, "T": 2, "G0": 1, "G": 1}}


def _configs(name: str):
    from tenfold.spec import crgan as spec

    if name == "digits":
        nets = spec.GANConfig.digits()
    else:  # Miyato's 32x32 standard CNN at a quarter of its widths (CPU-sized)
        nets = spec.GANConfig(z_dim=128, image_channels=3, bottom=4, g_channels=(128, 64, 32, 16),
                              d_channels=(16, 32, 64, 128))
    cr = {"plain": spec.CRConfig.none(), "cr": spec.CRConfig.cr(), "bcr": spec.CRConfig.bcr(),
          "zcr": spec.CRConfig.zcr(), "bcr+zcr": spec.CRConfig.icr()}
    return {v: spec.TrainConfig(cr=cr[v], transform=spec.TransformConfig.studiogan(), nets=nets) for v in VARIANTS}


def _torch_sn_discriminator(config):
    """The same discriminator with ``torch.nn.utils.spectral_norm`` layers (the peer)."""
    import torch
    from torch import nn

    from tenfold.spec.crgan import nets as spec

    sn = lambda m: nn.utils.spectral_norm(m, n_power_iterations=config.sn_power_iterations,  # noqa: E731
                                          eps=config.sn_eps)
    layers = []
    for layer in spec.discriminator_layers(config):
        layers += [sn(nn.Conv2d(layer.c_in, layer.c_out, layer.kernel, layer.stride, layer.padding)),
                   nn.LeakyReLU(config.lrelu_slope)]
    return nn.Sequential(*layers, nn.Flatten(), sn(nn.Linear(spec.d_features(config), 1))).to(torch.float32)


def measure(config_name: str, batch: int, repeat: int, inner: int, threads: int) -> dict:
    import numpy as np
    import torch

    from tenfold.numpy_ref.crgan import init_params
    from tenfold.torch_backend import crgan as tb
    from tenfold.torch_backend.losses import gan_discriminator_loss, gan_generator_loss

    torch.set_num_threads(threads)
    configs = _configs(config_name)
    nets = configs["plain"].nets
    x = torch.rand(batch, *nets.image_shape) * 2 - 1
    gen = torch.Generator().manual_seed(0)
    steps = {}
    for v, config in configs.items():
        g, d = tb.build(nets, init_params(nets, np.random.default_rng(0)))
        opt_g, opt_d = (torch.optim.Adam(m.parameters(), 2e-4, betas=(0.5, 0.999)) for m in (g, d))

        def step(g=g, d=d, opt_g=opt_g, opt_d=opt_d, config=config):
            tb.d_step(d, g, x, tb.sample_d_draws(batch, config, generator=gen), config)
            opt_d.step()
            tb.g_step(g, d, tb.sample_g_draws(batch, config, generator=gen), config)
            opt_g.step()
        steps[v] = step

    # the peer: the plain step with torch.nn.utils.spectral_norm in D (same call order and losses)
    g, _ = tb.build(nets, init_params(nets, np.random.default_rng(0)))
    dp = _torch_sn_discriminator(nets)
    opt_g, opt_d = (torch.optim.Adam(m.parameters(), 2e-4, betas=(0.5, 0.999)) for m in (g, dp))

    def peer_step():
        with torch.no_grad():
            fake = g(torch.randn(batch, nets.z_dim, generator=gen))
        opt_d.zero_grad()
        gan_discriminator_loss(dp(x), dp(fake)).backward()
        opt_d.step()
        opt_g.zero_grad()
        for p in dp.parameters():
            p.requires_grad_(False)
        gan_generator_loss(dp(g(torch.randn(batch, nets.z_dim, generator=gen)))).backward()
        for p in dp.parameters():
            p.requires_grad_(True)
        opt_g.step()
    steps["plain (torch spectral_norm D)"] = peer_step

    # unit costs of the passes a regulariser adds
    g, d = tb.build(nets, init_params(nets, np.random.default_rng(0)))
    draw = tb.transform.sample_tensors(batch, nets.image_size, nets.image_size, configs["cr"].transform, None, gen)

    def unit_d():
        d.zero_grad()
        d(x).sum().backward()

    def unit_g0():
        with torch.no_grad():
            g(torch.randn(batch, nets.z_dim, generator=gen))

    def unit_g():
        g.zero_grad()
        g(torch.randn(batch, nets.z_dim, generator=gen)).sum().backward()
    units = {"D": unit_d, "G0": unit_g0, "G": unit_g, "T": lambda: draw(x)}

    fns = {**steps, **{f"unit {k}": f for k, f in units.items()}}
    for f in fns.values():  # warm-up
        f()
        f()
    times = {k: [] for k in fns}
    for _ in range(repeat):  # round-robin: every variant sees the same load
        for k, f in fns.items():
            start = time.perf_counter()
            for _ in range(inner):
                f()
            times[k].append((time.perf_counter() - start) / inner)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"config": config_name, "batch": batch, "threads": threads, "image": list(nets.image_shape),
            "seconds": med}


def report(m: dict) -> str:
    s = m["seconds"]
    plain = s["plain"]
    unit = {k: s[f"unit {k}"] for k in ("D", "G0", "G", "T")}
    lines = [f"crgan step time ({m['config']}, image {tuple(m['image'])}, batch {m['batch']}, torch CPU, "
             f"{m['threads']} thread(s)); one step = D step + G step + two Adam updates",
             f"unit passes: D fwd+bwd {unit['D'] * 1e3:.2f} ms, G fwd {unit['G0'] * 1e3:.2f} ms, "
             f"G fwd+bwd {unit['G'] * 1e3:.2f} ms, T {unit['T'] * 1e3:.2f} ms",
             f"{'variant':<30} {'ms/step':>8} {'x plain':>8} {'extra passes':<18} {'predicted':>9} "
             f"{'measured/predicted':>18}"]
    for v in VARIANTS:
        extra = EXTRA[v]
        predicted = plain + sum(unit[k] * n for k, n in extra.items())
        passes = " + ".join(f"{n} {k}" if n > 1 else k for k, n in extra.items()) or "-"
        lines.append(f"{v:<30} {s[v] * 1e3:>8.2f} {s[v] / plain:>8.2f} {passes:<18} {predicted * 1e3:>9.2f} "
                     f"{s[v] / predicted:>18.2f}")
    peer = "plain (torch spectral_norm D)"
    lines.append(f"{peer:<30} {s[peer] * 1e3:>8.2f} {s[peer] / plain:>8.2f}   "
                 f"(tenfold plain / torch-SN plain = {plain / s[peer]:.2f})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tenfold bench crgan", description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=("digits", "sndcgan"), default="digits",
                        help="networks: the 8x8 digits ones (default) or Miyato's 32x32 at a quarter width")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--inner", type=int, default=5, help="steps per timing (default 5)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--json", help="also write the measurements to this file")
    args = parser.parse_args(argv)
    m = measure(args.config, args.batch, args.repeat, args.inner, args.threads)
    return emit(report(m), m, args.json)


if __name__ == "__main__":
    sys.exit(main())
