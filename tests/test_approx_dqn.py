"""DQN and its replay buffer: the loss against a plain loop, the target network, endings, schedule, acceptance."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlcore.approx.dqn import DQNConfig, dqn, dqn_loss, epsilon_schedule, greedy_returns, make_env
from rlcore.approx.replay import ReplayBatch, ReplayBuffer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ------------------------------------------------------------------ helpers
class Walk(gym.Env):
    """A small random walk in R^3 that logs every transition; ends (terminated) when |x_0| > 1, cut after 6 steps."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (3,), np.float32)
    action_space = gym.spaces.Discrete(3)

    def __init__(self):
        self.log = []

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.x = self.np_random.normal(0, 0.3, 3).astype(np.float32)
        self.t = 0
        return self.x.copy(), {}

    def step(self, a):
        old = self.x.copy()
        self.x = (self.x + 0.4 * (a - 1) + self.np_random.normal(0, 0.3, 3)).astype(np.float32)
        self.t += 1
        r = float(1.0 + self.x[1])
        term = bool(abs(self.x[0]) > 1.0)
        trunc = self.t >= 6 and not term
        self.log.append((old, int(a), r, self.x.copy(), term, trunc))
        return self.x.copy(), r, term, trunc, {}


def huber_loop(d):
    return sum(0.5 * x * x if abs(x) <= 1 else abs(x) - 0.5 for x in d) / len(d)


def reference_loss(q, target, transitions, gamma):
    """Plain-loop Huber loss of Q(s, a) against r + gamma (1 - terminated) max_a' Q_target(s', a')."""
    diffs = []
    with torch.no_grad():
        for s, a, r, s2, term, _trunc in transitions:
            next_max = max(target(torch.tensor(s2)).tolist())
            y = r + (0.0 if term else gamma * next_max)
            diffs.append(q(torch.tensor(s)).tolist()[a] - y)
    return huber_loop(diffs)


def nets(seed=0, d=3, n_actions=3):
    from rlcore.approx.common import mlp

    return (mlp([d, 8, n_actions], "relu", seed=seed, dtype=torch.float32),
            mlp([d, 8, n_actions], "relu", seed=seed + 1, dtype=torch.float32))


def batch_of(transitions):
    s, a, r, s2, te, _ = zip(*transitions)
    return ReplayBatch(np.array(s), np.array(a), np.array(r, np.float32), np.array(s2), np.array(te))


def walk_transitions(n, seed=0):
    env, rng = Walk(), np.random.default_rng(seed)
    env.reset(seed=seed)
    for _ in range(n):
        _, _, te, tr, _ = env.step(int(rng.integers(3)))
        if te or tr:
            env.reset()
    return env.log


FAST = dict(learning_starts=0, exploration_initial_eps=1.0, exploration_final_eps=1.0, hidden_sizes=(8,),
            learning_rate=0.01, gamma=0.9)


# ------------------------------------------------------------------ replay buffer
def test_buffer_wraps_around_and_keeps_the_newest():
    buf = ReplayBuffer(5, (2,))
    for i in range(7):
        buf.add([i, -i], i % 2, float(i), [i + 1, 0], i == 3)
    assert len(buf) == 5 and buf.pos == 2
    assert sorted(buf.rewards.tolist()) == [2, 3, 4, 5, 6]
    rec = buf.recent(5)
    np.testing.assert_array_equal(rec.rewards, [2, 3, 4, 5, 6])
    np.testing.assert_array_equal(rec.obs[:, 0], [2, 3, 4, 5, 6])
    np.testing.assert_array_equal(rec.next_obs[:, 0], [3, 4, 5, 6, 7])
    np.testing.assert_array_equal(rec.terminated, [False, True, False, False, False])
    np.testing.assert_array_equal(buf.recent(2).actions, [1, 0])


