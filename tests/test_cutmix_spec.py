"""CutMix spec: config validation, presets, the plan type, the official draw order."""

import json

import numpy as np
import pytest

from tenfold.spec import cutmix as spec
from tenfold.spec.errors import ConfigError, ShapeError, TenfoldError


@pytest.mark.parametrize("alpha", [0.0, -1.0, float("nan"), float("inf"), True, "1"])
def test_alpha_must_be_positive(alpha):
    with pytest.raises(ConfigError, match=r"CutMixConfig.alpha: expected a finite number > 0"):
        spec.CutMixConfig(alpha=alpha)


@pytest.mark.parametrize("prob", [-0.1, 1.01, float("nan"), None])
def test_prob_must_be_a_probability(prob):
    with pytest.raises(ConfigError, match=r"CutMixConfig.prob: expected a probability in \[0, 1\]"):
        spec.CutMixConfig(prob=prob)


def test_pairing_granularity_correct_lam_are_checked():
    with pytest.raises(ConfigError, match="one of randperm, roll, flip"):
        spec.CutMixConfig(pairing="shuffle")
    with pytest.raises(ConfigError, match="one of batch, elem"):
        spec.CutMixConfig(granularity="pair")
    with pytest.raises(ConfigError, match="a bool"):
        spec.CutMixConfig(correct_lam=1)


def test_presets_and_provenance():
    assert spec.CutMixConfig.official() == spec.CutMixConfig()
    assert spec.CutMixConfig.preset("cifar").prob == 0.5
    assert spec.CutMixConfig.preset("paper").correct_lam is False
    assert spec.CutMixConfig.preset("torchvision").pairing == "roll"
    assert spec.CutMixConfig.preset("timm").pairing == "flip"
    assert all(spec.CutMixConfig.provenance().values())
    c = spec.CutMixConfig(alpha=0.4, granularity="elem")
    assert spec.CutMixConfig.from_dict(c.to_dict()) == c


def test_plan_round_trips_through_json():
    plan = spec.sample(np.random.default_rng(3), 5, 8, 10, spec.CutMixConfig(granularity="elem", prob=0.6))
    back = spec.CutMixPlan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert back == plan
    with pytest.raises(ConfigError, match="exactly the keys"):
        spec.CutMixPlan.from_dict({**plan.to_dict(), "extra": 1})


def test_plan_is_frozen_and_validated():
    plan = spec.sample(np.random.default_rng(0), 3, 6, 6)
    with pytest.raises(AttributeError):
        plan.lam = (1.0, 1.0, 1.0)
    d = plan.to_dict()
    with pytest.raises(ConfigError, match=r"boxes\[0\]"):
        spec.CutMixPlan.from_dict({**d, "boxes": [[0, 7, 0, 1]] * 3})
    with pytest.raises(ConfigError, match=r"partner\[0\]"):
        spec.CutMixPlan.from_dict({**d, "partner": [3, 0, 1]})
    with pytest.raises(ConfigError, match="expected 2 entries"):
        spec.CutMixPlan.from_dict({**d, "lam": [1.0, 1.0]})


def test_sample_rejects_bad_sizes_and_generators():
    with pytest.raises(ShapeError, match="batch_size: expected an int >= 1"):
        spec.sample(np.random.default_rng(0), 0, 4, 4)
    with pytest.raises(TenfoldError, match=r"a numpy\.random\.Generator or RandomState"):
        spec.sample(0, 2, 4, 4)


def test_box_rule_matches_hand_values():
    # lam = 0.75 -> side sqrt(0.25) = 0.5; H = 10 -> cut_h = 5, half 2; W = 7 -> cut_w = 3, half 1.
    assert spec.box_from_centre(0.75, 4, 3, 10, 7) == (2, 6, 2, 4)
    assert spec.box_from_centre(0.75, 0, 0, 10, 7) == (0, 2, 0, 1)  # clipped at the top and left
    assert spec.box_from_centre(0.75, 9, 6, 10, 7) == (7, 10, 5, 7)  # clipped at the bottom and right
    assert spec.box_from_centre(0.0, 5, 3, 10, 7) == (0, 10, 0, 6)  # side 7 -> half 3 -> 2 * 3
    assert spec.box_from_centre(1.0, 5, 3, 10, 7) == (5, 5, 3, 3)


