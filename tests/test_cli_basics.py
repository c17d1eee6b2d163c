"""The ``tenfold`` command as scripts meet it: --version, exit statuses documented in --help, quiet packaging."""

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tenfold
from tenfold import cli
from tenfold.commands import info
from tenfold.spec.errors import ShapeError

ROOT = Path(__file__).resolve().parents[1]


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"tenfold {tenfold.__version__}"
    assert importlib.metadata.version("tenfold") == tenfold.__version__


def test_help_documents_every_exit_status(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    block = text[text.index("exit status:"):]
    documented = {int(m) for m in re.findall(r"^\s+(\d+)\s", block, flags=re.M)} | {141}
    assert {cli.EXIT_OK, cli.EXIT_FAILED, cli.EXIT_USAGE, cli.EXIT_INTERNAL, cli.EXIT_INTERRUPTED,
            cli.EXIT_BROKEN_PIPE} <= documented and "141" in block
    with pytest.raises(SystemExit):
        cli.main(["conformance", "--help"])
    assert "exit status:" in capsys.readouterr().out


def _raising(monkeypatch, exc):
    def run(args):
        raise exc
    monkeypatch.setattr(info, "run", run)
    return cli.main(["info"])


def test_exit_status_of_errors(monkeypatch, capsys):
    assert _raising(monkeypatch, ShapeError("info: expected x; got y")) == cli.EXIT_USAGE == 2
    assert capsys.readouterr().err.strip() == "tenfold info: expected x; got y"  # the where is not repeated
    assert _raising(monkeypatch, ModuleNotFoundError("No module named 'torch'", name="torch")) == 2
    assert "pip install 'tenfold[torch]'" in capsys.readouterr().err
    assert _raising(monkeypatch, RuntimeError("boom")) == cli.EXIT_INTERNAL == 3
    err = capsys.readouterr().err  # one line, no traceback (issue 17); TENFOLD_DEBUG=1 prints it
    assert "Traceback" not in err and "RuntimeError: boom" in err and "internal error" in err
    monkeypatch.setenv("TENFOLD_DEBUG", "1")
    assert _raising(monkeypatch, RuntimeError("boom")) == 3 and "Traceback" in capsys.readouterr().err
    monkeypatch.delenv("TENFOLD_DEBUG")
    assert _raising(monkeypatch, KeyboardInterrupt()) == 130
    assert _raising(monkeypatch, BrokenPipeError()) == 141
    # not an optional dependency of ours: a real bug, reported as an internal error (one line)
    assert _raising(monkeypatch, ModuleNotFoundError("No module named 'nosuch'", name="nosuch")) == 3
    assert "ModuleNotFoundError" in capsys.readouterr().err


def test_exit_status_of_commands(monkeypatch, capsys):
    from tenfold.conformance import backends

    assert cli.main(["conformance", "--method", "mish", "--backend", "numpy", "--mode", "api", "--quiet"]) == 0
    assert cli.main(["info", "mish"]) == 0
    with pytest.raises(SystemExit) as exc:
        cli.main(["conformance", "--no-such-option"])
    assert exc.value.code == 2
    monkeypatch.setattr(backends, "available", lambda b: b == "numpy")
    assert cli.main(["conformance", "--method", "mish", "--backend", "torch"]) == 2
    assert "not installed" in capsys.readouterr().err


def test_building_the_wheel_prints_no_warning(tmp_path):
    import setuptools

    major = int(setuptools.__version__.split(".")[0])
    assert major >= 77, f"setuptools {setuptools.__version__} here; pyproject needs >= 77: run scripts/env.sh"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # that one warns by design
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v", "-w",
                           str(tmp_path), str(ROOT)], capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    noisy = [ln for ln in (proc.stdout + proc.stderr).splitlines() if re.search(r"(?i)warn|deprecat|!!", ln)]
    assert noisy == [], "\n".join(noisy)
