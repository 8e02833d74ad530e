"""Learning with options from experience: SMDP Q-learning and intra-option Q-learning.

Book: *Advanced techniques*, "Hierarchical RL for long-form generation" (options and managers).

Both learners choose among the options available in the current state epsilon-greedily on
``Q(s, o)`` and run the chosen one until it stops. They differ in what they learn from it.

**SMDP Q-learning** treats the whole option as one decision. After option ``o`` started in
``s`` ran ``k`` steps, collecting the discounted reward ``G = r_1 + gamma r_2 + ... + gamma^(k-1) r_k``
and stopping in ``s'``,

    Q(s, o) <- Q(s, o) + alpha [ G + gamma^k max_{o' available in s'} Q(s', o') - Q(s, o) ],

with no bootstrap when the episode ended. With primitive actions only (``k = 1``) this is
one-step Q-learning.

**Intra-option Q-learning** learns from every primitive step ``(s, a, r, s')``, for every
option that *would* have taken ``a`` in ``s`` (``s in I_o`` and ``pi_o(s) = a``), whether or
not it was the one running:

    Q(s, o) <- Q(s, o) + alpha [ r + gamma U(s', o) - Q(s, o) ],
    U(s', o) = (1 - zeta_o(s')) Q(s', o) + zeta_o(s') max_{o'} Q(s', o').

Every stochastic choice is drawn from one ``numpy`` generator seeded by ``seed``, in a fixed
order (option choice, then each step's successor, then each step's termination test), so the
same seed gives the same run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from rlcore.advanced.options import Option
from rlcore.core.exploration import epsilon_greedy_probs
from rlcore.core.mdp import TabularMDP
from rlcore.core.validation import (
    check_array,
    check_flag,
    check_flags,
    check_index_array,
    check_instance,
    check_nonnegative_int,
    check_positive_int,
    check_real,
    check_unit_interval,
)

__all__ = ["smdp_q_update", "intra_option_update", "OptionLearningResult", "smdp_q_learning",
           "intra_option_q_learning"]


def _check_step(Q: np.ndarray, states: dict, ended: bool, flags: dict, alpha: float, gamma: float) -> None:
    """The checks both public updates share: ``Q [S, O]`` finite or ``-inf``, states in ``[0, S)``, 0/1 flags."""
    Qa = check_array(check_instance(Q, "Q", np.ndarray, "a float numpy array [S, O]"), "Q", ndim=2, finite=False)
    if np.isnan(Qa).any() or (Qa == np.inf).any():
        raise ValueError("Q must hold finite values or -inf (unavailable options), found NaN or +inf")
    S, n_opt = Qa.shape
    for name, v in states.items():
        check_index_array(v, name, S, shape=())
    check_flag(bool(ended) if isinstance(ended, np.bool_) else ended, "ended")
    for name, v in flags.items():
        check_flags(v, name, shape=(n_opt,))
    check_unit_interval(alpha, "alpha")
    check_unit_interval(gamma, "gamma")


def smdp_q_update(Q: np.ndarray, s: int, o: int, G: float, k: int, s_next: int, ended: bool,
                  available_next: np.ndarray, alpha: float, gamma: float) -> float:
    """One SMDP Q-learning update of ``Q [S, O]`` in place; returns the TD error.

    ``delta = G + gamma^k [not ended] max_{o' : available_next[o']} Q(s_next, o') - Q(s, o)``.
    """
    _check_step(Q, {"s": s, "s_next": s_next}, ended, {"available_next": available_next}, alpha, gamma)
    check_index_array(o, "o", Q.shape[1], shape=())
    check_real(G, "G", low=-np.inf)
    check_positive_int(k, "k")
    return _smdp_q_update(Q, s, o, G, k, s_next, ended, np.asarray(available_next, dtype=bool), alpha, gamma)


def _smdp_q_update(Q: np.ndarray, s: int, o: int, G: float, k: int, s_next: int, ended: bool,
                   available_next: np.ndarray, alpha: float, gamma: float) -> float:
    ahead = 0.0
    if not ended and np.any(available_next):
        ahead = float(np.max(Q[s_next][available_next]))
    delta = G + gamma ** k * ahead - Q[s, o]
    Q[s, o] += alpha * delta
    return float(delta)


def intra_option_update(Q: np.ndarray, s: int, a: int, r: float, s_next: int, ended: bool, consistent: np.ndarray,
                        zeta_next: np.ndarray, available_next: np.ndarray, alpha: float, gamma: float) -> None:
    """One intra-option step: update ``Q(s, o)`` in place for every option with ``consistent[o]`` True.

    ``consistent[o] = [s in I_o and pi_o(s) = a]``; ``zeta_next[o] = zeta_o(s_next)``;
    ``U(s_next, o) = (1 - zeta_o(s_next)) Q(s_next, o) + zeta_o(s_next) max_{o' available} Q(s_next, o')``.
    """
    _check_step(Q, {"s": s, "s_next": s_next}, ended, {"consistent": consistent, "available_next": available_next},
                alpha, gamma)
    check_nonnegative_int(a, "a")
    check_real(r, "r", low=-np.inf)
    zeta = check_array(zeta_next, "zeta_next", shape=(Q.shape[1],))
    if ((zeta < 0) | (zeta > 1)).any():
        raise ValueError(f"zeta_next must hold termination probabilities in [0, 1], got {zeta.tolist()}")
    _intra_option_update(Q, s, a, r, s_next, ended, np.asarray(consistent, dtype=bool), zeta,
                         np.asarray(available_next, dtype=bool), alpha, gamma)


def _intra_option_update(Q: np.ndarray, s: int, a: int, r: float, s_next: int, ended: bool, consistent: np.ndarray,
                         zeta_next: np.ndarray, available_next: np.ndarray, alpha: float, gamma: float) -> None:
    if ended:
        target = np.full(Q.shape[1], float(r))
    else:
        best = float(np.max(Q[s_next][available_next])) if np.any(available_next) else 0.0
        U = (1.0 - zeta_next) * Q[s_next] + zeta_next * best
        target = r + gamma * U
    Q[s, consistent] += alpha * (target[consistent] - Q[s, consistent])


@dataclass(frozen=True)
class OptionLearningResult:
    """A run of an option learner: the final ``Q [S, O]`` and per-episode curves."""

    Q: np.ndarray = field(repr=False)
    episode_steps: np.ndarray
    """``[n_episodes]`` primitive steps each episode took (at most ``max_steps``)"""
    episode_returns: np.ndarray = field(repr=False)
    """``[n_episodes]`` discounted return of each episode from its start"""
    decisions: np.ndarray = field(repr=False)
    """``[n_episodes]`` options chosen in each episode"""
    method: str = "smdp"

    def __repr__(self) -> str:
        n = len(self.episode_steps)
        return (f"OptionLearningResult({self.method}, {n} episodes, steps per episode: first 10 "
                f"{self.episode_steps[:10].mean():.1f}, last 10 {self.episode_steps[-10:].mean():.1f})")


def _check(mdp: TabularMDP, options: Sequence[Option], n_episodes: int, alpha: float, epsilon: float,
           max_steps: int, seed: int, progress: bool) -> tuple[Option, ...]:
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a TabularMDP, got {type(mdp).__name__}")
    options = tuple(check_instance(options, "options", (list, tuple), "a list of Option"))
    if not options or not all(isinstance(o, Option) for o in options):
        raise ValueError(f"options must be a non-empty sequence of Option, got {options!r}")
    for o in options:
        if np.shape(o.policy) != (mdp.n_states,):
            raise ValueError(f"options: {o.name!r} is for {np.shape(o.policy)[0]} states, the MDP has {mdp.n_states}")
    check_positive_int(n_episodes, "n_episodes")
    check_unit_interval(alpha, "alpha")
    check_unit_interval(epsilon, "epsilon")
    check_positive_int(max_steps, "max_steps")
    check_nonnegative_int(seed, "seed")
    check_flag(progress, "progress")
    return options


def _run(mdp: TabularMDP, options: Sequence[Option], n_episodes: int, alpha: float, epsilon: float,
         max_steps: int, seed: int, progress: bool, intra: bool) -> OptionLearningResult:
    options = _check(mdp, options, n_episodes, alpha, epsilon, max_steps, seed, progress)
    S, n_opt, gamma = mdp.n_states, len(options), mdp.gamma
    avail = np.stack([np.asarray(o.initiation, dtype=bool) for o in options], axis=1) & ~mdp.terminal[:, None]
    pol = np.stack([np.asarray(o.policy, dtype=np.int64) for o in options], axis=1)       # [S, O]
    zeta = np.stack([np.asarray(o.termination, dtype=float) for o in options], axis=1)    # [S, O]
    cum_p = np.cumsum(mdp.prob, axis=2)
    cum_0 = np.cumsum(mdp.initial)
    rng = np.random.default_rng(seed)
    Q = np.zeros((S, n_opt))
    steps, returns, decisions = (np.zeros(n_episodes, dtype=t) for t in (np.int64, float, np.int64))
    for ep in tqdm(range(n_episodes), disable=not progress, desc="intra-option" if intra else "SMDP Q", leave=False):
        s = int(min(np.searchsorted(cum_0, rng.random(), side="right"), S - 1))
        t, ret, ended = 0, 0.0, bool(mdp.terminal[s])
        while not ended and t < max_steps:
            if not avail[s].any():
                raise ValueError(f"no option is available in state {s}: the options must cover every "
                                 "non-terminal state")
            probs = epsilon_greedy_probs(Q[s], epsilon, avail[s])
            o = int(min(np.searchsorted(np.cumsum(probs), rng.random() * probs.sum(), side="right"), n_opt - 1))
            decisions[ep] += 1
            s0, G, k = s, 0.0, 0
            while True:
                a = int(pol[s, o])
                j = int(min(np.searchsorted(cum_p[s, a], rng.random() * cum_p[s, a, -1], side="right"),
                            mdp.n_successors - 1))
                r, s2, ended = float(mdp.reward[s, a, j]), int(mdp.next_state[s, a, j]), bool(mdp.done[s, a, j])
                ret += gamma ** t * r
                G += gamma ** k * r
                t, k = t + 1, k + 1
                if intra:
                    consistent = avail[s] & (pol[s] == a)
                    _intra_option_update(Q, s, a, r, s2, ended, consistent, zeta[s2], avail[s2], alpha, gamma)
                s = s2
                if ended or t >= max_steps or rng.random() < zeta[s, o] or not avail[s, o]:
                    break
            if not intra:
                _smdp_q_update(Q, s0, o, G, k, s, ended, avail[s], alpha, gamma)
        steps[ep], returns[ep] = t, ret
    return OptionLearningResult(Q, steps, returns, decisions, "intra-option" if intra else "smdp")


def smdp_q_learning(mdp: TabularMDP, options: Sequence[Option], n_episodes: int = 200, *, alpha: float = 0.125,
                    epsilon: float = 0.1, max_steps: int = 10_000, seed: int = 0,
                    progress: bool = False) -> OptionLearningResult:
    """SMDP Q-learning over ``options`` (see the module docstring); epsilon-greedy over the available options.

    An option also stops when it reaches a state outside its own initiation set, and an
    episode is cut after ``max_steps`` primitive steps (its last option is then updated from
    where it stood, as if it had stopped there).
    """
    return _run(mdp, options, n_episodes, alpha, epsilon, max_steps, seed, progress, intra=False)


def intra_option_q_learning(mdp: TabularMDP, options: Sequence[Option], n_episodes: int = 200, *,
                            alpha: float = 0.125, epsilon: float = 0.1, max_steps: int = 10_000, seed: int = 0,
                            progress: bool = False) -> OptionLearningResult:
    """Intra-option Q-learning (see the module docstring): behaviour as in [`smdp_q_learning`][], updates per step."""
    return _run(mdp, options, n_episodes, alpha, epsilon, max_steps, seed, progress, intra=True)
