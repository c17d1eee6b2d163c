"""ViT checkpoints: one CheckpointError listing every problem, no pickle, resized position embeddings."""

import numpy as np
import pytest

from tenfold.numpy_ref import vit as ref
from tenfold.spec import vit as spec
from tenfold.spec.errors import CheckpointError
from tenfold.spec.vit import checkpoint as ckpt

CFG = spec.ViTConfig.tiny(num_layers=1)
POS = "Transformer/posembed_input/pos_embedding"


def _params(cfg=CFG, seed=0):
    return ref.init_params(cfg, np.random.default_rng(seed))


def test_one_error_lists_missing_unexpected_and_misshaped(tmp_path):
    p = _params()
    del p["head/bias"], p["Transformer/encoderblock_0/LayerNorm_0/scale"]
    p["Transformer/encoderblock_7/LayerNorm_0/scale"] = np.zeros(16)
    p["head/kernel"] = np.zeros((16, 6))
    np.savez(tmp_path / "bad.npz", **p)
    with pytest.raises(CheckpointError) as info:
        ckpt.load_npz(tmp_path / "bad.npz", CFG)
    msg = str(info.value)
    for words in ("2 missing keys", "head/bias", "encoderblock_0/LayerNorm_0/scale", "1 unexpected key:",
                  "encoderblock_7", "1 mis-shaped array:", "head/kernel (16, 6) (expected (16, 5))"):
        assert words in msg


def test_npz_never_unpickles(tmp_path):
    p = _params()
    p["head/bias"] = np.array([object()] * 5, dtype=object)
    np.savez(tmp_path / "pickled.npz", **p)
    with pytest.raises(CheckpointError, match="pickle"):
        ckpt.load_npz(tmp_path / "pickled.npz", CFG)


def test_prefixed_npz_loads(tmp_path):
    p = _params()
    np.savez(tmp_path / "bv.npz", **{"params/" + k: v for k, v in p.items()})
    got = ckpt.load_npz(tmp_path / "bv.npz", CFG)
    assert set(got) == set(p)


def test_timm_errors_are_listed_together():
    sd = ckpt.to_timm(_params(), CFG)
    sd["blocks.0.attn.qkv.weight"] = sd["blocks.0.attn.qkv.weight"][:-1]
    sd["blocks.0.ls1.gamma"] = np.ones(16)
    del sd["head.bias"]
    with pytest.raises(CheckpointError) as info:
        ckpt.from_timm(sd, CFG)
    msg = str(info.value)
    assert "blocks.0.ls1.gamma" in msg and "blocks.0.attn.qkv.weight: expected (48, 16), got (47, 16)" in msg
    assert "head/bias" in msg


@pytest.mark.parametrize("method", ["official", "timm"])
def test_bigger_model_from_smaller_checkpoint(tmp_path, method):
    """The 224 -> 384 case in miniature: weights for 16 px (grid 2) build a 32 px model (grid 4)."""
    torch = pytest.importorskip("torch")
    from tenfold.torch_backend import vit as tb

    small = _params()
    np.savez(tmp_path / "small.npz", **small)
    big_cfg = CFG.replace(image_size=32)
    want_params = dict(small)
    want_params[POS] = spec.resize_pos_embedding(small[POS], 4, 1, method=method)
    x = np.random.default_rng(2).standard_normal((2, 3, 32, 32))
    want = ref.vit(x, want_params, big_cfg)
    model = tb.load_npz(tb.ViT(big_cfg).double().eval(), tmp_path / "small.npz", resize=method)
    np.testing.assert_allclose(model(torch.from_numpy(x)).detach().numpy(), want, rtol=1e-10, atol=1e-12)
    with pytest.raises(CheckpointError, match="pos_embedding \\("):
        tb.load_npz(tb.ViT(big_cfg), tmp_path / "small.npz", resize=None)


def test_tf_bigger_model_from_smaller_checkpoint(tmp_path):
    pytest.importorskip("tensorflow")
    from tenfold.tf_backend import vit as tfb

    small = _params(CFG.replace(classifier="gap"))
    np.savez(tmp_path / "small.npz", **small)
    big_cfg = CFG.replace(image_size=32, classifier="gap")
    want_params = dict(small)
    want_params[POS] = spec.resize_pos_embedding(small[POS], 4, 0)
    x = np.random.default_rng(3).standard_normal((2, 3, 32, 32))
    model = tfb.load_npz(tfb.ViT(big_cfg, dtype="float64"), tmp_path / "small.npz")
    np.testing.assert_allclose(np.asarray(model(x.transpose(0, 2, 3, 1))), ref.vit(x, want_params, big_cfg),
                               rtol=1e-10, atol=1e-12)


def test_torch_round_trips_and_timm_file(tmp_path):
    torch = pytest.importorskip("torch")
    from tenfold.torch_backend import vit as tb

    p = _params(CFG.replace(representation_size=4))
    cfg = CFG.replace(representation_size=4)
    model = tb.load_params(tb.ViT(cfg).double(), p)
    back = tb.get_params(model)
    assert set(back) == set(p) and all(np.array_equal(back[k], p[k]) for k in p)
    torch.save(model.state_dict(), tmp_path / "timm.pth")
    other = tb.load_timm_state_dict(tb.ViT(cfg).double(), tmp_path / "timm.pth")
    x = torch.randn(1, 3, 16, 16, dtype=torch.float64)
    torch.testing.assert_close(other(x), model(x), rtol=0, atol=0)


def test_tf_round_trip():
    pytest.importorskip("tensorflow")
    from tenfold.tf_backend import vit as tfb

    p = _params()
    back = tfb.get_params(tfb.load_params(tfb.ViT(CFG, dtype="float64"), p))
    assert set(back) == set(p) and all(np.array_equal(back[k], p[k]) for k in p)
    with pytest.raises(CheckpointError, match="missing"):
        tfb.load_params(tfb.ViT(CFG), {k: v for k, v in p.items() if k != "cls"})


def test_keras_save_and_load(tmp_path):
    pytest.importorskip("tensorflow")
    import keras

    from tenfold.tf_backend import vit as tfb

    model = tfb.load_params(tfb.ViT(CFG), _params())
    x = np.random.default_rng(0).standard_normal((2, 16, 16, 3)).astype(np.float32)
    model.save(tmp_path / "vit.keras")
    again = keras.models.load_model(tmp_path / "vit.keras")
    assert isinstance(again, tfb.ViT) and again.config == CFG
    np.testing.assert_array_equal(np.asarray(again(x)), np.asarray(model(x)))
