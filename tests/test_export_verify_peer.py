"""``tenfold verify`` on a file exported by plain ``torch.onnx.export`` from a timm model (peer venv).

The peer venv (.venv-peers: timm, torch 2.14) has no ``onnx`` package, which the TorchScript exporter
needs; the test lends it this interpreter's ``onnx`` (and its ``protobuf`` and ``ml_dtypes``) through a
folder of symlinks on ``PYTHONPATH`` (both are CPython 3.11).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tenfold.benchmarks.common import peers_python
from tenfold.cli import main

ROOT = Path(__file__).resolve().parent.parent
PEER = peers_python()
SCRIPT = ROOT / "tests" / "peers" / "timm_onnx.py"
TIMM = dict(img_size=16, patch_size=8, embed_dim=16, depth=2, num_heads=2, mlp_ratio=2.0, num_classes=5)


def _peer_ok() -> bool:
    if PEER is None:
        return False
    code = "import sys, timm; print(sys.version_info[:2])"
    proc = subprocess.run([str(PEER), "-c", code], capture_output=True, text=True, check=False)
    return proc.returncode == 0 and proc.stdout.strip() == str(tuple(sys.version_info[:2]))


pytestmark = pytest.mark.skipif(not _peer_ok(), reason="no .venv-peers with timm on this Python version")


def _shim(tmp: Path) -> Path:
    """A folder holding symlinks to this interpreter's onnx, protobuf and ml_dtypes packages."""
    import google.protobuf
    import ml_dtypes
    import onnx

    shim = tmp / "shim"
    shim.mkdir()
    for module, name in ((onnx, "onnx"), (google.protobuf, "google"), (ml_dtypes, "ml_dtypes")):
        folder = Path(module.__file__).parent
        while folder.name != name:
            folder = folder.parent
        (shim / name).symlink_to(folder, target_is_directory=True)
    return shim


@pytest.fixture(scope="module")
def timm_export(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("timm")
    (tmp / "cfg.json").write_text(json.dumps(TIMM))
    proc = subprocess.run([str(PEER), str(SCRIPT), str(tmp / "cfg.json"), str(tmp / "timm.onnx"),
                           str(tmp / "timm.pth"), "0.5"], capture_output=True, text=True, check=False, cwd=tmp,
                          env=dict(os.environ, PYTHONPATH=str(_shim(tmp))))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return tmp


def test_verify_passes_on_a_timm_torch_onnx_export(timm_export, capsys):
    rc = main(["verify", str(timm_export / "timm.onnx"), "--method", "vit", "--preset", "tiny", "--config",
               '{"gelu": "exact"}', "--weights", str(timm_export / "timm.pth"), "--provider", "cpu"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "no tenfold metadata" in out and "'pixel_values'" in out and "top-1 agreement" in out
    assert "result: PASS" in out


def test_verify_fails_when_the_config_is_not_the_models(timm_export, capsys):
    """timm's GELU is the exact one; verifying against the official tanh form must fail, and say where."""
    rc = main(["verify", str(timm_export / "timm.onnx"), "--method", "vit", "--preset", "tiny",
               "--weights", str(timm_export / "timm.pth"), "--provider", "cpu"])
    out = capsys.readouterr().out
    assert rc == 1, out
    assert "result: FAIL" in out and "worst logit" in out
