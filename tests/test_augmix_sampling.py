"""AugMix sampling, tested statistically at fixed seeds (the NumPy sampler; the TF graph sampler in test_augmix_layers).

Continuous draws (levels, Dirichlet marginals, the Beta weight) against their
closed-form CDFs with a one-sample Kolmogorov-Smirnov test (critical value
1.628 / sqrt(n), the asymptotic 1 % point); categorical draws (ops, depths,
signs, bins) against the uniform law with a chi-square test (99 % quantile by
the Wilson-Hilferty approximation). Each test's false-alarm rate is 1 % per
statistic for a random seed; the seeds are fixed, so the suite is
deterministic, and ``test_helpers_detect_a_wrong_distribution`` shows the
same statistics reject a wrong law. The official draw order is checked
against a literal re-implementation of the official ``aug()`` loop on
``np.random``.
"""

import numpy as np
import pytest

from tenfold.spec import augmix as spec
from tenfold.spec.augmix import ops as O

KS_1PCT = 1.628
Z_99 = 2.3263


def ks_statistic(draws, cdf) -> float:
    x = np.sort(np.asarray(draws, dtype=np.float64))
    n = x.size
    f = cdf(x)
    return float(max((np.arange(1, n + 1) / n - f).max(), (f - np.arange(n) / n).max()))


def ks_ok(draws, cdf) -> bool:
    return ks_statistic(draws, cdf) < KS_1PCT / np.sqrt(np.size(draws))


def chi2_critical(dof: int) -> float:
    k = float(dof)
    return k * (1.0 - 2.0 / (9.0 * k) + Z_99 * np.sqrt(2.0 / (9.0 * k))) ** 3


def chi2_uniform_ok(counts) -> bool:
    counts = np.asarray(counts, dtype=np.float64)
    e = counts.sum() / counts.size
    return float(((counts - e) ** 2 / e).sum()) < chi2_critical(counts.size - 1)


def flat(plan, field):
    return [v for sample in getattr(plan, field) for chain in sample for v in chain]


@pytest.fixture(scope="module")
def big_plan():
    return spec.sample(np.random.default_rng(2024), 2000, 32, 32, spec.AugMixConfig(all_ops=True))


def test_helpers_detect_a_wrong_distribution():
    rng = np.random.default_rng(0)
    u = rng.random(4000)
    assert ks_ok(u, lambda x: x)
    assert not ks_ok(u, lambda x: 1 - (1 - x) ** 2)
    assert chi2_uniform_ok(np.bincount(rng.integers(0, 9, 5000), minlength=9))
    assert not chi2_uniform_ok(np.bincount(rng.integers(0, 8, 5000), minlength=9))


def test_ops_are_uniform_with_replacement(big_plan):
    ops = flat(big_plan, "ops")
    counts = np.array([ops.count(op) for op in spec.ALL_OPS])
    assert chi2_uniform_ok(counts)
    default = flat(spec.sample(np.random.default_rng(1), 1500, 8, 8), "ops")
    assert set(default) == set(spec.DEFAULT_OPS)  # color etc. only with all_ops
    assert chi2_uniform_ok([default.count(op) for op in spec.DEFAULT_OPS])
    # with replacement: a chain repeats an op as often as independent draws would
    chains = [c for s in big_plan.ops for c in s if len(c) >= 2]
    repeats = np.mean([c[0] == c[1] for c in chains])
    assert abs(repeats - 1 / 13) < 3 * np.sqrt((1 / 13) * (12 / 13) / len(chains))


def test_depth_is_uniform_1_to_3(big_plan):
    depths = [len(c) for s in big_plan.ops for c in s]
    assert set(depths) == {1, 2, 3}
    assert chi2_uniform_ok(np.bincount(depths)[1:])
    fixed = spec.sample(np.random.default_rng(3), 50, 8, 8, spec.AugMixConfig(depth=2))
    assert {len(c) for s in fixed.ops for c in s} == {2}


