"""Bad images get the same TenfoldError, with what was expected, in every ViT layer."""

import numpy as np
import pytest

from tenfold.numpy_ref import vit as ref
from tenfold.spec import vit as spec
from tenfold.spec.errors import DTypeError, ShapeError, TenfoldError

CFG = spec.ViTConfig.tiny()  # 16 px, patch 8, 3 channels
PARAMS = ref.init_params(CFG, np.random.default_rng(0))

# (NCHW array, error class, words the message must contain)
BAD = {
    "rank3": (np.zeros((3, 16, 16), np.float32), ShapeError, "4-D"),
    "channels": (np.zeros((2, 4, 16, 16), np.float32), ShapeError, "3 channels"),
    "not-patch-multiple": (np.zeros((2, 3, 20, 20), np.float32), ShapeError, "multiples of the patch size 8"),
    "wrong-size": (np.zeros((2, 3, 24, 24), np.float32), ShapeError, "16x16 images"),
    "int": (np.zeros((2, 3, 16, 16), np.int64), DTypeError, "floating-point"),
}


@pytest.mark.parametrize("name", BAD)
def test_numpy_ref(name):
    x, err, words = BAD[name]
    with pytest.raises(err, match=words):
        ref.vit(x, PARAMS, CFG)


@pytest.mark.parametrize("name", BAD)
def test_torch(name):
    torch = pytest.importorskip("torch")
    from tenfold.torch_backend import vit as tb

    x, err, words = BAD[name]
    with pytest.raises(err, match=words):
        tb.ViT(CFG)(torch.from_numpy(x))


def test_torch_channels_last_is_named():
    torch = pytest.importorskip("torch")
    from tenfold.torch_backend import vit as tb

    with pytest.raises(ShapeError, match="channels-last") as info:
        tb.ViT(CFG)(torch.zeros(2, 16, 16, 3))
    assert isinstance(info.value, TenfoldError) and "(N, 3, 16, 16)" in str(info.value)


@pytest.mark.parametrize("name", BAD)
def test_tf(name):
    pytest.importorskip("tensorflow")
    from tenfold.tf_backend import vit as tfb

    x, err, words = BAD[name]
    x = x.transpose(0, 2, 3, 1) if x.ndim == 4 else x
    with pytest.raises(err, match=words):
        tfb.ViT(CFG)(x)


def test_tf_channels_first_is_named():
    pytest.importorskip("tensorflow")
    from tenfold.tf_backend import vit as tfb

    with pytest.raises(ShapeError, match="channels-first"):
        tfb.ViT(CFG)(np.zeros((2, 3, 16, 16), np.float32))


def test_same_message_in_every_layer():
    torch = pytest.importorskip("torch")
    from tenfold.torch_backend import vit as tb

    x = BAD["wrong-size"][0]
    with pytest.raises(ShapeError) as a:
        ref.vit(x, PARAMS, CFG)
    with pytest.raises(ShapeError) as b:
        tb.ViT(CFG)(torch.from_numpy(x))
    assert str(a.value).split(":", 1)[1] == str(b.value).split(":", 1)[1]


def test_torch_autocast_bfloat16_close_to_reference():
    torch = pytest.importorskip("torch")
    from tenfold.torch_backend import vit as tb

    x = np.random.default_rng(1).standard_normal((2, 3, 16, 16)).astype(np.float32)
    model = tb.load_params(tb.ViT(CFG).eval(), PARAMS)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        y = model(torch.from_numpy(x))
    assert y.dtype == torch.bfloat16
    np.testing.assert_allclose(y.float().numpy(), ref.vit(x.astype(np.float64), PARAMS, CFG), atol=0.06, rtol=0.06)


def test_torch_dropout_only_in_training():
    torch = pytest.importorskip("torch")
    from tenfold.torch_backend import vit as tb

    cfg = CFG.replace(dropout_rate=0.5, attention_dropout_rate=0.5)
    model = tb.load_params(tb.ViT(cfg), PARAMS)
    x = torch.randn(2, 3, 16, 16)
    model.eval()
    torch.testing.assert_close(model(x), model(x))
    model.train()
    assert not torch.allclose(model(x), model(x))
