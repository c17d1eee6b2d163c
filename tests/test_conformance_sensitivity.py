"""Every documented convention is guarded: flipping it in the reference makes conformance fail.

The oracle here is the suite itself: without the flip the same checks pass
(tests/test_conformance.py); with the reference switched to the plausible
wrong convention (a LayerNorm eps of 1e-5, Keras' BatchNorm momentum, RAdam's
paper threshold, an inclusive CutMix box ...), at least one of them must fail.
"""

import pytest

from tenfold.conformance import backends, sensitivity


@pytest.mark.parametrize("convention", sensitivity.CONVENTIONS, ids=[c.id for c in sensitivity.CONVENTIONS])
def test_flipping_a_convention_fails_the_suite(convention):
    for b in convention.backends or ():
        if not backends.available(b):
            pytest.skip(f"{b} is not installed")
    result = sensitivity.run_flipped(convention)
    assert result.checks > 0, "the convention selects no checks"
    assert result.guarded, f"{convention.id}: the suite still passes with the reference using {convention.wrong}"


def test_a_flip_is_undone():
    from tenfold.numpy_ref import vit

    before = vit.layer_norm
    with sensitivity.CONVENTIONS[0].flip():
        assert vit.layer_norm is not before
    assert vit.layer_norm is before