def test_batch_add_equals_single_adds_and_oversized_batch_keeps_tail():
    tr = walk_transitions(9)
    one, many = ReplayBuffer(4, 3), ReplayBuffer(4, 3)
    for s, a, r, s2, te, _ in tr:
        one.add(s, a, r, s2, te)
    b = batch_of(tr)
    many.add(b.obs[:2], b.actions[:2], b.rewards[:2], b.next_obs[:2], b.terminated[:2])
    many.add(b.obs[2:], b.actions[2:], b.rewards[2:], b.next_obs[2:], b.terminated[2:])  # 7 > capacity 4
    for f in ("obs", "actions", "rewards", "next_obs", "terminated"):
        np.testing.assert_array_equal(getattr(one.recent(4), f), getattr(many.recent(4), f))
    np.testing.assert_array_equal(one.recent(4).rewards, np.array([t[2] for t in tr[-4:]], np.float32))


def test_sample_is_uniform_with_and_without_replacement():
    buf = ReplayBuffer(10, 1)
    buf.add(np.arange(4.0)[:, None], np.zeros(4, int), np.arange(4.0), np.zeros((4, 1)), np.zeros(4, bool))
    s = buf.sample(40_000, np.random.default_rng(0))
    assert set(s.rewards.tolist()) == {0, 1, 2, 3}  # only stored slots, never the empty ones
    np.testing.assert_allclose(np.bincount(s.rewards.astype(int)) / 40_000, 0.25, atol=0.01)
    np.testing.assert_array_equal(s.obs[:, 0], s.rewards)  # columns stay aligned
    w = buf.sample(4, np.random.default_rng(1), replace=False)
    assert sorted(w.rewards.tolist()) == [0, 1, 2, 3]
    a, b = buf.sample(8, np.random.default_rng(5)), buf.sample(8, np.random.default_rng(5))
    np.testing.assert_array_equal(a.rewards, b.rewards)


