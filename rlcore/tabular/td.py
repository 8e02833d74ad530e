"""Temporal-difference control: Q-learning, SARSA and Expected SARSA.

Book: *Sequential decision making*, "Value functions" and "Exploration".

All three learners share one loop and differ only in the bootstrap term of
the TD target ``y = r + gamma * (1 - terminated) * X``:

| learner | ``X`` | type |
|---|---|---|
| Q-learning | ``max_a' Q(s', a')`` | off-policy |
| SARSA | ``Q(s', a')`` with ``a'`` the next action | on-policy |
| Expected SARSA | ``sum_a' pi(a'|s') Q(s', a')`` | on-policy |

and the update ``Q(s,a) <- Q(s,a) + alpha * (y - Q(s,a))``.

Episode endings are first-class: a *terminated* transition bootstraps zero;
a *truncated* one (a time limit) bootstraps from ``s'`` because the task
itself did not end there. The MDP's own ``horizon`` is the end of the task, so
[`TabularEnv`][rlcore.envs.tabular.TabularEnv] reports it as terminated and nothing is
bootstrapped past it, the meaning dynamic programming gives it; ``max_steps`` and an env's
``max_episode_steps`` are simulation cut-offs and bootstrap. (The Q-table is indexed by
state, not by step, so on a task with a horizon it learns one stationary compromise between
the step-dependent ``Q_t``.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from tqdm.auto import tqdm

from rlcore.core.policies import Exploration, Schedule, check_mask, greedy_policy, make_exploration
from rlcore.core.seeding import as_generator
from rlcore.core.validation import (
    check_array,
    check_flag,
    check_positive_int,
    check_real,
    check_unit_interval,
)

__all__ = ["TDResult", "q_learning", "sarsa", "expected_sarsa", "td_control"]


@dataclass(frozen=True)
class TDResult:
    """Outcome of a TD-control run.

    Attributes
    ----------
    Q
        ``[S, A]`` array, learned action values.
    policy
        ``[S]`` int array, greedy policy ``argmax_a Q(s, a)``.
    episode_returns
        ``[n_episodes]`` array, undiscounted sum of rewards per episode.
    episode_lengths
        ``[n_episodes]`` int array, steps per episode.
    """

    Q: np.ndarray
    policy: np.ndarray
    episode_returns: np.ndarray
    episode_lengths: np.ndarray

    @property
    def V(self) -> np.ndarray:
        """Greedy state values ``max_a Q(s, a)``."""
        return self.Q.max(axis=1)

    def __repr__(self) -> str:
        n = len(self.episode_returns)
        last = self.episode_returns[-min(n, 100):]
        return (f"TDResult({self.Q.shape[0]} states x {self.Q.shape[1]} actions, {n} episodes, "
                f"mean return of the last {len(last)}: {last.mean():.4g}, "
                f"mean length {self.episode_lengths.mean():.1f})")


_METHODS = ("q_learning", "sarsa", "expected_sarsa")


def _check_discrete(env: Any) -> tuple[int, int]:
    obs, act = getattr(env, "observation_space", None), getattr(env, "action_space", None)
    if not isinstance(obs, gym.spaces.Discrete) or not isinstance(act, gym.spaces.Discrete):
        raise TypeError("env must have Discrete observation and action spaces, got "
                        f"{type(obs).__name__} and {type(act).__name__}")
    return int(obs.n), int(act.n)


def td_control(
    env: gym.Env,
    method: str,
    n_episodes: int = 500,
    alpha: float = 0.5,
    epsilon: Schedule | None = None,
    gamma: float | None = None,
    seed: int | None = None,
    *,
    exploration: Exploration | str | None = None,
    max_steps: int | None = 10_000,
    Q0: np.ndarray | None = None,
    bootstrap_truncated: bool = True,
    progress: bool = False,
    mask: np.ndarray | None = None,
) -> TDResult:
    """Run one of the TD-control learners; see [`q_learning`][] for the arguments.

    ``method`` is ``"q_learning"``, ``"sarsa"`` or ``"expected_sarsa"``.
    ``bootstrap_truncated=False`` treats time-limit truncation as if the task
    had ended (the classic bug); it exists to show the difference.

    ``mask`` (``[S, A]`` bool, True = allowed) restricts learning to the allowed
    actions ``A(s)``: masked entries of ``Q`` are fixed at ``-inf``, so
    ``max_a'`` and the greedy choice run over ``A(s')`` only, and the
    exploration strategy samples only allowed actions. A masked action is
    never taken, and never updated.
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    n_states, n_actions = _check_discrete(env)
    n_episodes = check_positive_int(n_episodes, "n_episodes")
    check_flag(bootstrap_truncated, "bootstrap_truncated"), check_flag(progress, "progress")
    if not 0.0 < check_real(alpha, "alpha") <= 1.0:
        raise ValueError(f"alpha must lie in (0, 1], got {alpha}")
    if gamma is None:  # the env's own model, when it carries one (GridWorld, TabularEnv, the treatment models)
        model = getattr(getattr(env, "unwrapped", env), "mdp", None)
        gamma = float(model.gamma) if model is not None else 0.99
    gamma = check_unit_interval(gamma, "gamma")
    if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, (int, np.integer))
                                  or max_steps < 1):
        raise ValueError(f"max_steps must be a positive integer or None, got {max_steps!r}")
    rng = as_generator(seed)
    explore = make_exploration(exploration, epsilon)
    explore.bind(n_states, n_actions, rng)
    if Q0 is None:
        Q = [[0.0] * n_actions for _ in range(n_states)]
    else:
        Q0 = check_array(Q0, "Q0", finite=False)
        if np.isnan(Q0).any() or (Q0 == np.inf).any():
            raise ValueError("Q0 must hold finite action values (or -inf for masked actions), found NaN or +inf")
        if Q0.shape != (n_states, n_actions):
            raise ValueError(f"Q0 must have shape ({n_states}, {n_actions}), got {Q0.shape}")
        Q = Q0.tolist()
    mask = check_mask(mask, n_states, n_actions)
    allowed = None
    if mask is not None:
        explore.set_mask(mask)
        allowed = mask.tolist()
        Q = np.where(mask, np.asarray(Q, dtype=float), -np.inf).tolist()

    select = explore.select
    observe = explore.observe if explore.observes else None
    env_seed = int(rng.integers(2**31 - 1))
    kind = _METHODS.index(method)  # 0 Q-learning, 1 SARSA, 2 Expected SARSA
    limit = max_steps if max_steps is not None else -1
    returns = np.zeros(n_episodes)
    lengths = np.zeros(n_episodes, dtype=np.int64)
    step = env.step

    for ep in tqdm(range(n_episodes), disable=not progress, desc=method, leave=False):
        explore.begin_episode(ep)
        s, _ = env.reset(seed=env_seed if ep == 0 else None)
        q_s = Q[s]
        a = select(q_s, s)
        total = 0.0
        t = 0
        while True:
            if allowed is not None and not allowed[s][a]:
                raise RuntimeError(f"exploration {type(explore).__name__} chose masked action {a} in state {s}; "
                                   f"it must honour Exploration.mask")
            if observe is not None:
                observe(s, a)
            s2, r, terminated, truncated, _ = step(a)
            t += 1
            total += r
            q_next = Q[s2]
            if t == limit:
                truncated = True
            ended = terminated or truncated
            stop = terminated or (truncated and not bootstrap_truncated)  # no bootstrap term
            if kind == 1 and not stop:
                # SARSA commits to a' before its update; on a truncation it still needs a' ~ pi(.|s')
                # to bootstrap from (not the stale previous action).
                a2 = select(q_next, s2)
            if stop:
                target = r
            elif kind == 0:
                target = r + gamma * max(q_next)
            elif kind == 1:
                target = r + gamma * q_next[a2]
            elif allowed is None:
                target = r + gamma * float(np.dot(explore.probs(q_next, s2), q_next))
            else:  # masked entries are -inf with probability 0: leave them out of the expectation
                p_next = explore.probs(q_next, s2)
                target = r + gamma * sum(p * q for p, q, ok in zip(p_next, q_next, allowed[s2]) if ok)
            q_s[a] += alpha * (target - q_s[a])
            if ended:
                break
            if kind != 1:
                a2 = select(q_next, s2)  # off-policy / expected: act on the updated values
            s, q_s, a = s2, q_next, a2
        returns[ep] = total
        lengths[ep] = t

    Q_arr = np.asarray(Q, dtype=float)
    return TDResult(Q=Q_arr, policy=greedy_policy(Q_arr), episode_returns=returns, episode_lengths=lengths)


