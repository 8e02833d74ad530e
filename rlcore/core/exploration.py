"""Exploration for tabular agents: schedules, epsilon-greedy, Boltzmann, UCB and action masks.

Book: *Sequential decision making*, "Exploration vs. exploitation".

The vectorised ``*_probs`` functions give the action distribution for a whole
table ``Q[S, A]``; the strategy classes are the fast per-step samplers the TD
learners call inside their loops (they keep a buffer of pre-drawn uniforms
from the learner's seeded generator). Ties between equally good actions are
broken uniformly at random, so a fresh ``Q`` does not always favour action 0.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Union

import numpy as np

from rlcore.core import validation as cv
from rlcore.core.validation import check_mask

__all__ = [
    "Schedule", "constant", "linear_decay", "exponential_decay", "checked_schedule",
    "greedy_policy", "epsilon_greedy_probs", "boltzmann_probs",
    "Exploration", "EpsilonGreedy", "Boltzmann", "UCB", "make_exploration", "check_mask",
]

Schedule = Union[float, Callable[[int], float]]


def constant(value: float) -> Callable[[int], float]:
    """Schedule that returns ``value`` at every episode."""
    value = cv.check_real(value, "value", low=-math.inf)
    return lambda episode: value


def linear_decay(start: float, end: float, n_episodes: int) -> Callable[[int], float]:
    """``start`` falling linearly to ``end`` over ``n_episodes``, then held at ``end``."""
    start, end = cv.check_real(start, "start", low=-math.inf), cv.check_real(end, "end", low=-math.inf)
    if cv.check_real(n_episodes, "n_episodes", -math.inf) < 1 or not cv.check_positive_int(n_episodes, "n_episodes"):
        raise ValueError(f"n_episodes must be >= 1, got {n_episodes}")
    return lambda episode: start + min(episode / n_episodes, 1.0) * (end - start)


def exponential_decay(start: float, end: float, rate: float) -> Callable[[int], float]:
    """``max(end, start * rate**episode)``, for ``0 < rate <= 1``."""
    start, end = cv.check_real(start, "start", low=-math.inf), cv.check_real(end, "end", low=-math.inf)
    if not 0.0 < cv.check_real(rate, "rate", low=-math.inf) <= 1.0:
        raise ValueError(f"rate must lie in (0, 1], got {rate}")
    return lambda episode: max(end, start * rate**episode)


def checked_schedule(value: Schedule, name: str, low: float, high: float, interval: str) -> Callable[[int], float]:
    """A schedule ``episode -> value`` that checks every value it hands out, not only the first."""
    if not callable(value) and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
        raise ValueError(f"{name} must be a number in {interval} or a schedule episode -> {name}, got {value!r}")
    fn = value if callable(value) else (lambda episode: value)

    def checked(episode: int) -> float:
        v = fn(episode)
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not low <= v <= high:
            where = "" if not callable(value) else f" (the schedule's value at episode {episode})"
            raise ValueError(f"{name} must lie in {interval}, got {v!r}{where}")
        return float(v)

    checked(0)
    return checked


def greedy_policy(Q: np.ndarray) -> np.ndarray:
    """Deterministic greedy policy ``pi(s) = argmax_a Q(s, a)`` (lowest index on ties), shape ``[S]``."""
    return _q_table(Q).argmax(axis=-1)


def _q_table(Q: np.ndarray) -> np.ndarray:  # Q as a float [A] or [S, A] array without NaN (-inf: a masked action)
    Q = cv.check_array(Q, "Q", finite=False)
    if Q.ndim not in (1, 2) or np.isnan(Q).any():
        raise ValueError(f"Q must be an [A] or [S, A] array of action values without NaN, got shape {Q.shape}")
    return Q


def _greedy_mask(Q: np.ndarray) -> np.ndarray:
    Q = np.asarray(Q, dtype=float)
    return Q >= Q.max(axis=-1, keepdims=True)


def epsilon_greedy_probs(Q: np.ndarray, epsilon: float, mask: np.ndarray | None = None) -> np.ndarray:
    """Epsilon-greedy distribution ``pi(a|s) = epsilon/|A| + (1 - epsilon) [a in argmax Q(s, .)]/n_ties``.

    Ties share the greedy mass equally. Works on ``[A]`` or ``[S, A]``. With an
    action ``mask`` (same shape, True = allowed) both the uniform part and the
    argmax run over the allowed set ``A(s)`` only:
    ``pi(a|s) = [a in A(s)] (epsilon/|A(s)| + (1 - epsilon) [a in argmax_{A(s)} Q]/n_ties)``.
    """
    epsilon, Q = cv.check_unit_interval(epsilon, "epsilon"), _q_table(Q)
    if mask is not None:
        mask = cv.check_mask(mask if Q.ndim == 2 else np.asarray(mask)[None], *np.atleast_2d(Q).shape).reshape(Q.shape)
    return _epsilon_greedy(Q, epsilon, mask)


def _epsilon_greedy(Q: np.ndarray, epsilon: float, mask: np.ndarray | None) -> np.ndarray:
    if mask is None:
        greedy = _greedy_mask(Q)
        return epsilon / greedy.shape[-1] + (1 - epsilon) * greedy / greedy.sum(axis=-1, keepdims=True)
    allowed = np.asarray(mask, dtype=bool)
    greedy, n_allowed = _greedy_mask(np.where(allowed, Q, -np.inf)) & allowed, allowed.sum(axis=-1, keepdims=True)
    return allowed * epsilon / n_allowed + (1 - epsilon) * greedy / greedy.sum(axis=-1, keepdims=True)


def boltzmann_probs(Q: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax policy ``pi(a|s) = exp(Q(s,a)/tau) / sum_b exp(Q(s,b)/tau)``; ``tau -> 0`` is greedy."""
    if not cv.check_real(temperature, "temperature", low=-math.inf) > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    return _boltzmann(_q_table(Q), float(temperature))


