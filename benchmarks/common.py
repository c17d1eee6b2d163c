"""Timing and peak-memory helpers shared by the benchmarks.

Times are medians over repeats after a warm-up. Peak memory is measured in a
fresh subprocess per variant (so that no allocator cache from another variant
hides the cost): a thread samples the resident set size every millisecond
while one step runs, and the figure is the peak minus the size just before.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    """Resident set size of this process now."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * _PAGE


def median_seconds(fn: Callable[[], object], repeat: int = 7, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` over ``repeat`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_extra_bytes(fn: Callable[[], object]) -> int:
    """Peak RSS growth while ``fn()`` runs once (sampled every millisecond)."""
    base = rss_bytes()
    peak = base
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_bytes())
            time.sleep(0.001)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        fn()
    finally:
        done.set()
        thread.join()
    return max(peak, rss_bytes()) - base


def in_subprocess(module: str, *args: str) -> dict:
    """Run ``python -m module args`` and parse the JSON object it prints last (a progress step per call)."""
    from tenfold import progress

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    what = args[1] if args[:1] == ("--worker",) and len(args) > 1 else " ".join(args)
    with progress.Steps(f"bench {module.rsplit('.', 1)[-1]}") as say:
        say(f"measuring {what} in a fresh process")
        proc = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, env=env,
                              check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return json.loads(lines[-1])


def emit(text: str, rows: object, json_path: str | None) -> int:
    """Print a benchmark's report and, when asked, write its measurements as JSON; returns exit status 0."""
    print(text)
    if json_path:
        with open(json_path, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


def peers_python() -> Path | None:
    """The interpreter of the optional peer environment (timm, torchvision, lightly), if there is one.

    ``TENFOLD_PEERS_PYTHON`` names it; otherwise ``.venv-peers`` at the repository
    root, which ``bash scripts/peers.sh`` creates. The peers never enter the
    test environment.
    """
    env = os.environ.get("TENFOLD_PEERS_PYTHON")
    path = Path(env) if env else Path(__file__).resolve().parents[1] / ".venv-peers" / "bin" / "python"
    return path if path.exists() else None