@pytest.mark.parametrize("kwargs, match", [
    (dict(capacity=0, obs_shape=(2,)), "capacity"), (dict(capacity=2.5, obs_shape=(2,)), "capacity"),
    (dict(capacity="9", obs_shape=(2,)), "capacity"), (dict(capacity=4, obs_shape=(0,)), "obs_shape"),
    (dict(capacity=4, obs_shape="ab"), "obs_shape"), (dict(capacity=4, obs_shape=(2,), obs_dtype=object), "obs_dtype"),
])
def test_buffer_bad_construction(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ReplayBuffer(**kwargs)


@pytest.mark.parametrize("args, match", [
    (([1.0, 2.0, 3.0], 0, 1.0, [0.0, 0.0], False), "obs"), (([1.0, 2.0], 0, 1.0, [0.0], False), "next_obs"),
    (([1.0, 2.0], -1, 1.0, [0.0, 0.0], False), "action"), (([1.0, 2.0], 0.5, 1.0, [0.0, 0.0], False), "action"),
    (([1.0, 2.0], 0, np.nan, [0.0, 0.0], False), "reward"), (([1.0, 2.0], 0, 1.0, [0.0, 0.0], 1), "terminated"),
    (([[1.0, 2.0]] * 2, [0], [1.0, 1.0], [[0.0, 0.0]] * 2, [False, True]), "action"),
])
def test_buffer_bad_add(args, match):
    with pytest.raises(ValueError, match=match):
        ReplayBuffer(4, 2).add(*args)


def test_buffer_bad_sample():
    buf, rng = ReplayBuffer(4, 1), np.random.default_rng(0)
    with pytest.raises(ValueError, match="empty"):
        buf.sample(1, rng)
    buf.add([0.0], 0, 0.0, [0.0], False)
    for bad, match in ((0, "batch_size"), (1.5, "batch_size")):
        with pytest.raises(ValueError, match=match):
            buf.sample(bad, rng)
    with pytest.raises(TypeError, match="rng"):
        buf.sample(1, 0)
    with pytest.raises(ValueError, match="batch_size"):
        buf.sample(2, rng, replace=False)
    with pytest.raises(ValueError, match="replace"):
        buf.sample(1, rng, replace="no")
    with pytest.raises(ValueError, match="n must"):
        buf.recent(2)


# ------------------------------------------------------------------ loss and targets
def test_dqn_loss_matches_plain_loop_and_uses_the_target_network():
    q, target = nets()
    with torch.no_grad():
        target[-1].bias.add_(3.0)  # a target clearly unlike the online net
    tr = walk_transitions(40)
    assert any(t[4] for t in tr) and any(t[5] for t in tr)  # both endings occur
    b = batch_of(tr)
    loss, stats = dqn_loss(q, target, b, 0.9)
    assert loss.item() == pytest.approx(reference_loss(q, target, tr, 0.9), rel=1e-5)
    assert loss.item() != pytest.approx(reference_loss(q, q, tr, 0.9), rel=1e-3)  # the target net matters
    assert stats["q_mean"] == pytest.approx(np.mean([q(torch.tensor(t[0])).tolist()[t[1]] for t in tr]), rel=1e-5)
    loss.backward()
    assert all(p.grad is None for p in target.parameters())  # no gradient through y
    assert q[0].weight.grad is not None


def test_terminated_cuts_the_target_but_truncated_bootstraps():
    q, target = nets()
    s, s2 = np.zeros((2, 3), np.float32), np.ones((2, 3), np.float32)
    b = ReplayBatch(s, np.array([0, 0]), np.array([1.0, 1.0], np.float32), s2, np.array([True, False]))
    with torch.no_grad():
        q0 = q(torch.tensor(s[0])).tolist()[0]
        boot = max(target(torch.tensor(s2[0])).tolist())
    y = np.array([1.0, 1.0 + 0.5 * boot])
    got = dqn_loss(q, target, b, 0.5)[0].item()
    assert got == pytest.approx(huber_loop(q0 - y), rel=1e-5)


def test_huber_is_quadratic_near_zero_and_linear_far():
    q, _ = nets()
    s = np.zeros((1, 3), np.float32)
    with torch.no_grad():
        q0 = q(torch.tensor(s[0])).tolist()[1]
    for gap in (0.3, 4.0):  # r chosen so that Q(s, a) - y = gap, terminal
        b = ReplayBatch(s, np.array([1]), np.array([q0 - gap], np.float32), s, np.array([True]))
        want = 0.5 * gap ** 2 if gap <= 1 else gap - 0.5
        assert dqn_loss(q, q, b, 0.99)[0].item() == pytest.approx(want, rel=1e-4)


@pytest.mark.parametrize("args, exc, match", [
    (("q", None, "batch", 0.9), TypeError, "batch"), (("q", "net", "batch_obj", 0.9), TypeError, "q_network"),
    (("net", "net", "batch_obj", 1.5), ValueError, "gamma"), (("net", 3, "batch_obj", 0.9), TypeError,
                                                               "target_network"),
    (("net", "net", "batch_obj", "x"), ValueError, "gamma"),
])
def test_dqn_loss_bad_inputs(args, exc, match):
    q, _ = nets()
    b = batch_of(walk_transitions(4))
    sub = {"net": q, "batch_obj": b}
    args = [sub.get(a, a) if isinstance(a, str) and a in sub else a for a in args]
    with pytest.raises(exc, match=match):
        dqn_loss(*args)


def _second_update_loss(target_update_interval, target_network=True, B=16):
    """Run DQN without replay for 2B steps; return (the logged 2nd loss, transitions, w0, w1)."""
    cfg = lambda n: DQNConfig(**FAST, replay=False, batch_size=B, total_timesteps=n,  # noqa: E731
                              target_update_interval=target_update_interval, target_network=target_network)
    env = Walk()
    res = dqn(env, cfg(2 * B), seed=3)
    w0, w1 = dqn(Walk(), cfg(B - 1), seed=3).model, dqn(Walk(), cfg(B), seed=3).model
    return res.info["loss"][1], env.log[B:], w0, w1


def test_training_uses_the_frozen_target_network():
    got, tr, w0, w1 = _second_update_loss(10 ** 6)
    assert got == pytest.approx(reference_loss(w1, w0, tr, 0.9), rel=1e-5)  # target still the initial weights
    assert got != pytest.approx(reference_loss(w1, w1, tr, 0.9), rel=1e-3)
    got, tr, w0, w1 = _second_update_loss(16)  # synced after the first update
    assert got == pytest.approx(reference_loss(w1, w1, tr, 0.9), rel=1e-5)
    got, tr, w0, w1 = _second_update_loss(10 ** 6, target_network=False)  # ablation: online weights
    assert got == pytest.approx(reference_loss(w1, w1, tr, 0.9), rel=1e-5)


def test_sync_every_update_equals_no_target_network():
    kw = dict(FAST, train_freq=1, gradient_steps=1, batch_size=8, buffer_size=100, total_timesteps=150)
    a = dqn(Walk(), DQNConfig(**kw, target_update_interval=1), seed=1)
    b = dqn(Walk(), DQNConfig(**kw, target_network=False), seed=1)
    c = dqn(Walk(), DQNConfig(**kw, target_update_interval=5), seed=1)
    np.testing.assert_array_equal(a.info["loss"], b.info["loss"])
    assert not np.array_equal(a.info["loss"], c.info["loss"])


def test_truncated_steps_are_stored_as_nonterminal():
    got, tr, w0, w1 = _second_update_loss(10 ** 6)
    assert any(t[5] for t in tr) and any(t[4] for t in tr)
    as_terminal = [(s, a, r, s2, te or tru, tru) for s, a, r, s2, te, tru in tr]
    assert got != pytest.approx(reference_loss(w1, w0, as_terminal, 0.9), rel=1e-3)


# ------------------------------------------------------------------ schedule, bookkeeping, seeds
def test_epsilon_schedule_values():
    cfg = DQNConfig(total_timesteps=1000, exploration_fraction=0.2, exploration_initial_eps=1.0,
                    exploration_final_eps=0.1)
    eps = epsilon_schedule(cfg)
    for t, want in ((0, 1.0), (50, 1.0 - 0.9 * 50 / 200), (100, 0.55), (200, 0.1), (999, 0.1)):
        assert eps(t) == pytest.approx(want)
    assert epsilon_schedule(DQNConfig(exploration_fraction=0.0, exploration_final_eps=0.3))(0) == 0.3
    res = dqn(Walk(), DQNConfig(**dict(FAST, exploration_initial_eps=0.9, exploration_final_eps=0.1), batch_size=8,
                                train_freq=10, gradient_steps=2, total_timesteps=100, exploration_fraction=0.5),
              seed=0)
    steps = res.info["steps"]
    np.testing.assert_allclose(res.info["epsilon"], np.maximum(0.9 - 0.8 * (steps - 1) / 50, 0.1))
    assert len(steps) == 20 and steps[0] == 10 and steps[-1] == 100


def test_episode_bookkeeping_and_learning_starts():
    env = Walk()
    res = dqn(env, DQNConfig(**dict(FAST, learning_starts=40), batch_size=4, train_freq=8, gradient_steps=3,
                             total_timesteps=100), seed=0)
    ends = [i + 1 for i, t in enumerate(env.log) if t[4] or t[5]]
    np.testing.assert_array_equal(res.episode_end_steps, ends)
    np.testing.assert_allclose(res.episode_returns[0], sum(t[2] for t in env.log[:ends[0]]))
    assert res.total_steps == 100 and res.info["steps"].min() == 48 and len(res.info["loss"]) == 3 * 7


def test_same_seed_same_result_and_different_seed_differs():
    cfg = DQNConfig(total_timesteps=1500, learning_starts=200, train_freq=64, gradient_steps=8)
    a, b, c = (dqn("CartPole-v1", cfg, seed=s) for s in (4, 4, 5))
    np.testing.assert_array_equal(a.episode_returns, b.episode_returns)
    np.testing.assert_array_equal(a.info["loss"], b.info["loss"])
    for p, r in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(p, r)
    assert not np.array_equal(a.info["loss"], c.info["loss"])
    g1, g2 = greedy_returns("CartPole-v1", a.model, 3, seed=7), greedy_returns("CartPole-v1", b.model, 3, seed=7)
    np.testing.assert_array_equal(g1, g2)


def test_greedy_returns_counts_reward_until_the_end():
    q, _ = nets()
    env = Walk()
    out = greedy_returns(env, q, 4, seed=2)
    assert out.shape == (4,)
    ends = np.flatnonzero([t[4] or t[5] for t in env.log])
    starts = np.concatenate([[0], ends[:-1] + 1])
    np.testing.assert_allclose(out, [sum(t[2] for t in env.log[a:b + 1]) for a, b in zip(starts, ends)], rtol=1e-6)


# ------------------------------------------------------------------ bad inputs
@pytest.mark.parametrize("field, value", [
    ("learning_rate", 0.0), ("learning_rate", -1e-3), ("buffer_size", 0), ("learning_starts", -1),
    ("learning_starts", 1.5), ("batch_size", 0), ("gamma", 1.5), ("train_freq", 0), ("gradient_steps", 2.5),
    ("target_update_interval", 0), ("exploration_fraction", -0.1), ("exploration_initial_eps", 2.0),
    ("exploration_final_eps", -0.5), ("max_grad_norm", 0.0), ("total_timesteps", 0), ("hidden_sizes", (64, 0)),
    ("hidden_sizes", "64"), ("activation", "gelu"), ("target_network", 1), ("replay", "yes"),
    ("stop_window", 0), ("stop_return", float("nan")), ("batch_size", 10 ** 6),
])
def test_config_bad_fields(field, value):
    with pytest.raises(ValueError, match=field):
        DQNConfig(**{field: value})


@pytest.mark.parametrize("env", [3, None, "FrozenLake-v1", "Pendulum-v1", ["CartPole-v1"]])
def test_dqn_bad_env(env):
    with pytest.raises(TypeError, match="env"):
        dqn(env, DQNConfig(total_timesteps=10))


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(config={"batch_size": 3}), TypeError, "config"), (dict(seed=-1), ValueError, "seed"),
    (dict(seed=1.5), ValueError, "seed"), (dict(seed=True), ValueError, "seed"), (dict(progress=1), ValueError,
                                                                                     "progress"),
])
def test_dqn_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        dqn("CartPole-v1", **kwargs)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(env=5), TypeError, "env"), (dict(q_network="q"), TypeError, "q_network"),
    (dict(n_episodes=0), ValueError, "n_episodes"), (dict(n_episodes=2.5), ValueError, "n_episodes"),
    (dict(seed=-3), ValueError, "seed"), (dict(env="Taxi-v4"), TypeError, "env"),
])
def test_greedy_returns_bad_inputs(kwargs, exc, match):
    args = dict(env="CartPole-v1", q_network=nets(d=4, n_actions=2)[0], n_episodes=1, seed=0)
    with pytest.raises(exc, match=match):
        greedy_returns(**{**args, **kwargs})