def q_learning(env: gym.Env, n_episodes: int = 500, alpha: float = 0.5, epsilon: Schedule | None = None,
               gamma: float | None = None, seed: int | None = None, **kwargs: Any) -> TDResult:
    """Q-learning (Watkins, 1989): off-policy TD control.

    ``Q(s,a) <- Q(s,a) + alpha [r + gamma (1 - terminated) max_a' Q(s',a') - Q(s,a)]``

    Parameters
    ----------
    env : gymnasium Env
        With ``Discrete`` observation and action spaces (ours, or gymnasium's
        FrozenLake, CliffWalking, Taxi...).
    n_episodes : int
        Number of episodes to learn from.
    alpha : float in (0, 1]
        Step size.
    epsilon : float in [0, 1] or schedule episode -> epsilon, optional
        Exploration rate of the default epsilon-greedy behaviour (default 0.1); every
        value a schedule gives is checked. An error with any other ``exploration``.
    gamma : float in [0, 1], optional
        Discount factor. Default: the env's own model's ``gamma`` when it carries one
        (``env.unwrapped.mdp``, as every rlcore env does), else 0.99.
    seed : int, optional
        Seeds exploration and the environment: the same seed gives the same ``Q``.

    Other Parameters
    ----------------
    exploration : "epsilon", "boltzmann", "ucb" or an Exploration
        Keyword-only, like the rest of this section (passed on to [`td_control`][]).
        The behaviour policy; the default is epsilon-greedy with ``epsilon``.
    max_steps : int, optional
        Safety limit per episode (a truncation: it bootstraps). Default 10,000.
    Q0 : [S, A] array, optional
        Initial action values (optimistic initialisation explores).
    progress : bool
        Show a tqdm progress bar.
    mask : [S, A] bool array, optional
        Allowed actions (True) per state, e.g. contraindications in a treatment
        MDP. Masked actions are never taken or explored; their ``Q`` is ``-inf``.
    bootstrap_truncated : bool
        Default True. False treats a time-limit truncation as if the task had
        ended, the classic bug, kept to show the difference.
    """
    return td_control(env, "q_learning", n_episodes, alpha, epsilon, gamma, seed, **kwargs)


