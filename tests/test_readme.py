"""The ```python blocks of the README run as written, in order, in a scratch folder."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_python_blocks_run(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("tensorflow")
    assert BLOCKS, "the README has no python example"
    proc = subprocess.run([sys.executable, "-c", "\n".join(BLOCKS)], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
