"""TD control: learning on ours and gymnasium's envs, endings, determinism, exploration."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from rlcore import (
    GridWorld,
    TabularEnv,
    TabularMDP,
    expected_sarsa,
    policy_evaluation,
    q_learning,
    sarsa,
    value_iteration,
)
from rlcore.core.policies import UCB, Boltzmann, EpsilonGreedy, linear_decay

LEARNERS = [q_learning, sarsa, expected_sarsa]


@pytest.mark.parametrize("learner", LEARNERS)
@pytest.mark.parametrize("exploration", [None, "boltzmann", "ucb"])
def test_same_seed_same_Q_bit_for_bit(learner, exploration):
    env = GridWorld("classic", slip=0.1)
    kw = dict(n_episodes=30, alpha=0.3, gamma=0.95, exploration=exploration, max_steps=200)
    if exploration is None:
        kw["epsilon"] = 0.2
    a = learner(env, seed=7, **kw)
    b = learner(env, seed=7, **kw)
    c = learner(env, seed=8, **kw)
    assert np.array_equal(a.Q, b.Q) and np.array_equal(a.episode_returns, b.episode_returns)
    assert not np.array_equal(a.Q, c.Q)


def greedy_return(env, policy, limit=200):
    """Return of one episode following ``policy`` (the env is deterministic)."""
    s, _ = env.reset(seed=0)
    total = 0.0
    for _ in range(limit):
        s, r, terminated, truncated, _ = env.step(int(policy[s]))
        total += r
        if terminated or truncated:
            break
    return total


def test_cliff_walking_classic_result():
    """Sutton & Barto Example 6.6: online, SARSA earns more than Q-learning; Q-learning's greedy path is optimal."""
    env = gym.make("CliffWalking-v1")
    mdp = TabularMDP.from_gymnasium(env, gamma=1.0)
    optimal = value_iteration(mdp).V[36]  # start state
    assert optimal == pytest.approx(-13.0)
    online = {}
    for learner in (sarsa, q_learning):
        runs = [learner(env, n_episodes=300, alpha=0.5, epsilon=0.1, gamma=1.0, seed=s) for s in range(5)]
        online[learner.__name__] = np.mean([r.episode_returns[-100:].mean() for r in runs])
        if learner is q_learning:
            for r in runs:  # every greedy policy walks the cliff edge: the optimal return -13
                assert greedy_return(env, r.policy) == optimal
    assert online["sarsa"] > online["q_learning"] + 10


def test_q_learning_on_frozen_lake_gets_close_to_optimal():
    env = gym.make("FrozenLake-v1")  # slippery 4x4
    mdp = TabularMDP.from_gymnasium(env, gamma=0.99)
    v_star = value_iteration(mdp).V[0]
    res = q_learning(env, n_episodes=4000, alpha=0.1, epsilon=linear_decay(1.0, 0.05, 2000), gamma=0.99, seed=0)
    v_learned = policy_evaluation(mdp, res.policy).V[0]
    assert v_learned >= 0.9 * v_star


@pytest.mark.parametrize("learner", LEARNERS)
def test_learners_solve_a_deterministic_gridworld(learner):
    env = GridWorld(["S...", ".##.", "...G"], step_reward=-1.0, goal_reward=0.0, gamma=0.95)
    res = learner(env, n_episodes=300, alpha=0.5, epsilon=0.1, gamma=0.95, seed=0)
    star = value_iteration(env.mdp)
    np.testing.assert_allclose(policy_evaluation(env.mdp, res.policy).V[0], star.V[0], atol=1e-9)


def _always_one(horizon: int | None = None) -> TabularMDP:
    """One state, one action, reward 1 forever; only a time limit stops an episode."""
    return TabularMDP.from_dense(np.ones((1, 1, 1)), np.ones((1, 1)), gamma=0.9, horizon=horizon)


def test_a_task_horizon_ends_the_task_for_the_learners_as_for_dynamic_programming():
    """With horizon 5 nothing is earned after step 5: DP gives V_0 = sum_{t<5} 0.9^t, and Q-learning,
    which never bootstraps past the end, can never exceed it (every target is at most V_0)."""
    mdp = _always_one(horizon=5)
    v0 = sum(0.9**t for t in range(5))
    assert value_iteration(mdp).V[0] == pytest.approx(v0, abs=1e-12)
    res = q_learning(TabularEnv(mdp), n_episodes=400, alpha=0.1, epsilon=0.0, seed=0)
    assert 0.8 * v0 < res.Q[0, 0] <= v0 + 1e-12


def test_truncation_bootstraps_but_termination_does_not():
    gamma = 0.9
    env = TabularEnv(_always_one(), max_episode_steps=5)
    right = q_learning(env, n_episodes=400, alpha=0.1, epsilon=0.0, gamma=gamma, seed=0)
    # The task never ends, so Q = 1 / (1 - gamma) = 10 however often the clock cuts an episode.
    assert right.Q[0, 0] == pytest.approx(1 / (1 - gamma), rel=1e-3)
    wrong = q_learning(env, n_episodes=400, alpha=0.1, epsilon=0.0, gamma=gamma, seed=0, bootstrap_truncated=False)
    # Treating the time limit as termination drags the estimate down towards a 5-step return.
    assert wrong.Q[0, 0] < 0.8 / (1 - gamma)
    # A real termination after one step: Q is exactly the single reward.
    P = np.zeros((2, 1, 2))
    P[0, 0, 1] = 1.0
    P[1, 0, 1] = 1.0
    ends = TabularEnv(TabularMDP.from_dense(P, np.array([[1.0], [0.0]]), gamma=gamma, terminal=[1]))
    term = q_learning(ends, n_episodes=200, alpha=0.1, epsilon=0.0, gamma=gamma, seed=0)
    assert term.Q[0, 0] == pytest.approx(1.0, rel=1e-6)


