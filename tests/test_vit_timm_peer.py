"""ViT against timm itself (an independent implementation), when the optional .venv-peers has timm.

* a timm ``state_dict`` loaded by tenfold gives timm's logits (torch, TF and numpy_ref);
* an official-layout ``.npz`` written by tenfold, read by timm's own ``_load_weights``, gives
  numpy_ref's logits -- including timm's position-embedding resize against our "timm" method.
"""

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tenfold.benchmarks.common import peers_python
from tenfold.numpy_ref import vit as ref
from tenfold.spec import vit as spec
from tenfold.spec.vit import checkpoint as ckpt

ROOT = Path(__file__).resolve().parent.parent
PEER = peers_python()
SCRIPT = ROOT / "tests" / "peers" / "timm_vit.py"


def _peer_ok() -> bool:
    if PEER is None:
        return False
    return subprocess.run([str(PEER), "-c", "import timm"], capture_output=True, check=False).returncode == 0


pytestmark = pytest.mark.skipif(not _peer_ok(), reason="no .venv-peers with timm")


def _run_timm(tmp: Path, timm_cfg: dict, x: np.ndarray, *extra: str) -> np.ndarray:
    (tmp / "cfg.json").write_text(json.dumps(timm_cfg))
    np.save(tmp / "x.npy", x)
    proc = subprocess.run([str(PEER), str(SCRIPT), str(tmp / "cfg.json"), str(tmp / "x.npy"), str(tmp / "y.npy"),
                           *extra], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return np.load(tmp / "y.npy")


TIMM = dict(img_size=16, patch_size=8, embed_dim=16, depth=2, num_heads=2, mlp_ratio=2.0, num_classes=5)
OURS = spec.ViTConfig.tiny(gelu="exact")  # timm: exact GELU, LayerNorm eps 1e-6, qkv bias


def test_timm_state_dict_gives_timm_logits(tmp_path):
    torch = pytest.importorskip("torch")
    from tenfold.torch_backend import vit as tb

    x = np.random.default_rng(0).standard_normal((3, 3, 16, 16))
    want = _run_timm(tmp_path, TIMM, x, "--save-state-dict", str(tmp_path / "sd.pth"))
    model = tb.load_timm_state_dict(tb.ViT(OURS).double().eval(), tmp_path / "sd.pth")
    with torch.no_grad():
        np.testing.assert_allclose(model(torch.from_numpy(x)).numpy(), want, rtol=1e-10, atol=1e-12)
    params = tb.get_params(model)
    np.testing.assert_allclose(ref.vit(x, params, OURS), want, rtol=1e-10, atol=1e-12)
    pytest.importorskip("tensorflow")
    from tenfold.tf_backend import vit as tfb

    sd = {k: v.numpy() for k, v in torch.load(tmp_path / "sd.pth", weights_only=True).items()}
    tf_model = tfb.load_timm_state_dict(tfb.ViT(OURS, dtype="float64"), sd)
    np.testing.assert_allclose(np.asarray(tf_model(x.transpose(0, 2, 3, 1))), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("gap", [False, True])
def test_official_npz_read_by_timm(tmp_path, gap):
    cfg = OURS.replace(classifier="gap") if gap else OURS
    timm_cfg = dict(TIMM, class_token=not gap, global_pool="avg" if gap else "token")
    if gap:
        timm_cfg["fc_norm"] = False  # official gap: mean after encoder_norm
    params = {k: v.astype(np.float32).astype(np.float64) for k, v in
              ref.init_params(cfg, np.random.default_rng(1)).items()}
    ckpt.save_npz(params, tmp_path / "w.npz")
    x = np.random.default_rng(2).standard_normal((2, 3, 16, 16))
    want = _run_timm(tmp_path, timm_cfg, x, "--load-npz", str(tmp_path / "w.npz"))
    np.testing.assert_allclose(ref.vit(x, params, cfg), want, rtol=1e-9, atol=1e-10)


def test_timm_posemb_resize_matches_our_timm_method(tmp_path):
    small = OURS.replace(image_size=8, patch_size=4)  # grid 2, trained "at 8 px"
    big = OURS.replace(image_size=16, patch_size=4)  # grid 4
    params = {k: v.astype(np.float32).astype(np.float64) for k, v in
              ref.init_params(small, np.random.default_rng(3)).items()}
    ckpt.save_npz(params, tmp_path / "w.npz")
    x = np.random.default_rng(4).standard_normal((2, 3, 16, 16))
    want = _run_timm(tmp_path, dict(TIMM, patch_size=4), x, "--load-npz", str(tmp_path / "w.npz"))
    ours = ckpt.load_npz(tmp_path / "w.npz", big, resize="timm")
    np.testing.assert_allclose(ref.vit(x, ours, big), want, rtol=1e-6, atol=1e-6)
