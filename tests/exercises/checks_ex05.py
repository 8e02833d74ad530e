"""Checks for notebooks/exercises/ex05_approximation.py (book chapter 3, "From tables to networks").

References: cases worked by hand in the comments, rlcore's ``TileCoder`` (the convention the exercise
copies), and rlcore's own learners (``semi_gradient_td0``, ``off_policy_semi_gradient_td``), replayed
step by step with the function under test.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from rlcore.approx.linear import semi_gradient_td0
from rlcore.approx.off_policy_td import off_policy_semi_gradient_td
from rlcore.approx.tiles import TileCoder

from .harness import check, expect, expect_close

MODULE = "ex05_approximation"
MC_LOW, MC_HIGH = np.array([-1.2, -0.07]), np.array([0.5, 0.07])  # MountainCar's box (Sutton & Barto)


# --------------------------------------------------------------------------- tile_indices
@check(MODULE, "tile_indices", "z = (x - low) * T / (high - low); tiling k adds ((k * (1, 3)) mod n) / n; "
                               "index k * (T + 1)**2 + c_0 * (T + 1) + c_1")
def check_tiles_by_hand(f):
    # unit box, T = 2 (width 0.5), 4 tilings: offsets (0, 0), (1/4, 3/4), (2/4, 2/4), (3/4, 1/4); 9 tiles per tiling
    # x = (0.3, 0.6): z = (0.6, 1.2); c = (0, 1), (0, 1), (1, 1), (1, 1) -> 1, 9 + 1, 18 + 4, 27 + 4
    expect_close(f(np.array([0.3, 0.6]), np.zeros(2), np.ones(2), 2, 4), [1, 10, 22, 31],
                 "tile_indices((0.3, 0.6), unit box, T=2, 4 tilings)")
    # x = (0.1, 0.2): z = (0.2, 0.4); tiling 1 reaches 0.4 + 3/4 >= 1 in the second coordinate, tiling 3 does not
    expect_close(f(np.array([0.1, 0.2]), np.zeros(2), np.ones(2), 2, 4), [0, 10, 18, 27],
                 "tile_indices((0.1, 0.2), unit box, T=2, 4 tilings) (displacement (1, 3), not (1, 1))")
    # the corners of MountainCar's box: tile (0, 0) of every tiling, and its extra tile (8, 8) = 8 * 9 + 8
    expect_close(f(MC_LOW, MC_LOW, MC_HIGH, 8, 8), 81 * np.arange(8), "tile_indices(low) on MountainCar, 8x8, 8")
    expect_close(f(MC_HIGH, MC_LOW, MC_HIGH, 8, 8), 81 * np.arange(8) + 80,
                 "tile_indices(high) on MountainCar, 8x8, 8 (each tiling has T + 1 tiles per dimension)")


@check(MODULE, "tile_indices", "one tile per tiling, tiling k's index inside its own block "
                               "[k (T + 1)**2, (k + 1) (T + 1)**2)")
def check_tiles_one_per_tiling(f):
    rng = np.random.default_rng(5)
    for T, n in ((8, 8), (4, 16), (3, 5)):
        block = (T + 1) ** 2
        for x in rng.uniform(MC_LOW, MC_HIGH, size=(50, 2)):
            got = np.asarray(f(x, MC_LOW, MC_HIGH, T, n))
            expect(got.shape == (n,), f"T={T}, {n} tilings: expected {n} indices, got shape {got.shape}")
            expect(np.issubdtype(got.dtype, np.integer), f"expected integer indices, got dtype {got.dtype}")
            inside = (got >= np.arange(n) * block) & (got < (np.arange(n) + 1) * block)
            expect(bool(inside.all()), f"T={T}, {n} tilings, x={np.round(x, 4).tolist()}: indices {got.tolist()} "
                                       f"leave their tilings' blocks of {block}")


@check(MODULE, "tile_indices", "same convention as rlcore.approx.tiles.TileCoder(low, high, T, n).active(x)")
def check_tiles_match_tile_coder(f):
    rng = np.random.default_rng(7)
    for low, high, T, n in ((MC_LOW, MC_HIGH, 8, 8), (np.array([0.0, -2.0]), np.array([1.0, 2.0]), 4, 16),
                            (np.array([-1.0, 3.0]), np.array([2.0, 3.5]), 6, 4)):
        coder = TileCoder(low, high, T, n)
        for x in rng.uniform(low, high, size=(200, 2)):
            expect_close(f(x, low, high, T, n), coder.active(x),
                         f"tile_indices(x={np.round(x, 4).tolist()}, T={T}, {n} tilings)")


# --------------------------------------------------------------------------- semi_gradient_td0_update
@check(MODULE, "semi_gradient_td0_update", "delta = r + gamma (1 - terminated) w.x_next - w.x, then w + alpha delta x; "
                                           "a truncation still bootstraps")
def check_td0_by_hand(f):
    w, x, x2 = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0])
    # v(s) = 2.5, v(s') = 1.0: target 1 + 0.9 * 1 = 1.9, delta = -0.6, step 0.1 * -0.6 along x
    expect_close(f(w, x, 1.0, x2, False, False, 0.1, 0.9), [0.44, -1.0, 1.94], "update, not terminated", atol=1e-9)
    # terminated: target 1, delta = -1.5
    expect_close(f(w, x, 1.0, x2, True, False, 0.1, 0.9), [0.35, -1.0, 1.85], "update, terminated", atol=1e-9)
    # truncated by a time limit: the state after it has a future, so the target is 1.9 again
    expect_close(f(w, x, 1.0, x2, False, True, 0.1, 0.9), [0.44, -1.0, 1.94], "update, truncated (not terminated)",
                 atol=1e-9)
    # one-hot features: the tabular TD(0) update of the active entry only
    got = f(np.array([0.2, 0.7]), np.array([0.0, 1.0]), -1.0, np.array([1.0, 0.0]), False, False, 0.5, 1.0)
    expect_close(got, [0.2, 0.7 + 0.5 * (-1.0 + 0.2 - 0.7)], "one-hot features (tabular TD(0))", atol=1e-9)


@check(MODULE, "semi_gradient_td0_update", "return a new array: copy w (np.asarray(w, dtype=float) + ...) "
                                           "instead of adding into it")
def check_td0_leaves_w_alone(f):
    w = np.array([1.0, 2.0, 3.0])
    got = f(w, np.array([1.0, 1.0, 0.0]), 0.5, np.array([0.0, 0.0, 1.0]), False, False, 0.1, 0.5)
    expect_close(w, [1.0, 2.0, 3.0], "the weights passed in (must not change)")
    expect_close(got, [1.0 - 0.1, 2.0 - 0.1, 3.0], "the returned weights", atol=1e-9)  # delta = 0.5 + 1.5 - 3 = -1


class _TimedWalk(gym.Env):
    """States 0..6, start 3, 0 and 6 terminal (reward 1 at 6); the episode is cut after ``limit`` steps."""

    observation_space = gym.spaces.Discrete(7)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, limit: int):
        self.limit = limit

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.s, self.t = 3, 0
        return self.s, {}

    def step(self, action):
        self.s += 1 if action == 1 else -1
        self.t += 1
        terminated = self.s in (0, 6)
        return self.s, float(self.s == 6), terminated, (not terminated and self.t >= self.limit), {}


@check(MODULE, "semi_gradient_td0_update", "replayed along 300 episodes cut by a time limit, your update must give "
                                           "rlcore's semi_gradient_td0 weights: only `terminated` drops gamma w.x'")
def check_td0_matches_rlcore_with_truncations(f):
    X = np.array([[1.0, (s - 3) / 3, ((s - 3) / 3) ** 2] for s in range(7)])
    policy = lambda s, rng: int(rng.random() < 0.5)  # noqa: E731
    for limit, gamma, seed in ((4, 0.9, 0), (6, 1.0, 1)):
        ref = semi_gradient_td0(_TimedWalk(limit), policy, X, n_episodes=300, alpha=0.05, gamma=gamma, seed=seed)
        expect(ref.episode_lengths.max() == limit, "internal: the time limit must bind in some episode")
        # the same loop as rlcore's: one rng for the env seed and the actions, in the same order
        env, rng = _TimedWalk(limit), np.random.default_rng(seed)
        s, _ = env.reset(seed=int(rng.integers(2**31 - 1)))
        w = np.zeros(3)
        for ep in range(300):
            if ep:
                s, _ = env.reset()
            while True:
                s2, r, terminated, truncated, _ = env.step(policy(s, rng))
                w = np.asarray(f(w, X[s], r, X[s2], terminated, truncated, 0.05, gamma), dtype=float)
                if terminated or truncated:
                    break
                s = s2
        expect_close(w, ref.w, f"weights after 300 episodes (time limit {limit}, gamma {gamma})", atol=1e-8)


# --------------------------------------------------------------------------- baird_td_update
@check(MODULE, "baird_td_update", "rho = pi / b is 7 for solid and 0 for dashed; the step is alpha rho delta x(s) "
                                  "with x(upper i) = 2 e_i + e_7, x(lower) = e_6 + 2 e_7")
def check_baird_by_hand(f):
    w0 = np.array([1, 1, 1, 1, 1, 1, 10, 1.0])  # the book's start
    # upper 0 --solid--> lower: v(0) = 3, v(6) = 12, delta = 0.99 * 12 - 3 = 8.88; alpha rho delta = 0.6216
    expected = w0.copy()
    expected[0] += 0.6216 * 2
    expected[7] += 0.6216
    expect_close(f(w0, 0, 1, 6, 0.01, 0.99), expected, "baird_td_update(w0, s=0, solid, s'=6)", atol=1e-9)
    # lower --solid--> lower: delta = 0.99 * 12 - 12 = -0.12; alpha rho delta = -0.0084
    expected = w0.copy()
    expected[6] -= 0.0084
    expected[7] -= 2 * 0.0084
    expect_close(f(w0, 6, 1, 6, 0.01, 0.99), expected, "baird_td_update(w0, s=6, solid, s'=6)", atol=1e-9)
    # a dashed step is one pi never takes: rho = 0, nothing moves
    expect_close(f(w0, 3, 0, 5, 0.01, 0.99), w0, "baird_td_update(w0, s=3, dashed, s'=5)", atol=1e-12)
    expect_close(w0, [1, 1, 1, 1, 1, 1, 10, 1], "the weights passed in (must not change)")


@check(MODULE, "baird_td_update", "replayed along rlcore's off_policy_semi_gradient_td trajectory, your weights "
                                  "must follow its history step for step (and run away just as it does)")
def check_baird_matches_rlcore(f):
    for seed, alpha in ((0, 0.01), (3, 0.02)):
        ref = off_policy_semi_gradient_td(300, alpha, seed)
        w = ref.w[0].copy()
        for t in range(300):
            w = np.asarray(f(w, int(ref.states[t]), int(ref.actions[t]), int(ref.states[t + 1]), alpha, 0.99),
                           dtype=float)
            if t in (9, 99, 299):
                expect_close(w, ref.w[t + 1], f"weights after {t + 1} steps (seed {seed}, alpha {alpha})", atol=1e-6)


def mutants(sol):
    """Plausible wrong answers (each must be caught by at least one check of its function)."""

    def tiles_with(displacement=(1, 3), sign=1.0, plus_one=True, order="C", blocks=True):
        def f(x, low, high, T, n):
            x, low, high = (np.asarray(v, dtype=float) for v in (x, low, high))
            z = (x - low) * (T / (high - low))
            k = np.arange(n)
            o = (k[:, None] * np.array(displacement)[None, :] % n) / n
            c = np.floor(z[None, :] + sign * o).astype(np.int64)
            side = T + 1 if plus_one else T
            flat = c[:, 0] * side + c[:, 1] if order == "C" else c[:, 0] + c[:, 1] * side
            return flat + (k * side ** 2 if blocks else 0)
        return f

    def td0(bootstrap_on_truncation=True, use_terminated=True, residual=False, along_next=False, in_place=False):
        def f(w, x, r, x_next, terminated, truncated, alpha, gamma):
            w0 = np.asarray(w, dtype=float)
            x, x_next = np.asarray(x, dtype=float), np.asarray(x_next, dtype=float)
            cut = (use_terminated and terminated) or (not bootstrap_on_truncation and truncated)
            delta = r + (0.0 if cut else gamma * float(w0 @ x_next)) - float(w0 @ x)
            direction = x - gamma * x_next * (not cut) if residual else x_next if along_next else x
            if in_place:
                w0 += alpha * delta * direction  # w is a float array here, so this writes into the caller's w
                return w0
            return w0 + alpha * delta * direction
        return f

    def baird(rho_solid=7.0, rho_dashed=0.0, lower=(1.0, 2.0), along_next=False):
        def f(w, s, a, s_next, alpha, gamma=0.99):
            X = np.zeros((7, 8))
            X[np.arange(6), np.arange(6)] = 2.0
            X[:6, 7] = 1.0
            X[6, 6], X[6, 7] = lower
            w = np.asarray(w, dtype=float)
            rho = rho_solid if a == 1 else rho_dashed
            delta = gamma * float(X[s_next] @ w) - float(X[s] @ w)
            return w + alpha * rho * delta * (X[s_next] if along_next else X[s])
        return f

    return {
        "ex05_approximation.tile_indices": [
            ("symmetric displacement (1, 1)", tiles_with(displacement=(1, 1))),
            ("offsets subtracted", tiles_with(sign=-1.0)),
            ("T tiles per row instead of T + 1", tiles_with(plus_one=False)),
            ("first coordinate fastest", tiles_with(order="F")),
            ("no per-tiling block", tiles_with(blocks=False)),
            ("displacement (3, 1)", tiles_with(displacement=(3, 1)))],
        "ex05_approximation.semi_gradient_td0_update": [
            ("truncation cuts the bootstrap", td0(bootstrap_on_truncation=False)),
            ("termination ignored", td0(use_terminated=False)),
            ("residual gradient x - gamma x'", td0(residual=True)),
            ("step along x_next", td0(along_next=True)),
            ("gamma dropped", lambda w, x, r, x2, te, tr, a, g: sol.semi_gradient_td0_update(w, x, r, x2, te, tr, a,
                                                                                               1.0)),
            ("modifies w in place", td0(in_place=True))],
        "ex05_approximation.baird_td_update": [
            ("importance ratio dropped (rho = 1)", baird(rho_solid=1.0, rho_dashed=1.0)),
            ("ratio inverted (b / pi)", baird(rho_solid=1 / 7)),
            ("dashed steps kept (rho = 1)", baird(rho_dashed=1.0)),
            ("lower state's features swapped", baird(lower=(2.0, 1.0))),
            ("step along x(s')", baird(along_next=True))],
    }
