#!/usr/bin/env bash
# The main job: the full conformance matrix (every method, backend and dtype),
# with its JSON report in out/conformance.json. Exits non-zero on any failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/env.sh"
cd "$root"
mkdir -p out
tenfold conformance --json out/conformance.json "$@"