def _boltzmann(Q: np.ndarray, temperature: float) -> np.ndarray:
    z = np.asarray(Q, dtype=float) / temperature
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class Exploration:
    """Base class of the per-step action samplers used by the TD learners.

    A learner calls ``bind`` once, ``begin_episode`` at the start of
    every episode, then ``select(q, s)`` with ``q`` the list of action values
    of state ``s``. ``probs(q, s)`` returns the distribution ``select`` samples
    from (Expected SARSA needs it).
    """

    _BUFFER = 4096
    #: whether the learner must call :meth:`observe` after every action
    observes = False
    #: optional ``[S, A]`` bool action mask (True = allowed), set by :meth:`set_mask`
    mask: np.ndarray | None = None
    _allowed: list[list[int]] | None = None

    def bind(self, n_states: int, n_actions: int, rng: np.random.Generator) -> None:
        self.n_states = cv.check_positive_int(n_states, "n_states")
        self.n_actions = cv.check_positive_int(n_actions, "n_actions")
        if not callable(getattr(rng, "random", None)):
            raise TypeError(f"rng must be a numpy Generator (default_rng(seed)), got {type(rng).__name__}")
        self._rng = rng
        self._u: list[float] = []
        self._i = 0
        self.set_mask(None)

    def set_mask(self, mask: np.ndarray | None) -> None:
        """Restrict exploration to allowed actions: ``mask[s, a] = True`` means ``a`` may be taken in ``s``.

        The learners also store ``-inf`` for masked entries of ``Q``, so greedy
        choices skip them; this makes the *random* choices skip them too.
        """
        self.mask = None if mask is None else cv.check_mask(mask, self.n_states, self.n_actions)
        self._allowed = None if mask is None else [np.flatnonzero(row).tolist() for row in self.mask]

    def begin_episode(self, episode: int) -> None:  # pragma: no cover - overridden where needed
        pass

    def uniform(self) -> float:
        """Next U(0, 1) draw from the learner's generator (buffered for speed)."""
        i = self._i
        if i >= len(self._u):
            self._u = self._rng.random(self._BUFFER).tolist()
            i = 0
        self._i = i + 1
        return self._u[i]

    def argmax(self, q: list[float]) -> int:
        """Greedy action, ties broken uniformly at random."""
        m = max(q)
        n = q.count(m)
        if n == 1:
            return q.index(m)
        j = int(self.uniform() * n)
        for a, v in enumerate(q):
            if v == m:
                if j == 0:
                    return a
                j -= 1
        return q.index(m)  # pragma: no cover - unreachable

    def select(self, q: list[float], s: int) -> int:
        raise NotImplementedError

    def probs(self, q: list[float], s: int) -> np.ndarray:
        raise NotImplementedError

    def observe(self, s: int, a: int) -> None:
        """Called after action ``a`` was taken in ``s`` (UCB counts visits)."""


