"""numpy_ref Toonify against independent oracles: hand-derived values, identities with the shared conv layers,
properties of the generator, sensitivity of the documented conventions, checkpoints and the blend."""

import numpy as np
import pytest

from tenfold.numpy_ref import toonify as ref
from tenfold.numpy_ref.layers.conv import conv2d, conv_transpose2d
from tenfold.numpy_ref.layers.upfirdn import upfirdn2d
from tenfold.spec import toonify as spec
from tenfold.spec.errors import CheckpointError, ConfigError, DTypeError, ShapeError

RNG = np.random.default_rng(7)


def test_upfirdn_is_a_true_convolution_and_keeps_the_gain():
    k = np.arange(1.0, 10.0).reshape(3, 3)  # asymmetric
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0
    assert np.array_equal(upfirdn2d(x, k, pad=(1, 1))[0, 0], k)  # delta * k = k (a correlation would flip it)
    taps = spec.blur_taps(spec.StyleGAN2Config())
    y = upfirdn2d(np.ones((1, 1, 6, 6)), taps, up=2, pad=(2, 1))
    assert y.shape == (1, 1, 12, 12) and np.allclose(y[0, 0, 2:-2, 2:-2], 1.0)
    # 1-D by hand: x = [1, 2] (one row), taps [1, 2], pad (0, 0): v[0] = u[0] * 2 + u[1] * 1 = 4
    x = np.array([[[[1.0, 2.0]]]])
    assert np.array_equal(upfirdn2d(x, np.array([[1.0, 2.0]])), [[[[4.0]]]])
    y = upfirdn2d(np.ones((1, 1, 1, 1)) * 3, np.ones((1, 1)), up=2, pad=(0, 0))
    assert np.array_equal(y[0, 0], [[3.0, 0.0], [0.0, 0.0]])  # zeros inserted after the sample
    assert upfirdn2d(np.ones((1, 1, 8, 8)), np.ones((2, 2)), down=2, pad=(0, 1)).shape == (1, 1, 4, 4)


def test_conv_transpose_is_conv_of_the_dilated_input_with_the_flipped_kernel():
    x, w = RNG.standard_normal((2, 3, 4, 5)), RNG.standard_normal((3, 2, 3, 3))
    dil = np.zeros((2, 3, 7, 9))
    dil[:, :, ::2, ::2] = x
    want = conv2d(dil, np.flip(w, (2, 3)).transpose(1, 0, 2, 3), padding=2)
    assert np.allclose(conv_transpose2d(x, w, stride=2), want, atol=1e-12)


def test_modulated_conv_against_conv2d():
    x, w = RNG.standard_normal((2, 4, 5, 6)), RNG.standard_normal((1, 3, 4, 3, 3))
    s = 1.0 + 0.5 * RNG.standard_normal((2, 4))
    scale = 1.0 / np.sqrt(4 * 9)
    for n in range(2):  # without demodulation: conv of the style-scaled input with W / sqrt(fan_in)
        got = ref.modulated_conv2d(x[n:n + 1], w, s[n:n + 1], demodulate=False)
        assert np.allclose(got, conv2d(x[n:n + 1] * s[n, :, None, None], w[0] * scale, padding=1), atol=1e-12)
    got = ref.modulated_conv2d(x, w, s, demodulate=True, eps=0.0)
    for n in range(2):  # demodulated: every output channel's effective kernel has unit norm
        wn = w[0] * scale * s[n][None, :, None, None]
        unit = wn / np.sqrt((wn ** 2).sum(axis=(1, 2, 3), keepdims=True))
        assert np.allclose(got[n:n + 1], conv2d(x[n:n + 1], unit, padding=1), atol=1e-12)


def test_upsampling_conv_output_and_blur():
    x, w, s = RNG.standard_normal((1, 2, 3, 4)), RNG.standard_normal((1, 3, 2, 3, 3)), np.ones((1, 2))
    taps = spec.blur_taps(spec.StyleGAN2Config())
    got = ref.modulated_conv2d(x, w, s, demodulate=False, upsample=True, blur_kernel=taps, blur_pad=(1, 1))
    t = conv_transpose2d(x, w[0].transpose(1, 0, 2, 3) / np.sqrt(18), stride=2)  # (1, 3, 7, 9)
    assert got.shape == (1, 3, 6, 8)
    assert np.allclose(got, upfirdn2d(t, taps, pad=(1, 1)), atol=1e-12)


def _params(config, seed=0):
    rng = np.random.default_rng(seed)
    p = ref.init_params(config, rng)
    for k in p:
        if k.endswith(("noise.weight", "activate.bias")):
            p[k] = rng.standard_normal(p[k].shape)
    return p