@pytest.mark.parametrize("severity", [1, 3, 10])
def test_levels_are_uniform_on_the_severity_range(severity):
    plan = spec.sample(np.random.default_rng(severity), 1500, 32, 32, spec.AugMixConfig(severity=severity))
    levels = np.array([lv for op, lv in zip(flat(plan, "ops"), flat(plan, "levels"), strict=True)
                       if O.OP_INFO[op].has_level])
    assert levels.min() >= 0.1 and levels.max() < severity
    assert ks_ok(levels, lambda x: (x - 0.1) / (severity - 0.1))


def test_signs_are_fair_and_only_on_signed_ops(big_plan):
    pairs = list(zip(flat(big_plan, "ops"), flat(big_plan, "signs"), strict=True))
    assert all(s == 1 for op, s in pairs if not O.OP_INFO[op].signed)
    signed = [s for op, s in pairs if O.OP_INFO[op].signed]
    assert chi2_uniform_ok([signed.count(1), signed.count(-1)])


def test_arguments_follow_the_official_maps(big_plan):
    """Each stored argument is the official map of its level and sign (hand-written maps here)."""
    maps = {
        "posterize": lambda lv, s: 4 - int(lv * 4 / 10), "rotate": lambda lv, s: s * int(lv * 30 / 10),
        "solarize": lambda lv, s: 256 - int(lv * 256 / 10), "shear_x": lambda lv, s: s * lv * 0.3 / 10,
        "shear_y": lambda lv, s: s * lv * 0.3 / 10, "translate_x": lambda lv, s: s * int(lv * (32 / 3) / 10),
        "translate_y": lambda lv, s: s * int(lv * (32 / 3) / 10), "autocontrast": lambda lv, s: 0.0,
        "equalize": lambda lv, s: 0.0,
    }
    for op, lv, s, a in zip(*(flat(big_plan, f) for f in ("ops", "levels", "signs", "args")), strict=True):
        want = maps[op](lv, s) if op in maps else lv * 1.8 / 10 + 0.1
        assert a == pytest.approx(want, abs=1e-12), op


def test_severity_3_ranges_match_the_research_notes(big_plan):
    """official_b.md: rotate 0-8 degrees, shear up to 0.09, translate 0-3 px at 32 px, posterize 4 or 3 bits,
    solarize threshold 180-254, enhance factor 0.118-0.64."""
    by_op = {}
    for op, a in zip(flat(big_plan, "ops"), flat(big_plan, "args"), strict=True):
        by_op.setdefault(op, []).append(a)
    assert max(abs(v) for v in by_op["rotate"]) == 8
    assert max(abs(v) for v in by_op["shear_x"]) <= 0.09
    assert max(abs(v) for v in by_op["translate_x"]) == 3
    assert set(by_op["posterize"]) == {3.0, 4.0}
    assert 180 <= min(by_op["solarize"]) and max(by_op["solarize"]) <= 254
    assert 0.118 <= min(by_op["color"]) and max(by_op["color"]) < 0.64


@pytest.mark.parametrize("alpha", [0.5, 1.0])
def test_weights_are_dirichlet_and_beta(alpha):
    plan = spec.sample(np.random.default_rng(int(alpha * 10)), 3000, 8, 8, spec.AugMixConfig(alpha=alpha))
    w = np.asarray(plan.chain_weights)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)
    # marginal of Dirichlet(alpha 1_3) is Beta(alpha, 2 alpha); closed forms for alpha 0.5 (x^.5) and 1 (1-(1-x)^2)
    cdf_w = (lambda x: np.sqrt(x)) if alpha == 0.5 else (lambda x: 1 - (1 - x) ** 2)
    assert ks_ok(w[:, 0], cdf_w) and ks_ok(w[:, 2], cdf_w)
    cdf_m = (lambda x: 2 / np.pi * np.arcsin(np.sqrt(x))) if alpha == 0.5 else (lambda x: x)
    assert ks_ok(np.asarray(plan.m), cdf_m)
    np.testing.assert_array_equal(plan.mix_weight, plan.m)  # official: m weights the mixture