class EpsilonGreedy(Exploration):
    """With probability ``epsilon`` a uniformly random action, otherwise a greedy one.

    ``epsilon`` may be a number or a schedule ``episode -> epsilon`` such as
    [`linear_decay`][].
    """

    def __init__(self, epsilon: Schedule = 0.1) -> None:
        self.schedule = checked_schedule(epsilon, "epsilon", 0.0, 1.0, "[0, 1]")
        self.epsilon = self.schedule(0)

    def begin_episode(self, episode: int) -> None:
        self.epsilon = self.schedule(episode)

    def select(self, q: list[float], s: int) -> int:
        u = self.uniform()
        eps = self.epsilon
        if u < eps:
            if self._allowed is not None:
                allowed = self._allowed[s]
                return allowed[min(int(u / eps * len(allowed)), len(allowed) - 1)]
            return min(int(u / eps * self.n_actions), self.n_actions - 1)
        return self.argmax(q)

    def probs(self, q: list[float], s: int) -> np.ndarray:
        return _epsilon_greedy(np.asarray(q, dtype=float), self.epsilon, None if self.mask is None else self.mask[s])


class Boltzmann(Exploration):
    """Sample ``a ~ softmax(Q(s, .) / temperature)``; the temperature may follow a schedule."""

    def __init__(self, temperature: Schedule = 1.0) -> None:
        self.schedule = checked_schedule(temperature, "temperature", 1e-12, math.inf, "(0, inf)")
        self.temperature = self.schedule(0)

    def begin_episode(self, episode: int) -> None:
        self.temperature = self.schedule(episode)

    def select(self, q: list[float], s: int) -> int:
        m = max(q)
        w = [math.exp((v - m) / self.temperature) for v in q]
        u = self.uniform() * sum(w)
        for a, x in enumerate(w):
            u -= x
            if u < 0:
                return a
        return len(w) - 1

    def probs(self, q: list[float], s: int) -> np.ndarray:
        p = _boltzmann(np.asarray(q, dtype=float), self.temperature)
        return p if self.mask is None else p * self.mask[s]


class UCB(Exploration):
    """Upper confidence bound: ``argmax_a Q(s,a) + c sqrt(ln N(s) / N(s,a))``, untried actions first.

    Counts are per state, so this is the tabular-MDP variant of UCB1 (Auer et al., 2002).
    """

    def __init__(self, c: float = 1.0) -> None:
        if not cv.check_real(c, "c", low=-math.inf) >= 0:
            raise ValueError(f"c must be >= 0, got {c}")
        self.c, self.observes = float(c), True

    def bind(self, n_states: int, n_actions: int, rng: np.random.Generator) -> None:
        super().bind(n_states, n_actions, rng)
        self.counts = np.zeros((n_states, n_actions), dtype=np.int64)

    def _scores(self, q: list[float], s: int) -> list[float]:
        total = (n := self.counts[s]).sum()
        if total == 0:
            return list(q)
        bonus = self.c * np.sqrt(np.log(total) / np.maximum(n, 1))
        allowed = self.mask[s] if self.mask is not None else np.ones(self.n_actions, dtype=bool)
        return [-math.inf if not allowed[a] else math.inf if n[a] == 0 else q[a] + bonus[a]
                for a in range(self.n_actions)]

    def select(self, q: list[float], s: int) -> int:
        return self.argmax(self._scores(q, s))

    def probs(self, q: list[float], s: int) -> np.ndarray:
        mask = _greedy_mask(np.asarray(self._scores(q, s)))
        return mask / mask.sum()

    def observe(self, s: int, a: int) -> None:
        self.counts[s, a] += 1


def make_exploration(exploration: Exploration | str | None, epsilon: Schedule | None = None) -> Exploration:
    """Turn ``None``/``"epsilon"``, ``"boltzmann"``, ``"ucb"`` or a strategy object into a strategy.

    ``epsilon`` (default 0.1) belongs to epsilon-greedy; giving it with another strategy
    is an error rather than a silently ignored argument.
    """
    if exploration is None or exploration in ("epsilon", "epsilon-greedy"):
        return EpsilonGreedy(0.1 if epsilon is None else epsilon)
    if epsilon is not None:
        what = type(exploration).__name__ if isinstance(exploration, Exploration) else repr(exploration)
        raise ValueError(f"epsilon={epsilon!r} only applies to epsilon-greedy exploration, got exploration={what}; "
                         f"configure that strategy itself (for example Boltzmann(temperature=...))")
    if isinstance(exploration, Exploration):
        return exploration
    if exploration in ("boltzmann", "ucb"):
        return Boltzmann() if exploration == "boltzmann" else UCB()
    raise ValueError(f"exploration must be 'epsilon', 'boltzmann', 'ucb' or an Exploration, got {exploration!r}")
