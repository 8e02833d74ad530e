"""Tests written to kill the mutants mutmut left alive in ``rlcore/tabular/td.py``.

The learners run on a small deterministic chain with a scripted behaviour (an
``Exploration`` whose actions depend only on the state), so every update is known in
advance: a plain loop applies ``Q(s,a) += alpha (y - Q(s,a))`` with the textbook target
``y = r + gamma X`` (``X = max Q(s')``, ``Q(s', a')`` or ``sum pi Q(s')``), zero bootstrap
on termination, and bootstrap on truncation.
"""

import math

import gymnasium as gym
import numpy as np
import pytest

from rlcore.core.exploration import Exploration
from rlcore.tabular.td import TDResult, expected_sarsa, q_learning, sarsa, td_control


class Chain(gym.Env):
    """States 0..3, 3 terminal. Action 0: s -> s + 1, reward s + 1; action 1: s -> max(s - 1, 0), reward -0.5.

    ``limit`` (optional) is the env's own time limit: the step that reaches it reports ``truncated``.
    """

    def __init__(self, limit=None, start=0):
        self.observation_space = gym.spaces.Discrete(4)
        self.action_space = gym.spaces.Discrete(2)
        self.limit, self.start = limit, start

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.s, self.t = self.start, 0
        return self.s, {}

    def step(self, a):
        s = self.s
        s2, r = (s + 1, float(s + 1)) if a == 0 else (max(s - 1, 0), -0.5)
        self.s, self.t = s2, self.t + 1
        return s2, r, s2 == 3, self.limit is not None and self.t >= self.limit, {}


def chain_step(s, a):
    return (s + 1, float(s + 1)) if a == 0 else (max(s - 1, 0), -0.5)


class Scripted(Exploration):
    """Takes ``policy[s]``; reports the fixed distribution ``p`` (used by Expected SARSA)."""

    def __init__(self, policy, p=(0.3, 0.7)):
        self.policy, self.p = list(policy), np.array(p)

    def select(self, q, s):
        return self.policy[s]

    def probs(self, q, s):
        return self.p if self.mask is None else self.p * self.mask[s]


Q0 = [[0.5, -1.0], [2.0, 1.0], [4.0, -0.25], [0.0, 0.0]]


def reference(method, policy, n_episodes, alpha, gamma, max_steps=None, limit=None, bootstrap_truncated=True,
              p=(0.3, 0.7), q0=Q0, allowed=None):
    Q = [list(row) for row in q0]
    if allowed is not None:
        Q = [[q if ok else -math.inf for q, ok in zip(row, oks)] for row, oks in zip(Q, allowed)]
    rets, lens = [], []
    for _ in range(n_episodes):
        s, t, total = 0, 0, 0.0
        while True:
            a = policy[s]
            s2, r = chain_step(s, a)
            t += 1
            total += r
            terminated = s2 == 3
            truncated = (limit is not None and t >= limit) or (max_steps is not None and t == max_steps)
            if terminated or (truncated and not bootstrap_truncated):
                y = r
            elif method == "q_learning":
                y = r + gamma * max(Q[s2])
            elif method == "sarsa":
                y = r + gamma * Q[s2][policy[s2]]
            else:
                ok = [True, True] if allowed is None else allowed[s2]
                y = r + gamma * sum(pb * q for pb, q, o in zip(p, Q[s2], ok) if o)
            Q[s][a] += alpha * (y - Q[s][a])
            if terminated or truncated:
                break
            s = s2
        rets.append(total)
        lens.append(t)
    return np.array(Q), rets, lens


