"""KL-regularised ("soft") value iteration against closed forms and a plain loop."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rlcore.core.random_mdp import random_mdp
from rlcore.tabular.dp import policy_evaluation, value_iteration
from rlcore.tabular.soft import soft_value_iteration


def bandit(rewards, gamma=0.9):
    """One decision, then a terminal state: state 0 --a--> state 1 (terminal) with reward r_a."""
    A = len(rewards)
    next_state = np.ones((2, A, 1), dtype=int)
    prob = np.ones((2, A, 1))
    reward = np.zeros((2, A, 1))
    reward[0, :, 0] = rewards
    from rlcore import TabularMDP

    return TabularMDP(next_state, prob, reward, gamma=gamma, terminal=[1])


def test_one_decision_gives_the_tilted_reference_in_closed_form():
    r, ref, beta = np.array([0.0, 1.0, 3.0]), np.array([0.5, 0.3, 0.2]), 0.7
    res = soft_value_iteration(bandit(r), np.tile(ref, (2, 1)), beta)
    z = (ref * np.exp(r / beta)).sum()
    assert res.V[0] == pytest.approx(beta * math.log(z), abs=1e-9)
    np.testing.assert_allclose(res.pi[0], ref * np.exp(r / beta) / z, atol=1e-12)
    assert res.converged


def test_soft_vi_equals_a_plain_loop_on_random_mdps():
    for seed in range(3):
        mdp = random_mdp(6, 3, 2, gamma=0.8, seed=seed)
        ref = np.random.default_rng(seed).dirichlet(np.ones(3), size=6)
        beta = 0.4
        V = np.zeros(6)
        for _ in range(500):                       # the soft Bellman backup, state by state, action by action
            new = np.zeros(6)
            for s in range(6):
                total = 0.0
                for a in range(3):
                    q = sum(mdp.prob[s, a, k] * (mdp.reward[s, a, k] + mdp.gamma * (1 - mdp.done[s, a, k])
                                                 * V[mdp.next_state[s, a, k]]) for k in range(2))
                    total += ref[s, a] * math.exp(q / beta)
                new[s] = beta * math.log(total)
            V = new
        res = soft_value_iteration(mdp, ref, beta, tol=1e-12)
        np.testing.assert_allclose(res.V, V, atol=1e-8)
        np.testing.assert_allclose(res.pi.sum(axis=1), 1.0)


def test_small_beta_approaches_value_iteration_and_large_beta_the_reference():
    mdp = random_mdp(8, 3, 3, gamma=0.9, seed=4)
    ref = np.full((8, 3), 1 / 3)
    v_star = value_iteration(mdp, tol=1e-12).V
    v_ref = policy_evaluation(mdp, ref).V
    soft_small = soft_value_iteration(mdp, ref, 1e-3).V
    soft_large = soft_value_iteration(mdp, ref, 1e3).V
    assert np.abs(soft_small - v_star).max() < 0.05 and (soft_small <= v_star + 1e-9).all()
    assert np.abs(soft_large - v_ref).max() < 1e-2 and (soft_large >= v_ref - 1e-9).all()


def test_bad_beta_raises():
    with pytest.raises(ValueError, match="beta"):
        soft_value_iteration(bandit([0.0, 1.0]), np.full((2, 2), 0.5), 0.0)
