"""CutMix sampling, tested statistically at fixed seeds (NumPy sampler and the TF graph sampler).

lambda against Beta(alpha, alpha) with a one-sample Kolmogorov-Smirnov test
(closed-form CDFs for alpha in {0.5, 1, 2}; critical value 1.628 / sqrt(n), the
asymptotic 1 % point); box centres against the discrete uniform with a
chi-square test (critical value from the Wilson-Hilferty approximation at 1 %).
Pairings: randperm is a permutation with every position equally likely.
"""

import numpy as np
import pytest

from tenfold.spec import cutmix as spec

#: Closed-form CDFs of Beta(a, a): arcsine law, uniform, 3x^2 - 2x^3.
BETA_CDF = {
    0.5: lambda x: 2.0 / np.pi * np.arcsin(np.sqrt(x)),
    1.0: lambda x: x,
    2.0: lambda x: 3.0 * x**2 - 2.0 * x**3,
}
KS_1PCT = 1.628
Z_99 = 2.3263


def ks_statistic(draws: np.ndarray, cdf) -> float:
    x = np.sort(np.asarray(draws, dtype=np.float64))
    n = x.size
    f = cdf(x)
    return float(max((np.arange(1, n + 1) / n - f).max(), (f - np.arange(n) / n).max()))


def chi2_critical(dof: int) -> float:
    """Wilson-Hilferty approximation of the 99 % quantile of chi-square."""
    k = float(dof)
    return k * (1.0 - 2.0 / (9.0 * k) + Z_99 * np.sqrt(2.0 / (9.0 * k))) ** 3


def chi2_uniform(counts: np.ndarray) -> float:
    e = counts.sum() / counts.size
    return float(((counts - e) ** 2 / e).sum())


def test_ks_helpers_detect_a_wrong_distribution():
    rng = np.random.default_rng(0)
    u = rng.random(4000)
    assert ks_statistic(u, BETA_CDF[1.0]) < KS_1PCT / np.sqrt(u.size)
    assert ks_statistic(u, BETA_CDF[2.0]) > KS_1PCT / np.sqrt(u.size)  # uniform is not Beta(2, 2)
    assert chi2_uniform(np.bincount(rng.integers(0, 10, 5000), minlength=10)) < chi2_critical(9)
    assert chi2_uniform(np.bincount(rng.integers(0, 9, 5000), minlength=10)) > chi2_critical(9)


@pytest.mark.parametrize("alpha", sorted(BETA_CDF))
def test_lambda_is_beta_elem(alpha):
    plan = spec.sample(np.random.default_rng(11), 3000, 8, 8, spec.CutMixConfig(alpha=alpha, granularity="elem"))
    d = ks_statistic(np.asarray(plan.lam_sampled), BETA_CDF[alpha])
    assert d < KS_1PCT / np.sqrt(3000)


def test_lambda_is_beta_batch():
    rng = np.random.default_rng(12)
    draws = [spec.sample(rng, 2, 8, 8, spec.CutMixConfig(alpha=0.5)).lam_sampled[0] for _ in range(1500)]
    assert ks_statistic(np.asarray(draws), BETA_CDF[0.5]) < KS_1PCT / np.sqrt(1500)


def test_centres_are_uniform_and_make_the_boxes():
    h, w = 7, 12
    plan = spec.sample(np.random.default_rng(13), 4000, h, w, spec.CutMixConfig(granularity="elem"))
    c = np.asarray(plan.centres)
    assert chi2_uniform(np.bincount(c[:, 0], minlength=h)) < chi2_critical(h - 1)
    assert chi2_uniform(np.bincount(c[:, 1], minlength=w)) < chi2_critical(w - 1)
    for i in range(0, 4000, 97):
        assert plan.boxes[i] == spec.box_from_centre(plan.lam_sampled[i], *plan.centres[i], h, w)


def test_probability_of_applying():
    plan = spec.sample(np.random.default_rng(14), 4000, 4, 4, spec.CutMixConfig(prob=0.3, granularity="elem"))
    k = sum(plan.applied)
    assert abs(k - 1200) < 4 * np.sqrt(4000 * 0.3 * 0.7)


def test_randperm_positions_are_uniform():
    rng = np.random.default_rng(15)
    counts = np.zeros((5, 5))
    for _ in range(2000):
        p = spec.sample(rng, 5, 4, 4).partner
        counts[np.arange(5), p] += 1
    assert chi2_uniform(counts.reshape(-1)) < chi2_critical(24)


# -- the TF graph sampler follows the same distribution ----------------------

def test_tf_sampler_distribution():
    tf = pytest.importorskip("tensorflow")
    from tenfold.tf_backend import cutmix as tfb

    h, w = 7, 12
    cfg = spec.CutMixConfig(alpha=0.5, granularity="elem", prob=0.5)
    p = tfb.sample_tf(tf.constant([3, 4]), 3000, h, w, cfg)
    p = {k: v.numpy() for k, v in p.items()}
    on = p["applied"]
    assert abs(on.sum() - 1500) < 4 * np.sqrt(3000 * 0.25)
    assert ks_statistic(p["lam_sampled"][on], BETA_CDF[0.5]) < KS_1PCT / np.sqrt(on.sum())
    c = p["centres"][on]
    assert chi2_uniform(np.bincount(c[:, 0], minlength=h)) < chi2_critical(h - 1)
    assert chi2_uniform(np.bincount(c[:, 1], minlength=w)) < chi2_critical(w - 1)
    for i in np.flatnonzero(on)[::50]:  # the same box rule as the spec
        assert tuple(p["boxes"][i]) == spec.box_from_centre(p["lam_sampled"][i], *p["centres"][i], h, w)
    area = (p["boxes"][:, 1] - p["boxes"][:, 0]) * (p["boxes"][:, 3] - p["boxes"][:, 2]) / (h * w)
    np.testing.assert_allclose(p["lam"], np.where(on, 1.0 - area, 1.0), atol=1e-15)
    assert (p["lam"][~on] == 1.0).all() and (p["boxes"][~on] == 0).all()
