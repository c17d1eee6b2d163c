"""numpy_ref of FReLU against independent oracles: per-pixel loops, hand-derived BatchNorm, folding."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenfold.numpy_ref import frelu as ref
from tenfold.numpy_ref.frelu.nets import channel_shuffle
from tenfold.spec import batchnorm as bn
from tenfold.spec import frelu as spec
from tenfold.spec.frelu import nets as nets


def _naive_frelu(x, w, b, gamma, beta, mean, var, eps):
    """FReLU by explicit loops over every output pixel (zero padding k // 2)."""
    n, c, h, wd = x.shape
    k = w.shape[-1]
    p = k // 2
    y = np.empty_like(x)
    for i in range(n):
        for ch in range(c):
            for r in range(h):
                for s in range(wd):
                    acc = b[ch]
                    for u in range(k):
                        for v in range(k):
                            rr, ss = r + u - p, s + v - p
                            if 0 <= rr < h and 0 <= ss < wd:
                                acc += w[ch, 0, u, v] * x[i, ch, rr, ss]
                    t = (acc - mean[ch]) / np.sqrt(var[ch] + eps) * gamma[ch] + beta[ch]
                    y[i, ch, r, s] = max(x[i, ch, r, s], t)
    return y


@pytest.mark.parametrize("k", [1, 3, 5])
def test_frelu_eval_matches_loops(k):
    rng = np.random.default_rng(k)
    x = rng.normal(size=(2, 3, 5, 4))
    p = {"conv_frelu.weight": rng.normal(size=(3, 1, k, k)), "conv_frelu.bias": rng.normal(size=3),
         "bn_frelu.weight": rng.uniform(0.5, 2, 3), "bn_frelu.bias": rng.normal(size=3),
         "bn_frelu.running_mean": rng.normal(size=3), "bn_frelu.running_var": rng.uniform(0.5, 2, 3)}
    want = _naive_frelu(x, *(p[n] for n in ("conv_frelu.weight", "conv_frelu.bias", "bn_frelu.weight",
                                            "bn_frelu.bias", "bn_frelu.running_mean", "bn_frelu.running_var")), 1e-5)
    np.testing.assert_allclose(ref.frelu(x, p, spec.FReLUConfig(kernel_size=k)), want, rtol=1e-13, atol=1e-13)


def test_batchnorm_train_hand_derived():
    # one channel, values 1, 2, 3, 6: mean 3, biased var 3.5, unbiased 14/3
    x = np.array([1.0, 2.0, 3.0, 6.0]).reshape(1, 1, 2, 2)
    y, rm, rv = ref.batch_norm(x, np.array([2.0]), np.array([1.0]), np.array([1.0]), np.array([2.0]), training=True,
                               config=bn.BatchNormConfig(eps=0.5, momentum=0.25))
    np.testing.assert_allclose(y.ravel(), (np.array([1, 2, 3, 6]) - 3.0) / 2.0 * 2.0 + 1.0)  # sqrt(3.5 + 0.5) = 2
    np.testing.assert_allclose(rm, [0.75 * 1.0 + 0.25 * 3.0])
    np.testing.assert_allclose(rv, [0.75 * 2.0 + 0.25 * 14.0 / 3.0])


def test_light_variant_is_sum_of_two_branches():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 2, 4, 5))
    cfg = spec.FReLUConfig.light()
    p = {k: (rng.uniform(0.5, 1.5, s) if k.endswith(("var", "bn_frelu1.weight", "bn_frelu2.weight"))
             else rng.normal(size=s)) for k, s in spec.param_shapes(2, cfg).items()}
    t = 0
    for conv, norm, (kh, kw) in spec.conv_names(cfg):
        z = ref.depthwise_conv2d(x, p[f"{conv}.weight"], padding=(kh // 2, kw // 2))
        t = t + ref.batch_norm(z, *(p[f"{norm}.{n}"] for n in bn.PARAM_NAMES), training=False)[0]
    np.testing.assert_allclose(ref.frelu(x, p, cfg), np.maximum(x, t), rtol=1e-14)


def test_vjp_matches_finite_differences_of_every_parameter():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 2, 4, 3))
    w = rng.normal(size=x.shape)
    cfg = spec.FReLUConfig()
    p = {k: (rng.uniform(0.5, 1.5, s) if k.endswith(("running_var", "bn_frelu.weight")) else rng.normal(size=s))
         for k, s in spec.param_shapes(2, cfg).items()}
    grads = ref.frelu_vjp(x, p, w, cfg)
    h = 1e-6
    for name in ("conv_frelu.weight", "conv_frelu.bias", "bn_frelu.weight", "bn_frelu.bias"):
        v = rng.normal(size=p[name].shape)
        plus, minus = dict(p), dict(p)
        plus[name], minus[name] = p[name] + h * v, p[name] - h * v
        fd = (np.sum(w * ref.frelu(x, plus, cfg)) - np.sum(w * ref.frelu(x, minus, cfg))) / (2 * h)
        assert np.sum(grads[name] * v) == pytest.approx(fd, rel=1e-6, abs=1e-8), name