def sarsa(env: gym.Env, n_episodes: int = 500, alpha: float = 0.5, epsilon: Schedule | None = None,
          gamma: float | None = None, seed: int | None = None, **kwargs: Any) -> TDResult:
    """SARSA (Rummery & Niranjan, 1994): on-policy TD control.

    ``Q(s,a) <- Q(s,a) + alpha [r + gamma (1 - terminated) Q(s',a') - Q(s,a)]``, ``a' ~ pi(.|s')``.
    Arguments as for [`q_learning`][].
    """
    return td_control(env, "sarsa", n_episodes, alpha, epsilon, gamma, seed, **kwargs)


def expected_sarsa(env: gym.Env, n_episodes: int = 500, alpha: float = 0.5, epsilon: Schedule | None = None,
                   gamma: float | None = None, seed: int | None = None, **kwargs: Any) -> TDResult:
    """Expected SARSA (van Seijen et al., 2009): the next action is averaged out.

    ``Q(s,a) <- Q(s,a) + alpha [r + gamma (1 - terminated) sum_a' pi(a'|s') Q(s',a') - Q(s,a)]``.
    Arguments as for [`q_learning`][].
    """
    return td_control(env, "expected_sarsa", n_episodes, alpha, epsilon, gamma, seed, **kwargs)
