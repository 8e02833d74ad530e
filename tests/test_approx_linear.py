"""Tile coding, linear semi-gradient TD(0) and SARSA, and the approx plots.

References written here: a per-tiling loop for the tile indices, the closed-form
linear TD fixed point ``w_TD = A^{-1} b`` (Sutton & Barto eq. 9.12) on a random
walk, and plain-loop TD(0) / SARSA learners for a few episodes.
"""

from __future__ import annotations

import math

import gymnasium as gym
import matplotlib
import numpy as np
import pytest

from rlcore.approx.common import ControlResult
from rlcore.approx.linear import TiledQ, semi_gradient_sarsa, semi_gradient_td0
from rlcore.approx.tiles import TileCoder

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from rlcore.plots.approx import (  # noqa: E402
    plot_cost_to_go,
    plot_learning_curves,
    plot_step_size_sweep,
    plot_steps_per_episode,
)

MC_LOW, MC_HIGH = np.array([-1.2, -0.07]), np.array([0.6, 0.07])


# ------------------------------------------------------------ tile coder
def reference_tiles(coder_args, x):
    """Independent per-tiling loop: which tile of each tiling the state falls in."""
    low, high, tiles, n = coder_args
    d = len(low)
    tiles = [tiles] * d if np.ndim(tiles) == 0 else list(tiles)
    sizes = [t + 1 for t in tiles]
    per_tiling = math.prod(sizes)
    out = []
    for k in range(n):
        idx = 0
        for i in range(d):
            width = (high[i] - low[i]) / tiles[i]
            xi = min(max(float(x[i]), low[i]), high[i])
            shift = ((k * (2 * i + 1)) % n) / n * width  # tiling k starts this far below low
            c = math.floor((xi - (low[i] - shift)) / width)
            c = min(max(c, 0), tiles[i])
            idx = idx * sizes[i] + c  # C order: last dimension fastest
        out.append(k * per_tiling + idx)
    return out


@pytest.mark.parametrize("args", [(list(MC_LOW), list(MC_HIGH), 8, 8),
                                  ([0.0, -1.0, 2.0], [1.0, 1.0, 5.0], (3, 4, 5), 16), ([0.0], [10.0], 10, 4)])
