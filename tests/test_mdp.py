"""TabularMDP: construction, the two views, and every validation error."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from conftest import random_mdp

from rlcore import TabularEnv, TabularMDP, value_iteration


def two_state():
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = 1.0
    P[0, 1, 1] = 1.0
    P[1, :, 1] = 1.0
    R = np.array([[0.0, 1.0], [0.0, 0.0]])
    return P, R


def test_from_dense_round_trips_P_and_R():
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(5), size=(5, 3))
    R = rng.normal(size=(5, 3))
    mdp = TabularMDP.from_dense(P, R, gamma=0.9)
    np.testing.assert_allclose(mdp.P, P)
    np.testing.assert_allclose(mdp.R, R)
    assert (mdp.n_states, mdp.n_actions, mdp.n_successors) == (5, 3, 5)


def test_from_dense_is_sparse_and_r_sas_averages():
    P, _ = two_state()
    R3 = np.zeros((2, 2, 2))
    R3[0, 1, 1] = 4.0
    mdp = TabularMDP.from_dense(P, R3, gamma=0.5)
    assert mdp.n_successors == 1  # only non-zero successors are stored
    assert mdp.R[0, 1] == 4.0


def test_terminal_states_have_zero_value_and_inert_rows():
    P, R = two_state()
    R[1, :] = 5.0  # rewards from a terminal state must be ignored
    mdp = TabularMDP.from_dense(P, R, gamma=1.0, terminal=[1])
    assert mdp.terminal.tolist() == [False, True]
    res = value_iteration(mdp)
    assert res.V[1] == 0.0
    assert res.V[0] == pytest.approx(1.0)


def test_absorbing_zero_reward_states_are_detected_as_terminal():
    P, R = two_state()
    mdp = TabularMDP.from_dense(P, R, gamma=1.0)  # state 1 absorbs with reward 0
    assert mdp.terminal[1] and not mdp.terminal[0]


def test_arrays_are_read_only():
    mdp = random_mdp(0)
    with pytest.raises(ValueError):
        mdp.prob[0, 0, 0] = 0.5


@pytest.mark.parametrize("env_id, kwargs", [
    ("FrozenLake-v1", {}),
    ("FrozenLake-v1", {"is_slippery": False}),
    ("CliffWalking-v1", {}),
    ("Taxi-v4", {}),
])
def test_from_gymnasium_matches_an_independent_dense_value_iteration(env_id, kwargs):
    env = gym.make(env_id, **kwargs)
    gamma = 0.95
    mdp = TabularMDP.from_gymnasium(env, gamma=gamma)
    base = env.unwrapped
    S, A = base.observation_space.n, base.action_space.n
    # Independent reference: dense Bellman backups straight from env.P, duplicates added naively.
    V = np.zeros(S)
    for _ in range(2000):
        Q = np.zeros((S, A))
        for s in range(S):
            for a in range(A):
                Q[s, a] = sum(p * (r + gamma * (0.0 if t else V[s2])) for p, s2, r, t in base.P[s][a])
        V_new = Q.max(axis=1)
        if np.abs(V_new - V).max() < 1e-10:
            break
        V = V_new
    ours = value_iteration(mdp, tol=1e-10)
    np.testing.assert_allclose(ours.V, V_new, atol=1e-8)
    np.testing.assert_allclose(mdp.P.sum(axis=2), 1.0)


def test_from_gymnasium_merges_repeated_successors():
    env = gym.make("FrozenLake-v1")  # slippery: corner moves list the same next state twice
    raw = env.unwrapped.P[0][0]
    assert len({s2 for _, s2, _, _ in raw}) < len(raw)
    mdp = TabularMDP.from_gymnasium(env, gamma=0.9)
    live = mdp.prob[0, 0] > 0
    assert len(set(mdp.next_state[0, 0][live].tolist())) == live.sum()
    assert mdp.P[0, 0, 0] == pytest.approx(2 / 3)


def test_env_view_samples_the_model():
    mdp = random_mdp(3, n_states=4, n_actions=2, sparsity=0.0)
    env = TabularEnv(mdp)
    counts = np.zeros(4)
    n = 20_000
    env.reset(seed=1)
    for _ in range(n):
        env.s = 2
        s2, *_ = env.step(1)
        counts[s2] += 1
    expected = mdp.P[2, 1]
    # Each frequency within 5 binomial standard errors of its probability.
    se = np.sqrt(expected * (1 - expected) / n)
    assert np.all(np.abs(counts / n - expected) <= 5 * se + 1e-12)


def test_env_view_ends_the_task_at_its_horizon_and_truncates_at_a_simulation_cut_and_is_seeded():
    """The MDP's horizon is the end of the task (terminated: no bootstrap); max_episode_steps only
    cuts the simulation (truncated: the task goes on)."""
    P = np.ones((1, 1, 1))
    mdp = TabularMDP.from_dense(P, np.ones((1, 1)), gamma=1.0, horizon=3)
    env = TabularEnv(mdp)
    env.reset(seed=0)
    flags = [env.step(0)[2:4] for _ in range(3)]
    assert flags == [(False, False), (False, False), (True, False)]
    cut = TabularEnv(mdp, max_episode_steps=2)
    cut.reset(seed=0)
    assert [cut.step(0)[2:4] for _ in range(2)] == [(False, False), (False, True)]
    endless = TabularEnv(TabularMDP.from_dense(P, np.ones((1, 1)), gamma=0.9), max_episode_steps=2)
    endless.reset(seed=0)
    assert [endless.step(0)[2:4] for _ in range(2)] == [(False, False), (False, True)]
    a = TabularEnv(random_mdp(5))
    b = TabularEnv(random_mdp(5))
    traj = []
    for e in (a, b):
        s, _ = e.reset(seed=42)
        traj.append([s] + [e.step(i % 3)[0] for i in range(30)])
    assert traj[0] == traj[1]


# --------------------------------------------------------------- validation
P_OK, R_OK = two_state()


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(P=np.ones((2, 2)), R=R_OK), ValueError, r"P must have shape \[S, A, S\]"),
    (dict(P=np.ones((2, 2, 3)) / 3, R=R_OK), ValueError, r"matching state axes"),
    (dict(P=P_OK * -1, R=R_OK), ValueError, r"probabilities must be non-negative"),
    (dict(P=P_OK * 0.5, R=R_OK), ValueError, r"probabilities must sum to 1 over next states, got 0\.5"),
    (dict(P=P_OK, R=np.zeros((3, 2))), ValueError, r"R must have shape \(2, 2\) or \(2, 2, 2\)"),
    (dict(P=P_OK, R=R_OK, gamma=1.5), ValueError, r"gamma must lie in \[0, 1\], got 1\.5"),
    (dict(P=P_OK, R=R_OK, gamma=-0.1), ValueError, r"gamma must lie in \[0, 1\]"),
    (dict(P=P_OK, R=R_OK, terminal=[7]), ValueError, r"terminal states must be indices in \[0, 2\)"),
    (dict(P=P_OK, R=R_OK, state_names=["a"]), ValueError, r"state_names must have one name per s"),
    (dict(P=P_OK, R=R_OK, action_names=["x", "y", "z"]), ValueError, r"action_names must have one name"),
    (dict(P=P_OK, R=R_OK * np.nan), ValueError, r"reward must be finite"),
    (dict(P=P_OK * np.nan, R=R_OK), ValueError, r"P must be finite"),
    (dict(P=P_OK, R=R_OK, initial=[0.5, 0.6]), ValueError, r"initial must be a probability vector"),
    (dict(P=P_OK, R=R_OK, horizon=0), ValueError, r"horizon must be a positive integer"),
    (dict(P=P_OK, R=R_OK, terminal=np.array([True])), ValueError, r"terminal mask must have shape \(2,\)"),
])
def test_from_dense_validation(kwargs, error, message):
    kwargs.setdefault("gamma", 0.9)
    with pytest.raises(error, match=message):
        TabularMDP.from_dense(**kwargs)


def test_gamma_one_without_any_ending_is_rejected():
    P = np.zeros((2, 1, 2))
    P[0, 0, 1] = P[1, 0, 0] = 1.0  # a two-state cycle, never ends
    with pytest.raises(ValueError, match="gamma = 1 needs terminal states or a horizon"):
        TabularMDP.from_dense(P, np.ones((2, 1)), gamma=1.0)
    TabularMDP.from_dense(P, np.ones((2, 1)), gamma=1.0, horizon=10)  # a horizon makes it fine


@pytest.mark.parametrize("kwargs, message", [
    (dict(next_state=np.zeros((1, 1, 1)), prob=np.ones((1, 1, 1)), reward=np.zeros((1, 1, 1))),
     r"next_state must hold integer state indices"),
    (dict(next_state=np.full((1, 1, 1), 3), prob=np.ones((1, 1, 1)), reward=np.zeros((1, 1, 1))),
     r"next_state must index states in \[0, 1\)"),
    (dict(next_state=np.zeros((1, 1, 1), int), prob=np.ones((1, 1, 1)), reward=np.zeros((1, 1, 2))),
     r"reward must have the shape of prob"),
    (dict(next_state=np.zeros((0, 1, 1), int), prob=np.ones((0, 1, 1)), reward=np.zeros((0, 1, 1))),
     r"at least one state"),
])
def test_successor_list_validation(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        TabularMDP(**kwargs, gamma=0.9)


def test_from_gymnasium_rejects_envs_without_a_model():
    with pytest.raises(TypeError, match="toy-text transition table P"):
        TabularMDP.from_gymnasium(gym.make("CartPole-v1"), gamma=0.9)


def test_env_view_passes_gymnasium_check_env():
    from gymnasium.utils.env_checker import check_env

    check_env(TabularEnv(random_mdp(2), max_episode_steps=20), skip_render_check=True)
    check_env(TabularEnv(random_mdp(2, n_terminal=1), render_mode="ansi"))


def test_with_reward_keeps_dynamics_and_broadcasts():
    mdp = random_mdp(4, n_terminal=1)
    new = mdp.with_reward(np.ones((mdp.n_states, mdp.n_actions, 1)))
    np.testing.assert_array_equal(new.P, mdp.P)
    np.testing.assert_allclose(new.R[~mdp.terminal], 1.0)
    assert new.gamma == mdp.gamma and new.horizon == mdp.horizon
    with pytest.raises(ValueError, match=r"reward must broadcast to the shape of prob"):
        mdp.with_reward(np.ones((2, 2)))


def test_policy_matrix_is_gamma_P_pi_without_terminations():
    mdp = random_mdp(6, n_terminal=1)
    pi = np.full((mdp.n_states, mdp.n_actions), 1 / mdp.n_actions)
    expected = mdp.gamma * np.einsum("sa,sat->st", pi, mdp.continuation())
    np.testing.assert_allclose(mdp.policy_matrix(pi).toarray(), expected, atol=1e-12)
