"""What the planners share: the result type, policy tables and the fixed-point loop with its budget.

Book: *Fundamental concepts*, "Policies" and *Mathematical foundations*, "Convergence guarantees".
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from rlcore.core.mdp import TabularMDP
from rlcore.core.validation import check_flag, check_instance, check_positive_int, check_real

__all__ = ['ConvergenceWarning', 'DPResult', 'policy_table', 'as_policy_table', 'never_terminating']


class ConvergenceWarning(UserWarning):
    """An iterative solver stopped at its iteration budget before reaching its tolerance."""


@dataclass(frozen=True)
class DPResult:
    """Outcome of a dynamic-programming solver.

    Attributes
    ----------
    V
        ``[S]`` state values.
    Q
        ``[S, A]`` action values, ``Q = R + gamma P V``.
    policy
        ``[S]`` greedy action per state (for evaluation: greedy w.r.t. ``Q``).
    iterations
        Sweeps (value iteration, iterative evaluation) or improvement steps
        (policy iteration) performed.
    converged
        Whether the tolerance was reached within the budget.
    history
        Per-iteration residual ``max_s |V_{k+1}(s) - V_k(s)|`` (value iteration,
        iterative evaluation) or Bellman optimality residual after each evaluation
        (policy iteration); for convergence plots.
    V_by_step, policy_by_step
        Only for an MDP with a ``horizon`` ``H`` (solved by backward induction): ``[H + 1, S]``
        values ``V_t`` (``V_H = 0``) and ``[H, S]`` greedy actions ``pi_t`` for each step
        ``t``; ``V``, ``Q`` and ``policy`` are then those of step ``t = 0``. ``None`` otherwise.
    """

    V: np.ndarray
    Q: np.ndarray
    policy: np.ndarray
    iterations: int
    converged: bool
    history: np.ndarray = field(repr=False)
    V_by_step: np.ndarray | None = field(default=None, repr=False)
    policy_by_step: np.ndarray | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        S, A = self.Q.shape
        if self.V_by_step is not None:
            return (f"DPResult({S} states x {A} actions, backward induction over {self.iterations} steps, "
                    f"V_0 in [{self.V.min():.4g}, {self.V.max():.4g}])")
        return (f"DPResult({S} states x {A} actions, {self.iterations} iterations, converged={self.converged}, "
                f"V in [{self.V.min():.4g}, {self.V.max():.4g}])")


def policy_table(pi: Any, n_states: int, n_actions: int, name: str = "pi") -> np.ndarray:
    """Validate ``pi`` and return it as an ``[S, A]`` table ``pi[s, a] = pi(a|s)``.

    ``pi`` is either an ``[S, A]`` probability table or an ``[S]`` array of actions;
    ``name`` is the argument name used in error messages.
    """
    S, A = n_states, n_actions
    pi = np.asarray(pi)
    if pi.shape == (S,):
        if not np.issubdtype(pi.dtype, np.integer):
            raise TypeError(f"{name}: a deterministic policy must hold integer actions, got dtype {pi.dtype}")
        if pi.min() < 0 or pi.max() >= A:
            raise ValueError(f"{name}: actions must lie in [0, {A}), got values in [{pi.min()}, {pi.max()}]")
        table = np.zeros((S, A))
        table[np.arange(S), pi] = 1.0
        return table
    if pi.shape != (S, A):
        raise ValueError(f"{name} must be an [S, A] = ({S}, {A}) probability table or an [S] = ({S},) action "
                         f"array, got shape {pi.shape}")
    pi = pi.astype(np.float64)
    if not np.all(np.isfinite(pi)) or (pi < 0).any():
        raise ValueError(f"{name} must hold finite, non-negative probabilities")
    sums = pi.sum(axis=1)
    if np.abs(sums - 1).max() > 1e-6:
        s = int(np.abs(sums - 1).argmax())
        raise ValueError(f"each row of {name} must sum to 1, row {s} sums to {sums[s]:.6g}")
    return pi


def as_policy_table(mdp: TabularMDP, pi: Any) -> np.ndarray:
    """[`policy_table`][] for the states and actions of ``mdp``."""
    check_instance(mdp, "mdp", TabularMDP)
    return policy_table(pi, mdp.n_states, mdp.n_actions)


def _check_budget(tol: float, max_iterations: int, progress: bool = False) -> None:
    if not check_real(tol, "tol", -np.inf) > 0:
        raise ValueError(f"tol must be > 0, got {tol}")
    check_positive_int(max_iterations, "max_iterations")
    check_flag(progress, "progress")


def _warn(name: str, iterations: int, residual: float, tol: float) -> None:
    warnings.warn(f"{name} stopped after {iterations} iterations with residual {residual:.3g} > "
                  f"tol {tol:.3g}; the result is approximate (converged=False)",
                  ConvergenceWarning, stacklevel=3)


def _fixed_point(sweep, V: np.ndarray, tol: float, max_iterations: int, progress: bool,
                 name: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """Iterate ``V <- sweep(V)`` until ``max_s |V_{k+1}(s) - V_k(s)| < tol``; returns ``(V, history, converged)``."""
    history = []
    converged = False
    with tqdm(total=max_iterations, disable=not progress, desc=name, leave=False) as bar:
        for _ in range(max_iterations):
            V_new = sweep(V)
            residual = float(np.abs(V_new - V).max())
            history.append(residual)
            V = V_new
            bar.update()
            if residual < tol:
                converged = True
                break
            if not np.isfinite(residual):
                break
    if not converged:
        _warn(name, len(history), history[-1], tol)
    return V, np.asarray(history), converged


def never_terminating(mdp: TabularMDP, pi_table: np.ndarray) -> np.ndarray:
    """States from which ``pi`` can never end the episode, ``[S]`` bool.

    A state is stuck when no path of positive probability under ``pi`` reaches a
    terminating transition or a terminal state. The test is structural (a graph
    search), so rounding cannot hide it; at ``gamma = 1`` these states have no finite value.
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import breadth_first_order

    pi_table = policy_table(pi_table, check_instance(mdp, "mdp", TabularMDP).n_states, mdp.n_actions, "pi_table")
    S = mdp.n_states
    pos = (pi_table[:, :, None] > 0) & (mdp.prob > 0)
    ends = (pos & mdp.done).any(axis=(1, 2)) | mdp.terminal
    go = pos & ~mdp.done
    src = np.broadcast_to(np.arange(S)[:, None, None], go.shape)[go]
    dst = mdp.next_state[go]
    # reversed edges s' -> s, plus a virtual node S pointing at every state that can end
    rows = np.concatenate([dst, np.full(int(ends.sum()), S)])
    cols = np.concatenate([src, np.flatnonzero(ends)])
    graph = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(S + 1, S + 1))
    reached = np.zeros(S + 1, dtype=bool)
    reached[breadth_first_order(graph, S, directed=True, return_predecessors=False)] = True
    return ~reached[:S]
