"""Experience replay: a fixed-size ring buffer of transitions ``(s, a, r, s', terminated)``.

Book: *Sequential decision making*, "From tables to networks" (DQN).

A Q-learner fed its own consecutive steps sees strongly correlated samples
whose distribution drifts with its policy. Storing the last ``capacity``
transitions and training on uniform draws from them breaks up the correlation
and lets each transition be used many times.

Endings: only ``terminated`` is stored. A transition whose episode was cut by
a time limit (``truncated``) is stored with ``terminated = False`` and with
``next_obs`` the state it was cut at (gymnasium's last observation, not the
next episode's first), so its target ``r + gamma max_a' Q(s', a')`` still
bootstraps: the time limit is not a state of the task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rlcore.core.validation import check_array, check_flag, check_positive_int

__all__ = ["ReplayBatch", "ReplayBuffer"]


@dataclass(frozen=True)
class ReplayBatch:
    """``n`` transitions as numpy arrays: ``obs`` and ``next_obs`` ``[n, *obs_shape]``, the rest ``[n]``."""

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray

    def __post_init__(self) -> None:
        obs = check_array(self.obs, "obs", allow_empty=True)
        if obs.ndim < 1:
            raise ValueError("obs must have shape [n, *obs_shape], got a scalar")
        n = len(obs)
        check_array(self.next_obs, "next_obs", shape=obs.shape, allow_empty=True)
        check_array(self.actions, "actions", shape=(n,), allow_empty=True, integer=True)
        check_array(self.rewards, "rewards", shape=(n,), allow_empty=True)
        if np.asarray(self.terminated).dtype != bool or np.shape(self.terminated) != (n,):
            raise TypeError(f"terminated must be a bool array of shape ({n},), got {np.asarray(self.terminated).dtype} "
                            f"of shape {np.shape(self.terminated)}")
        if (np.asarray(self.actions) < 0).any():
            raise ValueError("actions must be non-negative action indices")

    def __len__(self) -> int:
        return len(self.actions)


class ReplayBuffer:
    """Ring buffer of the most recent ``capacity`` transitions; the oldest is overwritten first.

    Transitions are added one at a time or as a batch
    ([`add`][rlcore.approx.replay.ReplayBuffer.add]);
    [`sample`][rlcore.approx.replay.ReplayBuffer.sample] draws uniformly among
    the stored ones, [`recent`][rlcore.approx.replay.ReplayBuffer.recent]
    returns the last ``n`` in the order they were added.

    Parameters
    ----------
    capacity
        How many transitions are kept.
    obs_shape
        Shape of one observation, e.g. ``(4,)`` for CartPole.
    obs_dtype
        Storage type of the observations (default float32, what the networks use).
    """

    def __init__(self, capacity: int, obs_shape: tuple[int, ...] | int, obs_dtype: Any = np.float32) -> None:
        self.capacity = check_positive_int(capacity, "capacity")
        shape = (obs_shape,) if isinstance(obs_shape, (int, np.integer)) and not isinstance(obs_shape, bool) \
            else obs_shape
        if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
            raise ValueError(f"obs_shape must be a tuple of positive integers, got {obs_shape!r}")
        shape = tuple(shape)
        for i, n in enumerate(shape):
            check_positive_int(n, f"obs_shape[{i}]")
        self.obs_shape = tuple(int(n) for n in shape)
        try:
            dtype = np.dtype(obs_dtype)
        except TypeError:
            raise ValueError(f"obs_dtype must be a numpy number type, got {obs_dtype!r}") from None
        if not np.issubdtype(dtype, np.number):
            raise ValueError(f"obs_dtype must be a numpy number type, got {obs_dtype!r}")
        self.obs = np.zeros((self.capacity, *self.obs_shape), dtype)
        self.next_obs = np.zeros((self.capacity, *self.obs_shape), dtype)
        self.actions = np.zeros(self.capacity, np.int64)
        self.rewards = np.zeros(self.capacity, np.float32)
        self.terminated = np.zeros(self.capacity, bool)
        self.pos = 0
        """index the next transition is written to"""
        self.size = 0
        """transitions stored, at most ``capacity``"""

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"ReplayBuffer({self.size}/{self.capacity} transitions, obs_shape={self.obs_shape})"

    def add(self, obs: Any, action: Any, reward: Any, next_obs: Any, terminated: Any) -> None:
        """Store one transition, or a batch of ``n`` (``obs`` of shape ``[n, *obs_shape]``).

        ``terminated`` is True only when ``next_obs`` is a terminal state; a
        truncated step is added with ``terminated=False`` and its real last
        observation as ``next_obs``. A batch larger than ``capacity`` keeps its
        last ``capacity`` transitions.
        """
        obs = self._obs(obs, "obs")
        single = obs.shape == self.obs_shape
        if not single and obs.shape[1:] != self.obs_shape:
            raise ValueError(f"obs must have shape {self.obs_shape} or [n, *{self.obs_shape}], got {obs.shape}")
        obs = obs.reshape(-1, *self.obs_shape)
        n = len(obs)
        next_obs = self._obs(next_obs, "next_obs")
        if next_obs.shape != (obs.shape if not single else self.obs_shape):
            raise ValueError(f"next_obs must have the shape of obs {obs.shape if not single else self.obs_shape}, "
                             f"got {next_obs.shape}")
        cols = {}
        for name, value in (("action", action), ("reward", reward), ("terminated", terminated)):
            arr = np.asarray(value)
            if arr.shape != (() if single else (n,)):
                raise ValueError(f"{name} must have shape {() if single else (n,)}, got {arr.shape}")
            cols[name] = arr.reshape(n)
        act = cols["action"]
        if not (np.issubdtype(act.dtype, np.integer) or (act.dtype == bool)) or (act < 0).any():
            raise ValueError(f"action must hold non-negative integer action indices, got {action!r}")
        if not np.issubdtype(cols["reward"].dtype, np.number) or not np.isfinite(cols["reward"]).all():
            raise ValueError(f"reward must be finite numbers, got {reward!r}")
        if cols["terminated"].dtype != bool:
            raise ValueError(f"terminated must be a bool (or bool array), got {terminated!r}")
        if n == 0:
            return
        if n > self.capacity:  # only the last `capacity` survive
            obs, next_obs = obs[-self.capacity:], next_obs.reshape(-1, *self.obs_shape)[-self.capacity:]
            cols = {k: v[-self.capacity:] for k, v in cols.items()}
            n = self.capacity
        idx = (self.pos + np.arange(n)) % self.capacity
        self.obs[idx] = obs
        self.next_obs[idx] = next_obs.reshape(-1, *self.obs_shape)
        self.actions[idx] = cols["action"]
        self.rewards[idx] = cols["reward"]
        self.terminated[idx] = cols["terminated"]
        self.pos = int((self.pos + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)

    def _obs(self, x: Any, name: str) -> np.ndarray:
        """``x`` in the storage dtype; strings, ragged lists and NaN/inf refused (one call per step: kept cheap)."""
        try:
            arr = np.asarray(x, dtype=self.obs.dtype)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}") from None
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise ValueError(f"{name} must be finite, found NaN or inf")
        return arr

    def _take(self, idx: np.ndarray) -> ReplayBatch:
        return ReplayBatch(self.obs[idx], self.actions[idx], self.rewards[idx], self.next_obs[idx],
                           self.terminated[idx])

    def sample(self, batch_size: int, rng: np.random.Generator, replace: bool = True) -> ReplayBatch:
        """``batch_size`` transitions drawn uniformly from those stored.

        With ``replace=True`` (the default, and what [`dqn`][rlcore.approx.dqn.dqn]
        uses) each draw is independent, ``P(i) = 1 / len(self)``, so a transition
        may appear twice; with ``replace=False`` the batch holds distinct
        transitions (``batch_size <= len(self)``). The arrays are copies.
        """
        batch_size = check_positive_int(batch_size, "batch_size")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
        check_flag(replace, "replace")
        if self.size == 0:
            raise ValueError("sample: the buffer is empty; add transitions first")
        if not replace and batch_size > self.size:
            raise ValueError(f"batch_size must be <= the {self.size} stored transitions when replace=False, "
                             f"got {batch_size}")
        idx = rng.integers(0, self.size, batch_size) if replace else rng.choice(self.size, batch_size, replace=False)
        return self._take(idx)

    def recent(self, n: int) -> ReplayBatch:
        """The last ``n`` transitions added, oldest first (``n <= len(self)``)."""
        n = check_positive_int(n, "n")
        if n > self.size:
            raise ValueError(f"n must be <= the {self.size} stored transitions, got {n}")
        return self._take((self.pos - n + np.arange(n)) % self.capacity)
