"""SimCLR spec and reference: hand-derived values, peer oracles, sampling statistics, convention sensitivity.

Oracles: closed forms (duplicate embeddings give log(2N - 1); official = 2 x
paper), torch's ``F.interpolate`` and TF's ``tf.image.resize`` /
``adjust_saturation`` / ``adjust_hue`` / ``adjust_contrast`` /
``rgb_to_grayscale`` (each the op the official code or a port calls), and the
distribution the sampler must follow.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tenfold.numpy_ref import simclr as ref
from tenfold.numpy_ref.simclr import augment as raug
from tenfold.spec import simclr as spec
from tenfold.spec.errors import CheckpointError, ConfigError, ShapeError
from tenfold.spec.simclr import augment as aug

RNG = np.random.default_rng(7)


# -- NT-Xent ---------------------------------------------------------------------------

def test_official_is_twice_the_paper_and_masking_matters():
    z1, z2 = RNG.normal(size=(6, 4)), RNG.normal(size=(6, 4))
    paper = float(ref.nt_xent(z1, z2, 0.3, "paper"))
    assert float(ref.nt_xent(z1, z2, 0.3, "official")) == pytest.approx(2 * paper, rel=1e-14)
    assert float(ref.nt_xent(z1, z2, 0.3, "sum")) == pytest.approx(12 * paper, rel=1e-14)
    # By hand: per anchor -s_pos/tau + log sum_{j != k} exp(s_kj / tau) on unit rows.
    h = np.concatenate([z1, z2])
    h = h / np.linalg.norm(h, axis=1, keepdims=True)
    s = h @ h.T / 0.3
    pos = (np.arange(12) + 6) % 12
    per = [-s[k, pos[k]] + math.log(sum(math.exp(s[k, j]) for j in range(12) if j != k)) for k in range(12)]
    np.testing.assert_allclose(ref.nt_xent(z1, z2, 0.3, "none"), per, rtol=1e-13)
    unmasked = [-s[k, pos[k]] + math.log(sum(math.exp(s[k, j]) for j in range(12))) for k in range(12)]
    assert abs(np.mean(unmasked) - paper) > 1e-2  # the self-similarity mask is a convention that shows


def test_stable_at_small_temperature_and_with_duplicates():
    z = np.ones((8, 3))
    assert float(ref.nt_xent(z[:4], z[4:], 0.01, "paper")) == pytest.approx(math.log(7), rel=1e-14)
    z1 = RNG.normal(size=(16, 8))
    for tau in (0.01, 1e-4):
        v = ref.nt_xent(z1, RNG.normal(size=(16, 8)), tau)
        g1, g2 = ref.nt_xent_grad(z1, z1, tau)
        assert np.isfinite(v) and np.isfinite(g1).all() and np.isfinite(g2).all()


def test_lightly_value_is_the_paper_reduction():
    """lightly's NTXentLoss (removing the diagonal instead of masking it) equals the paper reduction: a hand
    re-derivation of its (2N, 2N-1) logits."""
    z1, z2 = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3))
    h = np.concatenate([z1, z2])
    h = h / np.linalg.norm(h, axis=1, keepdims=True)
    s = h @ h.T / 0.5
    off = s[~np.eye(10, dtype=bool)].reshape(10, 9)
    labels = np.concatenate([np.arange(4, 9), np.arange(0, 5)])  # the positive's column once the diagonal is gone
    ce = -off[np.arange(10), labels] + np.log(np.exp(off).sum(axis=1))
    assert float(ref.nt_xent(z1, z2, config=spec.NTXentConfig.lightly())) == pytest.approx(ce.mean(), rel=1e-13)


@pytest.mark.parametrize("name", ["loss-official", "loss-none", "loss-tau001", "loss-zero-row", "loss-nonorm",
                                  "loss-large", "loss-batch1"])
def test_written_out_gradient_matches_finite_differences(name):
    from tenfold.conformance import simclr as conf

    case = conf.make_case(name, 0)
    _, g1, g2 = conf._loss_ref(case, "float64")
    f1, f2 = conf._fd_grads(case)
    scale = max(1.0, float(np.abs(f1).max()), float(np.abs(f2).max()))
    np.testing.assert_allclose(g1, f1, rtol=1e-6, atol=1e-7 * scale)
    np.testing.assert_allclose(g2, f2, rtol=1e-6, atol=1e-7 * scale)


def test_loss_errors():
    with pytest.raises(ShapeError, match="nt_xent: expected two embeddings of one shape"):
        ref.nt_xent(np.zeros((3, 4)), np.zeros((2, 4)))
    with pytest.raises(ConfigError, match="temperature >= 1e-4"):
        ref.nt_xent(np.zeros((3, 4)), np.zeros((3, 4)), temperature=0.0)
    with pytest.raises(ConfigError, match="reduction among"):
        spec.NTXentConfig(reduction="mean")


def test_local_columns_layout():
    self_cols, pos_cols = spec.loss.local_columns(rank=1, local_n=2, world_size=3)
    assert self_cols == [2, 3, 8, 9] and pos_cols == [8, 9, 2, 3]


# -- head --------------------------------------------------------------------------------

def test_head_shapes_follow_the_official_layout():
    shapes = spec.param_shapes(spec.HeadConfig.v1(in_dim=16))
    assert shapes["nl_0/dense/kernel"] == (16, 16) and shapes["nl_1/dense/kernel"] == (16, 128)
    assert "nl_0/batch_normalization/beta" in shapes and "nl_1/batch_normalization/beta" not in shapes
    assert len(spec.param_shapes(spec.HeadConfig.v2())) == 3 * 5 - 1
    assert not any("bias" in k for k in shapes)  # the BN beta replaces the Dense bias


def test_head_forward_by_hand_and_errors():
    config = spec.HeadConfig.linear(in_dim=3, out_dim=2)
    p = ref.init_params(config, RNG)
    p["nl_0/batch_normalization/gamma"] = np.array([2.0, 0.5])
    x = RNG.normal(size=(5, 3))
    y = x @ p["nl_0/dense/kernel"]
    expected = (y - y.mean(0)) / np.sqrt(y.var(0) + 1e-5) * [2.0, 0.5]
    updates = {}
    np.testing.assert_allclose(ref.forward(x, p, config, training=True, updates=updates), expected, rtol=1e-12)
    np.testing.assert_allclose(updates["nl_0/batch_normalization/moving_variance"], 0.9 + 0.1 * y.var(0, ddof=1))
    with pytest.raises(CheckpointError, match=r"missing key.*nl_0/batch_normalization/gamma"):
        ref.forward(x, {k: v for k, v in p.items() if not k.endswith("gamma")}, config)
    with pytest.raises(ShapeError, match="more than one sample in train mode"):
        ref.forward(x[:1], p, config, training=True)


# -- LARS ----------------------------------------------------------------------------------

def test_lars_step_by_hand_and_exclusions():
    w = np.array([3.0, 4.0])
    g = np.array([0.6, 0.8])
    cfg = spec.LARSConfig(lr=0.1, weight_decay=0.0, eta=0.001)
    new, state = ref.step({"k": w}, {"k": g}, ref.init_state({"k": w}), cfg)
    trust = 0.001 * 5.0 / 1.0
    np.testing.assert_allclose(new["k"], w - 0.1 * trust * g, rtol=1e-15)
    new2, _ = ref.step({"k": w}, {"k": g}, state, cfg)
    np.testing.assert_allclose(new2["k"], w - (0.9 * 0.1 * trust * g + 0.1 * trust * g), rtol=1e-15)
    # Excluded by name: plain momentum SGD without weight decay (trust 1).
    cfg_wd = cfg.replace(weight_decay=0.5)
    out, _ = ref.step({"bn/batch_normalization/gamma": w}, {"bn/batch_normalization/gamma": g},
                      ref.init_state({"bn/batch_normalization/gamma": w}), cfg_wd)
    np.testing.assert_allclose(out["bn/batch_normalization/gamma"], w - 0.1 * g, rtol=1e-15)
    assert spec.lars.exclusions("layer.bias", 1, cfg_wd) == (False, False)
    assert spec.lars.exclusions("layer.weight", 1, cfg_wd) == (True, True)
    assert spec.lars.exclusions("layer.weight", 1, cfg_wd.replace(exclude_vectors=True)) == (False, False)
    # Zero weights: trust ratio 1 (the official guard).
    z, _ = ref.step({"k": np.zeros(2)}, {"k": g}, ref.init_state({"k": w}), cfg)
    np.testing.assert_allclose(z["k"], -0.1 * g)


def test_learning_rate_schedule():
    assert spec.lars.learning_rate(0, 100, 10, 0.3, 4096) == 0.0
    assert spec.lars.learning_rate(10, 100, 10, 0.3, 4096) == pytest.approx(4.8)
    assert spec.lars.learning_rate(10, 100, 10, 0.075, 4096, "sqrt") == pytest.approx(4.8)
    assert spec.lars.learning_rate(100, 100, 10, 0.3, 4096) == pytest.approx(0.0, abs=1e-12)


# -- augmentation: sampling ------------------------------------------------------------------

def test_official_crop_rules():
    """min_object_covered=0.1 makes the area at least 10%; the start row is never H - h (TF's Uniform(H - h))."""
    cfg = aug.AugmentConfig()
    areas, ratios, ys = [], [], []
    for _ in range(3000):
        y, x, h, w = aug.sample_crop(RNG, 50, 60, 32, 32, cfg)
        assert 0 <= y and y + h <= 50 and 0 <= x and x + w <= 60
        if (h, w) != (50, 60):
            assert y < 50 - h or h == 50
        areas.append(h * w / 3000)
        ratios.append(w / h)
        ys.append(y)
    areas = np.array(areas)
    assert areas.min() >= 0.1 - 1e-12 and areas.max() <= 1.0
    assert 0.3 < np.mean(areas) < 0.6
    assert np.quantile(ratios, 0.02) > 0.6 and np.quantile(ratios, 0.98) < 1.45


def test_torchvision_crop_and_fallback():
    cfg = aug.AugmentConfig.torchvision()
    for _ in range(500):
        y, _, h, w = aug.sample_crop(RNG, 40, 40, 20, 20, cfg)
        assert 0.08 * 1600 * 0.8 <= h * w <= 1600 and 0 <= y <= 40 - h
    narrow = cfg.replace(area_range=(1.0, 1.0), aspect_range=(3.0, 4.0))  # impossible on a square: fallback
    assert aug.sample_crop(RNG, 30, 30, 10, 10, narrow) == (10, 0, 10, 30)


def test_sampling_frequencies():
    plans = [aug.sample(RNG, 50, 16, 16, 16, 16) for _ in range(40)]
    flips = np.mean([f for p in plans for f in p.flips])
    jit = np.mean([j for p in plans for j in p.jitter])
    gray = np.mean([g for p in plans for g in p.gray])
    blur = np.mean([b for p in plans for b in p.blur])
    for got, want in ((flips, 0.5), (jit, 0.8), (gray, 0.2), (blur, 0.5)):
        assert abs(got - want) < 0.05
    for p in plans:  # one sigma per view batch (official batch_random_blur)
        sig = {s for s, b in zip(p.sigma, p.blur, strict=True) if b}
        assert len(sig) <= 1 and all(0.1 <= s <= 2.0 for s in sig)
    on = [(p.brightness[i], p.contrast[i], p.hue[i]) for p in plans for i in range(50) if p.jitter[i]]
    b, c, h = np.array(on).T
    assert b.min() >= 0.2 - 1e-12 and b.max() <= 1.8 and c.min() >= 0.2 and h.min() >= -0.2 and h.max() <= 0.2
    orders = {p.order[i] for p in plans for i in range(50) if p.jitter[i]}
    assert len(orders) == 24  # every order of the four ops occurs
    v1 = aug.sample(RNG, 200, 8, 8, 8, 8, aug.AugmentConfig.v1())
    d = np.array([v1.brightness[i] for i in range(200) if v1.jitter[i]])
    assert d.min() < -0.5 and d.max() > 0.5  # additive: a delta in [-0.8, 0.8]


def test_plan_round_trip_and_errors():
    plan = aug.sample(RNG, 3, 20, 24, 16, 16)
    assert aug.AugmentPlan.from_dict(plan.to_dict()) == plan
    with pytest.raises(ConfigError, match="crops"):
        aug.AugmentPlan.from_dict({**plan.to_dict(), "crops": [[0, 0, 30, 30]] * 3})
    with pytest.raises(ShapeError, match="3 \\(RGB\\) channels"):
        raug.apply(plan, np.zeros((3, 1, 20, 24)))
    with pytest.raises(ShapeError, match="as in the plan"):
        raug.apply(plan, np.zeros((2, 3, 20, 24)))


# -- augmentation: peer oracles -----------------------------------------------------------------

@pytest.mark.parametrize("interp,size", [("bicubic", (13, 11)), ("bicubic", (6, 5)), ("bilinear", (9, 14))])
def test_resample_matrix_matches_torch_interpolate(interp, size):
    torch = pytest.importorskip("torch")
    x = RNG.random((1, 3, 10, 8))
    ry = aug.resample_matrix(10, size[0], interp, -0.75, True, "clamp")
    rx = aug.resample_matrix(8, size[1], interp, -0.75, True, "clamp")
    got = ry @ x[0] @ rx.T
    peer = torch.nn.functional.interpolate(torch.tensor(x), size=size, mode=interp, align_corners=False)
    np.testing.assert_allclose(got, peer[0].numpy(), atol=1e-12)


def test_resample_matrix_matches_tf_resize():
    """tf.image.resize BICUBIC (the official tf2 crop_and_resize) and TF1's legacy resize_bicubic; factor-2
    upsampling puts every sample on the 1/1024 weight table TF uses, so they agree to float32 rounding."""
    tf = pytest.importorskip("tensorflow")
    x = RNG.random((1, 8, 6, 3)).astype(np.float32)
    official = tf.image.resize(x, [16, 12], method="bicubic").numpy()[0]
    ry = aug.resample_matrix(8, 16, "bicubic", -0.5, True, "renormalize")
    rx = aug.resample_matrix(6, 12, "bicubic", -0.5, True, "renormalize")
    np.testing.assert_allclose(np.einsum("hi,iwc,vw->hvc", ry, x[0], rx), official, atol=2e-6)
    legacy = tf.compat.v1.image.resize_bicubic(x, [16, 12], half_pixel_centers=False).numpy()[0]
    ry = aug.resample_matrix(8, 16, "bicubic", -0.75, False, "clamp")
    rx = aug.resample_matrix(6, 12, "bicubic", -0.75, False, "clamp")
    np.testing.assert_allclose(np.einsum("hi,iwc,vw->hvc", ry, x[0], rx), legacy, atol=2e-6)


def test_colour_ops_match_tf_image():
    tf = pytest.importorskip("tensorflow")
    x = RNG.random((3, 9, 7))
    x[:, 0] = x[0:1, 0]  # gray pixels
    x[:, 1, :3] = [[1.0], [1.0], [0.2]]  # a tie of the maximum
    plan = aug.sample(RNG, 1, 9, 7, 9, 7)
    nhwc = tf.constant(x.transpose(1, 2, 0))
    for op, value, peer in ((1, 1.6, tf.image.adjust_contrast(nhwc, 1.6)),
                            (2, 1.7, tf.image.adjust_saturation(nhwc, 1.7)),
                            (2, 0.3, tf.image.adjust_saturation(nhwc, 0.3)),
                            (3, 0.13, tf.image.adjust_hue(nhwc, 0.13)),
                            (3, -0.2, tf.image.adjust_hue(nhwc, -0.2))):
        got = raug.colour_op(x, op, value, plan)
        np.testing.assert_allclose(got.transpose(1, 2, 0), peer.numpy(), atol=2e-6, err_msg=f"op {op} {value}")
    np.testing.assert_allclose(raug.gray(x, plan.gray_weights),
                               tf.image.rgb_to_grayscale(nhwc).numpy()[..., 0], atol=1e-6)


def test_blur_matrix_is_the_official_separable_kernel():
    k = aug.gaussian_kernel(aug.blur_radius(224), 1.5)
    assert len(k) == 23 and k.sum() == pytest.approx(1.0)
    m = aug.blur_matrix(5, aug.gaussian_kernel(1, 1.0))
    x = RNG.random(5)
    conv = np.convolve(np.pad(x, 1), aug.gaussian_kernel(1, 1.0), mode="valid")  # symmetric kernel, zero padding
    np.testing.assert_allclose(m @ x, conv, atol=1e-15)
    r = aug.blur_matrix(4, np.array([0.25, 0.5, 0.25]), "reflect")
    np.testing.assert_allclose(r[0], [0.5, 0.5, 0.0, 0.0])  # x[-1] reflects to x[1]


def test_conventions_move_the_pixels():
    """Flipping a documented convention changes the reference beyond the float32 tolerance."""
    x = RNG.random((2, 3, 21, 19))
    plan = aug.sample(np.random.default_rng(3), 2, 21, 19, 15, 15, aug.AugmentConfig(jitter_p=1.0, blur_p=0.0))
    base = raug.apply(plan, x)
    tol = spec.AUGMENT_TOLERANCES["float32"].atol
    for change in ({"cubic_a": -0.75}, {"resize_edge": "clamp"}, {"half_pixel": False},
                   {"contrast_mean": "gray"}, {"saturation_mode": "blend"}):
        other = aug.AugmentPlan.from_dict({**plan.to_dict(), **change})
        assert np.abs(raug.apply(other, x) - base).max() > 10 * tol, change
