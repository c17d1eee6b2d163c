"""Conformance of the StyleGAN2 generator and its pieces (see :mod:`tenfold.spec.toonify.generator`).

Pieces: the modulated conv with and without demodulation (3x3, 1x1, and the
upsampling conv with its blur; odd, non-square inputs; batch 1), ``upfirdn2d``
(up 2, down 2, a cropping negative pad, asymmetric taps so that a missing flip
shows), and the toRGB layer with its upsampled skip. Whole generators at 8-32 px
with tiny widths: ``z`` input with the constant noise buffers, a fixed
:class:`~tenfold.spec.toonify.NoisePlan` with truncation, W+ input with zero
noise at batch 1, and one case with every option non-default. Parameters are
``init_params`` draws with the zero-initialised biases and noise strengths
made non-zero, so every path carries signal.

Suites: numpy_ref in float32; PyTorch and TensorFlow (eager and
``tf.function``) in float32 and float64 against numpy_ref in float64;
gradients of ``sum(w * image)`` in float64 against central differences of the
reference (w.r.t. every latent entry, and the trainable parameters along random
directions); TensorFlow gradients against PyTorch's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tenfold.numpy_ref import toonify as ref
from tenfold.numpy_ref.layers.upfirdn import upfirdn2d
from tenfold.spec import toonify as spec
from tenfold.spec.toonify.generator import StyleGAN2Config, SynthLayer

from ..case import Case
from ..dtypes import round_to

METHOD = "toonify"
F32_64 = ("float32", "float64")


@dataclass(frozen=True)
class Piece:
    """One piece case: the op, its options and its input shapes."""

    op: str  # "modconv", "upfirdn", "torgb"
    x: tuple[int, ...]
    weight: tuple[int, ...] = ()
    demodulate: bool = True
    upsample: bool = False
    up: int = 1
    down: int = 1
    pad: tuple[int, int] = (0, 0)
    taps: int = 4


PIECES: dict[str, Piece] = {
    "modconv-demod": Piece("modconv", (2, 4, 5, 7), (1, 3, 4, 3, 3)),
    "modconv-nodemod-1x1": Piece("modconv", (2, 4, 5, 7), (1, 3, 4, 1, 1), demodulate=False),
    "modconv-up": Piece("modconv", (2, 4, 5, 6), (1, 3, 4, 3, 3), upsample=True, pad=(1, 1)),
    "modconv-up-nodemod-batch1": Piece("modconv", (1, 3, 3, 5), (1, 2, 3, 3, 3), demodulate=False, upsample=True,
                                       pad=(1, 1)),
    "upfirdn-up2": Piece("upfirdn", (2, 3, 5, 7), up=2, pad=(2, 1)),
    "upfirdn-down2": Piece("upfirdn", (2, 3, 8, 9), down=2, pad=(1, 2), taps=3),
    "upfirdn-crop": Piece("upfirdn", (1, 2, 6, 5), up=2, pad=(-1, 0), taps=2),
    "torgb-skip": Piece("torgb", (2, 4, 8, 8), (1, 3, 4, 1, 1), demodulate=False, pad=(2, 1)),
}

_TINY = StyleGAN2Config.tiny()
_NONDEFAULT = StyleGAN2Config(resolution=32, style_dim=5, n_mlp=3, channel_multiplier=1, channel_max=6, lr_mlp=0.1,
                              blur_kernel=(1, 2, 1), negative_slope=0.1, act_gain=1.5, pixel_norm_eps=1e-4,
                              demod_eps=1e-3)
_GRAD = StyleGAN2Config(resolution=8, style_dim=4, n_mlp=1, channel_max=4)


@dataclass(frozen=True)
class Gen:
    """One generator case: config, batch, input kind, truncation and noise mode."""

    config: StyleGAN2Config
    batch: int
    latent: str = "z"  # "z", "w+"
    truncation: float = 1.0
    noise: str = "const"  # "const", "zero", "plan", "plan1" (one noise image broadcast over the batch)


GENS: dict[str, Gen] = {
    "gen-z": Gen(_TINY, 3),
    "gen-plan-trunc": Gen(_TINY, 2, truncation=0.7, noise="plan"),
    "gen-wplus-batch1": Gen(_TINY.replace(resolution=8), 1, latent="w+", noise="zero"),
    "gen-nondefault": Gen(_NONDEFAULT, 2, latent="w+", truncation=1.3, noise="plan1"),
    "grad-gen": Gen(_GRAD, 2, truncation=0.8, noise="plan"),
}
FORWARD = ("gen-z", "gen-plan-trunc", "gen-wplus-batch1", "gen-nondefault")
GRAD = ("grad-gen",)
GRAD_PIECES = ("modconv-up", "upfirdn-up2", "torgb-skip")
_P, _N = "param:", "noise:"


def _perturbed_params(config: StyleGAN2Config, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``init_params`` with the zero / one initial values moved, so every term of the forward pass is active."""
    p = ref.init_params(config, rng)
    for name, v in p.items():
        if name.endswith("noise.weight") or name.endswith("activate.bias") or name.endswith(("to_rgb1.bias",)) or (
                name.startswith("to_rgbs.") and name.endswith(".bias") and "modulation" not in name):
            p[name] = 0.5 * rng.standard_normal(v.shape)
        elif name.endswith("modulation.bias"):
            p[name] = 1.0 + 0.3 * rng.standard_normal(v.shape)
        elif name.startswith("style.") and name.endswith(".bias"):
            p[name] = 0.3 * rng.standard_normal(v.shape) / config.lr_mlp
        elif name == "latent_avg":
            p[name] = 0.5 * rng.standard_normal(v.shape)
    return p