def test_active_tiles_match_a_per_tiling_loop(args):
    coder = TileCoder(*args)
    rng = np.random.default_rng(1)
    low, high = np.array(args[0]), np.array(args[1])
    X = rng.uniform(low - 0.2 * (high - low), high + 0.2 * (high - low), size=(500, len(low)))  # some outside: clipped
    A = coder.active(X)
    assert A.shape == (500, args[3]) and A.dtype == np.int64
    assert np.array_equal(A, np.array([reference_tiles(args, x) for x in X]))
    assert np.array_equal(coder.active(X[7]), A[7])
    assert all(coder.active_list(x) == a.tolist() for x, a in zip(X, A))
    # exactly one tile per tiling, inside its own block of indices
    assert np.array_equal(A // coder.tiles_per_tiling, np.broadcast_to(np.arange(args[3]), A.shape))
    assert coder.n_features == args[3] * coder.tiles_per_tiling and A.max() < coder.n_features
    F = coder.features(X)
    assert F.shape == (500, coder.n_features) and np.array_equal(F.sum(axis=1), np.full(500, args[3]))
    assert set(np.unique(F)) <= {0.0, 1.0}


def test_offsets_are_the_odd_displacement_and_clipping():
    coder = TileCoder(MC_LOW, MC_HIGH, 8, 8)
    k = np.arange(8)
    assert np.allclose(coder.offsets[:, 0], (k * 1 % 8) / 8) and np.allclose(coder.offsets[:, 1], (k * 3 % 8) / 8)
    for i in range(2):  # every dimension sees all 8 boundary fractions
        assert sorted(coder.offsets[:, i] * 8) == list(range(8))
    three = TileCoder(np.zeros(3), np.ones(3), 4, 16)
    assert np.allclose(three.offsets[5], [(5 % 16) / 16, (15 % 16) / 16, (25 % 16) / 16])
    # a state outside the box has the tiles of its clipped copy; edges are covered
    assert np.array_equal(coder.active([5.0, -1.0]), coder.active([0.6, -0.07]))
    assert np.array_equal(coder.active([-np.inf, np.inf]), coder.active([-1.2, 0.07]))


def shared(coder, a, b):
    return (coder.active(a) == coder.active(b)).sum(axis=-1)


def test_neighbours_share_tiles_as_designed():
    n, T = 8, 8
    coder = TileCoder([0.0, 0.0], [1.0, 1.0], T, n)
    w = 1.0 / T
    rng = np.random.default_rng(0)
    P = rng.uniform(0.1, 0.9, size=(2000, 2))
    for i in range(2):  # closer than width / n along one axis: at most one tiling tells them apart
        step = np.zeros(2)
        step[i] = 0.999 * w / n
        assert shared(coder, P, P + step).min() >= n - 1
    D = rng.uniform(-1, 1, size=P.shape) * (0.999 * w / n)  # closer than width / n in every dimension
    assert shared(coder, P, P + D).min() >= n - 2
    far = P + np.array([1.001 * w, 0.0])  # a tile width apart in one dimension: nothing in common
    assert shared(coder, P, np.clip(far, 0, 1))[far[:, 0] < 1].max() == 0
    # along any ray the shared count never rises again (tiles are boxes) and reaches 0 after a width
    ts = np.linspace(0, 1.5 * w, 40)
    for p, u in zip(P[:50], rng.normal(size=(50, 2))):
        u = u / np.abs(u).max()
        counts = shared(coder, np.broadcast_to(p, (40, 2)), np.clip(p + ts[:, None] * u, 0, 1))
        assert counts[0] == n and (np.diff(counts) <= 0).all()
        assert counts[ts > 1.001 * w].max() == 0 or (np.abs(p + 1.5 * w * u) > 1).any()
    # the mean shared count falls with distance
    means = [shared(coder, P, P + r * np.array([w, 0.4 * w])).mean() for r in (0.1, 0.3, 0.6, 0.9)]
    assert all(a > b for a, b in zip(means, means[1:]))


def test_asymmetric_offsets_avoid_the_diagonal_artefact():
    """How many tiles a point shares with its neighbours at 3/4 of a tile width depends on the direction
    much more with equal displacements (1, 1), whose tilings are all shifted along the diagonal, than
    with the odd (1, 3): the footprints of single points are less isotropic (an average over points hides
    this, as every single tiling is a uniform grid)."""
    rng = np.random.default_rng(3)
    P = rng.uniform(0.3, 0.7, size=(3000, 2))
    angles = np.linspace(0, np.pi, 8, endpoint=False)  # index 2: the diagonal, 6: the anti-diagonal
    U = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    spread, diag_gap = {}, {}
    for name, disp in (("odd", None), ("uniform", (1, 1))):
        coder = TileCoder([0.0, 0.0], [1.0, 1.0], 8, 8, displacement=disp)
        K = np.stack([shared(coder, P, P + 0.75 / 8 * u) for u in U], axis=1)  # [points, directions]
        spread[name] = K.std(axis=1).mean()
        diag_gap[name] = np.abs(K[:, 2] - K[:, 6]).mean()
    assert spread["uniform"] > 1.4 * spread["odd"]  # measured 0.83 vs 0.49
    assert diag_gap["uniform"] > 1.8 * diag_gap["odd"]  # measured 2.0 vs 0.93


def test_hashing_in_range_deterministic_and_consistent():
    X = np.random.default_rng(0).uniform(MC_LOW, MC_HIGH, size=(3000, 2))
    a = TileCoder(MC_LOW, MC_HIGH, 8, 8, hash_size=97, seed=5)
    b = TileCoder(MC_LOW, MC_HIGH, 8, 8, hash_size=97, seed=5)
    c = TileCoder(MC_LOW, MC_HIGH, 8, 8, hash_size=97, seed=6)
    A = a.active(X)
    assert a.n_features == 97 and A.min() >= 0 and A.max() < 97 and A.shape == (3000, 8)
    assert np.array_equal(A, b.active(X)) and not np.array_equal(A, c.active(X))
    assert all(a.active_list(x) == r.tolist() for x, r in zip(X[:300], A))
    assert len(np.unique(A)) > 80  # spread over the table
    # a hash is a function of the unhashed tile: same tile, same feature
    plain = TileCoder(MC_LOW, MC_HIGH, 8, 8).active(X)
    first = {}
    for p, h in zip(plain.ravel(), A.ravel()):
        assert first.setdefault(p, h) == h
    w = np.random.default_rng(1).normal(size=97)
    assert np.allclose(a.features(X) @ w, w[A].sum(axis=1))  # collisions counted


@pytest.mark.parametrize("kwargs, match", [
    (dict(low=[0, 0], high=[1, 0]), "high must exceed low"),
    (dict(low=[0, np.nan], high=[1, 1]), "finite"),
    (dict(low=[0, 0], high=[1, 1, 1]), "low and high"),
    (dict(low=[0, 0], high=[1, 1], tiles_per_dim=0), "tiles_per_dim"),
    (dict(low=[0, 0], high=[1, 1], tiles_per_dim=(4, 2.5)), r"tiles_per_dim\[1\]"),
    (dict(low=[0, 0], high=[1, 1], tiles_per_dim=(4, 4, 4)), "tiles_per_dim"),
    (dict(low=[0, 0], high=[1, 1], n_tilings=-2), "n_tilings"),
    (dict(low=[0, 0], high=[1, 1], displacement=(1, 0)), "displacement"),
    (dict(low=[0, 0], high=[1, 1], hash_size=0), "hash_size"),
    (dict(low=[0, 0], high=[1, 1], hash_size=10, seed="a"), "seed"),
])
def test_tile_coder_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TileCoder(**kwargs)


@pytest.mark.parametrize("x", [[0.1, np.nan], [0.1], [[0.1, 0.2, 0.3]], 0.5, [[np.nan, 0.0], [0.0, 0.0]]])
def test_active_bad_input(x):
    coder = TileCoder([0, 0], [1, 1])
    with pytest.raises(ValueError, match="x must"):
        coder.active(x)
    if np.ndim(x) <= 1:
        with pytest.raises(ValueError, match="x must"):
            coder.active_list(x)


# -------------------------------------------------------------- TD(0)
class RandomWalk(gym.Env):
    """States 0..6, 0 and 6 terminal, start in 3; action 0 left, 1 right; +1 on reaching 6."""

    def __init__(self, limit=None):
        self.observation_space, self.action_space = gym.spaces.Discrete(7), gym.spaces.Discrete(2)
        self.limit = limit

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.s, self.t = 3, 0
        return self.s, {}

    def step(self, a):
        self.s += 1 if a == 1 else -1
        self.t += 1
        terminated = self.s in (0, 6)
        truncated = not terminated and self.limit is not None and self.t >= self.limit
        return self.s, float(self.s == 6), terminated, truncated, {}


# a straight line cannot fit the (convex) values, so TD's fixed point differs from the least-squares fit;
# the terminal states' rows are non-zero: only the (1 - terminated) mask removes them from the target
X_RW = np.array([[1.0, (s - 3) / 3] for s in range(7)])
PI_RW = np.full((7, 2), 0.5)


def td_fixed_point(gamma):
    """``w_TD = A^{-1} b`` with ``A = sum_s eta(s) x(s) (x(s) - gamma E[x(s') [s' not terminal]])^T``."""
    inner = list(range(1, 6))
    P = np.zeros((5, 5))  # transitions among non-terminal states
    for j, s in enumerate(inner):
        for s2 in (s - 1, s + 1):
            if s2 in inner:
                P[j, inner.index(s2)] = 0.5
    eta = np.linalg.solve((np.eye(5) - P).T, np.eye(5)[inner.index(3)])  # expected visits per episode
    X = X_RW[inner]
    r = np.array([0.5 if s == 5 else 0.0 for s in inner])
    A = (X * eta[:, None]).T @ (X - gamma * P @ X)
    b = (X * (eta * r)[:, None]).sum(axis=0)
    return np.linalg.solve(A, b)


def test_td0_settles_at_the_linear_td_fixed_point():
    gamma = 0.9
    res = semi_gradient_td0(RandomWalk(), PI_RW, X_RW, n_episodes=10_000, alpha=0.01, gamma=gamma, seed=0,
                            record_weights=True)
    X = X_RW[1:6]
    v_avg = X @ res.w_history[5000:].mean(axis=0)  # average out the constant-step-size jitter
    v_td = X @ td_fixed_point(gamma)
    # the gradient Monte Carlo answer: least squares on the true values, weighted by visits
    P = (np.eye(5, k=1) + np.eye(5, k=-1)) / 2
    v_true = np.linalg.solve(np.eye(5) - gamma * P, [0, 0, 0, 0, 0.5])
    eta = np.linalg.solve(np.eye(5) - P.T, np.eye(5)[2])
    w_mc = np.linalg.lstsq(X * np.sqrt(eta)[:, None], v_true * np.sqrt(eta), rcond=None)[0]
    assert np.abs(v_avg - v_td).max() < 0.01, (v_avg, v_td)  # measured 0.0007
    assert np.abs(v_avg - v_td).max() < 0.5 * np.abs(v_avg - X @ w_mc).max()  # TD's answer, not MC's
    assert np.allclose(res.value(np.arange(7)), X_RW @ res.w)


def reference_td0(env, pi, X, n_episodes, alpha, gamma, seed, max_steps):
    rng = np.random.default_rng(seed)
    env_seed = int(rng.integers(2**31 - 1))
    w = np.zeros(X.shape[1])
    for ep in range(n_episodes):
        s, _ = env.reset(seed=env_seed) if ep == 0 else env.reset()
        for _ in range(max_steps):
            cum = np.cumsum(pi[s])
            a = min(int(np.searchsorted(cum, rng.random() * cum[-1], side="right")), len(cum) - 1)
            s2, r, term, trunc, _ = env.step(a)
            target = r if term else r + gamma * float(X[s2] @ w)  # truncated still bootstraps
            w = w + alpha * (target - float(X[s] @ w)) * X[s]
            if term or trunc:
                break
            s = s2
    return w


@pytest.mark.parametrize("limit, max_steps", [(None, 10_000), (4, 10_000), (None, 3)])
def test_td0_matches_a_plain_loop(limit, max_steps):
    pi = np.array([[0.3, 0.7]] * 7)
    got = semi_gradient_td0(RandomWalk(limit), pi, X_RW, n_episodes=20, alpha=0.1, gamma=0.8, seed=4,
                            max_steps=max_steps)
    want = reference_td0(RandomWalk(limit), pi, X_RW, 20, 0.1, 0.8, 4, max_steps)
    assert np.array_equal(got.w, want)


def test_td0_with_tiles_callable_and_seeds():
    coder = TileCoder([0.0], [6.0], 3, 4)
    kw = dict(n_episodes=30, alpha=0.05, gamma=0.9)
    tiles = semi_gradient_td0(RandomWalk(), PI_RW, coder, seed=2, **kw)
    dense = semi_gradient_td0(RandomWalk(), PI_RW, lambda s: coder.features([float(s)]), seed=2, **kw)
    assert np.allclose(tiles.w, dense.w, atol=1e-12) and np.abs(tiles.w).sum() > 0
    assert np.array_equal(tiles.w, semi_gradient_td0(RandomWalk(), PI_RW, coder, seed=2, **kw).w)
    assert not np.array_equal(tiles.w, semi_gradient_td0(RandomWalk(), PI_RW, coder, seed=3, **kw).w)
    assert np.allclose(tiles.value(np.array([[2.0], [4.0]])), coder.features([[2.0], [4.0]]) @ tiles.w)
    det = semi_gradient_td0(RandomWalk(), np.array([1] * 7), X_RW, n_episodes=1, alpha=0.1, gamma=1.0, seed=0)
    assert det.episode_lengths.tolist() == [3] and det.episode_returns.tolist() == [1.0]


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_episodes=0), "n_episodes"),
    (dict(alpha=0.0), "alpha"),
    (dict(alpha=lambda ep: -1.0), "alpha"),
    (dict(gamma=1.5), "gamma"),
    (dict(max_steps=2.5), "max_steps"),
    (dict(policy=np.zeros((7, 3))), "policy"),
    (dict(policy=np.array([2] * 7)), "policy"),
    (dict(features=np.ones((6, 2))), "features"),
    (dict(w0=np.zeros(4)), "w0"),
    (dict(env="RandomWalk"), "env"),
])
def test_td0_bad_input(kwargs, match):
    args = dict(env=RandomWalk(), policy=PI_RW, features=X_RW, n_episodes=2)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        semi_gradient_td0(**args)


