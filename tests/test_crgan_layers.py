"""CR-GAN layers against independent oracles: hand-derived values, NumPy padding, PyTorch's own spectral norm."""

import math

import numpy as np
import pytest

from tenfold.numpy_ref import crgan as ref
from tenfold.numpy_ref.layers import conv as ref_conv
from tenfold.spec import crgan as spec
from tenfold.spec.errors import DTypeError, ShapeError, TenfoldError
from tenfold.spec.spectral_norm import SpectralNormConfig


def test_gan_losses_hand_values():
    zero = np.zeros((4, 1))
    assert ref.gan_discriminator_loss(zero, zero, "ns") == pytest.approx(2 * math.log(2), abs=1e-15)
    assert ref.gan_generator_loss(zero, "ns") == pytest.approx(math.log(2), abs=1e-15)
    assert ref.gan_discriminator_loss(zero, zero, "hinge") == 2.0
    assert ref.gan_discriminator_loss(np.array([2.0, 0.5]), np.array([-3.0, 0.0]), "hinge") == (0 + 0.5) / 2 + 1 / 2
    assert ref.gan_generator_loss(np.array([1.0, 3.0]), "hinge") == -2.0
    # saturated logits stay finite: softplus(-1000) = 0, softplus(1000) = 1000
    assert ref.gan_discriminator_loss(np.array([1000.0]), np.array([1000.0]), "ns") == 1000.0


def test_penalty_hand_values_and_reductions():
    a = np.zeros((2, 3, 2, 2))
    b = np.ones((2, 3, 2, 2))
    assert ref.cr_penalty(a, b, "sum") == 12.0  # ||1||^2 over 12 elements per sample
    assert ref.cr_penalty(a, b, "mean") == 1.0  # StudioGAN's MSELoss: divided by C*H*W as well
    r, t = np.array([[1.0], [2.0]]), np.array([[0.0], [4.0]])
    assert ref.cr_penalty(r, t, "sum") == ref.cr_penalty(r, t, "mean") == 2.5  # equal for scalar logits
    with pytest.raises(ShapeError, match="two batches of one shape"):
        ref.cr_penalty(np.zeros((2, 1)), np.zeros((3, 1)))


def _oracle_transform(plan, x):
    """np.pad then one slice per sample: an implementation independent of the reference's index rule."""
    py, px = plan.max_abs_shift()
    mode = "reflect" if plan.pad_mode == "reflect" else "constant"
    out = np.empty_like(x)
    for i in range(plan.batch_size):
        img = x[i, :, :, ::-1] if plan.flip[i] else x[i]
        padded = np.pad(img, ((0, 0), (py, py), (px, px)), mode=mode)
        dy, dx = plan.shift[i]
        out[i] = padded[:, py + dy:py + dy + plan.height, px + dx:px + dx + plan.width]
    return out


@pytest.mark.parametrize("pad_mode", ["reflect", "zero"])
def test_transform_against_padding_oracle(pad_mode):
    rng = np.random.default_rng(0)
    config = spec.TransformConfig(max_shift_fraction=0.8, pad_mode=pad_mode)
    for b, h, w in ((3, 5, 7), (1, 2, 2), (4, 9, 4)):
        plan = spec.sample(rng, b, h, w, config)
        x = rng.normal(size=(b, 2, h, w)).astype(np.float32)
        y = ref.apply(plan, x)
        assert y.dtype == np.float32 and np.array_equal(y, _oracle_transform(plan, x))


def test_transform_hand_example():
    x = np.arange(4.0).reshape(1, 1, 1, 4)  # one row: 0 1 2 3
    plan = spec.TransformPlan(1, 4, (False,), ((0, 2),), "reflect")
    assert ref.apply(plan, x).ravel().tolist() == [2, 3, 2, 1]  # reads columns 2, 3, reflect(4)=2, reflect(5)=1
    plan = spec.TransformPlan(1, 4, (True,), ((0, -1),), "zero")
    assert ref.apply(plan, x).ravel().tolist() == [0, 3, 2, 1]  # flipped 3 2 1 0, shifted right, zero fill


def test_conv_transpose_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(3, 2, 4, 4)), rng.normal(size=2)
    expected = torch.nn.functional.conv_transpose2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), 2, 1)
    got = ref_conv.conv_transpose2d(x, w, stride=2, padding=1, bias=b)
    np.testing.assert_allclose(got, expected.numpy(), rtol=0, atol=1e-13)