def make_piece_case(name: str, seed: int, index: int) -> Case:
    piece, rng = PIECES[name], np.random.default_rng([seed, index])
    inputs = {"x": rng.standard_normal(piece.x), "kernel": rng.uniform(0.2, 1.5, (piece.taps, piece.taps))}
    if piece.op != "upfirdn":
        inputs["weight"] = rng.standard_normal(piece.weight)
        inputs["style"] = 1.0 + 0.5 * rng.standard_normal((piece.x[0], piece.x[1]))
    if piece.op == "torgb":
        d = 5
        n, c, h, w = piece.x
        inputs.update(w=rng.standard_normal((n, d)), mod_weight=rng.standard_normal((c, d)),
                      mod_bias=1.0 + 0.3 * rng.standard_normal(c), bias=rng.standard_normal((1, 3, 1, 1)),
                      skip=rng.standard_normal((n, 3, h // 2, w // 2)))
    inputs["cot"] = rng.standard_normal(_piece_ref(inputs, piece).shape)
    return Case(METHOD, name, seed, inputs)


def make_gen_case(name: str, seed: int, index: int) -> Case:
    g, rng = GENS[name], np.random.default_rng([seed, index])
    c = g.config
    params = _perturbed_params(c, rng)
    shape = (g.batch, c.n_latent, c.style_dim) if g.latent == "w+" else (g.batch, c.style_dim)
    inputs = {"x": rng.standard_normal(shape), **{_P + k: v for k, v in params.items()}}
    if g.noise.startswith("plan"):
        plan = spec.sample_noise(rng, c, g.batch if g.noise == "plan" else 1)
        inputs.update({f"{_N}{k}": a for k, a in enumerate(plan.noises)})
    inputs["cot"] = rng.standard_normal((g.batch, 3, c.resolution, c.resolution))
    return Case(METHOD, name, seed, inputs)


# -- reference ---------------------------------------------------------------------------------


def _torgb_layer(piece: Piece) -> tuple[SynthLayer, StyleGAN2Config]:
    c = piece.x[1]
    return SynthLayer("to_rgbs.0", "torgb", c, 3, piece.x[2], True, 0, None), StyleGAN2Config(style_dim=5,
                                                                                              resolution=8)


def _torgb_params(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"to_rgbs.0.conv.weight": inputs["weight"], "to_rgbs.0.conv.modulation.weight": inputs["mod_weight"],
            "to_rgbs.0.conv.modulation.bias": inputs["mod_bias"], "to_rgbs.0.bias": inputs["bias"],
            "to_rgbs.0.upsample.kernel": inputs["kernel"]}


def _piece_ref(inputs: dict[str, np.ndarray], piece: Piece) -> np.ndarray:
    if piece.op == "upfirdn":
        return upfirdn2d(inputs["x"], inputs["kernel"], piece.up, piece.down, piece.pad)
    if piece.op == "torgb":
        layer, config = _torgb_layer(piece)
        return ref.to_rgb(inputs["x"], inputs["w"], _torgb_params(inputs), layer, config, inputs["skip"])
    return ref.modulated_conv2d(inputs["x"], inputs["weight"], inputs["style"], demodulate=piece.demodulate,
                                upsample=piece.upsample, blur_kernel=inputs["kernel"], blur_pad=piece.pad)


def rounded(case: Case, dtype: str) -> dict[str, np.ndarray]:
    """Every input rounded to ``dtype`` (as float64 arrays)."""
    return {k: round_to(v, dtype) for k, v in case.inputs.items()}


def gen_params(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k[len(_P):]: v for k, v in inputs.items() if k.startswith(_P)}


def gen_noise(inputs: dict[str, np.ndarray], g: Gen) -> str | list[np.ndarray]:
    if not g.noise.startswith("plan"):
        return g.noise
    return [inputs[f"{_N}{k}"] for k in range(g.config.num_layers)]


def gen_ref(inputs: dict[str, np.ndarray], g: Gen) -> np.ndarray:
    return ref.generate(inputs["x"], gen_params(inputs), g.config, input_is_latent=g.latent == "w+",
                        truncation=g.truncation, noise=gen_noise(inputs, g))


# -- backends: pieces --------------------------------------------------------------------------

#: The inputs each piece is differentiated with respect to.
DIFF_KEYS = {"modconv": ("x", "weight", "style"), "upfirdn": ("x",),
             "torgb": ("x", "w", "skip", "weight", "mod_weight", "mod_bias", "bias")}


def torch_piece(inputs: dict[str, np.ndarray], piece: Piece, dtype: str, grad: bool = False):
    """Output, and with ``grad`` the gradients of ``sum(cot * out)`` w.r.t. :data:`DIFF_KEYS`, from PyTorch."""
    import torch

    from tenfold.torch_backend import toonify as tb
    from tenfold.torch_backend.layers.upfirdn import upfirdn2d as t_upfirdn

    t = {k: torch.tensor(v, dtype=getattr(torch, dtype)) for k, v in inputs.items()}
    leaves = {k: t[k].requires_grad_(grad) for k in DIFF_KEYS[piece.op]}
    if piece.op == "upfirdn":
        y = t_upfirdn(t["x"], t["kernel"], piece.up, piece.down, piece.pad)
    elif piece.op == "torgb":
        layer, config = _torgb_layer(piece)
        module = tb.ToRGB(layer, config).to(getattr(torch, dtype))
        state = {k.removeprefix("to_rgbs.0."): v for k, v in _torgb_params(inputs).items()}
        module.load_state_dict({k: torch.tensor(v, dtype=getattr(torch, dtype)) for k, v in state.items()})
        y = module(t["x"], t["w"], t["skip"])
        named = dict(module.named_parameters())
        leaves.update(weight=named["conv.weight"], mod_weight=named["conv.modulation.weight"],
                      mod_bias=named["conv.modulation.bias"], bias=named["bias"])
    else:
        y = tb.modulated_conv2d(t["x"], t["weight"], t["style"], demodulate=piece.demodulate, upsample=piece.upsample,
                                blur_kernel=t["kernel"], blur_pad=piece.pad)
    if not grad:
        return y.detach().double().numpy(), None
    grads = torch.autograd.grad((y * t["cot"]).sum(), list(leaves.values()))
    return y.detach().double().numpy(), {k: g.double().numpy() for k, g in zip(leaves, grads, strict=True)}


_NHWC = ("x", "skip", "cot")


def tf_piece(inputs: dict[str, np.ndarray], piece: Piece, dtype: str, graph: bool = False, grad: bool = False):
    """As :func:`torch_piece`, from TensorFlow (NHWC, TF kernel layout; converted back for the comparison)."""
    import tensorflow as tf

    from tenfold.tf_backend import toonify as tb
    from tenfold.tf_backend.layers.upfirdn import upfirdn2d as t_upfirdn

    t = {k: tf.constant(v.transpose(0, 2, 3, 1) if k in _NHWC else v, dtype=dtype) for k, v in inputs.items()}
    if "weight" in t:
        t["weight"] = tf.constant(np.transpose(inputs["weight"][0], (2, 3, 1, 0)), dtype=dtype)  # (k, k, I, O)

    def forward(d):
        if piece.op == "upfirdn":
            return t_upfirdn(d["x"], d["kernel"], piece.up, piece.down, piece.pad)
        if piece.op == "torgb":  # the modulation is an equalized dense layer with lr_mul 1
            s = tf.matmul(d["w"], tf.transpose(d["mod_weight"])) * (1.0 / np.sqrt(d["w"].shape[1])) + d["mod_bias"]
            y = tb.modulated_conv2d(d["x"], d["weight"], s, demodulate=False)
            return tb.to_rgb(y, d["bias"], d["skip"], d["kernel"], piece.pad)
        return tb.modulated_conv2d(d["x"], d["weight"], d["style"], demodulate=piece.demodulate,
                                   upsample=piece.upsample, blur_kernel=d["kernel"], blur_pad=piece.pad)

    fn = tf.function(forward) if graph else forward
    if not grad:
        return np.asarray(fn(t), np.float64).transpose(0, 3, 1, 2), None
    keys = DIFF_KEYS[piece.op]
    with tf.GradientTape() as tape:
        for k in keys:
            tape.watch(t[k])
        y = fn(t)
        loss = tf.reduce_sum(y * t["cot"])
    out = {}
    for k, v in zip(keys, tape.gradient(loss, [t[k] for k in keys]), strict=True):
        v = np.asarray(v, np.float64)
        out[k] = v.transpose(0, 3, 1, 2) if k in _NHWC else np.transpose(v, (3, 2, 0, 1))[None] if k == "weight" else v
    return np.asarray(y, np.float64).transpose(0, 3, 1, 2), out


def piece_ref_grads(inputs: dict[str, np.ndarray], piece: Piece, h: float = 1e-6, directions: int = 2
                    ) -> dict[str, np.ndarray]:
    """Central differences of ``<cot, piece(inputs)>`` (float64): ``"x"`` element-wise, other keys as
    directional derivatives ``"<key>@<i>"`` along the directions of :func:`directions_for`."""
    def loss(d):
        return float(np.sum(inputs["cot"] * _piece_ref(d, piece)))

    out = {}
    x = inputs["x"]
    fd = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        fd[i] = (loss({**inputs, "x": x + e}) - loss({**inputs, "x": x - e})) / (2 * h)
    out["x"] = fd
    for key in DIFF_KEYS[piece.op][1:]:
        for j, v in enumerate(directions_for(inputs[key], key, directions)):
            out[f"{key}@{j}"] = np.array((loss({**inputs, key: inputs[key] + h * v})
                                          - loss({**inputs, key: inputs[key] - h * v})) / (2 * h))
    return out


def directions_for(value: np.ndarray, key: str, n: int) -> list[np.ndarray]:
    """``n`` fixed random directions in the space of ``value``."""
    rng = np.random.default_rng([sum(map(ord, key)), value.size])
    return [rng.standard_normal(value.shape) for _ in range(n)]


def project(grads: dict[str, np.ndarray], keys: tuple[str, ...], like: dict[str, np.ndarray], n: int = 2
            ) -> dict[str, np.ndarray]:
    """Backend gradients in the form of :func:`piece_ref_grads`: ``x`` whole, the rest along the directions."""
    out = {"x": grads["x"]}
    for key in keys[1:]:
        for j, v in enumerate(directions_for(like[key], key, n)):
            out[f"{key}@{j}"] = np.array(np.sum(grads[key] * v))
    return out


# -- backends: whole generators -------------------------------------------------------------------


def torch_gen(inputs: dict[str, np.ndarray], g: Gen, dtype: str, grad: bool = False):
    """Images (and with ``grad`` the gradients of ``sum(cot * image)`` w.r.t. ``x`` and every trainable param)."""
    import torch

    from tenfold.torch_backend import toonify as tb

    model = tb.load_params(tb.Generator(g.config, getattr(torch, dtype)), gen_params(inputs))
    x = torch.tensor(inputs["x"], dtype=getattr(torch, dtype), requires_grad=grad)
    noise = gen_noise(inputs, g)
    noise = noise if isinstance(noise, str) else [torch.tensor(n, dtype=getattr(torch, dtype)) for n in noise]
    with torch.set_grad_enabled(grad):
        y = model(x, input_is_latent=g.latent == "w+", truncation=g.truncation, noise=noise)
    if not grad:
        return y.double().numpy(), None
    named = dict(model.named_parameters())
    leaves = [x, *named.values()]
    grads = torch.autograd.grad((y * torch.tensor(inputs["cot"], dtype=y.dtype)).sum(), leaves, allow_unused=True,
                                materialize_grads=True)  # the mapping is unused with W+ input
    out = {"x": grads[0].double().numpy()}
    out.update({k: v.double().numpy() for k, v in zip(named, grads[1:], strict=True)})
    return y.detach().double().numpy(), out


def tf_gen(inputs: dict[str, np.ndarray], g: Gen, dtype: str, graph: bool = False, grad: bool = False):
    """As :func:`torch_gen`, from the Keras generator (images and noise NHWC, converted back)."""
    import tensorflow as tf

    from tenfold.tf_backend import toonify as tb

    model = tb.load_params(tb.Generator(g.config, dtype=dtype), gen_params(inputs))
    x = tf.constant(inputs["x"], dtype=dtype)
    noise = gen_noise(inputs, g)
    noise = noise if isinstance(noise, str) else [tf.constant(n.transpose(0, 2, 3, 1), dtype=dtype) for n in noise]

    def forward(t):
        return model(t, input_is_latent=g.latent == "w+", truncation=g.truncation, noise=noise)

    fn = tf.function(forward) if graph else forward
    if not grad:
        return np.asarray(fn(x), np.float64).transpose(0, 3, 1, 2), None
    names = [k for k, v in model._param_vars.items() if v.trainable]
    variables = [model._param_vars[k] for k in names]
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
        loss = tf.reduce_sum(y * tf.constant(inputs["cot"].transpose(0, 2, 3, 1), dtype=dtype))
    gx, *gp = tape.gradient(loss, [x, *variables])
    out = {"x": np.asarray(gx, np.float64)}
    out.update({k: tb.to_canonical(k, np.zeros(var.shape) if v is None else np.asarray(v, np.float64))
                for k, var, v in zip(names, variables, gp, strict=True)})
    return np.asarray(y, np.float64).transpose(0, 3, 1, 2), out


def gen_ref_grads(inputs: dict[str, np.ndarray], g: Gen, h: float = 1e-6, directions: int = 3
                  ) -> dict[str, np.ndarray]:
    """Central differences of ``<cot, G(x)>`` (float64): ``x`` element-wise, the trainable params along
    ``directions`` joint random directions (``"params@<i>"``)."""
    params = gen_params(inputs)

    def loss(x, p):
        return float(np.sum(inputs["cot"] * gen_ref({**inputs, "x": x, **{_P + k: v for k, v in p.items()}}, g)))

    x = inputs["x"]
    fd = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        fd[i] = (loss(x + e, params) - loss(x - e, params)) / (2 * h)
    out = {"x": fd}
    for j, v in enumerate(param_directions(g.config, directions)):
        plus = {k: p + h * v[k] if k in v else p for k, p in params.items()}
        minus = {k: p - h * v[k] if k in v else p for k, p in params.items()}
        out[f"params@{j}"] = np.array((loss(x, plus) - loss(x, minus)) / (2 * h))
    return out


def param_directions(config: StyleGAN2Config, n: int) -> list[dict[str, np.ndarray]]:
    """Random directions over the trainable params, each entry scaled like the entry itself would be at init."""
    rng = np.random.default_rng(1234)
    shapes = spec.param_shapes(config)
    dirs = []
    for _ in range(n):
        d = {}
        for k in spec.trainable_names(config):
            scale = 1.0 / config.lr_mlp if k.startswith("style.") else 1.0
            d[k] = scale * rng.standard_normal(shapes[k])
        dirs.append(d)
    return dirs


def project_params(grads: dict[str, np.ndarray], config: StyleGAN2Config, n: int = 3) -> dict[str, np.ndarray]:
    """Backend gradients in the form of :func:`gen_ref_grads`."""
    out = {"x": grads["x"]}
    for j, v in enumerate(param_directions(config, n)):
        out[f"params@{j}"] = np.array(sum(float(np.sum(grads[k] * v[k])) for k in v))
    return out
