#!/usr/bin/env bash
# The tests: ruff, then pytest (unit, property and conformance tests).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/env.sh"
cd "$root"
echo "[test] ruff check" >&2
ruff check .
echo "[test] pytest" >&2
python -m pytest -q -p no:cacheprovider "$@"