def test_make_env_accepts_id_and_env():
    env, made = make_env("CartPole-v1")
    assert made and env.action_space.n == 2
    env.close()
    w = Walk()
    assert make_env(w) == (w, False)


# ------------------------------------------------------------------ ablations and acceptance
@pytest.mark.parametrize("ablation", [dict(target_network=False), dict(replay=False)])
def test_ablations_run_and_are_reproducible(ablation):
    cfg = DQNConfig(total_timesteps=1200, learning_starts=300, train_freq=64, gradient_steps=4, **ablation)
    a, b = dqn("CartPole-v1", cfg, seed=2), dqn("CartPole-v1", cfg, seed=2)
    np.testing.assert_array_equal(a.episode_returns, b.episode_returns)
    np.testing.assert_array_equal(a.info["loss"], b.info["loss"])
    n_updates = (1200 - 300) // 64 * 4 if ablation.get("replay", True) else (1200 - 300) // 64 + 1
    assert len(a.info["loss"]) in (n_updates, n_updates - 1) and np.isfinite(a.info["loss"]).all()


@pytest.mark.slow
def test_dqn_solves_cartpole_greedy_on_some_seed_and_learns_on_all():
    """Default DQNConfig (50_000 steps): greedy >= 475 on one of seeds 0, 1, 2 at least, far above chance on all.

    Criterion: the mean return of 20 greedy episodes of the final network (starts seeded
    1000..1019); a uniformly random policy averages about 22. The final network of DQN is
    chaotic in floating-point rounding, so which seeds solve depends on the CPU: measured
    165.1, 500.0, 500.0 on one machine and 500.0, 153.4, 74.3 on an AMD EPYC (AVX-512) one,
    with the same code, seeds and library versions.
    """
    scores = [greedy_returns("CartPole-v1", dqn("CartPole-v1", seed=s).model, 20, seed=1000).mean()
              for s in (0, 1, 2)]
    assert max(scores) >= 475 and min(scores) >= 50, scores
