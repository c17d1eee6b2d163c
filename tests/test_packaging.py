"""A normal (non-editable) install: only ``tenfold`` lands in site-packages, and it works."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_installs_only_the_tenfold_namespace(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("tenfold-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"tenfold"}
    for sub in ("spec", "numpy_ref", "torch_backend", "tf_backend", "export", "conformance", "benchmarks"):
        assert f"tenfold/{sub}/__init__.py" in names

    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    code = "import tenfold.numpy_ref.mish as m, tenfold.spec as s; print(s.__file__); print(m.mish([0.0, 1.0])[1])"
    env = dict(os.environ, PYTHONPATH=str(target))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                         cwd=tmp_path).stdout.split()
    assert out[0].startswith(str(target))
    assert abs(float(out[1]) - 0.8650983882673103) < 1e-15  # mish(1) = tanh(ln(1 + e))


def test_every_package_folder_is_listed_in_pyproject():
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    top = {"spec", "numpy_ref", "torch_backend", "tf_backend", "export", "conformance", "benchmarks", "tenfold"}
    found = set()
    for init in ROOT.glob("*/**/__init__.py"):
        parts = init.relative_to(ROOT).parts[:-1]
        if parts[0] in top:
            found.add(".".join(parts) if parts[0] == "tenfold" else "tenfold." + ".".join(parts))
    assert found - listed == set(), "add these packages to pyproject.toml"