# ----------------------------------------------------------------- SARSA
def mountain_car(limit):
    return gym.make("MountainCar-v0", max_episode_steps=limit)


def reference_sarsa(env, coder, n_episodes, alpha, epsilon, gamma, seed):
    """Plain SARSA on dense tile features; exploration draws as documented (one uniform per choice,
    a second to break a greedy tie, from a stream of 4096-blocks of ``rng.random``)."""
    rng = np.random.default_rng(seed)
    env_seed = int(rng.integers(2**31 - 1))
    stream = iter(())

    def u():
        nonlocal stream
        try:
            return next(stream)
        except StopIteration:
            stream = iter(rng.random(4096).tolist())
            return next(stream)

    def choose(q):
        x = u()
        if x < epsilon:
            return min(int(x / epsilon * len(q)), len(q) - 1)
        best = np.flatnonzero(q == q.max())
        return int(best[0]) if len(best) == 1 else int(best[int(u() * len(best))])

    w = np.zeros((env.action_space.n, coder.n_features))
    lengths = []
    for ep in range(n_episodes):
        s, _ = env.reset(seed=env_seed) if ep == 0 else env.reset()
        a = choose(w @ coder.features(s))
        t = 0
        while True:
            x = coder.features(s)
            s2, r, term, trunc, _ = env.step(a)
            t += 1
            if term:
                target = r
            else:
                a2 = choose(w @ coder.features(s2))
                target = r + gamma * w[a2] @ coder.features(s2)
            w[a] += alpha * (target - w[a] @ x) * x
            if term or trunc:
                break
            s, a = s2, a2
        lengths.append(t)
    return w, lengths