@pytest.mark.parametrize("config", [nets.ResNetFReLUConfig(block="basic", layers=(1, 1), widths=(4, 6), stem="cifar",
                                                           stem_width=4, frelu_stages=(True, True), num_classes=3),
                                    nets.ShuffleNetV2FReLUConfig(stage_repeats=(1, 2, 1),
                                                                 stage_out_channels=(8, 12, 16, 20, 24),
                                                                 frelu_variant="full", num_classes=3)])
def test_fold_batchnorm_preserves_the_network(config):
    rng = np.random.default_rng(3)
    params = ref.init_params(config, rng)
    x = rng.normal(size=(2, 3, 16, 16))
    folded, fconfig = ref.fold_batchnorm(params, config)
    assert fconfig.folded and not any("running" in k for k in folded)
    np.testing.assert_allclose(ref.forward(x, folded, fconfig), ref.forward(x, params, config), rtol=1e-11,
                               atol=1e-11)


def test_channel_shuffle_is_the_official_split():
    x = np.arange(6.0).reshape(1, 6, 1, 1)
    a, b = channel_shuffle(x)
    # official: reshape(B*C/2, 2, HW) -> transpose -> reshape(2, B, C/2, H, W): x[0] = even, x[1] = odd channels
    official = x.reshape(3, 2, 1).transpose(1, 0, 2).reshape(2, 1, 3, 1, 1)
    np.testing.assert_array_equal(a, official[0])
    np.testing.assert_array_equal(b, official[1])


@settings(max_examples=25)
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 5), st.integers(1, 5), st.sampled_from([1, 3, 5]),
       st.integers(0, 2**31 - 1))
def test_frelu_is_the_max_of_input_and_condition(n, c, h, w, k, seed):
    rng = np.random.default_rng(seed)
    cfg = spec.FReLUConfig(kernel_size=k)
    p = {name: (rng.uniform(0.5, 1.5, s) if name.endswith(("running_var", "bn_frelu.weight")) else rng.normal(size=s))
         for name, s in spec.param_shapes(c, cfg).items()}
    x = rng.normal(size=(n, c, h, w))
    y, t = ref.frelu(x, p, cfg), ref.funnel_condition(x, p, cfg)
    assert y.shape == x.shape and np.all(y >= x) and np.all(y >= t)
    assert np.all((y == x) | (y == t))


def test_from_megengine_reshapes_official_layouts():
    config = nets.ShuffleNetV2FReLUConfig(stage_repeats=(1, 1, 1), stage_out_channels=(4, 8, 12, 16, 16),
                                          num_classes=3)
    params = ref.init_params(config, np.random.default_rng(4))
    mge = {}
    for k, v in params.items():
        if v.ndim == 1 and k != "classifier.0.weight":
            mge[k] = v.reshape(1, -1, 1, 1)  # MegEngine: biases and BatchNorm state (1, C, 1, 1)
        elif v.ndim == 4 and v.shape[1] == 1:
            mge[k] = v.reshape(v.shape[0], 1, 1, *v.shape[2:])  # depthwise: (groups, 1, 1, kh, kw)
        else:
            mge[k] = v
    back = ref.from_megengine(mge, config)
    assert all(np.array_equal(back[k], params[k]) for k in params)
