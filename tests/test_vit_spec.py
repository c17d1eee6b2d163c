"""ViT spec: presets, config validation, parameter layout, position-embedding resize."""

import numpy as np
import pytest

from tenfold.spec import vit as spec
from tenfold.spec.errors import ConfigError, ShapeError


def test_official_presets_match_the_official_table():
    # vit_jax/configs/models.py (hidden, mlp, heads, layers) and patch sizes, written out independently
    table = {"Ti/16": (192, 768, 3, 12, 16), "S/16": (384, 1536, 6, 12, 16), "S/32": (384, 1536, 6, 12, 32),
             "B/8": (768, 3072, 12, 12, 8), "B/16": (768, 3072, 12, 12, 16), "B/32": (768, 3072, 12, 12, 32),
             "L/16": (1024, 4096, 16, 24, 16), "L/32": (1024, 4096, 16, 24, 32), "H/14": (1280, 5120, 16, 32, 14)}
    assert set(table) == set(spec.OFFICIAL_MODELS)
    for name, (d, m, h, n, p) in table.items():
        c = spec.ViTConfig.preset(name)
        assert (c.hidden_size, c.mlp_dim, c.num_heads, c.num_layers, c.patch_size) == (d, m, h, n, p)
        assert c.layer_norm_eps == 1e-6 and c.gelu == "tanh" and c.classifier == "token"
    assert spec.ViTConfig.preset("b16") == spec.ViTConfig.preset("B/16")
    assert spec.ViTConfig.preset("L/16").dropout_rate == 0.1


def test_param_counts_match_published_sizes():
    # ViT-B/16 with a 1000-class head: 86,567,656 (timm vit_base_patch16_224, "86.6M"); paper: 86M, 307M, 632M
    assert spec.num_params(spec.ViTConfig.preset("B/16")) == 86_567_656
    assert round(spec.num_params(spec.ViTConfig.preset("L/16")) / 1e6) in (304, 305, 307)
    assert round(spec.num_params(spec.ViTConfig.preset("H/14")) / 1e6) == 632


def test_param_shapes_follow_the_npz_names():
    shapes = spec.param_shapes(spec.ViTConfig.preset("B/16"))
    assert shapes["embedding/kernel"] == (16, 16, 3, 768)
    assert shapes["Transformer/posembed_input/pos_embedding"] == (1, 197, 768)
    assert shapes["Transformer/encoderblock_0/MultiHeadDotProductAttention_1/query/kernel"] == (768, 12, 64)
    assert shapes["Transformer/encoderblock_11/MultiHeadDotProductAttention_1/out/kernel"] == (12, 64, 768)
    assert shapes["Transformer/encoderblock_3/MlpBlock_3/Dense_0/kernel"] == (768, 3072)
    assert shapes["head/kernel"] == (768, 1000) and "pre_logits/kernel" not in shapes
    gap = spec.param_shapes(spec.ViTConfig.preset("B/16", classifier="gap", representation_size=768))
    assert "cls" not in gap and gap["Transformer/posembed_input/pos_embedding"] == (1, 196, 768)
    assert gap["pre_logits/kernel"] == (768, 768)


@pytest.mark.parametrize("bad", [dict(hidden_size=30, num_heads=4), dict(image_size=20, patch_size=8),
                                 dict(classifier="mean"), dict(gelu="erf"), dict(dropout_rate=1.0),
                                 dict(layer_norm_eps=0.0), dict(num_layers=0), dict(representation_size=0)])
def test_bad_configs_raise_config_error(bad):
    with pytest.raises(ConfigError, match="expected"):
        spec.ViTConfig.tiny(**bad)


def test_every_default_has_a_source():
    assert all(spec.ViTConfig.provenance().values())
    assert "approximate=True" in spec.ViTConfig.provenance()["gelu"]


def test_resize_official_is_align_corners_bilinear():
    # A grid that is linear in (row, col) stays linear, with the corner values kept (align_corners=True).
    g = 3
    rows, cols = np.meshgrid(np.arange(g), np.arange(g), indexing="ij")
    grid = np.stack([rows, cols, 2.0 * rows - cols + 1.0], -1).reshape(1, g * g, 3)
    cls = np.full((1, 1, 3), 7.0)
    out = spec.resize_pos_embedding(np.concatenate([cls, grid], 1), 5, num_prefix_tokens=1, method="official")
    assert out.shape == (1, 26, 3)
    np.testing.assert_array_equal(out[0, 0], cls[0, 0])
    new = out[0, 1:].reshape(5, 5, 3)
    r, c = np.meshgrid(np.linspace(0, g - 1, 5), np.linspace(0, g - 1, 5), indexing="ij")
    np.testing.assert_allclose(new, np.stack([r, c, 2.0 * r - c + 1.0], -1), atol=1e-12)


def test_resize_timm_matches_torch_interpolate():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for old, new in [(4, 6), (6, 4), (3, 7)]:
        pe = rng.standard_normal((1, old * old, 5))
        got = spec.resize_pos_embedding(pe, new, num_prefix_tokens=0, method="timm")
        t = torch.from_numpy(pe.reshape(1, old, old, 5)).permute(0, 3, 1, 2)
        want = torch.nn.functional.interpolate(t, size=(new, new), mode="bilinear", align_corners=False)
        np.testing.assert_allclose(got, want.permute(0, 2, 3, 1).reshape(1, new * new, 5).numpy(), atol=1e-12)


def test_resize_official_matches_torch_align_corners():
    torch = pytest.importorskip("torch")
    pe = np.random.default_rng(1).standard_normal((1, 1 + 16, 3))
    got = spec.resize_pos_embedding(pe, 6, method="official")
    t = torch.from_numpy(pe[:, 1:].reshape(1, 4, 4, 3)).permute(0, 3, 1, 2)
    want = torch.nn.functional.interpolate(t, size=(6, 6), mode="bilinear", align_corners=True)
    np.testing.assert_allclose(got[:, 1:], want.permute(0, 2, 3, 1).reshape(1, 36, 3).numpy(), atol=1e-12)


def test_resize_rejects_bad_input():
    with pytest.raises(ShapeError):
        spec.resize_pos_embedding(np.zeros((1, 1 + 15, 4)), 4)
    with pytest.raises(ConfigError):
        spec.resize_pos_embedding(np.zeros((1, 17, 4)), 4, method="bicubic")


def test_224_to_384_position_embedding():
    b16 = spec.ViTConfig.preset("B/16")
    at384 = b16.replace(image_size=384)
    pe = np.random.default_rng(0).standard_normal(spec.param_shapes(b16)["Transformer/posembed_input/pos_embedding"])
    out = spec.resize_pos_embedding(pe, at384.grid, b16.num_prefix_tokens)
    assert out.shape == spec.param_shapes(at384)["Transformer/posembed_input/pos_embedding"] == (1, 577, 768)
    grid = out[0, 1:].reshape(24, 24, 768)
    old = pe[0, 1:].reshape(14, 14, 768)
    for i, j in [(0, 0), (0, 23), (23, 0), (23, 23)]:  # corners aligned: corner tokens are kept
        np.testing.assert_allclose(grid[i, j], old[i * 13 // 23, j * 13 // 23], atol=1e-12)
