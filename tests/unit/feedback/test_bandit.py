"""Bandit maths: priors, posteriors, P(best), intervals, selection probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import beta as beta_dist

from shared.feedback import bandit
from shared.feedback.bandit import Arm, PriorParams

PARAMS = PriorParams(base_ctr=0.02, rel_error=0.5, quality_slope=1.0)


def test_prior_strength_gives_the_requested_relative_error() -> None:
    s = bandit.prior_strength(0.02, 0.5)
    assert s == pytest.approx(195.0)
    a, b = s * 0.02, s * 0.98
    assert beta_dist.std(a, b) / beta_dist.mean(a, b) == pytest.approx(0.5, rel=1e-9)
    assert bandit.prior_strength(0.4, 10) == bandit.MIN_STRENGTH  # clipped


def test_quality_prior_ranks_by_quality_and_centres_on_the_base_rate() -> None:
    means = bandit.quality_prior_means([0.2, 0.5, 0.8, None], PARAMS)
    assert means[0] < means[1] < means[2]
    assert means[3] == pytest.approx(0.02)  # unscored: the base rate
    assert np.exp(np.log(means[:3]).mean()) == pytest.approx(0.02)  # geometric mean = base
    assert means[2] / means[1] == pytest.approx(np.exp(0.3))


def test_flat_and_quality_priors_differ_only_in_the_prior() -> None:
    arms = [Arm("a", 1000, 30, 0.9), Arm("b", 1000, 10, 0.1)]
    m_flat, s_flat = bandit.priors(arms, "thompson_flat", PARAMS)
    assert list(m_flat) == [0.5, 0.5] and list(s_flat) == [2.0, 2.0]
    alpha, beta = bandit.posterior(arms, m_flat, s_flat)
    assert list(alpha) == [31.0, 11.0] and list(beta) == [971.0, 991.0]
    with pytest.raises(ValueError):
        bandit.priors(arms, "greedy", PARAMS)


def test_p_best_is_a_distribution_and_finds_a_clear_winner() -> None:
    rng = np.random.default_rng(0)
    alpha = np.array([51.0, 21.0, 20.0])
    beta = np.array([951.0, 981.0, 982.0])
    p = bandit.p_best(alpha, beta, 20_000, rng)
    assert p.sum() == pytest.approx(1.0)
    assert p[0] > 0.99
    tied = bandit.p_best(np.array([5.0, 5.0]), np.array([95.0, 95.0]), 20_000, rng)
    assert tied == pytest.approx([0.5, 0.5], abs=0.02)


def test_interval_is_the_exact_beta_quantiles() -> None:
    low, high = bandit.credible_interval(np.array([31.0]), np.array([971.0]))
    assert low[0] == pytest.approx(beta_dist.ppf(0.05, 31, 971))
    assert high[0] == pytest.approx(beta_dist.ppf(0.95, 31, 971))
    assert low[0] < 31 / 1002 < high[0]


def test_every_creative_keeps_the_exploration_share() -> None:
    probs = bandit.selection_probabilities(np.array([1.0, 0.0, 0.0, 0.0]), "thompson_quality", 0.08)
    assert probs.sum() == pytest.approx(1.0)
    assert probs.min() == pytest.approx(0.02)
    assert probs[0] == pytest.approx(0.92 + 0.02)
    assert list(bandit.selection_probabilities(np.array([1.0, 0.0]), "uniform", 0.05)) == [0.5, 0.5]


def test_plan_context_shifts_traffic_to_the_better_creative() -> None:
    arms = [Arm("good", 5000, 200, 0.5), Arm("bad", 5000, 50, 0.5), Arm("new", 0, 0, 0.9)]
    plan = bandit.plan_context(
        arms,
        policy="thompson_quality",
        params=PARAMS,
        exploration=0.05,
        draws=4000,
        rng=np.random.default_rng(1),
    )
    by = {a.creative_id: a for a in plan}
    assert sum(a.probability for a in plan) == pytest.approx(1.0)
    assert by["good"].probability > by["new"].probability > by["bad"].probability
    assert by["bad"].probability == pytest.approx(0.05 / 3, abs=1e-3)
    assert by["good"].ci_low < by["good"].posterior_mean < by["good"].ci_high
    assert by["new"].prior_mean > by["good"].prior_mean  # best quality, highest prior
    single = bandit.plan_context(
        arms[:1],
        policy="thompson_flat",
        params=PARAMS,
        exploration=0.05,
        draws=100,
        rng=np.random.default_rng(1),
    )
    assert single[0].probability == 1.0 and single[0].p_best == 1.0
    assert (
        bandit.plan_context(
            [],
            policy="uniform",
            params=PARAMS,
            exploration=0.05,
            draws=100,
            rng=np.random.default_rng(1),
        )
        == []
    )


def test_context_base_ctr_moves_from_prior_to_data() -> None:
    assert bandit.context_base_ctr(0, 0, 0.02) == pytest.approx(0.02)
    assert bandit.context_base_ctr(1_000_000, 40_000, 0.02) == pytest.approx(0.04, rel=1e-3)
