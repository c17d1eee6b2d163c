#!/usr/bin/env bash
# The main job: the full conformance matrix (every method, backend and dtype),
# with its JSON report in out/conformance.json and an HTML report with a heat map
# in out/conformance.html (+ out/conformance.png), then the export check: a small
# ViT exported from each backend, checked in onnxruntime against numpy_ref at
# two batch sizes, and run once through `tenfold run-onnx`, and a small FReLU
# ResNet exported from each backend (BatchNorm folded) with the same check and run.
# Exits non-zero on any failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/env.sh"
cd "$root"
mkdir -p out
tenfold conformance --json out/conformance.json --report out/conformance.html "$@"
python -c "import numpy as np; np.save('out/probe.npy', np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8))"
for backend in torch tf; do
  tenfold export vit --preset tiny --backend "$backend" --batch-sizes 1,3 --out "out/vit_tiny_$backend.onnx"
  tenfold run-onnx "out/vit_tiny_$backend.onnx" out/probe.npy
  tenfold export frelu-cifar --backend "$backend" --size 32 --out "out/frelu_cifar_$backend.onnx"
  tenfold run-onnx "out/frelu_cifar_$backend.onnx" out/probe.npy
done
# SAN: a tiny pairwise network exported from PyTorch and a tiny patchwise one from TensorFlow, each checked in
# onnxruntime against numpy_ref at two batch sizes, then run once through `tenfold run-onnx`
tenfold export san-tiny-pair --backend torch --size 16 --out out/san_tiny_pair_torch.onnx
tenfold export san-tiny-patch --backend tf --size 16 --out out/san_tiny_patch_tf.onnx
for model in san_tiny_pair_torch san_tiny_patch_tf; do tenfold run-onnx "out/$model.onnx" out/probe.npy; done
