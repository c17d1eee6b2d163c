"""AugMix transforms and losses in the backends: call styles, data pipelines, seeding, the TF graph sampler.

Conformance compares the layers' numbers with the reference; these tests check
what a user touches: the torchvision-style transform (single image, batch,
pass-through labels, the JSD triple, DataLoader workers), ``JSDLoss``'s split
form, the Keras layer in ``tf.data`` and ``sample_tf``'s distribution.
"""

import numpy as np
import pytest

from tenfold.numpy_ref import augmix as ref
from tenfold.spec import augmix as spec

torch = pytest.importorskip("torch")
from tenfold.torch_backend import augmix as tb  # noqa: E402


def images(b=4, c=3, h=16, w=16, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (b, c, h, w)).astype(np.uint8)


def test_torch_transform_batch_and_single_image():
    x = images()
    t = tb.AugMix(seed=3)
    out = t(torch.from_numpy(x))
    assert out.shape == x.shape and out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), ref.apply(t.last_plan, x), atol=2e-6)
    one = tb.AugMix(seed=3)(torch.from_numpy(x[0]))
    assert one.shape == x.shape[1:]
    mixed, labels = tb.AugMix(seed=1)(torch.from_numpy(x), torch.arange(4))
    assert labels.tolist() == [0, 1, 2, 3]
    u8 = tb.AugMix(seed=1, out_dtype=torch.uint8)(torch.from_numpy(x))
    assert u8.dtype == torch.uint8
    np.testing.assert_allclose(u8.numpy(), np.round(mixed.numpy() * 255), atol=1)


def test_torch_jsd_triple_follows_the_official_draws():
    x = images(b=2)
    t = tb.AugMix(seed=np.random.default_rng(5), jsd=True)
    clean, a1, a2 = t(torch.from_numpy(x))
    np.testing.assert_allclose(clean.numpy(), x / 255.0, atol=1e-7)
    plan = spec.sample(np.random.default_rng(5), 4, 16, 16)  # images [x0, x0, x1, x1], as two aug() calls each
    expected = ref.apply(plan, np.repeat(x, 2, axis=0))
    np.testing.assert_allclose(a1.numpy(), expected[0::2], atol=2e-6)
    np.testing.assert_allclose(a2.numpy(), expected[1::2], atol=2e-6)


class _Dataset(torch.utils.data.Dataset):
    def __init__(self):
        self.x = torch.from_numpy(images(b=8, h=8, w=8))
        self.t = tb.AugMix(seed=11)

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return self.t(self.x[i])


def test_dataloader_workers_draw_different_plans():
    """One image in every slot: worker 0 and worker 1 must not repeat each other's draws ([seed, worker id])."""
    ds = _Dataset()
    ds.x = ds.x[:1].repeat(8, 1, 1, 1)
    a, b = list(torch.utils.data.DataLoader(ds, batch_size=4, num_workers=2, shuffle=False))
    assert not torch.equal(a[0], b[0])
    assert not torch.equal(a[0], a[1])  # consecutive draws in one worker differ too


def test_jsd_loss_split_form_and_zero_when_views_agree():
    z = torch.randn(6, 5, dtype=torch.float64)
    loss = tb.JSDLoss()
    assert float(loss(z, z, z)) == pytest.approx(0.0, abs=1e-12)
    zs = torch.randn(9, 5, dtype=torch.float64)
    assert float(loss(zs)) == pytest.approx(float(loss(zs[:3], zs[3:6], zs[6:])))
    assert float(loss(zs)) == pytest.approx(ref.jsd_consistency(*(zs[i:i + 3].numpy() for i in (0, 3, 6))))
    with pytest.raises(ValueError, match="JSDLoss: expected"):
        loss(torch.randn(4, 5))


def test_jsd_is_the_official_kl_form():
    """Against torch.nn.functional.kl_div exactly as the official cifar.py writes it."""
    f = torch.nn.functional
    zs = [torch.randn(4, 10, dtype=torch.float64) * 3 for _ in range(3)]
    p = [f.softmax(z, dim=1) for z in zs]
    m = torch.clamp((p[0] + p[1] + p[2]) / 3.0, 1e-7, 1).log()
    official = 12 * (f.kl_div(m, p[0], reduction="batchmean") + f.kl_div(m, p[1], reduction="batchmean")
                     + f.kl_div(m, p[2], reduction="batchmean")) / 3.0
    assert float(tb.jsd_consistency(*zs)) == pytest.approx(float(official), rel=1e-12)
    assert ref.jsd_consistency(*(z.numpy() for z in zs)) == pytest.approx(float(official), rel=1e-12)


