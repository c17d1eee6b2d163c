"""Properties of numpy_ref that compare it with itself, kept out of the conformance matrix.

The conformance suite compares every backend with the float64 reference and
never the reference with itself. These checks do: numpy_ref's own rounding
when run in float32 / float16 / integer dtypes against its float64 result, and
other formulations of the same math (folded BatchNorm, RAdam's fused factors,
a resumed trajectory). They use the same cases and tolerances
(``REFERENCE_SELF_CHECKS`` of each conformance module).
"""

import pytest

from tenfold import spec
from tenfold.conformance import runner
from tenfold.conformance.case import Check

CHECKS = [Check(method, suite.backend, suite.mode, dtype, case, 0, suite)
          for method in spec.METHOD_IDS
          for suite in getattr(runner.method_module(method), "REFERENCE_SELF_CHECKS", ())
          for dtype in suite.dtypes for case in suite.cases]


@pytest.mark.parametrize("check", CHECKS, ids=[c.id for c in CHECKS])
def test_reference_against_itself(check):
    result = runner.run_check(check)
    assert result.passed, f"{result.detail}\nreproduce in Python: runner.run_check({check!r})"


#: numpy_ref rows that compare it with an independent oracle: a peer library (Pillow for AugMix's ops)
#: or central finite differences (mode ``*-fd``); any other numpy row would compare the reference with itself.
PEER_MODES = {"pillow"}


def test_no_conformance_suite_runs_the_reference_alone():
    for method in spec.METHOD_IDS:
        for suite in runner.method_module(method).SUITES:
            if suite.backend == "numpy":
                assert suite.mode in PEER_MODES or suite.mode.endswith("-fd"), \
                    f"{method}: {suite.mode} compares numpy_ref with itself"
