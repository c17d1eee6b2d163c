#!/usr/bin/env bash
# Create or refresh the virtual environment $TENFOLD_VENV (default .venv) from
# constraints.txt. Quick when nothing changed: a stamp holds the hash of the
# files that decide what is installed, and pip runs only when it differs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${TENFOLD_VENV:-$root/.venv}"
python="${PYTHON:-python3}"
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "tenfold needs Python 3.10 or newer")'
stamp="$venv/.tenfold-stamp"
want="$(cat "$root/constraints.txt" "$root/pyproject.toml" "$root/scripts/env.sh" | sha256sum | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ]; then
  echo "[env] creating $venv" >&2
  "$python" -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[env] installing tenfold[dev] with constraints.txt (first run: a few minutes)" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  # the build backend at the pinned version (pyproject's SPDX licence needs setuptools >= 77; a fresh
  # venv has an older one or none, and the wheel test builds without isolation)
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -c "$root/constraints.txt" setuptools wheel
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -c "$root/constraints.txt" -e "$root[dev]"
  echo "$want" > "$stamp"
fi
export PATH="$venv/bin:$PATH"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
