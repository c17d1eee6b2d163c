"""The CR-GAN generator and spectrally normalised discriminator in plain NumPy (NCHW, float64-exact).

Structure and names: :mod:`tenfold.spec.crgan.nets`; BatchNorm:
:mod:`tenfold.spec.batchnorm`; spectral norm: :mod:`tenfold.spec.spectral_norm`.
Each network is written once over :mod:`tenfold.numpy_ref.autodiff` variables
(``*_graph``), so the same code gives the forward (:func:`generator`,
:func:`discriminator`) and, in :mod:`.step`, the gradients of a whole step.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tenfold.spec.contracts import check_params
from tenfold.spec.crgan import nets as spec
from tenfold.spec.dtypes import check_float_dtype

from .. import autodiff as ad
from .._arrays import as_array, dtype_name
from ..layers.spectral_norm import normalize, power_iteration

#: SN state of one discriminator: layer name -> (u, v).
SNState = dict[str, tuple[np.ndarray, np.ndarray]]


def init_params(config: spec.GANConfig, rng: np.random.Generator) -> tuple[dict[str, np.ndarray],
                                                                           dict[str, np.ndarray]]:
    """Fresh ``(generator, discriminator)`` parameters, float64.

    Weights ~ N(0, 0.02) (DCGAN's initialisation, Radford et al. 2016, Sec. 4),
    biases 0, BatchNorm weight 1 / bias 0 / running statistics (0, 1); SN
    vectors ~ N(0, 1), normalised (PyTorch's ``spectral_norm`` initialisation).
    """
    g, d = {}, {}
    for name, shape in spec.generator_param_shapes(config).items():
        if name.endswith(("running_var",)) or (name.startswith("bn") and name.endswith(".weight")):
            g[name] = np.ones(shape)
        elif name.endswith(("bias", "running_mean")):
            g[name] = np.zeros(shape)
        else:
            g[name] = rng.normal(0.0, 0.02, shape)
    for name, shape in spec.discriminator_param_shapes(config).items():
        if name.endswith("weight_orig"):
            d[name] = rng.normal(0.0, 0.02, shape)
        elif name.endswith(("weight_u", "weight_v")):
            d[name] = normalize(rng.normal(0.0, 1.0, shape), 1e-12)
        else:
            d[name] = np.zeros(shape)
    return g, d


def sn_state(d_params: Mapping[str, np.ndarray]) -> SNState:
    """The ``(u, v)`` of every normalised layer of a discriminator parameter dict."""
    return {k[:-len(".weight_u")]: (np.asarray(d_params[k]), np.asarray(d_params[k[:-1] + "v"]))
            for k in d_params if k.endswith(".weight_u")}


def generator_graph(z: ad.Var, params: Mapping[str, ad.Var], config: spec.GANConfig, *, training: bool,
                    updates: dict[str, np.ndarray] | None = None) -> ad.Var:
    """The generator on Vars: z (B, z_dim) -> images (B, C, S, S) in [-1, 1].

    In training mode BatchNorm uses batch statistics and writes the new running
    statistics into ``updates`` (canonical names); ``params`` hold Vars for the
    weights and plain arrays for the running statistics.
    """
    b, g = z.shape[0], config.g_channels
    bn_cfg = config.batchnorm
    h = ad.linear(z, params["fc.weight"], params["fc.bias"])  # (B, g0 * b * b)
    h = ad.reshape(h, (b, g[0], config.bottom, config.bottom))  # (B, g0, b, b)
    h = ad.relu(_batch_norm(h, params, "bn0.", bn_cfg, training, updates))
    for k in range(1, len(g)):
        h = ad.conv_transpose2d(h, params[f"deconv{k}.weight"], params[f"deconv{k}.bias"], 2, 1)  # (B, g_k, 2s, 2s)
        h = ad.relu(_batch_norm(h, params, f"bn{k}.", bn_cfg, training, updates))
    h = ad.conv2d(h, params["conv_out.weight"], params["conv_out.bias"], 1, 1)  # (B, C, S, S)
    return ad.tanh(h)


def _batch_norm(x: ad.Var, params: Mapping, prefix: str, cfg, training: bool, updates: dict | None) -> ad.Var:
    weight, bias = params[prefix + "weight"], params[prefix + "bias"]
    rm, rv = _array(params[prefix + "running_mean"]), _array(params[prefix + "running_var"])
    if not training:
        return ad.channel_affine(x, 1.0 / np.sqrt(rv + cfg.eps), rm, weight, bias)
    y, mean, var = ad.batch_norm_train(x, weight, bias, cfg.eps)
    if updates is not None:
        n = x.shape[0] * x.shape[2] * x.shape[3]
        m = cfg.momentum
        updates[prefix + "running_mean"] = (1 - m) * rm + m * mean
        updates[prefix + "running_var"] = (1 - m) * rv + m * var * (n / (n - 1))
    return y


def _array(v: object) -> np.ndarray:
    return v.value if isinstance(v, ad.Var) else np.asarray(v)


def discriminator_graph(x: ad.Var, params: Mapping[str, ad.Var], config: spec.GANConfig, state: SNState, *,
                        training: bool) -> tuple[ad.Var, SNState]:
    """The discriminator on Vars: images (B, C, S, S) -> logits (B, 1).

    ``state`` is the SN state this call starts from; a training-mode call first
    advances it (:func:`tenfold.numpy_ref.layers.spectral_norm.power_iteration`).
    Returns the logits and the state the call used (and leaves behind).
    """
    snc = config.spectral_norm
    used: SNState = {}

    def normalized(name: str) -> ad.Var:
        w = params[f"{name}.weight_orig"]
        u, v = state[name]
        if training:
            u, v = power_iteration(w.value, u, v, snc)
        used[name] = (u, v)
        return ad.spectral_normalize(w, u, v)[0]

    h = x
    for layer in spec.discriminator_layers(config):
        h = ad.conv2d(h, normalized(layer.name), params[f"{layer.name}.bias"], layer.stride, layer.padding)
        h = ad.leaky_relu(h, config.lrelu_slope)  # (B, d_k, s, s)
    h = ad.reshape(h, (h.shape[0], -1))  # (B, d_m * s * s), NCHW order
    return ad.linear(h, normalized("fc"), params["fc.bias"]), used  # (B, 1)


def _check(where: str, params: Mapping[str, np.ndarray], shapes: dict, x: np.ndarray) -> None:
    check_params(params, shapes, where)
    check_float_dtype(where, dtype_name(x.dtype))


def generator(z: object, params: Mapping[str, np.ndarray], config: spec.GANConfig, *, training: bool = False,
              updates: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Generate images from latents (the numpy_ref forward contract, latents first).

    Args:
        z: (B, z_dim) floats.
        params: The canonical generator parameters (:func:`tenfold.spec.crgan.generator_param_shapes`).
        config: A :class:`~tenfold.spec.crgan.GANConfig`.
        training: Batch statistics in BatchNorm (and running-statistic updates into ``updates``).

    Returns:
        (B, C, S, S) images in [-1, 1], in the input's dtype.
    """
    where = "crgan.generator"
    z = as_array(where, z)
    _check(where, params, spec.generator_param_shapes(config), z)
    spec.check_latents(where, z.shape, config)
    pv = {k: ad.const(np.asarray(v, z.dtype)) for k, v in params.items()}
    return generator_graph(ad.const(z), pv, config, training=training, updates=updates).value


def discriminator(x: object, params: Mapping[str, np.ndarray], config: spec.GANConfig, *, training: bool = False,
                  updates: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Discriminator logits (B, 1) of NCHW images.

    In training mode the spectral-norm state advances once and the new
    ``weight_u``/``weight_v`` are written into ``updates``.
    """
    where = "crgan.discriminator"
    x = as_array(where, x)
    _check(where, params, spec.discriminator_param_shapes(config), x)
    spec.check_images(where, x.shape, config)
    pv = {k: ad.const(np.asarray(v, x.dtype)) for k, v in params.items()}
    y, used = discriminator_graph(ad.const(x), pv, config, sn_state(pv_arrays(pv)), training=training)
    if training and updates is not None:
        for name, (u, v) in used.items():
            updates[f"{name}.weight_u"], updates[f"{name}.weight_v"] = u, v
    return y.value


def pv_arrays(pv: Mapping[str, ad.Var]) -> dict[str, np.ndarray]:
    return {k: v.value for k, v in pv.items()}


__all__ = ["discriminator", "discriminator_graph", "generator", "generator_graph", "init_params", "sn_state"]