@pytest.mark.parametrize("limit, epsilon, gamma", [(120, 0.1, 1.0), (60, 0.0, 0.95)])
def test_sarsa_matches_a_plain_loop(limit, epsilon, gamma):
    coder = TileCoder(MC_LOW, MC_HIGH, 4, 4)
    res = semi_gradient_sarsa(mountain_car(limit), coder, 4, alpha=0.3 / 4, epsilon=epsilon, gamma=gamma, seed=7)
    w, lengths = reference_sarsa(mountain_car(limit), coder, 4, 0.3 / 4, epsilon, gamma, 7)
    assert res.episode_lengths.tolist() == lengths == [limit] * 4  # all truncated: each one bootstraps
    assert np.allclose(res.model.w, w, rtol=0, atol=1e-10) and np.abs(w).max() > 0.1


def test_sarsa_result_and_seeds():
    coder = TileCoder(MC_LOW, MC_HIGH, 8, 8)
    a = semi_gradient_sarsa(mountain_car(200), coder, 5, epsilon=lambda ep: 0.1 / (1 + ep), seed=3)
    b = semi_gradient_sarsa(mountain_car(200), coder, 5, epsilon=lambda ep: 0.1 / (1 + ep), seed=3)
    c = semi_gradient_sarsa(mountain_car(200), coder, 5, epsilon=lambda ep: 0.1 / (1 + ep), seed=4)
    assert np.array_equal(a.model.w, b.model.w) and np.array_equal(a.episode_lengths, b.episode_lengths)
    assert not np.array_equal(a.model.w, c.model.w)
    assert isinstance(a, ControlResult) and isinstance(a.model, TiledQ) and a.model.w.shape == (3, coder.n_features)
    assert a.total_steps == a.episode_lengths.sum() == a.episode_end_steps[-1]
    assert np.allclose(a.episode_returns, -a.episode_lengths)  # reward -1 per step
    assert np.allclose(a.info["epsilon"], [0.1 / (1 + e) for e in range(5)])
    s = np.array([[-0.5, 0.0], [0.3, 0.05]])
    q = a.model(s)
    assert q.shape == (2, 3) and np.allclose(q, coder.features(s) @ a.model.w.T)
    assert np.allclose(a.model.cost_to_go(s), -q.max(axis=1)) and np.array_equal(a.model.greedy(s), q.argmax(1))


