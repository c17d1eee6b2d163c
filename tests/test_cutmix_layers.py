"""CutMix in every layer: bad input errors, properties, the torch transform and the Keras layer."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenfold.numpy_ref import cutmix as ref
from tenfold.spec import cutmix as spec
from tenfold.spec.errors import ConfigError, DTypeError, ShapeError, TenfoldError

torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")
from tenfold.tf_backend import cutmix as tfb  # noqa: E402
from tenfold.torch_backend import cutmix as tb  # noqa: E402

K = 5


def _batch(seed=0, b=4, c=2, h=6, w=7, dtype=np.uint8):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(b, c, h, w)).astype(dtype)
    y = rng.integers(0, K, size=b)
    return x, y


# Each layer's apply, as f(images NCHW numpy, labels numpy, plan) -> (mixed NCHW, targets, lam).
def _np(x, y, plan, k=K):
    return ref.apply(x, y, plan, k)


def _torch(x, y, plan, k=K):
    m, t, lam = tb.cutmix_apply(torch.from_numpy(x), torch.from_numpy(np.asarray(y)), plan, k)
    return m.numpy(), t.numpy(), lam.numpy()


def _tf(x, y, plan, k=K):
    x = np.asarray(x)
    xt = tf.constant(x.transpose(0, 2, 3, 1)) if x.ndim == 4 else tf.constant(x)
    m, t, lam = tfb.cutmix_apply(xt, tf.constant(y), plan, k)
    return m.numpy().transpose(0, 3, 1, 2), t.numpy(), lam.numpy()


LAYERS = {"numpy": _np, "torch": _torch, "tf": _tf}


# -- bad input: one error class and message in every layer ----------------------------

@pytest.mark.parametrize("layer", LAYERS)
def test_images_must_be_4d(layer):
    x, y = _batch()
    plan = spec.sample(np.random.default_rng(0), 4, 6, 7)
    with pytest.raises(ShapeError, match=r"cutmix: expected a 4-D image batch \((N, C, H, W|N, H, W, C)\); got"):
        LAYERS[layer](x[0], y, plan)


@pytest.mark.parametrize("layer", LAYERS)
def test_labels_of_the_wrong_batch_size(layer):
    x, y = _batch()
    plan = spec.sample(np.random.default_rng(0), 4, 6, 7)
    with pytest.raises(ShapeError, match=r"expected class-index labels of shape \(4,\) \(one per image\); got shape"):
        LAYERS[layer](x, y[:3], plan)
    with pytest.raises(ShapeError, match=r"expected soft labels of shape \(4, 5\); got shape \(4, 3\)"):
        LAYERS[layer](x, np.full((4, 3), 1 / 3), plan)


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("bad", [-1, K])
def test_labels_out_of_range(layer, bad):
    x, y = _batch()
    y[2] = bad
    plan = spec.sample(np.random.default_rng(0), 4, 6, 7)
    with pytest.raises(TenfoldError, match=r"expected class labels in \[0, 5\); got labels in"):
        LAYERS[layer](x, y, plan)


@pytest.mark.parametrize("layer", LAYERS)
def test_batch_must_match_the_plan(layer):
    x, y = _batch()
    plan = spec.sample(np.random.default_rng(0), 4, 6, 8)
    with pytest.raises(ShapeError, match=r"expected images with B=4, H=6, W=8 as in the plan; got B=4, H=6, W=7"):
        LAYERS[layer](x, y, plan)


@pytest.mark.parametrize("layer", LAYERS)
def test_bad_dtypes_and_num_classes(layer):
    x, y = _batch()
    plan = spec.sample(np.random.default_rng(0), 4, 6, 7)
    with pytest.raises(DTypeError, match="expected images of dtype"):
        LAYERS[layer](x.astype(bool), y, plan)
    with pytest.raises(ConfigError, match="expected num_classes, an int >= 1"):
        LAYERS[layer](x, y, plan, 0)


def test_tf_graph_label_range_is_an_assertion_with_the_same_message():
    x, y = _batch()
    y[0] = K
    plan = spec.sample(np.random.default_rng(0), 4, 6, 7)
    fn = tf.function(lambda a, b: tfb.cutmix_apply(a, b, plan, K))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"expected class labels in \[0, 5\)"):
        fn(tf.constant(x.transpose(0, 2, 3, 1)), tf.constant(y))


@pytest.mark.parametrize("kwargs,match", [({"alpha": 0.0}, "alpha"), ({"prob": 1.5}, "prob"),
                                          ({"pairing": "x"}, "pairing")])
def test_transforms_validate_their_config(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        tb.CutMix(K, **kwargs)
    with pytest.raises(ConfigError, match=match):
        tfb.CutMix(K, **kwargs)


def test_transforms_reject_non_4d():
    with pytest.raises(ShapeError, match="4-D"):
        tb.CutMix(K)(torch.zeros(3, 4, 4), torch.zeros(3, dtype=torch.int64))
    with pytest.raises(ShapeError, match="4-D"):
        tfb.CutMix(K)(tf.zeros([3, 4, 4]), tf.zeros([3], tf.int64))


# -- properties -------------------------------------------------------------------------

@given(seed=st.integers(0, 2**31), b=st.integers(1, 6), h=st.integers(1, 9), w=st.integers(1, 9),
       alpha=st.sampled_from([0.2, 1.0, 5.0]), pairing=st.sampled_from(spec.PAIRINGS),
       granularity=st.sampled_from(spec.GRANULARITIES), prob=st.sampled_from([0.0, 0.5, 1.0]))
def test_properties_of_the_reference(seed, b, h, w, alpha, pairing, granularity, prob):
    rng = np.random.default_rng(seed)
    cfg = spec.CutMixConfig(alpha=alpha, prob=prob, pairing=pairing, granularity=granularity)
    plan = spec.sample(rng, b, h, w, cfg)
    x = rng.integers(0, 256, size=(b, 2, h, w)).astype(np.uint8)
    y = rng.integers(0, K, size=b)
    mixed, targets, lam = ref.apply(x, y, plan, K)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, atol=1e-15)  # every target sums to 1
    area = plan.area_fraction()
    np.testing.assert_allclose(1.0 - lam, area, atol=1e-15)  # partner weight == pasted area (correct_lam)
    for i in range(b):  # independent check of each pixel: inside the box from the partner, else own
        y1, y2, x1, x2 = plan.boxes[i]
        inside = np.zeros((h, w), bool)
        inside[y1:y2, x1:x2] = True
        j = plan.partner[i]
        assert (mixed[i][:, inside] == x[j][:, inside]).all()
        assert (mixed[i][:, ~inside] == x[i][:, ~inside]).all()
        expected = np.zeros(K)
        expected[y[i]] += lam[i]
        expected[y[j]] += 1.0 - lam[i]
        np.testing.assert_allclose(targets[i], expected, atol=1e-15)


@given(seed=st.integers(0, 2**31), granularity=st.sampled_from(spec.GRANULARITIES))
def test_backend_targets_sum_to_one(seed, granularity):
    x, y = _batch(seed % 1000, b=5)
    plan = spec.sample(np.random.default_rng(seed), 5, 6, 7, spec.CutMixConfig(granularity=granularity))
    for layer in (_torch, _tf):
        _, t, lam = layer(x, y, plan)
        np.testing.assert_allclose(t.sum(axis=1), 1.0, atol=3e-7)
        np.testing.assert_allclose(1.0 - lam, plan.area_fraction(), atol=1e-15)


def test_soft_target_cross_entropy_is_the_official_loss_mixture():
    rng = np.random.default_rng(4)
    x, y = _batch(4, b=6)
    plan = spec.sample(rng, 6, 6, 7, spec.CutMixConfig(granularity="elem"))
    _, t, lam = ref.apply(x, y, plan, K)
    z = rng.normal(size=(6, K))
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    official = -(lam * logp[np.arange(6), y] + (1 - lam) * logp[np.arange(6), y[list(plan.partner)]])
    np.testing.assert_allclose(ref.soft_target_cross_entropy(z, t), official, rtol=1e-13)
    got = tb.soft_target_cross_entropy(torch.from_numpy(z), torch.from_numpy(t)).item()
    assert got == pytest.approx(official.mean(), rel=1e-12)
    got = float(tfb.soft_target_cross_entropy(tf.constant(z), tf.constant(t)))
    assert got == pytest.approx(official.mean(), rel=1e-12)


def test_label_smoothing_composes():
    # Smoothing before mixing equals smoothing after: both are linear in the target.
    x, y = _batch(5, b=4)
    plan = spec.sample(np.random.default_rng(5), 4, 6, 7, spec.CutMixConfig(granularity="elem"))
    eps = 0.1
    smooth = (1 - eps) * ref.one_hot(y, K) + eps / K
    _, t_first, _ = ref.apply(x, smooth, plan, K)
    _, t, _ = ref.apply(x, y, plan, K)
    np.testing.assert_allclose(t_first, (1 - eps) * t + eps / K, atol=1e-15)


# -- the torch transform ------------------------------------------------------------------

def test_torch_transform_call_styles_and_reproducibility():
    x, y = _batch(6, b=8, h=10, w=10)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    a = tb.CutMix(K, seed=1, granularity="elem")
    m1, t1 = a(xt, yt)
    m2, t2 = tb.CutMix(K, seed=1, granularity="elem")((xt, yt))
    assert torch.equal(m1, m2) and torch.equal(t1, t2)
    mr, tr, _ = ref.apply(x, y, a.last_plan, K)
    assert np.array_equal(m1.numpy(), mr)
    np.testing.assert_allclose(t1.numpy(), tr, atol=1e-7)
    assert np.array_equal(xt.numpy(), x)  # the input is kept
    assert "granularity='elem'" in repr(a)


def test_torch_transform_inplace_and_in_a_collate_fn():
    from torch.utils.data import DataLoader, TensorDataset
    from torch.utils.data.dataloader import default_collate

    x, y = _batch(7, b=12, h=8, w=8)
    cutmix = tb.CutMix(K, seed=2, inplace=True)
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=6,
                        collate_fn=lambda batch: cutmix(*default_collate(batch)))
    seen = 0
    for images, targets in loader:
        assert images.dtype == torch.uint8 and images.shape == (6, 2, 8, 8)
        assert targets.shape == (6, K) and torch.allclose(targets.sum(1), torch.ones(6))
        seen += 1
    assert seen == 2


def test_torch_float_soft_labels_and_target_dtype():
    x, _ = _batch(8, dtype=np.float32)
    soft = np.random.default_rng(8).dirichlet(np.ones(K), size=4)
    plan = spec.sample(np.random.default_rng(8), 4, 6, 7, spec.CutMixConfig(granularity="elem"))
    m, t, _ = tb.cutmix_apply(torch.from_numpy(x), torch.from_numpy(soft), plan, K)
    assert t.dtype == torch.float64 and m.dtype == torch.float32
    _, tr, _ = ref.apply(x, soft, plan, K)
    np.testing.assert_allclose(t.numpy(), tr, atol=1e-15)


def test_torch_meta_device_runs_without_host_data():
    # No per-sample Python loop and no host round trip in elem mode: the meta device has no data.
    plan = spec.sample(np.random.default_rng(9), 4, 6, 7, spec.CutMixConfig(granularity="elem"))
    x = torch.empty(4, 2, 6, 7, device="meta")
    soft = torch.empty(4, K, device="meta")
    m, t, _ = tb.cutmix_apply(x, soft, plan, K)
    assert m.device.type == "meta" and m.shape == x.shape and t.shape == (4, K)


# -- the Keras layer ------------------------------------------------------------------------

def test_keras_layer_in_tf_data_map():
    x, y = _batch(10, b=16, h=8, w=9)
    layer = tfb.CutMix(num_classes=K, seed=3, granularity="elem", prob=0.5)
    ds = tf.data.Dataset.from_tensor_slices((x.transpose(0, 2, 3, 1), y)).batch(8).map(layer)
    batches = list(ds)
    assert len(batches) == 2
    for images, targets in batches:
        assert images.dtype == tf.uint8 and tuple(images.shape) == (8, 8, 9, 2)
        np.testing.assert_allclose(targets.numpy().sum(1), 1.0, atol=1e-6)


def test_keras_layer_dict_inputs_training_flag_and_config():
    x, y = _batch(11, b=4)
    layer = tfb.CutMix(num_classes=K, seed=4)
    xt = tf.constant(x.transpose(0, 2, 3, 1))
    out = layer({"images": xt, "labels": tf.constant(y), "other": tf.constant(1)})
    assert set(out) == {"images", "labels", "other"}
    m, t = layer((xt, tf.constant(y)), training=False)
    assert np.array_equal(m.numpy(), xt.numpy())
    np.testing.assert_array_equal(t.numpy(), ref.one_hot(y, K))
    clone = tfb.CutMix.from_config(layer.get_config())
    assert clone.config == layer.config and clone.num_classes == K


def test_tf_sampler_runs_in_a_graph_and_matches_the_reference_when_applied():
    x, y = _batch(12, b=6, h=9, w=11)
    cfg = spec.CutMixConfig(granularity="elem", pairing="flip")

    @tf.function
    def step(images, labels, seed):
        plan = tfb.sample_tf(seed, tf.shape(images)[0], tf.shape(images)[1], tf.shape(images)[2], cfg)
        return tfb.cutmix_apply(images, labels, plan, K), plan

    (m, t, _), p = step(tf.constant(x.transpose(0, 2, 3, 1)), tf.constant(y), tf.constant([5, 6]))
    p = {k: v.numpy() for k, v in p.items()}
    plan = spec.CutMixPlan(9, 11, tuple(p["lam"].tolist()), tuple(map(tuple, p["boxes"].tolist())),
                           tuple(p["partner"].tolist()), tuple(p["applied"].tolist()),
                           tuple(p["lam_sampled"].tolist()), tuple(map(tuple, p["centres"].tolist())))
    mr, tr, _ = ref.apply(x, y, plan, K)
    assert np.array_equal(m.numpy().transpose(0, 3, 1, 2), mr)
    np.testing.assert_allclose(t.numpy(), tr, atol=1e-7)


@pytest.mark.parametrize("granularity", spec.GRANULARITIES)
@pytest.mark.parametrize("pairing", spec.PAIRINGS)
@pytest.mark.parametrize("inplace", [False, True])
def test_torch_device_path_equals_the_reference(granularity, pairing, inplace):
    # The path used off the CPU (and for bfloat16), exercised here on CPU tensors.
    rng = np.random.default_rng(20)
    x, y = _batch(20, b=6, h=9, w=8, dtype=np.float32)
    plan = spec.sample(rng, 6, 9, 8, spec.CutMixConfig(pairing=pairing, granularity=granularity, prob=0.8))
    xt = torch.from_numpy(x.copy())
    out = tb._mix_torch(xt, plan, inplace, pairing)
    assert (out.data_ptr() == xt.data_ptr()) == inplace
    assert np.array_equal(out.numpy(), ref.apply(x, y, plan, K)[0])


def test_torch_large_outputs_are_fresh_memory_that_outlives_its_views(monkeypatch):
    import gc

    from tenfold.torch_backend import _cpu_alloc

    monkeypatch.setattr(_cpu_alloc, "MIN_BYTES", 1)  # take the mmap path on a small batch
    x, y = _batch(21, b=6, h=9, w=8, dtype=np.float32)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for granularity in spec.GRANULARITIES:
        plans = [spec.sample(np.random.default_rng(s), 6, 9, 8, spec.CutMixConfig(granularity=granularity))
                 for s in range(2)]
        first, _, _ = tb.cutmix_apply(xt, yt, plans[0], K)
        kept = first[2:]  # a slice keeps the whole buffer alive
        del first
        gc.collect()
        second, _, _ = tb.cutmix_apply(xt, yt, plans[1], K)
        assert np.array_equal(second.numpy(), ref.apply(x, y, plans[1], K)[0])
        assert np.array_equal(kept.numpy(), ref.apply(x, y, plans[0], K)[0][2:])
        assert np.array_equal(xt.numpy(), x)


@pytest.mark.parametrize("partner", [(2, 0, 0, 1), (1, 2, 0, 3), (0, 1, 2, 3)])
@pytest.mark.parametrize("inplace", [False, True])
def test_torch_any_partner_map(partner, inplace):
    # Plans may carry any partner map (not only a permutation); a fixed point is a sample kept as is.
    x, y = _batch(22, b=4, h=6, w=7, dtype=np.float32)
    plan = spec.CutMixPlan(6, 7, (0.5,) * 4, ((1, 4, 2, 6),) * 4, partner, (True,) * 4, (0.5,) * 4, ((2, 4),) * 4)
    m, t, _ = tb.cutmix_apply(torch.from_numpy(x.copy()), torch.from_numpy(y), plan, K, inplace=inplace)
    mr, tr, _ = ref.apply(x, y, plan, K)
    assert np.array_equal(m.numpy(), mr)
    np.testing.assert_allclose(t.numpy(), tr, atol=1e-7)
