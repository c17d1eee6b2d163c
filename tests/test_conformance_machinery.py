"""The conformance machinery itself: metrics, rounding, failure reporting, JSON and the CLI."""

import json

import numpy as np
import pytest

from tenfold.conformance import backends, report, runner
from tenfold.conformance.case import Check, Comparison, Suite
from tenfold.conformance.compare import errors
from tenfold.conformance.dtypes import round_to
from tenfold.spec.tolerance import Tolerance

TOL = Tolerance(atol=1e-6, rtol=1e-3)


def test_errors_allclose_rule_and_specials():
    e = np.array([1.0, 0.0, np.inf, -np.inf, np.nan])
    assert errors(e.copy(), e, TOL)[2]
    assert errors(np.array([1.0009, 9e-7, np.inf, -np.inf, np.nan]), e, TOL)[2]
    assert not errors(np.array([1.002, 0.0, np.inf, -np.inf, np.nan]), e, TOL)[2]
    assert not errors(np.array([1.0, 0.0, np.inf, -np.inf, 0.0]), e, TOL)[2]  # NaN must meet NaN
    assert not errors(np.array([1.0, 0.0, -np.inf, -np.inf, np.nan]), e, TOL)[2]  # inf sign
    assert not errors(np.array([np.nan, 0.0, np.inf, -np.inf, np.nan]), e, TOL)[2]
    abs_err, rel_err, ok, detail = errors(np.array([1.5]), np.array([1.0]), TOL)
    assert (abs_err, rel_err, ok) == (0.5, 0.5, False) and "got" in detail
    assert not errors(np.zeros(3), np.zeros(4), TOL)[2]


def test_bfloat16_rounding_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.concatenate([np.random.default_rng(0).normal(size=1000) * 10.0 ** np.arange(-20, 20, 0.04),
                        [np.inf, -np.inf, np.nan, 3.4e38, -3.4e38, 0.0]])
    want = torch.from_numpy(x.astype(np.float32)).to(torch.bfloat16).double().numpy()
    np.testing.assert_array_equal(round_to(x, "bfloat16"), want)


def _fake_check(values):
    def run(case, dtype):
        return [Comparison("y", np.asarray(values), np.array([1.0, 2.0]), TOL)]
    suite = Suite("numpy", "eager", ("float64",), ("grid",), run)
    return Check("mish", "numpy", "eager", "float64", "grid", 7, suite)


def test_failure_reports_reproduction_and_exceptions_become_failures():
    bad = runner.run_check(_fake_check([1.0, 2.5]))
    assert not bad.passed and bad.max_abs_err == 0.5
    assert bad.repro == "tenfold conformance --method mish --backend numpy --dtype float64 --mode eager " \
                        "--case grid --seed 7"
    good = runner.run_check(_fake_check([1.0, 2.0]))
    assert good.passed and good.repro == ""
    broken = runner.run_check(_fake_check([1.0, "x"]))
    assert not broken.passed and broken.detail.startswith("raised")
    text = report.format_matrix([good, bad])
    assert "1 passed, 1 failed" in text and "reproduce: tenfold conformance" in text
    data = report.to_json([good, bad])
    assert data["summary"] == {"passed": 1, "failed": 1}
    for key in ("method", "backend", "dtype", "mode", "case", "max_abs_err", "max_rel_err", "atol", "rtol", "passed"):
        assert key in data["results"][0]


def test_plan_filters():
    checks = runner.plan(["mish"], ["torch"], ["float32"], ["eager"], ["grid"], seed=3)
    assert [(c.backend, c.mode, c.dtype, c.case, c.seed) for c in checks] == [("torch", "eager", "float32", "grid", 3)]
    api = runner.plan(["mish"], ["torch"], modes=["api"])
    assert len(api) == 1 and api[0].dtype == "-"


def test_cli_json_exit_codes(tmp_path, monkeypatch, capsys):
    from tenfold.cli import main

    out = tmp_path / "c.json"
    assert main(["conformance", "--method", "mish", "--backend", "torch", "--mode", "eager", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["summary"]["failed"] == 0 and data["summary"]["passed"] == len(data["results"]) > 0
    assert "mish     torch   float64" in capsys.readouterr().out
    monkeypatch.setattr(backends, "available", lambda b: b != "tf")
    assert main(["conformance", "--method", "mish", "--backend", "tf"]) == 2
    assert "not installed" in capsys.readouterr().err
    assert main(["conformance", "--method", "mish", "--case", "no-such-case"]) == 2


def test_cli_exit_code_one_on_failure(monkeypatch, capsys):
    from tenfold.cli import main
    from tenfold.conformance import mish as mish_cases

    broken = Suite("numpy", "eager", ("float64",), ("grid",),
                   lambda case, dtype: [Comparison("y", np.ones(2), np.zeros(2), TOL)])
    monkeypatch.setattr(mish_cases, "SUITES", (broken,))
    assert main(["conformance", "--method", "mish", "--backend", "numpy", "--mode", "eager"]) == 1
    assert "reproduce: tenfold conformance --method mish" in capsys.readouterr().out


def test_api_parity_compares_signatures_not_only_names(monkeypatch):
    """A backend export whose parameters differ from the other layers' fails the api row."""
    from tenfold.conformance import runner
    from tenfold.spec import mish as mish_spec

    assert runner.signature_mismatches("mish", "torch_backend") == []
    import tenfold.torch_backend.mish as torch_mish

    monkeypatch.setattr(torch_mish, "mish", lambda x, scale=1.0: x)
    assert any(m.startswith("mish(") for m in runner.signature_mismatches("mish", "torch_backend"))
    monkeypatch.setattr(mish_spec, "API_DIFFERENCES", {"mish": "documented"}, raising=False)
    assert runner.signature_mismatches("mish", "torch_backend") == []


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float32", "float64"])
def test_frelu_gradient_tolerances_reject_all_zero_gradients(dtype):
    """Tolerances are sized per case: a backend returning zero gradients fails in every dtype."""
    from tenfold.conformance.compare import errors
    from tenfold.conformance.frelu import cases
    from tenfold.numpy_ref.frelu import frelu, frelu_vjp

    for name, (config, _, _) in cases.ACT_CASES.items():
        case = cases.make_case(name, 0)
        x, params = cases.case_x(case, dtype), cases.case_params(case, dtype)
        want = frelu_vjp(x, params, cases.round_to(case.inputs["w"], dtype), config)
        y = frelu(x, params, config)  # the backend's output, which picks the branch of each element
        comps = cases.grad_comparisons(case, dtype, {k: np.zeros_like(v) for k, v in want.items()}, y)
        assert not any(errors(c.actual, c.expected, c.tolerance)[2] for c in comps), name