tf = pytest.importorskip("tensorflow")
from tenfold.tf_backend import augmix as tfb  # noqa: E402


def test_keras_layer_in_tf_data_batched_and_per_image():
    x = images(b=8, h=12, w=12).transpose(0, 2, 3, 1)
    layer = tfb.AugMix(seed=2)
    ds = tf.data.Dataset.from_tensor_slices((x, np.arange(8))).batch(4).map(layer)
    for mixed, labels in ds:
        assert mixed.shape == (4, 12, 12, 3) and mixed.dtype == tf.float32 and labels.shape == (4,)
        assert 0.0 <= float(tf.reduce_min(mixed)) and float(tf.reduce_max(mixed)) <= 1.0
    single = layer(x[0])  # one (H, W, C) image, eagerly
    assert single.shape == (12, 12, 3)
    clean = layer(x[:2], training=False)
    np.testing.assert_allclose(clean.numpy(), x[:2] / 255.0, atol=1e-7)
    again = tfb.AugMix.from_config(layer.get_config())
    assert again.config == layer.config
    clean, a1, a2 = tfb.AugMix(seed=4, jsd=True)(x[:3])  # the official JSD triple: two plans per image
    np.testing.assert_allclose(clean.numpy(), x[:3] / 255.0, atol=1e-7)
    assert a1.shape == a2.shape == (3, 12, 12, 3) and not np.array_equal(a1.numpy(), a2.numpy())


def test_sample_tf_distribution_and_structure():
    config = spec.AugMixConfig(all_ops=True)
    p = tfb.sample_tf(tf.constant([3, 4]), 600, 32, 32, config)
    op_id = p["op_id"].numpy()
    depth = (op_id >= 0).sum(axis=2)
    assert set(np.unique(depth)) == {1, 2, 3}
    assert (op_id[:, :, 0] >= 0).all()  # every chain has a first op; -1 only past its depth
    ids = op_id[op_id >= 0]
    counts = np.bincount(ids, minlength=13)
    e = counts.sum() / 13
    assert ((counts - e) ** 2 / e).sum() < 26.2  # chi-square, 12 dof, 1 %
    np.testing.assert_allclose(p["chain_weights"].numpy().sum(axis=1), 1.0, atol=1e-12)
    m = p["m"].numpy()
    assert 0 <= m.min() and m.max() <= 1 and abs(m.mean() - 0.5) < 0.05
    args, levels, signs = p["arg"].numpy(), p["levels"].numpy(), p["signs"].numpy()
    for k in range(20):  # arguments follow the spec's maps
        i, j, d = np.argwhere(op_id >= 0)[k]
        op = spec.OPS[op_id[i, j, d]]
        want = spec.ops.official_argument(op, float(levels[i, j, d]), int(signs[i, j, d]), 32)
        assert args[i, j, d] == pytest.approx(want, abs=1e-12)


def test_tf_apply_with_a_tf_sampled_plan_matches_numpy():
    """The TF plan's arguments through the NumPy reference give the TF pixels (coefficients within 1e-15)."""
    x = images(b=3, h=10, w=10)
    config = spec.AugMixConfig(depth=1, width=2)
    p = tfb.sample_tf(tf.constant([1, 9]), 3, 10, 10, config)
    got = tfb.augmix_chains(tf.constant(x.transpose(0, 2, 3, 1)), p, op_list=config.ops).numpy()
    for i in range(3):
        for j in range(2):
            op = spec.OPS[int(p["op_id"][i, j, 0])]
            if op == "rotate":  # TF's cos/sin skip Pillow's 15-decimal rounding; compare the others exactly
                continue
            want = ref.apply_op(op, x[i:i + 1], [float(p["arg"][i, j, 0])])[0]
            np.testing.assert_array_equal(got[i, j].transpose(2, 0, 1), want)