METHODS = ["q_learning", "sarsa", "expected_sarsa"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("policy, kw", [
    ([0, 0, 0, 0], {}),                                        # reaches the terminal state: no bootstrap at the end
    ([0, 0, 1, 0], {"max_steps": 7}),                          # loops 1 <-> 2 until max_steps truncates
    ([0, 1, 0, 0], {"max_steps": 5, "bootstrap_truncated": False}),
    ([0, 0, 1, 0], {"limit": 6}),                              # the env's own truncation
    ([0, 0, 1, 0], {"limit": 4, "bootstrap_truncated": False}),
])
def test_td_targets_match_a_plain_update_loop(method, policy, kw):
    kw = dict(kw)
    limit = kw.pop("limit", None)
    env = Chain(limit=limit)
    res = td_control(env, method, n_episodes=4, alpha=0.4, gamma=0.8, seed=0, exploration=Scripted(policy),
                     Q0=np.array(Q0), max_steps=kw.get("max_steps"), **{k: v for k, v in kw.items()
                                                                         if k != "max_steps"})
    Q, rets, lens = reference(method, policy, 4, 0.4, 0.8, limit=limit, **kw)
    assert isinstance(res, TDResult)
    np.testing.assert_allclose(res.Q, Q, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res.episode_returns, rets, rtol=1e-12)
    assert res.episode_lengths.tolist() == lens and res.episode_lengths.dtype == np.int64
    np.testing.assert_array_equal(res.policy, np.argmax(Q, axis=1))
    np.testing.assert_allclose(res.V, np.max(Q, axis=1))


def test_the_three_targets_differ():
    a = [reference(m, [0, 0, 1, 0], 3, 0.4, 0.8, max_steps=7)[0] for m in METHODS]
    assert not np.allclose(a[0], a[1]) and not np.allclose(a[1], a[2]) and not np.allclose(a[0], a[2])


@pytest.mark.parametrize("method, fn", [("q_learning", q_learning), ("sarsa", sarsa),
                                        ("expected_sarsa", expected_sarsa)])
def test_wrappers_run_their_method(method, fn):
    res = fn(Chain(), n_episodes=3, alpha=0.5, gamma=0.9, seed=1, exploration=Scripted([0, 0, 1, 0]),
             Q0=np.array(Q0), max_steps=6)
    Q, _, _ = reference(method, [0, 0, 1, 0], 3, 0.5, 0.9, max_steps=6)
    np.testing.assert_allclose(res.Q, Q, rtol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_masked_learning(method):
    allowed = [[True, True], [True, False], [True, True], [True, True]]
    res = td_control(Chain(), method, n_episodes=3, alpha=0.5, gamma=0.9, seed=0,
                     exploration=Scripted([1, 0, 1, 0]), Q0=np.array(Q0), max_steps=6, mask=np.array(allowed))
    Q, _, _ = reference(method, [1, 0, 1, 0], 3, 0.5, 0.9, max_steps=6, allowed=allowed)
    np.testing.assert_allclose(res.Q, Q, rtol=1e-12)
    assert res.Q[1, 1] == -math.inf


def test_a_masked_action_chosen_by_the_exploration_is_an_error():
    with pytest.raises(RuntimeError, match=r"^exploration Scripted chose masked action 1 in state 1; it must honour "
                                           r"Exploration.mask$"):
        td_control(Chain(), "q_learning", n_episodes=1, exploration=Scripted([0, 1, 0, 0]), max_steps=5,
                   mask=np.array([[True, True], [True, False], [True, True], [True, True]]))


def test_zero_q0_default_and_no_max_steps():
    res = td_control(Chain(), "sarsa", n_episodes=2, alpha=1.0, gamma=1.0, exploration=Scripted([0, 0, 0, 0]),
                     max_steps=None)
    Q, rets, lens = reference("sarsa", [0, 0, 0, 0], 2, 1.0, 1.0, q0=[[0.0, 0.0]] * 4)
    np.testing.assert_allclose(res.Q, Q)
    assert rets == [6.0, 6.0] and lens == [3, 3] and res.episode_lengths.tolist() == [3, 3]


def test_gamma_defaults_to_the_envs_model_gamma_else_099():
    class WithModel(Chain):
        class mdp:
            gamma = 0.5
    r1 = td_control(WithModel(), "q_learning", n_episodes=2, alpha=0.5, exploration=Scripted([0, 0, 1, 0]),
                    Q0=np.array(Q0), max_steps=5)
    np.testing.assert_allclose(r1.Q, reference("q_learning", [0, 0, 1, 0], 2, 0.5, 0.5, max_steps=5)[0])
    r2 = td_control(Chain(), "q_learning", n_episodes=2, alpha=0.5, exploration=Scripted([0, 0, 1, 0]),
                    Q0=np.array(Q0), max_steps=5)
    np.testing.assert_allclose(r2.Q, reference("q_learning", [0, 0, 1, 0], 2, 0.5, 0.99, max_steps=5)[0])


def test_same_seed_same_result_and_the_seed_matters():
    a = q_learning(Chain(limit=8), n_episodes=20, alpha=0.5, epsilon=0.5, gamma=0.9, seed=3)
    b = q_learning(Chain(limit=8), n_episodes=20, alpha=0.5, epsilon=0.5, gamma=0.9, seed=3)
    c = q_learning(Chain(limit=8), n_episodes=20, alpha=0.5, epsilon=0.5, gamma=0.9, seed=4)
    np.testing.assert_array_equal(a.Q, b.Q)
    assert not np.array_equal(a.Q, c.Q)


@pytest.mark.parametrize("kw, err, match", [
    (dict(method="td0"), ValueError, r"^method must be one of \('q_learning', 'sarsa', 'expected_sarsa'\), "
                                     r"got 'td0'$"),
    (dict(n_episodes=0), ValueError, r"^n_episodes must be a positive integer, got 0$"),
    (dict(n_episodes=2.5), ValueError, r"^n_episodes must be a positive integer, got 2.5$"),
    (dict(alpha=0.0), ValueError, r"^alpha must lie in \(0, 1\], got 0.0$"),
    (dict(alpha=1.5), ValueError, r"^alpha must lie in \(0, 1\], got 1.5$"),
    (dict(gamma=1.5), ValueError, r"^gamma must"),
    (dict(max_steps=0), ValueError, r"^max_steps must be a positive integer or None, got 0$"),
    (dict(max_steps=2.0), ValueError, r"^max_steps must be a positive integer or None, got 2.0$"),
    (dict(max_steps=True), ValueError, r"^max_steps must be a positive integer or None, got True$"),
    (dict(Q0=np.zeros((4, 3))), ValueError, r"^Q0 must have shape \(4, 2\), got \(4, 3\)$"),
])
def test_td_control_validation(kw, err, match):
    args = dict(env=Chain(), method="q_learning", n_episodes=1, alpha=0.5, gamma=0.9) | kw
    with pytest.raises(err, match=match):
        td_control(**args)


def test_edge_settings_are_accepted():
    for kw in (dict(alpha=1.0), dict(max_steps=1), dict(n_episodes=1), dict(max_steps=np.int64(3))):
        args = dict(env=Chain(), method="q_learning", n_episodes=1, alpha=0.5, gamma=0.9,
                    exploration=Scripted([0, 0, 0, 0])) | kw
        td_control(**args)
    res = td_control(Chain(), "q_learning", n_episodes=2, alpha=0.5, gamma=0.9, exploration=Scripted([0, 0, 0, 0]),
                     max_steps=1, Q0=np.array(Q0))
    np.testing.assert_allclose(res.Q, reference("q_learning", [0, 0, 0, 0], 2, 0.5, 0.9, max_steps=1)[0])
    assert res.episode_lengths.tolist() == [1, 1]


def test_discrete_spaces_are_required():
    env = Chain()
    env.observation_space = gym.spaces.Box(0, 1, (1,))
    with pytest.raises(TypeError, match=r"^env must have Discrete observation and action spaces, got Box and "
                                        r"Discrete$"):
        td_control(env, "q_learning", n_episodes=1)


def test_result_repr():
    res = td_control(Chain(), "q_learning", n_episodes=2, alpha=0.5, gamma=0.9, exploration=Scripted([0, 0, 0, 0]))
    assert repr(res) == ("TDResult(4 states x 2 actions, 2 episodes, mean return of the last 2: 6, "
                         "mean length 3.0)")
