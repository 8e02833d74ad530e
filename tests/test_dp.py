"""Dynamic programming: published tables, agreement of methods, Bellman properties (hypothesis)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import random_mdp
from hypothesis import given
from hypothesis import strategies as st

from rlcore import (
    ConvergenceWarning,
    GridWorld,
    TabularMDP,
    bellman_optimality_residual,
    policy_evaluation,
    policy_iteration,
    value_iteration,
)
from rlcore.tabular.dp import proper_policy

mdps = st.builds(
    random_mdp,
    seed=st.integers(0, 2**31 - 1),
    n_states=st.integers(1, 9),
    n_actions=st.integers(1, 4),
    gamma=st.floats(0.0, 0.95),
    sparsity=st.floats(0.0, 0.8),
    n_terminal=st.integers(0, 1),
)


# ------------------------------------------------------------ published values
def test_sutton_barto_example_4_1_random_policy():
    """Sutton & Barto (2018), Figure 4.1: the equiprobable policy on the 4x4 grid, k = infinity."""
    env = GridWorld("sutton_4x4", step_reward=-1.0, goal_reward=-1.0, gamma=1.0)
    published = np.array([[0, -14, -20, -22], [-14, -18, -20, -20], [-20, -20, -18, -14], [-22, -20, -14, 0]])
    uniform = np.full((env.mdp.n_states, 4), 0.25)
    for method in ("exact", "iterative"):
        V = policy_evaluation(env.mdp, uniform, method=method).V
        np.testing.assert_allclose(env.to_grid(V), published, atol=1e-6)


def test_russell_norvig_4x3_utilities():
    """Russell & Norvig, AIMA Fig. 17.3: utilities with R(s) = -0.04, slip 0.2, gamma = 1."""
    env = GridWorld("russell_norvig", slip=0.2, step_reward=-0.04, gamma=1.0)
    U = env.to_grid(value_iteration(env.mdp, tol=1e-12).V) - 0.04  # entering-reward to state-reward utility
    published = {(0, 0): 0.812, (0, 1): 0.868, (0, 2): 0.918, (1, 0): 0.762, (1, 2): 0.660,
                 (2, 0): 0.705, (2, 1): 0.655, (2, 2): 0.611, (2, 3): 0.388}
    for (r, c), u in published.items():
        assert U[r, c] == pytest.approx(u, abs=5e-4)


def _sutton_barto_5x5():
    """Sutton & Barto Example 3.5: A=(0,1) -> A'=(4,1) with +10, B=(0,3) -> B'=(2,3) with +5."""
    S, A = 25, 4
    P = np.zeros((S, A, S))
    R = np.zeros((S, A))
    moves = [(-1, 0), (0, 1), (1, 0), (0, -1)]
    for r in range(5):
        for c in range(5):
            s = 5 * r + c
            for a, (dr, dc) in enumerate(moves):
                if (r, c) == (0, 1):
                    P[s, a, 21], R[s, a] = 1.0, 10.0
                elif (r, c) == (0, 3):
                    P[s, a, 13], R[s, a] = 1.0, 5.0
                elif 0 <= r + dr < 5 and 0 <= c + dc < 5:
                    P[s, a, 5 * (r + dr) + c + dc] = 1.0
                else:
                    P[s, a, s], R[s, a] = 1.0, -1.0
    return TabularMDP.from_dense(P, R, gamma=0.9)


def test_sutton_barto_example_3_5_and_3_8():
    mdp = _sutton_barto_5x5()
    random_V = [[3.3, 8.8, 4.4, 5.3, 1.5], [1.5, 3.0, 2.3, 1.9, 0.5], [0.1, 0.7, 0.7, 0.4, -0.4],
                [-1.0, -0.4, -0.4, -0.6, -1.2], [-1.9, -1.3, -1.2, -1.4, -2.0]]
    optimal_V = [[22.0, 24.4, 22.0, 19.4, 17.5], [19.8, 22.0, 19.8, 17.8, 16.0], [17.8, 19.8, 17.8, 16.0, 14.4],
                 [16.0, 17.8, 16.0, 14.4, 13.0], [14.4, 16.0, 14.4, 13.0, 11.7]]
    V = policy_evaluation(mdp, np.full((25, 4), 0.25)).V.reshape(5, 5)
    np.testing.assert_allclose(V, random_V, atol=0.051)  # the book prints one decimal
    np.testing.assert_allclose(value_iteration(mdp).V.reshape(5, 5), optimal_V, atol=0.051)


# --------------------------------------------------------------- properties
@given(mdps)
def test_value_and_policy_iteration_agree(mdp):
    tol = 1e-10
    vi = value_iteration(mdp, tol=tol)
    pi = policy_iteration(mdp)
    assert vi.converged and pi.converged
    bound = tol * mdp.gamma / (1 - mdp.gamma) + 1e-8
    np.testing.assert_allclose(vi.V, pi.V, atol=bound)
    # Both greedy policies are optimal: evaluating them gives V*.
    np.testing.assert_allclose(policy_evaluation(mdp, vi.policy).V, pi.V, atol=1e-6)


@given(mdps)
def test_bellman_optimality_residual_of_value_iteration(mdp):
    tol = 1e-9
    res = value_iteration(mdp, tol=tol)
    assert bellman_optimality_residual(mdp, res.V) <= tol
    assert res.history[-1] < tol and len(res.history) == res.iterations


@given(mdps, st.integers(0, 2**31 - 1))
def test_iterative_and_exact_policy_evaluation_agree(mdp, seed):
    pi = np.random.default_rng(seed).dirichlet(np.ones(mdp.n_actions), size=mdp.n_states)
    exact = policy_evaluation(mdp, pi, method="exact")
    iterative = policy_evaluation(mdp, pi, method="iterative", tol=1e-11)
    tol = 1e-11 * mdp.gamma / (1 - mdp.gamma) + 1e-9
    np.testing.assert_allclose(exact.V, iterative.V, atol=tol)
    # V^pi satisfies its own Bellman equation.
    np.testing.assert_allclose((pi * exact.Q).sum(axis=1), exact.V, atol=1e-9)


@given(mdps, st.integers(0, 2**31 - 1))
def test_bellman_operator_is_a_monotone_gamma_contraction(mdp, seed):
    rng = np.random.default_rng(seed)
    V1, V2 = rng.normal(size=(2, mdp.n_states)) * 5

    def T(V):
        return mdp.q_from_v(V).max(axis=1)

    assert np.abs(T(V1) - T(V2)).max() <= mdp.gamma * np.abs(V1 - V2).max() + 1e-12
    low = np.minimum(V1, V2)
    assert np.all(T(low) <= T(V1) + 1e-12)


@given(mdps)
def test_dense_and_successor_views_give_the_same_backup(mdp):
    V = np.linspace(-1, 1, mdp.n_states)
    dense = mdp.R + mdp.gamma * np.einsum("sat,t->sa", mdp.continuation(), V)
    np.testing.assert_allclose(mdp.q_from_v(V), dense, atol=1e-12)
    assert np.all(mdp.continuation() <= mdp.P + 1e-15)  # termination only removes probability mass


# ------------------------------------------------------------- behaviours
def test_non_convergence_is_reported_and_warned():
    mdp = random_mdp(1, gamma=0.99)
    with pytest.warns(ConvergenceWarning, match="converged=False"):
        res = value_iteration(mdp, tol=1e-12, max_iterations=5)
    assert not res.converged and res.iterations == 5 and len(res.history) == 5
    with pytest.warns(ConvergenceWarning):
        assert not policy_evaluation(mdp, np.zeros(6, int), method="iterative", max_iterations=3).converged


def test_policy_iteration_undiscounted_starts_from_a_proper_policy():
    env = GridWorld("sutton_4x4", step_reward=-1.0, goal_reward=-1.0, gamma=1.0)
    start = proper_policy(env.mdp)
    assert policy_evaluation(env.mdp, start).converged  # the linear system is solvable
    res = policy_iteration(env.mdp)
    expected = -np.array([[0, 1, 2, 3], [1, 2, 3, 2], [2, 3, 2, 1], [3, 2, 1, 0]])
    np.testing.assert_allclose(env.to_grid(res.V), expected)


def test_improper_policy_with_gamma_one_raises_a_clear_error():
    env = GridWorld("sutton_4x4", step_reward=-1.0, goal_reward=-1.0, gamma=1.0)
    bump = np.zeros(env.mdp.n_states, dtype=int)  # always "up": the top row never terminates
    with pytest.raises(ValueError, match="never does"):
        policy_evaluation(env.mdp, bump)


@pytest.mark.parametrize("pi, error, message", [
    (np.zeros((3, 3)), ValueError, r"pi must be an \[S, A\]"),
    (np.full((6, 3), 0.5), ValueError, r"each row of pi must sum to 1"),
    (np.full(6, 7), ValueError, r"pi: actions must lie in \[0, 3\)"),
    (np.full(6, 0.5), TypeError, r"deterministic policy must hold integer actions"),
])
def test_policy_validation(pi, error, message):
    with pytest.raises(error, match=message):
        policy_evaluation(random_mdp(0), pi)


@pytest.mark.parametrize("kwargs, message", [
    (dict(tol=0), r"tol must be > 0"),
    (dict(max_iterations=0), r"max_iterations must be a positive integer"),
    (dict(V0=np.zeros(2)), r"V0 must have shape \(6,\)"),
])
def test_solver_argument_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        value_iteration(random_mdp(0), **kwargs)


def test_unknown_evaluation_method():
    with pytest.raises(ValueError, match="method must be 'exact' or 'iterative'"):
        policy_evaluation(random_mdp(0), np.zeros(6, int), method="magic")


def test_value_iteration_scales_to_a_large_grid_quickly():
    env = GridWorld.open(200, 200, step_reward=-1.0, goal_reward=0.0, slip=0.1, gamma=0.95)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = value_iteration(env.mdp, tol=1e-6)
    assert res.converged
    assert bellman_optimality_residual(env.mdp, res.V) < 1e-5


def test_a_never_terminating_policy_at_gamma_1_is_refused_even_when_rounding_hides_it():
    """A 3-cycle whose probabilities sum to 1 only within rounding: the linear solve gave about -9e15."""
    from rlcore.tabular.common import never_terminating

    p = 0.1
    P = np.zeros((4, 2, 4))
    for s in range(3):
        P[s, 0, (s + 1) % 3] = 1 - 2 * p  # action 0 cycles among 0, 1, 2 ...
        P[s, 0, (s + 2) % 3] = p
        P[s, 0, s] = p  # ... 0.8 + 0.1 + 0.1, which is 1 only up to rounding
        P[s, 1, 3] = 1.0  # action 1 goes to the terminal state 3
    P[3, :, 3] = 1.0
    mdp = TabularMDP.from_dense(P, -np.ones((4, 2)), gamma=1.0, terminal=[False, False, False, True])
    cycle = np.zeros(4, dtype=int)
    table = np.eye(2)[cycle]
    assert never_terminating(mdp, table).tolist() == [True, True, True, False]
    with pytest.raises(ValueError, match="from 3 state"):
        policy_evaluation(mdp, cycle)
    exits = np.ones(4, dtype=int)
    assert not never_terminating(mdp, np.eye(2)[exits]).any()
    np.testing.assert_allclose(policy_evaluation(mdp, exits).V, [-1, -1, -1, 0])
    mixed = np.array([[0.5, 0.5]] * 4)  # terminates with probability 1: proper, value -2 per state
    np.testing.assert_allclose(policy_evaluation(mdp, mixed).V[:3], [-2, -2, -2], atol=1e-9)