def test_pairings():
    rng = np.random.default_rng(0)
    assert spec.partner_indices(rng, 4, "roll") == (3, 0, 1, 2)  # torch.roll(1, 0): out[i] = in[i - 1]
    assert spec.partner_indices(rng, 4, "flip") == (3, 2, 1, 0)
    assert sorted(spec.partner_indices(rng, 6, "randperm")) == list(range(6))


# -- the official train.py, transcribed as an oracle ------------------------
# clovaai/CutMix-PyTorch train.py: r = np.random.rand(1); if beta > 0 and r < cutmix_prob:
# lam = np.random.beta(beta, beta); rand_index = torch.randperm(B); rand_bbox(input.size(), lam);
# lam = 1 - ((bbx2 - bbx1) * (bby2 - bby1) / (W * H)). ``torch.randperm`` stands for permutation.

def _official(npr, size, beta, cutmix_prob):
    r = npr.rand(1) if hasattr(npr, "rand") else npr.random(1)
    if not (beta > 0 and r < cutmix_prob):
        return None
    lam = npr.beta(beta, beta)
    rand_index = npr.permutation(size[0])
    w, h = size[2], size[3]  # the official names (swapped for NCHW, used consistently)
    cut_rat = np.sqrt(1.0 - lam)
    cut_w = int(w * cut_rat)
    cut_h = int(h * cut_rat)
    randint = npr.randint if hasattr(npr, "randint") else npr.integers
    cx = randint(w)
    cy = randint(h)
    bbx1 = np.clip(cx - cut_w // 2, 0, w)
    bby1 = np.clip(cy - cut_h // 2, 0, h)
    bbx2 = np.clip(cx + cut_w // 2, 0, w)
    bby2 = np.clip(cy + cut_h // 2, 0, h)
    lam = 1 - ((bbx2 - bbx1) * (bby2 - bby1) / (size[-1] * size[-2]))
    return lam, rand_index, (bbx1, bbx2, bby1, bby2)


@pytest.mark.parametrize("make", [np.random.RandomState, np.random.default_rng], ids=["RandomState", "Generator"])
@pytest.mark.parametrize("seed", range(6))
def test_official_order_gives_the_official_plan(make, seed):
    b, h, w = 8, 13, 17
    expected = _official(make(seed), (b, 3, h, w), 1.0, 0.5)
    plan = spec.sample(make(seed), b, h, w, spec.CutMixConfig.cifar())
    if expected is None:
        assert not any(plan.applied)
        return
    lam, rand_index, box = expected
    assert plan.shared and all(plan.applied)
    assert plan.boxes[0] == tuple(int(v) for v in box)  # rows first: the official "x" is the row axis
    assert plan.partner == tuple(int(v) for v in rand_index)
    assert plan.lam[0] == pytest.approx(lam, abs=1e-15)


def test_prob_zero_and_one():
    rng = np.random.default_rng(1)
    assert not any(spec.sample(rng, 4, 5, 5, spec.CutMixConfig(prob=0.0)).applied)
    assert all(spec.sample(rng, 4, 5, 5, spec.CutMixConfig(prob=1.0, granularity="elem")).applied)


def test_correct_lam_is_the_kept_area():
    rng = np.random.default_rng(2)
    for granularity in spec.GRANULARITIES:
        plan = spec.sample(rng, 16, 9, 11, spec.CutMixConfig(granularity=granularity))
        np.testing.assert_allclose(1.0 - np.asarray(plan.lam), plan.area_fraction(), atol=1e-15)
        paper = spec.sample(np.random.default_rng(2), 16, 9, 11, spec.CutMixConfig.paper())
        assert paper.lam == paper.lam_sampled
