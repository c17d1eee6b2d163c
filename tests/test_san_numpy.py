"""SAN numpy_ref against independent oracles: the official CUDA kernels' index rules written as scalar loops,
hand-derived values, and torch's Unfold/ReflectionPad (the official tests' own reference)."""

import numpy as np
import pytest

from tenfold.numpy_ref import san as ref
from tenfold.numpy_ref.layers import extract_patches
from tenfold.spec.errors import CheckpointError, ShapeError
from tenfold.spec.san import SAMConfig, nets


def _reflect(i, n):
    # official *_refpad kernels: reflect once, the edge pixel not repeated
    if i < 0:
        i = -i
    if i >= n:
        i = 2 * (n - 1) - i
    return i


def _read(x, n, c, i, j, padding):
    h, w = x.shape[2:]
    if 0 <= i < h and 0 <= j < w:
        return x[n, c, i, j]
    if padding == "zero":
        return 0.0
    return x[n, c, _reflect(i, h), _reflect(j, w)]


@pytest.mark.parametrize("padding", ["reflect", "zero"])
@pytest.mark.parametrize(("k", "h", "w"), [(3, 4, 5), (5, 3, 6), (1, 2, 2)])
def test_aggregation_matches_the_official_kernel_loop(padding, k, h, w):
    rng = np.random.default_rng(k * h)
    n, c, cw, pad = 2, 6, 3, k // 2
    x = rng.normal(size=(n, c, h, w))
    wt = rng.normal(size=(n, cw, k * k, h * w))
    expected = np.zeros_like(x)
    for b, ch, i, j in np.ndindex(n, c, h, w):
        expected[b, ch, i, j] = sum(wt[b, ch % cw, kh * k + kw, i * w + j] * _read(x, b, ch, i - pad + kh, j - pad + kw,
                                                                                   padding)
                                    for kh in range(k) for kw in range(k))
    np.testing.assert_allclose(ref.aggregation(x, wt, k, padding), expected, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("padding", ["reflect", "zero"])
def test_pairwise_subtraction_matches_subtraction2_kernel_loop(padding):
    rng = np.random.default_rng(1)
    k, h, w = 3, 3, 5
    x1, x2 = rng.normal(size=(2, 2, h, w)), rng.normal(size=(2, 2, h, w))
    cfg = SAMConfig(in_planes=2, rel_planes=2, out_planes=2, share_planes=1, kernel_size=k, padding=padding)
    got = ref.relation(x1, x2, cfg)
    for n, c, t, i, j in np.ndindex(2, 2, k * k, h, w):
        kh, kw = divmod(t, k)
        want = x1[n, c, i, j] - _read(x2, n, c, i - 1 + kh, j - 1 + kw, padding)  # zero pad: x1_i - 0
        assert got[n, c, t, i * w + j] == pytest.approx(want, abs=1e-15)


def test_relations_agree_with_each_other():
    rng = np.random.default_rng(2)
    x1, x2 = rng.normal(size=(2, 3, 5, 4)), rng.normal(size=(2, 3, 5, 4))
    base = dict(in_planes=3, rel_planes=3, out_planes=4, share_planes=2, kernel_size=3)
    rel = {r: ref.relation(x1, x2, SAMConfig(relation=r, **base)) for r in ("subtraction", "summation", "hadamard",
                                                                           "concatenation", "dot")}
    np.testing.assert_allclose(rel["summation"] - rel["subtraction"], 2 * rel["concatenation"][:, 3:], atol=1e-14)
    np.testing.assert_allclose(rel["dot"][:, 0], rel["hadamard"].sum(axis=1), atol=1e-14)
    np.testing.assert_allclose(rel["concatenation"][:, :3], np.broadcast_to(x1.reshape(2, 3, 1, 20), (2, 3, 9, 20)))
    patch = {r: ref.relation(x1, x2, SAMConfig(sa_type="patchwise", relation=r, **base))
             for r in ("concatenation", "star", "clique")}
    cat = patch["concatenation"][:, :, 0]  # (N, 3 + 3 * 9, L): x1 then the unfold of x2, channel c * 9 + t
    np.testing.assert_allclose(cat[:, 3:].reshape(2, 3, 9, 20), rel["concatenation"][:, 3:], atol=0)
    np.testing.assert_allclose(patch["star"][:, :, 0], rel["dot"][:, 0], atol=1e-14)
    clique = patch["clique"][:, :, 0].reshape(2, 9, 9, 20)  # [x1_j . x2_m]: the centre row j = 4 is the star product
    np.testing.assert_allclose(clique[:, 4], patch["star"][:, :, 0], atol=1e-14)


def test_extract_patches_is_torch_unfold_of_the_padded_map():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).normal(size=(2, 3, 5, 7))
    for mode, tmode in (("reflect", "reflect"), ("zero", "constant")):
        xt = torch.nn.functional.pad(torch.from_numpy(x), (2, 2, 2, 2), mode=tmode)
        want = torch.nn.functional.unfold(xt, 5).numpy().reshape(2, 3, 25, 5, 7)
        np.testing.assert_array_equal(extract_patches(x, 5, mode), want)


