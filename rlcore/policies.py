"""Exploration and sampling: one home for every way an agent picks an action.

Book: *Sequential decision making*, "Exploration vs. exploitation".

Tabular side: epsilon-greedy (with decay schedules), Boltzmann (softmax with
a temperature) and UCB. The vectorised ``*_probs`` functions give the action
distribution for a whole table ``Q[S, A]``; the strategy classes are the
fast per-step samplers the TD learners call inside their loops (they keep a
buffer of pre-drawn uniforms from the learner's seeded generator).

Both sides break ties between equally good actions uniformly at random,
so a freshly initialised ``Q`` does not always favour action 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Union

import numpy as np

__all__ = [
    "Schedule", "constant", "linear_decay", "exponential_decay",
    "greedy_policy", "epsilon_greedy_probs", "boltzmann_probs",
    "Exploration", "EpsilonGreedy", "Boltzmann", "UCB", "make_exploration",
]

Schedule = Union[float, Callable[[int], float]]


# ----------------------------------------------------------------- schedules
def constant(value: float) -> Callable[[int], float]:
    """Schedule that returns ``value`` at every episode."""
    return lambda episode: value


def linear_decay(start: float, end: float, n_episodes: int) -> Callable[[int], float]:
    """``start`` falling linearly to ``end`` over ``n_episodes``, then held at ``end``."""
    if n_episodes < 1:
        raise ValueError(f"n_episodes must be >= 1, got {n_episodes}")

    def schedule(episode: int) -> float:
        frac = min(episode / n_episodes, 1.0)
        return start + frac * (end - start)

    return schedule


def exponential_decay(start: float, end: float, rate: float) -> Callable[[int], float]:
    """``max(end, start * rate**episode)``, for ``0 < rate <= 1``."""
    if not 0.0 < rate <= 1.0:
        raise ValueError(f"rate must lie in (0, 1], got {rate}")
    return lambda episode: max(end, start * rate**episode)


def _schedule(value: Schedule, name: str, low: float, high: float) -> Callable[[int], float]:
    fn = value if callable(value) else constant(float(value))
    first = fn(0)
    if not low <= first <= high:
        raise ValueError(f"{name} must lie in [{low}, {high}], got {first}")
    return fn


# ------------------------------------------------------- vectorised tables
def greedy_policy(Q: np.ndarray) -> np.ndarray:
    """Deterministic greedy policy ``pi(s) = argmax_a Q(s, a)`` (lowest index on ties), shape ``[S]``."""
    return np.asarray(Q).argmax(axis=-1)


def _greedy_mask(Q: np.ndarray) -> np.ndarray:
    Q = np.asarray(Q, dtype=float)
    return Q >= Q.max(axis=-1, keepdims=True)


def epsilon_greedy_probs(Q: np.ndarray, epsilon: float) -> np.ndarray:
    """Epsilon-greedy distribution ``pi(a|s) = epsilon/|A| + (1 - epsilon) [a in argmax Q(s, .)]/n_ties``.

    Ties share the greedy mass equally. Works on ``[A]`` or ``[S, A]``.
    """
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon must lie in [0, 1], got {epsilon}")
    mask = _greedy_mask(Q)
    n_actions = mask.shape[-1]
    return epsilon / n_actions + (1 - epsilon) * mask / mask.sum(axis=-1, keepdims=True)


def boltzmann_probs(Q: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax policy ``pi(a|s) = exp(Q(s,a)/tau) / sum_b exp(Q(s,b)/tau)``; ``tau -> 0`` is greedy."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    z = np.asarray(Q, dtype=float) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


# ------------------------------------------------------ per-step samplers
class Exploration:
    """Base class of the per-step action samplers used by the TD learners.

    A learner calls :meth:`bind` once, :meth:`begin_episode` at the start of
    every episode, then ``select(q, s)`` with ``q`` the list of action values
    of state ``s``. ``probs(q, s)`` returns the distribution ``select`` samples
    from (Expected SARSA needs it).
    """

    _BUFFER = 4096
    #: whether the learner must call :meth:`observe` after every action
    observes = False

    def bind(self, n_states: int, n_actions: int, rng: np.random.Generator) -> None:
        self.n_actions = n_actions
        self._rng = rng
        self._u: list[float] = []
        self._i = 0

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
    :func:`linear_decay`.
    """

    def __init__(self, epsilon: Schedule = 0.1) -> None:
        self.schedule = _schedule(epsilon, "epsilon", 0.0, 1.0)
        self.epsilon = self.schedule(0)

    def begin_episode(self, episode: int) -> None:
        self.epsilon = self.schedule(episode)

    def select(self, q: list[float], s: int) -> int:
        u = self.uniform()
        eps = self.epsilon
        if u < eps:
            return min(int(u / eps * self.n_actions), self.n_actions - 1)
        return self.argmax(q)

    def probs(self, q: list[float], s: int) -> np.ndarray:
        return epsilon_greedy_probs(np.asarray(q), self.epsilon)


class Boltzmann(Exploration):
    """Sample ``a ~ softmax(Q(s, .) / temperature)``; the temperature may follow a schedule."""

    def __init__(self, temperature: Schedule = 1.0) -> None:
        self.schedule = _schedule(temperature, "temperature", 1e-12, math.inf)
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
        return boltzmann_probs(np.asarray(q), self.temperature)


class UCB(Exploration):
    """Upper confidence bound: ``argmax_a Q(s,a) + c sqrt(ln N(s) / N(s,a))``, untried actions first.

    Counts are per state, so this is the tabular-MDP variant of UCB1 (Auer et al., 2002).
    """

    def __init__(self, c: float = 1.0) -> None:
        if not c >= 0:
            raise ValueError(f"c must be >= 0, got {c}")
        self.c = float(c)
        self.observes = True

    def bind(self, n_states: int, n_actions: int, rng: np.random.Generator) -> None:
        super().bind(n_states, n_actions, rng)
        self.counts = np.zeros((n_states, n_actions), dtype=np.int64)

    def _scores(self, q: list[float], s: int) -> list[float]:
        n = self.counts[s]
        total = n.sum()
        if total == 0:
            return list(q)
        bonus = self.c * np.sqrt(np.log(total) / np.maximum(n, 1))
        return [math.inf if n[a] == 0 else q[a] + bonus[a] for a in range(self.n_actions)]

    def select(self, q: list[float], s: int) -> int:
        return self.argmax(self._scores(q, s))

    def probs(self, q: list[float], s: int) -> np.ndarray:
        mask = _greedy_mask(np.asarray(self._scores(q, s)))
        return mask / mask.sum()

    def observe(self, s: int, a: int) -> None:
        self.counts[s, a] += 1


def make_exploration(exploration: Exploration | str | None, epsilon: Schedule = 0.1) -> Exploration:
    """Turn ``None``/``"epsilon"``, ``"boltzmann"``, ``"ucb"`` or a strategy object into a strategy."""
    if isinstance(exploration, Exploration):
        return exploration
    if exploration is None or exploration in ("epsilon", "epsilon-greedy"):
        return EpsilonGreedy(epsilon)
    if exploration == "boltzmann":
        return Boltzmann()
    if exploration == "ucb":
        return UCB()
    raise ValueError(f"exploration must be 'epsilon', 'boltzmann', 'ucb' or an Exploration, "
                     f"got {exploration!r}")
