"""Exploration: vectorised distributions agree with the per-step samplers."""

from __future__ import annotations

import numpy as np
import pytest

from rlcore.core.policies import (
    UCB,
    Boltzmann,
    EpsilonGreedy,
    boltzmann_probs,
    epsilon_greedy_probs,
    exponential_decay,
    linear_decay,
)


@pytest.mark.parametrize("strategy, probs", [
    (EpsilonGreedy(0.3), lambda q: epsilon_greedy_probs(np.array(q), 0.3)),
    (Boltzmann(0.7), lambda q: boltzmann_probs(np.array(q), 0.7)),
])
def test_sampler_frequencies_match_the_distribution(strategy, probs):
    q = [1.0, 2.0, 2.0, -1.0]  # a tie between actions 1 and 2
    strategy.bind(1, 4, np.random.default_rng(0))
    n = 40_000
    counts = np.bincount([strategy.select(q, 0) for _ in range(n)], minlength=4)
    p = probs(q)
    se = np.sqrt(p * (1 - p) / n)
    assert np.all(np.abs(counts / n - p) <= 5 * se + 1e-12)
    np.testing.assert_allclose(strategy.probs(q, 0), p)


def test_epsilon_greedy_table():
    Q = np.array([[0.0, 1.0], [2.0, 2.0]])
    np.testing.assert_allclose(epsilon_greedy_probs(Q, 0.2), [[0.1, 0.9], [0.5, 0.5]])


def test_ucb_tries_every_action_first():
    ucb = UCB(2.0)
    ucb.bind(1, 3, np.random.default_rng(0))
    chosen = []
    for _ in range(3):
        a = ucb.select([5.0, 0.0, 0.0], 0)
        ucb.observe(0, a)
        chosen.append(a)
    assert sorted(chosen) == [0, 1, 2]


def test_schedules():
    lin = linear_decay(1.0, 0.1, 10)
    assert lin(0) == 1.0 and lin(5) == pytest.approx(0.55) and lin(100) == pytest.approx(0.1)
    exp = exponential_decay(1.0, 0.05, 0.5)
    assert exp(1) == 0.5 and exp(10) == 0.05


@pytest.mark.parametrize("make, message", [
    (lambda: EpsilonGreedy(1.2), r"epsilon must lie in \[0, 1\]"),
    (lambda: Boltzmann(0.0), r"temperature must lie in"),
    (lambda: UCB(-1.0), r"c must be >= 0"),
    (lambda: linear_decay(1.0, 0.0, 0), r"n_episodes must be >= 1"),
    (lambda: exponential_decay(1.0, 0.0, 1.5), r"rate must lie in \(0, 1\]"),
    (lambda: boltzmann_probs(np.zeros(2), -1.0), r"temperature must be > 0"),
])
def test_policy_validation(make, message):
    with pytest.raises(ValueError, match=message):
        make()
