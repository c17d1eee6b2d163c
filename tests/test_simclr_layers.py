"""SimCLR backends beyond conformance: one error message in every layer, the convenience classes, serialisation.

Oracles: the NumPy reference (values), the spec's messages (errors), and
round trips (state dicts, Keras configs).
"""

from __future__ import annotations

import numpy as np
import pytest

from tenfold.numpy_ref import simclr as ref
from tenfold.spec import simclr as spec
from tenfold.spec.errors import CheckpointError, TenfoldError
from tenfold.spec.simclr import augment as aug

torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")

from tenfold.tf_backend import simclr as tfs  # noqa: E402
from tenfold.torch_backend import simclr as ths  # noqa: E402

RNG = np.random.default_rng(11)


def _message(fn) -> tuple[type, str]:
    with pytest.raises(TenfoldError) as info:
        fn()
    return type(info.value), str(info.value)


def test_same_errors_in_every_layer():
    a, b = np.zeros((3, 4), np.float32), np.zeros((2, 4), np.float32)
    errs = {_message(lambda: ref.nt_xent(a, b)), _message(lambda: ths.nt_xent(torch.tensor(a), torch.tensor(b))),
            _message(lambda: tfs.nt_xent(tf.constant(a), tf.constant(b)))}
    assert len(errs) == 1
    i = np.zeros((2, 3, 4, 4), np.int32)
    plan = aug.sample(RNG, 2, 4, 4, 4, 4)
    errs = {_message(lambda: ref.apply(plan, i)), _message(lambda: ths.apply(plan, torch.tensor(i))),
            _message(lambda: tfs.apply(plan, tf.constant(i.transpose(0, 2, 3, 1))))}
    assert len(errs) == 1 and "images of dtype uint8, float32, float64" in errs.pop()[1]


def test_torch_loss_module_half_precision_and_double_backward():
    z1, z2 = RNG.normal(size=(6, 8)), RNG.normal(size=(6, 8))
    loss = ths.NTXentLoss(temperature=0.2, reduction="paper")
    half = loss(torch.tensor(z1, dtype=torch.bfloat16), torch.tensor(z2, dtype=torch.bfloat16))
    assert half.dtype == torch.float32
    assert float(half) == pytest.approx(float(ref.nt_xent(z1, z2, 0.2, "paper")), rel=2e-2)
    a, b = torch.tensor(z1[:3, :4], requires_grad=True), torch.tensor(z2[:3, :4], requires_grad=True)
    for reduction in ("paper", "none"):  # the custom backward is itself differentiable (create_graph=True)
        assert torch.autograd.gradgradcheck(lambda a, b, r=reduction: ths.nt_xent(a, b, 0.3, r), (a, b))
    assert ths.gather_with_grad(a) is a  # no process group: identity


def test_torch_augment_transform_is_seeded_and_two_views():
    x = torch.tensor((RNG.random((3, 3, 20, 24)) * 255).astype(np.uint8))
    t1, t2 = ths.SimCLRAugment(16, seed=5), ths.SimCLRAugment(16, seed=5)
    v1, v2 = t1(x)
    w1, _ = t2(x)
    assert v1.shape == (3, 3, 16, 16) and v1.dtype == torch.float32 and torch.equal(v1, w1)
    assert not torch.equal(v1, v2)
    np.testing.assert_allclose(v1.numpy(), ref.apply(t1.last_plans[0], x.numpy()), atol=2e-6)


def test_torch_head_and_lars_state_round_trip():
    config = spec.HeadConfig.v2(in_dim=6, out_dim=4)
    head = ths.ProjectionHead(config)
    with pytest.raises(CheckpointError, match=r"missing key.*nl_2/batch_normalization/gamma"):
        params = ref.init_params(config, RNG)
        ths.load_params(head, {k: v for k, v in params.items() if k != "nl_2/batch_normalization/gamma"})
    opt = ths.LARS(ths.lars_param_groups(head, ths.canonical_names(head)), lr=0.1, weight_decay=1e-3)
    assert "nl_0/batch_normalization/gamma" in opt.param_groups[0]["param_names"]
    x = torch.randn(5, 6)
    ths.nt_xent(head(x), head(x + 0.1 * torch.randn(5, 6))).backward()
    opt.step()
    again = ths.LARS(ths.lars_param_groups(head, ths.canonical_names(head)), lr=0.1, weight_decay=1e-3)
    again.load_state_dict(opt.state_dict())
    p = next(head.parameters())
    assert torch.equal(again.state[p]["momentum_buffer"], opt.state[p]["momentum_buffer"])


def test_tf_dataset_layer_and_keras_round_trips():
    ds = tf.data.Dataset.from_tensor_slices((RNG.random((6, 18, 20, 3)) * 255).astype(np.uint8)).batch(3)
    views = list(tfs.augment_dataset(ds, (12, 10), seed=0))
    assert len(views) == 2 and views[0][0].shape == (3, 12, 10, 3) and views[0][1].dtype == tf.float32
    layer = tfs.SimCLRAugment(8, config=aug.AugmentConfig.cifar(), seed=1)
    clone = tfs.SimCLRAugment.from_config(layer.get_config())
    assert clone.config == layer.config and clone.size == (8, 8)
    opt = tfs.LARS(0.5, weight_decay=1e-4, exclude_vectors=True)
    again = tfs.LARS.from_config(opt.get_config())
    assert again.config == opt.config
    loss = tfs.NTXentLoss(0.5, "paper")
    z = RNG.normal(size=(8, 4)).astype(np.float32)
    expected = float(ref.nt_xent(z[:4], z[4:], 0.5, "paper"))
    assert float(loss(tf.zeros((8, 1)), tf.constant(z))) == pytest.approx(expected, rel=1e-5)


def test_keras_fit_with_head_and_lars():
    """The head, the Keras loss and LARS together in model.fit (one epoch, loss finite, variables move)."""
    import keras

    head = tfs.ProjectionHead(spec.HeadConfig.v1(in_dim=6, out_dim=3))
    inputs = keras.Input((6,))
    model = keras.Model(inputs, head(inputs))
    model.compile(optimizer=tfs.LARS(0.3), loss=tfs.NTXentLoss(0.5))
    before = [v.numpy().copy() for v in model.trainable_variables]
    x = RNG.normal(size=(16, 6)).astype(np.float32)
    hist = model.fit(x, np.zeros((16, 1)), batch_size=8, epochs=1, verbose=0, shuffle=False)
    assert np.isfinite(hist.history["loss"][0])
    assert any(not np.array_equal(b, v.numpy()) for b, v in zip(before, model.trainable_variables, strict=True))