@pytest.mark.slow
def test_sarsa_solves_mountain_car():
    """Acceptance (issue 11): seeds 0, 1, 2; 8 tilings of 8x8 tiles, alpha = 0.5/8, epsilon = 0,
    time limit 10,000, the book's box (position to 0.5): the last 50 of 500 episodes average under 200 steps
    (measured 121.2, 114.1, 113.1)."""
    for seed in (0, 1, 2):
        env = mountain_car(10_000)
        coder = TileCoder([-1.2, -0.07], [0.5, 0.07], 8, 8)
        res = semi_gradient_sarsa(env, coder, 500, alpha=0.5 / 8, epsilon=0.0, seed=seed)
        assert res.episode_lengths[-50:].mean() < 200, (seed, res.episode_lengths[-50:].mean())
        assert res.episode_lengths[:5].mean() > 300  # it did have something to learn
        assert res.model.cost_to_go(np.array([-0.5, 0.0])) > 50  # valley bottom: many steps to go


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_episodes=1.5), "n_episodes"),
    (dict(alpha=-0.1), "alpha"),
    (dict(epsilon=1.2), "epsilon"),
    (dict(gamma=-0.1), "gamma"),
    (dict(max_steps=0), "max_steps"),
    (dict(coder=np.zeros(3)), "coder"),
    (dict(coder=TileCoder([0, 0, 0], [1, 1, 1])), "coder"),
    (dict(env=gym.make("Pendulum-v1")), "Discrete"),
])
def test_sarsa_bad_input(kwargs, match):
    args = dict(env=mountain_car(10), coder=TileCoder(MC_LOW, MC_HIGH, 2, 2), n_episodes=1)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        semi_gradient_sarsa(**args)


