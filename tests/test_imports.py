"""Each layer imports only its own framework (checked in fresh interpreters)."""

import subprocess
import sys

import pytest

CASES = {
    "tenfold": set(),
    "tenfold.spec": {"numpy"},
    "tenfold.numpy_ref": set(),
    "tenfold.conformance.runner": set(),
    "tenfold.export": set(),
    "tenfold.export.run_cli": set(),  # a deployer's machine may have onnxruntime and numpy only
    "tenfold.export.runtime": set(),
    "tenfold.torch_backend": {"torch"},
    "tenfold.tf_backend": {"tensorflow", "keras"},
}
FRAMEWORKS = ("torch", "tensorflow", "keras", "onnx", "numpy")


@pytest.mark.parametrize("module", sorted(CASES))
def test_layer_imports_no_other_framework(module):
    code = (f"import sys, {module}\n"
            f"print(','.join(m for m in {FRAMEWORKS!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(filter(None, out.strip().split(",")))
    allowed = CASES[module] | {"numpy"} if module != "tenfold" else set()
    forbidden = loaded - allowed
    assert not forbidden, f"importing {module} also imported {sorted(forbidden)}"