def test_position_map_hand_values():
    p = ref.position_map(3, 2)
    np.testing.assert_array_equal(p[0], [[-1, 1]] * 3)  # x coordinate first (official loc_w)
    np.testing.assert_array_equal(p[1], [[-1, -1], [0, 0], [1, 1]])
    np.testing.assert_array_equal(ref.position_map(1, 1), [[[-1.0]], [[-1.0]]])  # torch.linspace(-1, 1, 1) = [-1]


def test_position_delta_reflects_coordinates():
    cfg = SAMConfig(in_planes=2, rel_planes=1, out_planes=2, share_planes=1, kernel_size=3)
    params = {"conv_p.weight": np.eye(2).reshape(2, 2, 1, 1), "conv_p.bias": np.zeros(2)}
    d = ref.position_delta(params, cfg, 3, 3)  # (1, 2, 9, 9); grid step 1 in [-1, 1]
    corner = d[0, :, :, 0].reshape(2, 3, 3)  # pixel (0, 0): neighbours at -1 reflect to +1
    np.testing.assert_array_equal(corner[0], [[-1, 0, -1]] * 3)
    np.testing.assert_array_equal(corner[1], [[-1] * 3, [0] * 3, [-1] * 3])
    dz = ref.position_delta(params, cfg.replace(padding="zero"), 3, 3)
    np.testing.assert_array_equal(dz[0, :, 0, 0], [-1, -1])  # p_i - 0 outside (official zeropad kernel)


def test_pairwise_weights_are_a_softmax_and_patchwise_are_not():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 8, 5, 6))
    for sa_type in ("pairwise", "patchwise"):
        cfg = SAMConfig(in_planes=8, rel_planes=2, out_planes=4, share_planes=2, kernel_size=3, sa_type=sa_type)
        p = ref.sam_init_params(cfg, rng)
        w = ref.attention_weights(x, p, cfg, ref.ops._BN(p, cfg.batchnorm, False, None))
        assert w.shape == (2, 2, 9, 30)
        sums = w.sum(axis=2)
        assert np.allclose(sums, 1.0) == (sa_type == "pairwise")


def test_sam_train_mode_updates_running_stats_and_counter():
    rng = np.random.default_rng(5)
    cfg = SAMConfig(in_planes=4, rel_planes=2, out_planes=4, share_planes=2, kernel_size=3)
    p = ref.sam_init_params(cfg, rng)
    updates = {}
    ref.sam(rng.normal(size=(2, 4, 4, 4)), p, cfg, training=True, updates=updates)
    assert sorted(updates) == sorted(k for k in p if k.startswith("conv_w.") and k.split(".")[-1] in (
        "running_mean", "running_var", "num_batches_tracked"))
    assert updates["conv_w.0.num_batches_tracked"] == 1


def test_block_with_zero_output_conv_is_the_identity_plus_bias():
    cfg = nets.SANConfig.tiny()
    rng = np.random.default_rng(6)
    p = ref.init_params(cfg, rng)
    b = nets.blocks(cfg)[1]
    p[b.name + ".conv.weight"] = np.zeros_like(p[b.name + ".conv.weight"])
    x = rng.normal(size=(2, b.width, 8, 8))
    bn = ref.ops._BN(p, cfg.batchnorm, False, None)
    np.testing.assert_allclose(ref.block(x, p, b, bn), x + p[b.name + ".conv.bias"].reshape(1, -1, 1, 1), atol=1e-15)


def test_errors():
    cfg = nets.SANConfig.tiny()
    p = ref.init_params(cfg, np.random.default_rng(0))
    with pytest.raises(ShapeError, match=r"at stage 2 .*smallest input that works is 16 x 16"):
        ref.forward(np.zeros((1, 3, 15, 40)), p, cfg)
    with pytest.raises(CheckpointError, match=r"missing key: fc\.bias"):
        ref.forward(np.zeros((1, 3, 16, 16)), {k: v for k, v in p.items() if k != "fc.bias"}, cfg)
    no_counters = {k: v for k, v in p.items() if not k.endswith("num_batches_tracked")}
    assert ref.forward(np.zeros((1, 3, 16, 16)), no_counters, cfg).shape == (1, 10)
    with pytest.raises(ShapeError, match="reflection padding 2 needs H, W > 2"):
        c = SAMConfig(in_planes=2, kernel_size=5)
        ref.sam(np.zeros((1, 2, 2, 9)), ref.sam_init_params(c, np.random.default_rng(0)), c)
