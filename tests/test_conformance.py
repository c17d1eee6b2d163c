"""The conformance suite under pytest: one test per check (method, backend, mode, dtype, case).

The same checks as ``tenfold conformance``; a backend that is not installed
is skipped here (the CLI instead fails when one is requested explicitly).
"""

import pytest

from tenfold.conformance import backends, runner

CHECKS = runner.plan()


@pytest.mark.parametrize("check", CHECKS, ids=[c.id for c in CHECKS])
def test_conformance(check):
    for backend in (check.backend, *check.suite.requires):
        if not backends.available(backend):
            pytest.skip(f"{backend} is not installed")
    result = runner.run_check(check)
    assert result.passed, f"{result.detail}\nreproduce: {result.repro}"
