#!/usr/bin/env bash
# Optional: the peer environment .venv-peers (timm, torchvision, lightly) that
# benchmarks and the timm cross-checks use when it exists. It is never the test
# environment. On this project's machines torchvision works only with
# torch 2.14.1 + torchvision 0.29.1 (a large CUDA build, used on the CPU).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${TENFOLD_PEERS_VENV:-$root/.venv-peers}"
"${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check torch==2.14.1 torchvision==0.29.1 timm lightly
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e "$root"  # tenfold beside its peers
echo "peers ready: $venv/bin/python (or set TENFOLD_PEERS_PYTHON to another interpreter)"
