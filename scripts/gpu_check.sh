#!/usr/bin/env bash
# GPU check of the deployment path (issue 15, part 4); about 3-5 minutes on one GPU.
#
# Prints which providers onnxruntime and torch offer, then runs tenfold's one code path with the
# device argument set to the GPU and reports the provider each step really used and its errors
# against numpy_ref (float64):
#   1. a tiny ViT and a tiny FReLU ResNet exported from torch, run by the runner with provider
#      cuda (TF32 off) at batch 1 and 5: provider used, max abs error vs numpy_ref, pass/fail;
#   2. `tenfold verify --provider cuda` on the ViT file (the report names the provider);
#   3. tests/test_export_gpu.py (skips with the reason where onnxruntime has no CUDA provider);
#   4. `tenfold demo digits --provider cuda` (torch trains on the GPU, onnxruntime serves on it),
#      12 epochs, when scikit-learn is installed;
#   5. `tenfold bench vit --variant onnx-suite --device auto` on ViT-B/16 (wall clock, torch cuda
#      vs onnxruntime CUDA, plus the CPU-time table of this machine's CPU), int8 table skipped.
# Every step has its own time limit and the script goes on after a failure; it exits non-zero if
# any step failed. Use PYTHON=... to pick the interpreter (default .venv/bin/python, else python3).
set -u
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
py="${PYTHON:-}"
if [ -z "$py" ]; then
  if [ -x .venv/bin/python ]; then py=.venv/bin/python; else py=python3; fi
fi
export TF_CPP_MIN_LOG_LEVEL=2
out="${TMPDIR:-/tmp}/tenfold_gpu_check"
mkdir -p "$out"
status=0
step() {  # step NAME SECONDS COMMAND...
  local name="$1" limit="$2"
  shift 2
  echo
  echo "=== $name (limit ${limit}s) ==="
  local start=$SECONDS
  timeout "$limit" "$@"
  local rc=$?
  echo "=== $name: exit $rc after $((SECONDS - start))s ==="
  [ "$rc" -eq 0 ] || status=1
}

step "environment" 60 "$py" - <<'PY'
import platform
import onnxruntime as ort
print("python", platform.python_version(), "| onnxruntime", ort.__version__, "| providers", ort.get_available_providers())
try:
    import torch
    print("torch", torch.__version__, "| cuda available", torch.cuda.is_available(),
          "|", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no device")
except ImportError:
    print("torch not installed")
from tenfold.benchmarks.onnx_speed import cpu_name, pick_device
print("CPU", cpu_name(), "| bench device:", pick_device("auto")[1])
PY

step "runner on cuda vs numpy_ref" 120 "$py" - "$out" <<'PY'
import sys
from pathlib import Path

import numpy as np

from tenfold.export import frelu as fx
from tenfold.export.runtime import runner
from tenfold.export.vit import export_vit
from tenfold.numpy_ref import vit as ref
from tenfold.numpy_ref.frelu import nets as ref_nets
from tenfold.spec import vit as spec
from tenfold.spec.frelu import nets

out = Path(sys.argv[1])
rng = np.random.default_rng(0)
ok = True
config = spec.ViTConfig.tiny(num_classes=7)
params = ref.init_params(config, rng, head_scale=4.0)
np.savez(out / "vit_w.npz", **params)
export_vit(config, params, out / "vit.onnx", check=False, verbose=False)
fconfig = nets.ResNetFReLUConfig(block="basic", layers=(1, 1), widths=(8, 16), stem="cifar", stem_width=8,
                                 frelu_stages=(True, True), dropout=0.0, num_classes=5)
model, fparams = fx.build_model(fconfig, "torch", seed=1)  # random weights, BatchNorm statistics away from 1
fx.export_torch(model, out / "frelu.onnx", (2, 3, 16, 16))
cases = [("vit", out / "vit.onnx", lambda x: ref.vit(x, params, config), (3, 16, 16), spec.TOLERANCES.onnx["float32"]),
         ("frelu", out / "frelu.onnx", lambda x: ref_nets.forward(x, fparams, fconfig), (3, 16, 16),
          nets.TOLERANCES.onnx["float32"])]
for name, path, reference, shape, tol in cases:
    try:
        run = runner(path, "cuda")
    except Exception as err:
        print(f"{name}: FAIL, no CUDA session: {err}")
        ok = False
        continue
    for b in (1, 5):
        x = rng.standard_normal((b, *shape)).astype(np.float32)
        e = reference(x.astype(np.float64))
        y = run(x)[0].astype(np.float64)
        s = max(1.0, float(np.abs(e).max()))
        err = float(np.abs(y - e).max())
        good = bool(np.all(np.abs(y - e) <= tol.atol * s + tol.rtol * np.abs(e))) and run.provider == "CUDAExecutionProvider"
        ok &= good
        print(f"{name} batch {b}: provider {run.provider}, max abs err {err:.2e} (logit scale {s:.3g}, "
              f"atol {tol.atol:g} x scale, rtol {tol.rtol:g}): {'PASS' if good else 'FAIL'}")
sys.exit(0 if ok else 1)
PY

step "tenfold verify --provider cuda" 120 "$py" -m tenfold verify "$out/vit.onnx" --weights "$out/vit_w.npz" --provider cuda

step "pytest tests/test_export_gpu.py" 180 "$py" -m pytest -q -rs tests/test_export_gpu.py

if "$py" -c "import sklearn" 2>/dev/null; then
  step "tenfold demo digits --provider cuda" 240 "$py" -m tenfold demo digits --provider cuda --epochs 12 --out "$out/demo"
else
  echo; echo "=== tenfold demo digits: skipped (scikit-learn is not installed) ==="
fi

step "tenfold bench vit onnx-suite on the GPU" 300 "$py" -m tenfold bench vit --variant onnx-suite --device auto --quant-images 0 --repeat 3

echo
[ "$status" -eq 0 ] && echo "gpu_check: every step passed" || echo "gpu_check: a step failed (see above)"
exit "$status"