@pytest.mark.parametrize("api", ["utils", "parametrizations"])
def test_spectral_norm_against_pytorchs_own(api):
    """The reference SN (state and W_sn over training calls, then eval) against PyTorch's two implementations."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    layer = torch.nn.Conv2d(3, 4, 3).double()
    if api == "utils":
        layer = torch.nn.utils.spectral_norm(layer)
        config = SpectralNormConfig.torch()
        u, v = layer.weight_u.detach().numpy().copy(), layer.weight_v.detach().numpy().copy()
        w = layer.weight_orig.detach().numpy().copy()
    else:
        layer = torch.nn.utils.parametrizations.spectral_norm(layer)
        config = SpectralNormConfig.torch_parametrizations()
        p = layer.parametrizations.weight
        u, v, w = p[0]._u.numpy().copy(), p[0]._v.numpy().copy(), p.original.detach().numpy().copy()
    x = torch.randn(1, 3, 5, 5, dtype=torch.float64)
    for i in range(4):
        layer.train(i < 3)
        if api == "utils":
            layer(x)  # the forward pre-hook iterates and stores layer.weight
            got = layer.weight
        else:
            got = layer.weight  # a parametrization iterates on every access in training mode
        ws, u, v = ref.spectral_norm(w, u, v, config, training=i < 3)
        np.testing.assert_allclose(got.detach().numpy(), ws, rtol=1e-12, atol=1e-14)
    other = SpectralNormConfig(order="uv" if config.order == "vu" else "vu")
    u0, v0 = np.ones(4) / 2, np.ones(27) / math.sqrt(27)
    assert not np.allclose(ref.spectral_norm(w, u0, v0, config, training=True)[1],
                           ref.spectral_norm(w, u0, v0, other, training=True)[1])


def test_errors_are_the_same_in_every_layer():
    torch = pytest.importorskip("torch")
    from tenfold.torch_backend import crgan as tb

    plan = spec.TransformPlan(4, 4, (False, True), ((0, 0), (1, 1)))
    msgs = []
    for fn, x in ((ref.apply, np.zeros((3, 1, 4, 4))), (tb.transform_apply, torch.zeros(3, 1, 4, 4))):
        with pytest.raises(ShapeError) as err:
            fn(plan, x)
        msgs.append(str(err.value).split(":", 1)[1])
    assert msgs[0] == msgs[1] and "B=2, H=4, W=4" in msgs[0]
    with pytest.raises(DTypeError):
        ref.apply(plan, np.zeros((2, 1, 4, 4), dtype=np.int32))
    with pytest.raises(DTypeError):
        tb.transform_apply(plan, torch.zeros(2, 1, 4, 4, dtype=torch.int32))
    config = spec.GANConfig.tiny()
    g, d = ref.init_params(config, np.random.default_rng(0))
    with pytest.raises(ShapeError, match=r"images of shape \(B, 1, 8, 8\)"):
        ref.discriminator(np.zeros((2, 1, 8, 9)), d, config)
    with pytest.raises(ShapeError, match=r"images of shape \(B, 1, 8, 8\)"):
        tb.build(config)[1](torch.zeros(2, 1, 8, 9))
    with pytest.raises(TenfoldError, match="canonical parameters"):
        ref.generator(np.zeros((2, 5)), {k: v for k, v in g.items() if k != "fc.bias"}, config)


def test_tf_layers_errors_and_self_sampling_transform():
    tf = pytest.importorskip("tensorflow")
    from tenfold.tf_backend import crgan as tfb

    plan = spec.TransformPlan(4, 4, (False, True), ((0, 0), (1, 1)))
    with pytest.raises(ShapeError, match="B=2, H=4, W=4"):
        tfb.transform_apply(plan, tf.zeros((3, 4, 4, 1)))
    layer = tfb.CRTransform(spec.TransformConfig(max_shift_fraction=0.25), seed=1)
    x = tf.random.stateless_normal((6, 8, 8, 2), seed=[0, 1])
    y = layer(x)
    assert y.shape == x.shape
    # every output image is the input image flipped or not and shifted by at most 2 px (reflect padding)
    xs, ys = x.numpy(), y.numpy()
    for i in range(6):
        found = False
        for f in (False, True):
            for dy in range(-2, 3):
                for dx in range(-2, 3):
                    p = spec.TransformPlan(8, 8, (f,), ((dy, dx),))
                    cand = np.moveaxis(ref.apply(p, np.moveaxis(xs[i:i + 1], -1, 1)), 1, -1)
                    found |= np.array_equal(cand, ys[i:i + 1])
        assert found


def test_torch_self_sampling_transform_and_draws():
    torch = pytest.importorskip("torch")
    from tenfold.torch_backend import crgan as tb

    config = spec.TrainConfig(nets=spec.GANConfig.tiny())
    gen = torch.Generator().manual_seed(0)
    draws = tb.sample_d_draws(5, config, generator=gen)
    assert draws.real is not None and draws.fake is not None and draws.z_eps is not None
    assert (draws.real.shift.abs() <= 1).all()  # int(8 / 8) = 1
    y = tb.CRTransform(spec.TransformConfig(flip_prob=1.0, max_shift_fraction=0.0))(torch.arange(4.).view(1, 1, 1, 4))
    assert y.ravel().tolist() == [3, 2, 1, 0]
