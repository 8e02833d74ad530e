"""Linear value functions learned by semi-gradient TD: TD(0) prediction and episodic SARSA control.

Book: *Sequential decision making*, "From tables to networks" (Sutton & Barto, sections 9.3-9.5, 10.1).

A linear value ``v(s, w) = w . x(s)`` has the features as its gradient, ``grad_w v(s, w) = x(s)``.
A *semi*-gradient method moves ``w`` along ``x(s)`` by the TD error, holding the bootstrapped target fixed:

``w <- w + alpha [r + gamma (1 - terminated) v(s', w) - v(s, w)] x(s)``.

The target is [`td_target`][rlcore.core.returns.td_target]'s: a step cut by a
time limit (*truncated*) still bootstraps from ``v(s', w)``; only termination drops it.

With a [`TileCoder`][rlcore.approx.tiles.TileCoder] ``v`` is a sum of ``n_tilings`` weights and an update
touches only those (plain Python lists, no per-step numpy). ``alpha`` is always the step size of the equation
above: one update moves ``v(s, w)`` by ``alpha * n_tilings`` times the TD error, which is why Sutton & Barto
quote ``alpha = 0.5 / 8`` and plot against ``alpha x n_tilings``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from tqdm.auto import tqdm

from rlcore.approx.common import ControlResult, _episodic_checks
from rlcore.approx.tiles import TileCoder
from rlcore.core.exploration import EpsilonGreedy, Schedule
from rlcore.core.returns import td_target
from rlcore.core.validation import check_array, check_flag, check_instance

__all__ = ["PredictionResult", "TiledQ", "semi_gradient_td0", "semi_gradient_sarsa"]


@dataclass(frozen=True)
class PredictionResult:
    """Outcome of [`semi_gradient_td0`][rlcore.approx.linear.semi_gradient_td0].

    Attributes
    ----------
    w
        ``[n_features]`` learned weights, ``v(s, w) = w . x(s)``.
    episode_returns, episode_lengths
        ``[n_episodes]`` undiscounted return and steps of each episode.
    w_history
        ``[n_episodes, n_features]`` weights after each episode (with ``record_weights=True``), else ``None``.
    features
        The features of the weights (a feature matrix, a coder or a function).
    """

    w: np.ndarray
    episode_returns: np.ndarray
    episode_lengths: np.ndarray
    w_history: np.ndarray | None = field(repr=False, default=None)
    features: Any = field(repr=False, default=None)

    def __post_init__(self) -> None:
        n, m = len(check_array(self.w, "w", ndim=1)), len(check_array(self.episode_returns, "episode_returns", ndim=1))
        check_array(self.episode_lengths, "episode_lengths", shape=(m,))
        if self.w_history is not None:
            check_array(self.w_history, "w_history", shape=(m, n))

    def value(self, states: Any) -> np.ndarray:
        """``v(s, w)`` of a state or a batch of states."""
        f = self.features
        if isinstance(f, TileCoder):
            return self.w[f._active(states, "states")].sum(axis=-1)
        if isinstance(f, np.ndarray):
            s = check_array(states, "states", integer=True, allow_empty=True)
            if (s < 0).any() or (s >= len(f)).any():
                raise ValueError(f"states must be state indices in [0, {len(f)}), got {np.asarray(states).tolist()}")
            return f[s] @ self.w
        check_instance(f, "features", Callable, "a TileCoder, a feature matrix or a callable to give values")
        return np.asarray(f(states), dtype=float) @ self.w

    def __repr__(self) -> str:
        return f"PredictionResult({self.w.size} weights, {len(self.episode_lengths)} episodes)"


@dataclass(frozen=True)
class TiledQ:
    """Action values on a tile coder, ``q(s, a, w) = sum_{i in active(s)} w[a, i]``; ``w`` is ``[A, n_features]``."""

    coder: TileCoder
    w: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        check_instance(self.coder, "coder", TileCoder)
        check_array(self.w, "w", shape=(None, self.coder.n_features))

    def __call__(self, states: Any) -> np.ndarray:
        """``q(s, ., w)``: ``[A]`` for one state ``[d]``, ``[B, A]`` for ``[B, d]``."""
        return np.moveaxis(self.w[:, self.coder._active(states, "states")].sum(axis=-1), 0, -1)

    def cost_to_go(self, states: Any) -> np.ndarray:
        """``-max_a q(s, a, w)``: the estimated steps to go when each step costs 1 (Sutton & Barto Fig. 10.1)."""
        return -self(states).max(axis=-1)

    def greedy(self, states: Any) -> np.ndarray:
        """``argmax_a q(s, a, w)`` (lowest index on ties)."""
        return self(states).argmax(axis=-1)


# ----------------------------------------------------------------- helpers
def _policy(policy: Any, env: gym.Env) -> Callable[[Any, np.random.Generator], int]:
    """``policy(obs, rng) -> action`` from a callable, a ``[S]`` action table or a ``[S, A]`` probability table."""
    if callable(policy):
        return policy
    obs, act = env.observation_space, env.action_space
    if not isinstance(obs, gym.spaces.Discrete) or not isinstance(act, gym.spaces.Discrete):
        raise TypeError("a policy table needs Discrete observation and action spaces; pass a callable "
                        f"policy(obs, rng) -> action otherwise, got policy of type {type(policy).__name__}")
    p = np.asarray(policy)
    S, A = int(obs.n), int(act.n)
    if p.shape == (S,) and np.issubdtype(p.dtype, np.integer) and ((p >= 0) & (p < A)).all():
        table = p.tolist()
        return lambda s, rng: table[s]
    if p.shape == (S, A) and np.isfinite(p).all() and (p >= 0).all() and np.allclose(p.sum(1), 1):
        cum = np.cumsum(p, axis=1).tolist()
        return lambda s, rng: min(int(np.searchsorted(cum[s], rng.random() * cum[s][-1], side="right")), A - 1)
    raise ValueError(f"policy must be a callable, a [{S}] table of actions in [0, {A}) or a [{S}, {A}] "
                     f"probability table (rows summing to 1), got an array of shape {p.shape}")


def _features(features: Any, env: gym.Env) -> tuple[str, Any]:
    if isinstance(features, TileCoder):
        return "tiles", features
    if callable(features):
        return "function", features
    if not isinstance(env.observation_space, gym.spaces.Discrete):
        raise TypeError("features must be a TileCoder or a callable obs -> x(s) (a [S, n_features] matrix needs a "
                        f"Discrete observation space), got {type(features).__name__}")
    return "matrix", check_array(features, "features", shape=(int(env.observation_space.n), None))


# ------------------------------------------------------------- prediction
def semi_gradient_td0(env: gym.Env, policy: Any, features: Any, n_episodes: int = 1000, alpha: Schedule = 0.01,
                      gamma: float = 1.0, seed: int | None = None, *, w0: Any = None, max_steps: int | None = 10_000,
                      record_weights: bool = False, progress: bool = False) -> PredictionResult:
    """Semi-gradient TD(0) prediction of ``v_pi`` with a linear value (Sutton & Barto, section 9.3).

    At every step ``w <- w + alpha [r + gamma (1 - terminated) v(s', w) - v(s, w)] x(s)`` with ``v(s, w) = w . x(s)``.
    With a constant small ``alpha`` (or a schedule that decays) ``w`` settles near the TD fixed point
    ``w_TD = A^{-1} b``, ``A = E[x(s) (x(s) - gamma x(s'))^T]``, ``b = E[r x(s)]`` (eq. 9.12).

    Parameters
    ----------
    policy : callable ``(obs, rng) -> action``, ``[S]`` action table or ``[S, A]`` probabilities
        Tables need Discrete spaces and are sampled from ``rng``.
    features : TileCoder, ``[S, n]`` matrix (Discrete states) or callable ``obs -> [n]``
        The features ``x(s)``.
    alpha : float > 0 or schedule ``episode -> alpha``
    seed : int, optional
        ``rng = default_rng(seed)``; its first draw ``rng.integers(2**31 - 1)`` seeds the env's first reset.
    n_episodes, gamma, w0, max_steps
        Episodes; discount in [0, 1]; initial ``[n]`` weights (zeros); step limit per episode (a truncation).
    record_weights, progress : bool
        Keep ``w`` after every episode in ``w_history``; show a tqdm bar.
    """
    n_episodes, alpha_fn, gamma, limit = _episodic_checks(env, n_episodes, alpha, gamma, max_steps, seed, progress)
    check_flag(record_weights, "record_weights")
    act = _policy(policy, env)
    kind, f = _features(features, env)
    rng = np.random.default_rng(seed)
    env_seed = int(rng.integers(2**31 - 1))
    s, _ = env.reset(seed=env_seed)
    n = f.n_features if kind == "tiles" else f.shape[1] if kind == "matrix" else len(np.asarray(f(s)))
    w = np.zeros(n) if w0 is None else np.array(w0, dtype=float)
    if w.shape != (n,) or not np.isfinite(w).all():
        raise ValueError(f"w0 must be a finite array of shape ({n},), got shape {w.shape}")
    phi = f.active_list if kind == "tiles" else (lambda o: f[o]) if kind == "matrix" \
        else (lambda o: np.asarray(f(o), dtype=float))
    w = w.tolist() if kind == "tiles" else w
    value = (lambda x: sum(w[i] for i in x)) if kind == "tiles" else (lambda x: float(x @ w))
    returns, lengths = np.zeros(n_episodes), np.zeros(n_episodes, dtype=np.int64)
    history = np.zeros((n_episodes, n)) if record_weights else None
    for ep in tqdm(range(n_episodes), disable=not progress, desc="semi-gradient TD(0)", leave=False):
        a_ep = alpha_fn(ep)
        if ep:
            s, _ = env.reset()
        x = phi(s)
        t, total = 0, 0.0
        while True:
            s2, r, terminated, truncated, _ = env.step(act(s, rng))
            t += 1
            total += r
            x2 = phi(s2)
            step = a_ep * (td_target(r, value(x2), gamma, terminated) - value(x))
            if kind == "tiles":
                for i in x:
                    w[i] += step
            else:
                w += step * x
            if terminated or truncated or t == limit:
                break
            s, x = s2, x2
        returns[ep], lengths[ep] = total, t
        if history is not None:
            history[ep] = w
    return PredictionResult(w=np.asarray(w, dtype=float), episode_returns=returns, episode_lengths=lengths,
                            w_history=history, features=f)


# ---------------------------------------------------------------- control
def semi_gradient_sarsa(env: gym.Env, coder: TileCoder, n_episodes: int = 500, alpha: Schedule = 0.5 / 8,
                        epsilon: Schedule = 0.0, gamma: float = 1.0, seed: int | None = 0, *,
                        max_steps: int | None = 10_000, progress: bool = False) -> ControlResult:
    """Episodic semi-gradient SARSA with tile-coded action values (Sutton & Barto, section 10.1).

    ``q(s, a, w) = sum_{i in active(s)} w[a, i]``; at every step, with ``a' ~ epsilon-greedy(q(s', ., w))`` chosen
    first, ``w[a, active(s)] += alpha [r + gamma (1 - terminated) q(s', a', w) - q(s, a, w)]``. Weights start at
    zero, which on MountainCar (reward -1 per step) is optimistic and explores even with ``epsilon = 0``.

    Parameters
    ----------
    env : gymnasium Env
        ``Discrete`` actions and ``coder.d``-dimensional observations, e.g.
        ``gym.make("MountainCar-v0", max_episode_steps=10_000)``. Gymnasium's own MountainCar-v0 cuts episodes
        at 200 steps, which the book's task does not; a cut is a truncation here and bootstraps, so either limit
        learns, but only a limit well above 200 lets episode lengths show progress early on.
    coder : TileCoder
        The features, e.g. ``TileCoder([-1.2, -0.07], [0.5, 0.07], 8, 8)``: the book's MountainCar box.
    alpha : float > 0 or schedule ``episode -> alpha``
        Step size of each active weight (the book's ``alpha``; ``0.5 / 8`` for 8 tilings).
    epsilon : float in [0, 1] or schedule ``episode -> epsilon``
        Exploration rate; greedy ties are broken at random.
    seed : int, optional
        ``rng = default_rng(seed)``: its first draw seeds the env's first reset, exploration draws from it.
    n_episodes, gamma, max_steps, progress
        Episodes to learn from; discount in [0, 1]; safety limit per episode (a truncation); a tqdm bar.

    Returns
    -------
    ControlResult
        ``model`` is a [`TiledQ`][rlcore.approx.linear.TiledQ] (``model.w`` is ``[A, n_features]``);
        ``info`` holds ``"epsilon"`` and ``"alpha"`` per episode.
    """
    n_episodes, alpha_fn, gamma, limit = _episodic_checks(env, n_episodes, alpha, gamma, max_steps, seed, progress)
    check_instance(coder, "coder", TileCoder)
    check_instance(env.action_space, "env's action space", gym.spaces.Discrete)
    shape = env.observation_space.shape
    if shape is None or math.prod(shape) != coder.d:
        raise ValueError(f"coder must cover the env's {shape} observations, got a coder of dimension {coder.d}")
    n_actions = int(env.action_space.n)
    explore = EpsilonGreedy(epsilon)
    rng = np.random.default_rng(seed)
    env_seed = int(rng.integers(2**31 - 1))
    explore.bind(1, n_actions, rng)
    select, active, step_env = explore.select, coder.active_list, env.step
    w = [[0.0] * coder.n_features for _ in range(n_actions)]
    actions = range(n_actions)
    returns, lengths, ends = np.zeros(n_episodes), np.zeros(n_episodes, dtype=np.int64), np.zeros(n_episodes, np.int64)
    times, eps_log, alpha_log = np.zeros(n_episodes), np.zeros(n_episodes), np.zeros(n_episodes)
    total_steps, t0 = 0, time.perf_counter()
    for ep in tqdm(range(n_episodes), disable=not progress, desc="semi-gradient SARSA", leave=False):
        explore.begin_episode(ep)
        a_ep = alpha_fn(ep)
        eps_log[ep], alpha_log[ep] = explore.epsilon, a_ep
        s, _ = env.reset(seed=env_seed if ep == 0 else None)
        idx = active(s)
        a = select([sum(w[b][i] for i in idx) for b in actions], 0)
        t, total = 0, 0.0
        while True:
            wa = w[a]
            q_sa = sum(wa[i] for i in idx)
            s2, r, terminated, truncated, _ = step_env(a)
            t += 1
            total += r
            if terminated:
                target = td_target(r, 0.0, gamma, True)
            else:  # a' is chosen from q(s', ., w) before w moves
                idx2 = active(s2)
                a2 = select([sum(w[b][i] for i in idx2) for b in actions], 0)
                target = td_target(r, sum(w[a2][i] for i in idx2), gamma, False)
            step = a_ep * (target - q_sa)
            for i in idx:
                wa[i] += step
            if terminated or truncated or t == limit:
                break
            idx, a = idx2, a2
        total_steps += t
        returns[ep], lengths[ep], ends[ep], times[ep] = total, t, total_steps, time.perf_counter() - t0
    return ControlResult(episode_returns=returns, episode_lengths=lengths, episode_end_steps=ends,
                         total_steps=total_steps, model=TiledQ(coder, np.asarray(w, dtype=float)),
                         info={"epsilon": eps_log, "alpha": alpha_log}, episode_end_times=times)