def test_paper_convention_swaps_m():
    a = spec.sample(np.random.default_rng(5), 20, 8, 8, spec.AugMixConfig())
    b = spec.sample(np.random.default_rng(5), 20, 8, 8, spec.AugMixConfig.paper())
    assert a.m == b.m
    np.testing.assert_allclose(b.mix_weight, 1.0 - np.asarray(a.m))


def test_torchvision_bins_are_uniform_below_severity():
    plan = spec.sample(np.random.default_rng(9), 2000, 27, 27, spec.AugMixConfig.torchvision())
    pairs = [(op, lv, s, a) for op, lv, s, a in zip(*(flat(plan, f) for f in ("ops", "levels", "signs", "args")),
                                                      strict=True) if O.OP_INFO[op].has_level]
    bins = np.array([lv for _, lv, _, _ in pairs])
    assert set(bins) == {0.0, 1.0, 2.0} and chi2_uniform_ok(np.bincount(bins.astype(int)))
    for op, lv, s, a in pairs:  # torchvision's linspace(0, max, 10)[bin]
        if op == "rotate":
            assert a == pytest.approx(s * 30 * lv / 9)
        elif op == "translate_x":
            assert a == s * int(lv * 9 / 9)  # width 27: max 9 px
        elif op == "posterize":
            assert a == {0: 4, 1: 4, 2: 3}[int(lv)]
        elif op == "brightness":
            assert a == pytest.approx(1 + s * 0.1 * lv)


def official_aug_draws(state: np.random.RandomState, severity: int, width: int, ops: list[str]):
    """The draws of the official ``aug()`` (cifar.py) and ``augmentations.py``, written from the official code's
    calls in their order, on a legacy RandomState standing for ``np.random``."""
    ws = np.float32(state.dirichlet([1] * width))
    m = np.float32(state.beta(1, 1))
    chains = []
    for _ in range(width):
        depth = state.randint(1, 4)
        chain = []
        for _ in range(depth):
            op = ops[state.choice(len(ops))]
            if op in ("autocontrast", "equalize"):
                chain.append((op, 0.0))
                continue
            level = state.uniform(low=0.1, high=severity)
            if op == "posterize":
                arg = 4 - int(level * 4 / 10)
            elif op == "solarize":
                arg = 256 - int(level * 256 / 10)
            elif op == "rotate":
                arg = int(level * 30 / 10)
                if state.uniform() > 0.5:
                    arg = -arg
            elif op.startswith("shear"):
                arg = float(level) * 0.3 / 10.
                if state.uniform() > 0.5:
                    arg = -arg
            elif op.startswith("translate"):
                arg = int(level * (32 / 3) / 10)
                if state.random() > 0.5:
                    arg = -arg
            else:
                arg = float(level) * 1.8 / 10. + 0.1
            chain.append((op, float(arg)))
        chains.append(chain)
    return ws, m, chains


@pytest.mark.parametrize("all_ops", [False, True])
def test_official_draw_order_reproduces_the_official_stream(all_ops):
    config = spec.AugMixConfig(all_ops=all_ops)
    plan = spec.sample(np.random.RandomState(7), 6, 32, 32, config)
    state = np.random.RandomState(7)
    for i in range(6):
        ws, m, chains = official_aug_draws(state, 3, 3, list(config.ops))
        np.testing.assert_array_equal(np.float32(plan.chain_weights[i]), ws)
        assert np.float32(plan.m[i]) == m
        for j, chain in enumerate(chains):
            assert tuple(op for op, _ in chain) == plan.ops[i][j]
            assert tuple(a for _, a in chain) == plan.args[i][j]


def test_generator_and_randomstate_both_work_and_seeds_repeat():
    a = spec.sample(np.random.default_rng(3), 4, 16, 16)
    b = spec.sample(np.random.default_rng(3), 4, 16, 16)
    assert a == b
    assert spec.sample(np.random.RandomState(3), 4, 16, 16) != a