def test_generator_properties():
    c = spec.StyleGAN2Config.tiny()
    p = _params(c)
    z = RNG.standard_normal((3, c.style_dim))
    y = ref.generate(z, p, c)
    assert y.shape == (3, 3, 16, 16) and np.isfinite(y).all()
    w = ref.mapping(z, p, c)
    wplus = np.repeat(w[:, None], c.n_latent, axis=1)
    assert np.allclose(ref.generate(w, p, c, input_is_latent=True), y, atol=1e-12)
    assert np.allclose(ref.generate(wplus, p, c, input_is_latent=True), y, atol=1e-12)
    # psi = 0: every latent becomes latent_avg
    y0 = ref.generate(z, p, c, truncation=0.0)
    assert np.allclose(y0, y0[:1], atol=1e-12)
    assert np.allclose(y0[0], ref.generate(p["latent_avg"][None], p, c, input_is_latent=True)[0], atol=1e-12)
    # the constant noise buffers are the default; a plan of the buffers gives the same images
    plan = [p[f"noises.noise_{k}"] for k in range(c.num_layers)]
    assert np.allclose(ref.generate(z, p, c, noise=plan), y, atol=1e-12)
    assert not np.allclose(ref.generate(z, p, c, noise="zero"), y)
    q = {k: (np.zeros_like(v) if k.endswith("noise.weight") else v) for k, v in p.items()}
    assert np.allclose(ref.generate(z, q, c, noise="zero"), ref.generate(z, q, c), atol=1e-12)
    # a change of the last W+ entry only changes the last toRGB's additive contribution: the images differ
    w2 = wplus.copy()
    w2[:, -1] += 1.0
    assert not np.allclose(ref.generate(w2, p, c, input_is_latent=True), y)


def test_conventions_are_visible():
    """Each documented constant moves the reference beyond the float32 tolerance in some input."""
    c = spec.StyleGAN2Config.tiny()
    p = _params(c)
    z = RNG.standard_normal((2, c.style_dim))
    tol = spec.TOLERANCES.get("forward", "float32")
    base = ref.generate(z, p, c)
    for change in (dict(negative_slope=0.1), dict(act_gain=1.0), dict(lr_mlp=0.02), dict(blur_kernel=(1, 2, 1))):
        c2 = c.replace(**change)
        p2 = {k: spec.blur_taps(c2) if k.endswith("kernel") else v for k, v in p.items()}
        assert np.abs(ref.generate(z, p2, c2) - base).max() > 10 * tol.atol, change
    x, w = RNG.standard_normal((1, 2, 4, 4)), RNG.standard_normal((1, 2, 2, 3, 3))
    tiny_style = np.full((1, 2), 1e-5)  # sum W'^2 ~ 1e-10: the demodulation epsilon 1e-8 shows
    a = ref.modulated_conv2d(x, w, tiny_style, eps=1e-8)
    b = ref.modulated_conv2d(x, w, tiny_style, eps=0.0)
    assert np.abs(a - b).max() > 0.5
    zt = np.full((1, 4), 1e-5)
    assert np.abs(ref.pixel_norm(zt, 1e-8) - ref.pixel_norm(zt, 0.0)).max() > 0.1


def test_errors():
    c = spec.StyleGAN2Config.tiny()
    p = _params(c)
    with pytest.raises(ShapeError, match=r"toonify\.generate: expected z of shape"):
        ref.generate(np.zeros((2, 3)), p, c)
    with pytest.raises(DTypeError, match="floating-point"):
        ref.generate(np.zeros((2, 8), np.int64), p, c)
    with pytest.raises(CheckpointError, match=r"missing key: conv1\.noise\.weight"):
        ref.generate(np.zeros((2, 8)), {k: v for k, v in p.items() if k != "conv1.noise.weight"}, c)
    q = {k: v for k, v in p.items() if k != "latent_avg"}
    ref.generate(np.zeros((1, 8)), q, c)
    with pytest.raises(ConfigError, match="latent_avg"):
        ref.generate(np.zeros((1, 8)), q, c, truncation=0.5)


def test_checkpoint_round_trip_npz(tmp_path):
    c = spec.StyleGAN2Config.tiny()
    p = _params(c)
    ref.save_checkpoint(p, tmp_path / "g.npz")
    q, config = ref.load_checkpoint(tmp_path / "g.npz")
    assert config == c and all(np.array_equal(q[k], p[k]) for k in p)
    np.savez(tmp_path / "bad.npz", a=np.zeros(2))
    with pytest.raises(CheckpointError):
        ref.load_checkpoint(tmp_path / "bad.npz")


def test_blend_arithmetic_and_copies():
    c = spec.StyleGAN2Config(resolution=16, style_dim=3, n_mlp=1, channel_max=3)
    lo, hi = _params(c, 1), _params(c, 2)
    lo32 = {k: v.astype(np.float32) for k, v in lo.items()}
    out = ref.blend(lo32, {k: v.astype(np.float32) for k, v in hi.items()}, 8, width=1.0)
    assert all(v.dtype == np.float32 for v in out.values())
    y = 1 / (1 + np.exp(-(4 - 2)))  # convs.2 sits at position 4; the switch (8, 0) at 2
    assert np.allclose(out["convs.2.conv.weight"], y * hi["convs.2.conv.weight"] + (1 - y) * lo["convs.2.conv.weight"],
                       atol=1e-6)
    for k in ("style.1.weight", "conv1.conv.weight", "noises.noise_4", "latent_avg", "convs.0.conv.blur.kernel"):
        assert np.array_equal(out[k], lo32[k])
    hard = ref.blend(lo, hi, 16)  # every layer up to 16 px from low: a copy of low
    assert all(np.array_equal(hard[k], lo[k]) for k in lo)
    with pytest.raises(CheckpointError, match="two generators of one topology"):
        ref.blend(lo, _params(c.replace(channel_max=2)), 8)
