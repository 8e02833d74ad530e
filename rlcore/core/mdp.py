"""The Markov decision process ``(S, A, P, R, gamma)`` as a table.

Book: *Fundamental concepts*, "The MDP tuple".

A [`TabularMDP`][] stores the model as successor lists, the layout
gymnasium's toy-text ``P`` already uses:

    next_state[s, a, k]   index of the k-th possible successor s'
    prob[s, a, k]         P(s' | s, a) for that successor
    reward[s, a, k]       reward received on that transition
    done[s, a, k]         True if the transition terminates the episode

Every successor slot ``k < K`` is real or padding (probability zero). A Bellman
backup is then a single gather-and-sum of cost ``O(S * A * K)``, which scales
to millions of states, while the textbook's dense arrays ``P[s, a, s']`` and
``R[s, a]`` are offered as properties for small problems.

A transition flagged ``done`` *terminates* the episode: its successor's value
is taken to be zero whatever that successor is. Terminal states (given
explicitly, or absorbing states detected automatically) have value zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rlcore.core.toytext import read_toytext
from rlcore.core.validation import (
    PROB_ATOL,
    as_names,
    check_array,
    check_positive_int,
    check_probability_vector,
    check_stochastic,
    check_successor_arrays,
    check_unit_interval,
    terminal_mask,
)

__all__ = ["TabularMDP"]


class TabularMDP:
    """A finite MDP ``(S, A, P, R, gamma)`` with terminal states and names.

    Parameters
    ----------
    next_state : int array, shape [S, A, K]
        Successor state of each slot.
    prob : float array, shape [S, A, K]
        Probability ``P(s'|s,a)`` of each slot; non-negative, summing to one over ``k``.
    reward : float array, shape [S, A, K]
        Reward received on each transition.
    done : bool array, shape [S, A, K], optional
        Whether the transition terminates the episode (default: none do).
    gamma : float
        Discount factor in ``[0, 1]``. ``gamma == 1`` needs a way to end:
        at least one terminating transition or a ``horizon``.
    terminal : sequence of int or bool mask, optional
        States that are terminal (absorbing, value zero). Transitions *into*
        them are flagged ``done``; their own rows become zero-reward self-loops.
    initial : float array [S], optional
        Start-state distribution (default: uniform over non-terminal states).
    state_names, action_names : sequences of str, optional
        Human-readable names; default ``s0, s1, ...`` and ``a0, a1, ...``.
    horizon : int, optional
        The task's length ``H``: an episode ends after ``H`` steps and nothing is earned
        afterwards, so every value of this MDP is ``E[sum_{t<H} gamma^t r_t]``. The meaning is
        the same everywhere: dynamic programming solves the problem by backward induction
        (``V_t``, ``pi_t`` depend on the step ``t``), occupancy measures and ``true_value`` sum
        ``H`` steps, and the simulation view ends the episode at ``H`` as *terminated* (no
        bootstrap). ``None`` (the default): no horizon, the discounted infinite-horizon task; a
        cut-off applied only when simulating (``env(max_episode_steps=...)``, a log's length)
        is then a *truncation* and changes no value. See ``with_horizon``.

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[[0.0, 1.0]], [[0.0, 1.0]]])   # 2 states, 1 action
    >>> R = np.array([[1.0], [0.0]])
    >>> mdp = TabularMDP.from_dense(P, R, gamma=0.9, terminal=[1])
    >>> mdp.n_states, mdp.n_actions
    (2, 1)
    """

    def __init__(
        self,
        next_state: Any,
        prob: Any,
        reward: Any,
        done: Any = None,
        *,
        gamma: float,
        terminal: Any = None,
        initial: Any = None,
        state_names: Sequence[str] | None = None,
        action_names: Sequence[str] | None = None,
        horizon: int | None = None,
    ) -> None:
        next_state, prob, reward, done = check_successor_arrays(next_state, prob, reward, done)
        S, A = prob.shape[:2]
        gamma = check_unit_interval(gamma, "gamma")
        horizon = check_positive_int(horizon, "horizon", none=True)
        term = terminal_mask(terminal, S)
        # Absorbing states (every action loops back with certainty and no reward) are terminal too.
        self_loop = (next_state == np.arange(S)[:, None, None]) | (prob == 0)
        term |= np.all(self_loop & ((reward == 0) | (prob == 0)), axis=(1, 2))

        # Normalise: transitions into terminal states end the episode, terminal rows are inert.
        next_state = next_state.astype(np.int64, copy=True)
        prob, reward, done = prob.copy(), reward.copy(), done.copy()
        done |= term[next_state]
        next_state[term] = np.arange(S)[term, None, None]
        prob[term] = 0.0
        prob[term, :, 0] = 1.0
        reward[term] = 0.0
        done[term] = True

        if gamma == 1.0 and not done.any() and horizon is None:
            raise ValueError("gamma = 1 needs terminal states or a horizon: otherwise returns can be infinite")

        if initial is None:
            initial = (~term).astype(np.float64)
            if initial.sum() == 0:
                initial = np.ones(S)
            initial /= initial.sum()
        else:
            initial = check_probability_vector(initial, S, "initial")

        self.next_state = next_state
        self.prob = prob
        self.reward = reward
        self.done = done
        self.gamma = gamma
        self.terminal = term
        self.initial = initial
        self.horizon = None if horizon is None else int(horizon)
        self.state_names = as_names(state_names, S, "state_names", "s")
        self.action_names = as_names(action_names, A, "action_names", "a")
        # Cached pieces of the Bellman backup: R(s, a) and gamma * P(s'|s,a) * (1 - done).
        self._R = np.einsum("sak,sak->sa", prob, reward)
        self._cont = gamma * prob * ~done
        self._kas: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        for arr in (self.next_state, self.prob, self.reward, self.done, self.terminal, self.initial):
            arr.setflags(write=False)

    # ------------------------------------------------------------------ sizes
    @property
    def n_states(self) -> int:
        """Number of states ``|S|``."""
        return self.prob.shape[0]

    @property
    def n_actions(self) -> int:
        """Number of actions ``|A|``."""
        return self.prob.shape[1]

    @property
    def n_successors(self) -> int:
        """Successor slots per state-action pair, ``K``."""
        return self.prob.shape[2]

    def __repr__(self) -> str:
        return (f"TabularMDP(n_states={self.n_states}, n_actions={self.n_actions}, "
                f"n_successors={self.n_successors}, gamma={self.gamma}, "
                f"n_terminal={int(self.terminal.sum())}"
                + (f", horizon={self.horizon})" if self.horizon is not None else ")"))

    # ------------------------------------------------------------ dense views
    @property
    def P(self) -> np.ndarray:
        """Dense transition tensor ``P[s, a, s'] = P(s'|s,a)``, shape ``[S, A, S]``.

        Memory grows as ``S^2 A``; use it for small MDPs only.
        """
        S, A, _ = self.prob.shape
        P = np.zeros((S, A, S))
        s_idx, a_idx = np.indices((S, A))
        np.add.at(P, (s_idx[..., None], a_idx[..., None], self.next_state), self.prob)
        return P

    @property
    def R(self) -> np.ndarray:
        """Expected immediate reward ``R(s, a) = sum_s' P(s'|s,a) r(s,a,s')``, shape ``[S, A]``."""
        return self._R.copy()

    def continuation(self) -> np.ndarray:
        """Dense ``P(s'|s,a) * (1 - done)``: the part of ``P`` that bootstraps, shape ``[S, A, S]``."""
        S, A, _ = self.prob.shape
        C = np.zeros((S, A, S))
        s_idx, a_idx = np.indices((S, A))
        np.add.at(C, (s_idx[..., None], a_idx[..., None], self.next_state), self.prob * ~self.done)
        return C

    def policy_matrix(self, pi_table: np.ndarray):
        """Sparse ``gamma P^pi`` with terminating transitions removed, shape ``[S, S]``.

        ``(gamma P^pi)[s, s'] = gamma sum_a pi(a|s) P(s'|s,a) (1 - done)``: the matrix of the
        policy-evaluation system ``(I - gamma P^pi) V = R^pi`` (and, transposed, of the
        discounted occupancy). ``pi_table`` is a validated ``[S, A]`` table.
        """
        import scipy.sparse as sp

        S, A, K = self.prob.shape
        w = check_stochastic(pi_table, "pi_table", shape=(S, A))[:, :, None] * self._cont
        return sp.csr_matrix((w.ravel(), (np.repeat(np.arange(S), A * K), self.next_state.ravel())), shape=(S, S))

    def with_reward(self, reward: Any) -> TabularMDP:
        """The same dynamics, names and horizon with per-transition rewards ``reward[s, a, k]``.

        ``reward`` is broadcast to ``[S, A, K]``, so an ``[S, A, 1]`` array gives ``R(s, a)``.
        """
        try:
            reward = np.broadcast_to(check_array(reward, "reward"), self.prob.shape)
        except ValueError:
            raise ValueError(f"reward must broadcast to the shape of prob {self.prob.shape}, "
                             f"got {np.shape(reward)}") from None
        return TabularMDP(self.next_state, self.prob, reward, self.done, gamma=self.gamma, terminal=self.terminal,
                          initial=self.initial, state_names=self.state_names, action_names=self.action_names,
                          horizon=self.horizon)

    def with_horizon(self, horizon: int | None) -> TabularMDP:
        """The same model with task horizon ``horizon`` (``None``: the infinite-horizon task)."""
        return TabularMDP(self.next_state, self.prob, self.reward, self.done, gamma=self.gamma, terminal=self.terminal,
                          initial=self.initial, state_names=self.state_names, action_names=self.action_names,
                          horizon=horizon)

    # -------------------------------------------------------- Bellman backup
    def q_from_v(self, V: np.ndarray) -> np.ndarray:
        """One-step lookahead ``Q(s,a) = R(s,a) + gamma * sum_s' P(s'|s,a) V(s')``.

        Terminating transitions contribute no bootstrap term. Shape ``[S, A]``.
        """
        V = check_array(V, "V", shape=(self.n_states,))
        return self._R + np.einsum("sak,sak->sa", self._cont, V[self.next_state])

    def _successor_major(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cached ``[K, A, S]`` copies of ``gamma P (1 - done)`` and ``next_state``, and ``R`` as ``[A, S]``."""
        if self._kas is None:
            self._kas = (np.ascontiguousarray(self._cont.transpose(2, 1, 0)),
                         np.ascontiguousarray(self.next_state.transpose(2, 1, 0)),
                         np.ascontiguousarray(self._R.T))
        return self._kas

    # ------------------------------------------------------------ builders
    @classmethod
    def from_dense(
        cls,
        P: Any,
        R: Any,
        gamma: float,
        terminal: Any = None,
        **kwargs: Any,
    ) -> TabularMDP:
        """Build from the textbook arrays ``P[s, a, s']`` and ``R[s, a]`` or ``R[s, a, s']``.

        Only successors with non-zero probability are stored, so a sparse ``P``
        becomes compact successor lists.
        """
        P, R = check_array(P, "P", finite=False), check_array(R, "R", finite=False)
        if P.ndim != 3:
            raise ValueError(f"P must have shape [S, A, S], got {P.ndim} dimension(s) {P.shape}")
        S, A, S2 = P.shape
        if S2 != S:
            raise ValueError(f"P must have shape [S, A, S] with matching state axes, got {P.shape}")
        if R.shape == (S, A):
            R = np.broadcast_to(R[:, :, None], P.shape)
        elif R.shape != (S, A, S):
            raise ValueError(f"R must have shape ({S}, {A}) or ({S}, {A}, {S}), got {R.shape}")
        if not np.all(np.isfinite(P)):
            raise ValueError("P must be finite, found NaN or inf")
        if (P < 0).any():
            s, a, _ = np.argwhere(P < 0)[0]
            raise ValueError(f"P: probabilities must be non-negative, found {P.min():.3g} at state {s}, action {a}")
        if (bad := np.abs(P.sum(axis=2) - 1) > PROB_ATOL).any() or not np.isfinite(R).all():
            s, a = np.argwhere(bad)[0] if bad.any() else (0, 0)
            raise ValueError(f"P: probabilities must sum to 1 over next states, got {P[s, a].sum():.6g} at state {s}, "
                             f"action {a}" if bad.any() else "R: reward must be finite, found NaN or inf")
        K = max(1, int((P > 0).sum(axis=2).max()))
        # Order successors so that non-zero probabilities come first.
        order = np.argsort(~(P > 0), axis=2, kind="stable")[:, :, :K]
        prob = np.take_along_axis(P, order, axis=2)
        reward = np.take_along_axis(R, order, axis=2) * (prob > 0)
        return cls(order, prob, reward, gamma=gamma, terminal=terminal, **kwargs)

    @classmethod
    def from_gymnasium(cls, env: Any, gamma: float, **kwargs: Any) -> TabularMDP:
        """Build from any environment exposing toy-text ``P[s][a] = [(p, s', r, terminated), ...]``.

        Works for gymnasium's FrozenLake, CliffWalking and Taxi (read through
        ``env.unwrapped``). Repeated entries for the same ``(s', terminated)``
        are merged: their probabilities add and their rewards are averaged
        with those probabilities.
        """
        next_state, prob, reward, done, initial = read_toytext(env)
        kwargs.setdefault("initial", initial)
        return cls(next_state, prob, reward, done, gamma=gamma, **kwargs)