def test_max_steps_is_a_truncation_that_bootstraps():
    env = TabularEnv(_always_one(horizon=10_000))
    res = sarsa(env, n_episodes=300, alpha=0.1, epsilon=0.0, gamma=0.5, seed=0, max_steps=3)
    assert np.all(res.episode_lengths == 3)
    assert res.Q[0, 0] == pytest.approx(2.0, rel=1e-3)


def test_epsilon_schedule_and_strategies_are_used():
    env = GridWorld("classic")
    decayed = q_learning(env, n_episodes=50, epsilon=linear_decay(1.0, 0.0, 25), seed=0, max_steps=300)
    assert decayed.episode_lengths[:5].mean() > decayed.episode_lengths[-5:].mean()
    for strategy in (EpsilonGreedy(0.2), Boltzmann(0.5), UCB(1.0)):
        assert np.isfinite(q_learning(env, n_episodes=5, seed=0, exploration=strategy, max_steps=100).Q).all()


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(alpha=0.0), ValueError, r"alpha must lie in \(0, 1\]"),
    (dict(alpha=1.5), ValueError, r"alpha must lie in \(0, 1\]"),
    (dict(epsilon=-0.1), ValueError, r"epsilon must lie in \[0, 1\]"),
    (dict(gamma=1.1), ValueError, r"gamma must lie in \[0, 1\]"),
    (dict(n_episodes=0), ValueError, r"n_episodes must be a positive integer"),
    (dict(max_steps=0), ValueError, r"max_steps must be a positive integer"),
    (dict(exploration="optimism"), ValueError, r"exploration must be 'epsilon', 'boltzmann', 'ucb'"),
    (dict(Q0=np.zeros((2, 2))), ValueError, r"Q0 must have shape"),
])
def test_learner_validation(kwargs, error, message):
    with pytest.raises(error, match=message):
        q_learning(GridWorld("classic"), **kwargs)


def test_learners_need_discrete_spaces():
    with pytest.raises(TypeError, match="Discrete observation and action spaces"):
        q_learning(gym.make("CartPole-v1"))


@pytest.mark.parametrize("learner", LEARNERS)
def test_td_learners_refuse_what_they_would_silently_get_wrong(learner):
    env = GridWorld("classic", slip=0.1)
    with pytest.raises(ValueError, match="max_steps must be a positive integer"):
        learner(env, n_episodes=2, max_steps=2.5)  # t == 2.5 never happens: this used to loop forever
    with pytest.raises(ValueError, match="max_steps must be a positive integer"):
        learner(env, n_episodes=2, max_steps=True)
    with pytest.raises(ValueError, match="epsilon=0.3 only applies to epsilon-greedy"):
        learner(env, n_episodes=2, epsilon=0.3, exploration="boltzmann")
    with pytest.raises(ValueError, match="epsilon=0.3 only applies to epsilon-greedy"):
        learner(env, n_episodes=2, epsilon=0.3, exploration=UCB())
    # a schedule is checked at every episode, not only at the first
    msg = r"epsilon must lie in \[0, 1\], got 1.5 \(the schedule's value at episode 3\)"
    with pytest.raises(ValueError, match=msg):
        learner(env, n_episodes=10, epsilon=lambda ep: 0.1 if ep < 3 else 1.5, max_steps=50)
    with pytest.raises(ValueError, match="epsilon must lie in"):
        learner(env, n_episodes=10, epsilon=lambda ep: float("nan") if ep == 4 else 0.1, max_steps=50)
    with pytest.raises(ValueError, match="epsilon must be a number"):
        learner(env, n_episodes=2, epsilon="0.1")


@pytest.mark.parametrize("learner", [q_learning, sarsa])
def test_default_gamma_is_the_envs_own(learner):
    """Issue 9: the learners used gamma = 0.99 whatever the env's model said; now they read env.mdp.gamma."""
    env = GridWorld("classic", gamma=0.5)
    default = learner(env, n_episodes=30, alpha=0.3, epsilon=0.2, seed=3)
    half = learner(env, n_episodes=30, alpha=0.3, epsilon=0.2, gamma=0.5, seed=3)
    old = learner(env, n_episodes=30, alpha=0.3, epsilon=0.2, gamma=0.99, seed=3)
    assert np.array_equal(default.Q, half.Q) and not np.array_equal(default.Q, old.Q)
    wrapped = gym.make("rlcore/GridWorld-v0", layout="classic", gamma=0.5)  # a wrapper: read through .unwrapped
    assert np.array_equal(learner(wrapped, n_episodes=30, alpha=0.3, epsilon=0.2, seed=3).Q,
                          learner(wrapped, n_episodes=30, alpha=0.3, epsilon=0.2, gamma=0.5, seed=3).Q)
    for bad in (np.nan, 1.5, -0.1, "half", [0.5]):
        with pytest.raises(ValueError, match="gamma must"):
            learner(env, n_episodes=1, gamma=bad)


def test_a_generator_is_a_seed_too():
    """Conventions: every stochastic function takes a seed or a numpy Generator; equal states, equal runs."""
    env = GridWorld(["S..", "..G"], step_reward=-1.0, goal_reward=0.0, gamma=0.9)
    a = q_learning(env, n_episodes=30, seed=np.random.default_rng(5))
    b = q_learning(env, n_episodes=30, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(a.Q, b.Q)
    with pytest.raises(ValueError, match="seed"):
        q_learning(env, n_episodes=3, seed=1.5)