# ----------------------------------------------------------------- plots
def fake(lengths, seed=0):
    lengths = np.asarray(lengths)
    r = -lengths.astype(float) + np.random.default_rng(seed).normal(size=len(lengths))
    return ControlResult(episode_returns=r, episode_lengths=lengths, episode_end_steps=np.cumsum(lengths),
                         total_steps=int(lengths.sum()))


def test_plots_draw_what_they_are_given():
    runs = [fake(np.arange(300, 100, -2), s) for s in range(3)]
    fig = plot_steps_per_episode({"a": runs, "b": runs[0]})
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and ax.get_yscale() == "log"
    assert np.allclose(ax.lines[0].get_ydata(), np.arange(300, 100, -2))
    fig = plot_step_size_sweep({"8 tilings": {0.5: runs, 0.1: 400.0, 0.2: runs[1]}}, first=50)
    line = fig.axes[0].lines[0]
    assert np.allclose(line.get_xdata(), [0.1, 0.2, 0.5])
    assert np.isclose(line.get_ydata()[2], np.arange(300, 200, -2).mean()) and line.get_ydata()[0] == 400
    fig = plot_learning_curves({"x": runs, "y": [runs[0]]}, window=10, threshold=-150, band="iqr")
    lines = fig.axes[0].lines
    assert len(lines) == 3 and np.allclose(lines[1].get_ydata()[-1], runs[0].episode_returns[-10:].mean())
    assert np.allclose(lines[0].get_ydata()[-1], np.mean([r.episode_returns[-10:].mean() for r in runs]))
    assert np.allclose(lines[0].get_ydata()[0], np.mean([r.episode_returns[0] for r in runs]))
    assert lines[2].get_ydata()[0] == -150
    fig = plot_learning_curves({"x": runs}, x="steps", window=5)
    assert fig.axes[0].lines[0].get_xdata()[-1] == min(r.total_steps for r in runs)
    coder = TileCoder(MC_LOW, MC_HIGH, 4, 4)
    w = np.random.default_rng(0).normal(size=(3, coder.n_features))
    fig = plot_cost_to_go(coder, w, resolution=20, surface=False)
    mesh = fig.axes[0].collections[0].get_array()
    assert mesh.size == 400 and np.isclose(mesh.max(), TiledQ(coder, w).cost_to_go(
        np.stack(np.meshgrid(np.linspace(-1.2, 0.6, 20), np.linspace(-0.07, 0.07, 20)), -1).reshape(-1, 2)).max())
    fig = plot_cost_to_go(TiledQ(coder, w), resolution=10)
    assert fig.axes[0].name == "3d"
    plt.close("all")


@pytest.mark.parametrize("call, match", [
    (lambda: plot_steps_per_episode({}), "results"),
    (lambda: plot_steps_per_episode({"a": [1, 2]}), "results"),
    (lambda: plot_learning_curves({"a": fake([5, 5])}, x="time"), "x must"),
    (lambda: plot_learning_curves({"a": fake([5, 5])}, band="std"), "band"),
    (lambda: plot_learning_curves({"a": fake([5, 5])}, window=0), "window"),
    (lambda: plot_step_size_sweep({"a": {0.1: fake([5] * 10)}}, first=50), "first=50"),
    (lambda: plot_step_size_sweep({"a": [0.1]}), "sweep"),
    (lambda: plot_cost_to_go(TileCoder(MC_LOW, MC_HIGH, 2, 2), np.zeros((3, 5))), "w must"),
    (lambda: plot_cost_to_go("coder", None), "coder"),
    (lambda: plot_cost_to_go(TiledQ(TileCoder([0], [1]), np.zeros((2, 72)))), "2-d"),
    (lambda: plot_cost_to_go(TiledQ(TileCoder(MC_LOW, MC_HIGH, 2, 2), np.zeros((3, 18))), resolution=1),
     "resolution"),
])
def test_plots_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
