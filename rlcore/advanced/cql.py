"""Conservative Q-learning (CQL(H), Kumar et al., 2020) in tabular form, solved exactly on a log.

Book: *Advanced techniques*, "A tour of offline methods" (Conservative Q-learning), applied to the
models of *Healthcare*, "Learning from logged clinical decisions".

The objective, at iteration ``k`` with the previous iterate ``Q_k`` held fixed (the target copy):

    Q_{k+1} = argmin_Q  alpha_cql E_{s~D}[ log sum_{a in A(s)} exp Q(s,a) - E_{a~pi_beta_hat(.|s)} Q(s,a) ]
                        + 1/2 E_{(s,a)~D}[ (Q(s,a) - (T Q_k)(s,a))^2 ],

    (T Q_k)(s,a) = r_hat(s,a) + gamma sum_s' P_hat(s'|s,a) max_{a' in A(s')} Q_k(s',a'),

with ``r_hat, P_hat`` the log's maximum-likelihood model (the one fitted-Q iteration uses),
``pi_beta_hat(a|s) = N(s,a) / N(s)`` and ``E_{s~D}`` weighting a state by its share ``N(s) / N`` of
the logged decisions. Multiplying by ``N`` splits it into one convex problem per state; setting
the gradient to zero gives, for every logged pair,

    Q_{k+1}(s,a) = (T Q_k)(s,a) - alpha_cql [ pi_Q(a|s) / pi_beta_hat(a|s) - 1 ],
    pi_Q(a|s) = softmax over A(s) of Q_{k+1}(s, .),

the tabular CQL(H) update of the paper's Theorem 3.2 analysis, with ``pi_Q`` the softmax of the
*new* values (an implicit equation, solved exactly below). Two cases have no data:

* an allowed action never logged in a visited state has no Bellman term; the regulariser's
  gradient ``alpha_cql N(s) pi_Q(a|s) > 0`` pushes it down without end, so we bound every value
  from below by ``q_min`` (default: the lower bound on any return that pessimistic fitted-Q
  iteration uses) and the minimiser sits on that floor, ``Q(s,a) = q_min``;
* a state never logged does not appear in the objective; its values are set to ``q_min`` too.

Contraindicated actions (``mask``) are outside the problem: ``Q = -inf`` there, they are left
out of the soft maximum and of ``N(s)``, and the greedy policy never picks them. With
``alpha_cql = 0`` the update is fitted-Q iteration with unlogged values ``q_min``, i.e.
[`rlcore.health.offline.fitted_q_iteration`][] with ``pessimistic=True``.

How the implicit equation is solved, per state and vectorised over states. Write ``Z`` for
``log sum_a exp Q(s,a)`` and ``w_a = alpha_cql pi_Q(a|s) / pi_beta_hat(a|s)``. The update says
``Q(s,a) = y_a + alpha_cql - w_a`` with ``y = T Q_k``, and ``Q(s,a) = Z + log pi_Q(a|s)``; together
``w_a + log w_a = y_a + alpha_cql - Z + log(alpha_cql / pi_beta_hat(a|s))``, so ``w_a`` is the
Wright omega function of the right-hand side. ``Z`` is then the root of the decreasing convex
function ``f(Z) = sum_a pi_Q(a|s; Z) - 1``, found by Newton's method (which cannot overshoot the
root twice on such a function). The outer iteration ``Q_k -> Q_{k+1}`` is a ``gamma``-contraction
in the sup norm (the per-state minimiser is monotone in ``y`` and moves by at most a shift of
``y``), so it converges to the unique fixed point ``Q_CQL``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.special import wrightomega

from rlcore.core.policies import check_mask
from rlcore.core.validation import check_array, check_flag, check_positive_int, check_real, check_unit_interval
from rlcore.health.logs import LoggedData
from rlcore.health.offline import OfflineResult, default_q_min
from rlcore.health.ope import _EmpiricalModel
from rlcore.tabular.common import _fixed_point

__all__ = ["CQLResult", "cql", "cql_update"]

_NEWTON_STEPS = 100


@dataclass(frozen=True)
class CQLResult(OfflineResult):
    """A policy learned by tabular CQL(H); an [`OfflineResult`][rlcore.health.offline.OfflineResult] with more fields.

    Attributes
    ----------
    policy
        ``[S]`` greedy allowed action of ``Q`` (ties: most logged, then lowest index).
    pi
        ``[S, A]`` one-hot table of ``policy``.
    Q
        ``[S, A]`` conservative values ``Q_CQL``; ``q_min`` where the log has no data, ``-inf`` where masked.
    counts
        ``[S, A]`` logged visit counts ``N(s, a)``.
    iterations
        Outer sweeps ``Q_k -> Q_{k+1}`` performed.
    soft_pi
        ``[S, A]`` softmax of ``Q`` over the allowed actions, the policy ``pi_Q`` inside the regulariser.
    alpha_cql
        Weight of the regulariser (the book's ``kappa``, the paper's ``alpha``).
    q_min
        The floor given to pairs without data.
    converged
        Whether ``max_s |V_{k+1}(s) - V_k(s)| < tol`` was reached within the budget.
    history
        ``{"residual": [iterations] array}``, ``max_s |V_{k+1}(s) - V_k(s)|`` per sweep.
    """

    soft_pi: np.ndarray = field(repr=False)
    alpha_cql: float
    q_min: float
    converged: bool
    history: dict = field(repr=False)

    def __repr__(self) -> str:
        seen = int((self.counts.sum(axis=1) > 0).sum())
        return (f"CQLResult(alpha_cql={self.alpha_cql:g}, {self.pi.shape[0]} states x {self.pi.shape[1]} actions, "
                f"{self.iterations} iterations, converged={self.converged}, {seen} states seen in the log)")


def cql_update(Y: Any, counts: Any, *, alpha_cql: float, q_min: float, mask: Any = None,
               push_up: bool = True, Z0: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One exact CQL(H) minimisation with the Bellman targets ``Y`` held fixed; returns ``(Q, Z)``.

    For each state ``s`` with ``N(s) = sum_{a in A(s)} N(s,a) > 0`` it returns the minimiser of

        alpha_cql [ N(s) log sum_{a in A(s)} exp Q(s,a) - sum_a N(s,a) Q(s,a) ] + 1/2 sum_a N(s,a) (Q(s,a) - Y(s,a))^2

    over ``Q(s, .) >= q_min``: ``Q(s,a) = Y(s,a) - alpha_cql (pi_Q(a|s) N(s) / N(s,a) - 1)`` where
    ``N(s,a) > 0`` and ``q_min`` where ``N(s,a) = 0``. States without data get ``q_min``.

    | argument | shape | meaning |
    |---|---|---|
    | ``Y`` | ``[S, A]`` | targets ``(T Q_k)(s, a)`` (read only where ``N(s,a) > 0``) |
    | ``counts`` | ``[S, A]`` | ``N(s, a) >= 0`` (weights; need not be integers) |
    | ``mask`` | ``[S, A]`` bool | allowed actions; ``Q = -inf`` elsewhere |
    | ``Z0`` | ``[S]`` | optional start for ``Z = log sum_a exp Q(s, a)`` (a warm start) |

    ``Z`` (``[S]``, the log-partition of the returned ``Q`` over allowed actions) is returned so
    that the next call can start from it.
    """
    N = check_array(counts, "counts", ndim=2)
    if (N < 0).any():
        raise ValueError(f"counts must be an [S, A] array of finite numbers >= 0, got shape {N.shape}")
    S, A = N.shape
    Y = check_array(Y, "Y", finite=False)
    if Y.shape != (S, A):
        raise ValueError(f"Y must have the shape of counts {(S, A)}, got {Y.shape}")
    alpha = check_real(alpha_cql, "alpha_cql")
    q_min = check_real(q_min, "q_min", low=-np.inf)
    check_flag(push_up, "push_up")
    Z0 = None if Z0 is None else check_array(Z0, "Z0", shape=(S,), finite=False)
    mask = np.ones((S, A), dtype=bool) if mask is None else check_mask(mask, S, A)
    N = np.where(mask, N, 0.0)
    seen = N > 0
    if not np.isfinite(Y[seen]).all():
        raise ValueError("Y must be finite wherever counts > 0")
    Q = np.where(mask, q_min, -np.inf)
    Q[seen] = Y[seen]
    n_s = N.sum(axis=1)
    Z = np.full(S, np.nan)
    rows = np.flatnonzero(n_s > 0)
    if alpha > 0 and rows.size:
        # without the push-up term the stationarity condition is the same with y_a - alpha for y_a
        targets = Y[rows] if push_up else Y[rows] - alpha
        Qr, Zr = _solve_states(targets, N[rows], n_s[rows], mask[rows], alpha, q_min,
                               None if Z0 is None else Z0[rows])
        Q[rows], Z[rows] = Qr, Zr
    finite = mask.any(axis=1)
    top = np.where(mask, Q, -np.inf).max(axis=1)
    Z = np.where(np.isnan(Z) & finite, top + np.log(np.exp(np.where(mask, Q, -np.inf) - top[:, None]).sum(axis=1)), Z)
    return Q, Z


def _solve_states(Y: np.ndarray, N: np.ndarray, n_s: np.ndarray, mask: np.ndarray, alpha: float,
                  q_min: float, Z0: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Newton's method on ``f(Z) = sum_a pi_Q(a|s; Z) - 1`` for states with data (see the module docstring)."""
    seen = N > 0
    unseen = mask & ~seen
    beta = N / n_s[:, None]
    safe_beta = np.where(seen, beta, 1.0)
    # d_a(Z) = c_a - Z with c_a = y_a + alpha + log(alpha / beta_a); w_a = omega(d_a), pi_a = beta_a w_a / alpha.
    c = np.where(seen, Y + alpha + np.log(alpha / safe_beta), 0.0)
    y_top = np.where(seen, Y + alpha, -np.inf).max(axis=1)
    hi = np.maximum(y_top, np.where(unseen.any(axis=1), q_min, -np.inf)) + np.log(mask.sum(axis=1))
    Z = hi if Z0 is None else np.where(np.isfinite(Z0), Z0, hi)
    n_unseen = unseen.sum(axis=1)
    for _ in range(_NEWTON_STEPS):
        w = np.where(seen, wrightomega(c - Z[:, None]).real, 0.0)
        p_seen = np.where(seen, safe_beta * w / alpha, 0.0)
        p_out = n_unseen * np.exp(q_min - Z)
        f = p_seen.sum(axis=1) + p_out - 1.0
        slope = (p_seen / (1.0 + w)).sum(axis=1) + p_out
        step = f / slope
        Z = Z + step
        if np.all(np.abs(step) <= 1e-13 * (1.0 + np.abs(Z))):
            break
    w = np.where(seen, wrightomega(c - Z[:, None]).real, 0.0)
    Q = np.where(seen, Y + alpha - w, np.where(mask, q_min, -np.inf))
    return Q, Z


def cql(data: LoggedData, *, alpha_cql: float, gamma: float | None = None, mask: Any = None, push_up: bool = True,
        q_min: float | None = None, tol: float = 1e-8, max_iterations: int = 10_000,
        progress: bool = False) -> CQLResult:
    """Tabular CQL(H) on the empirical model of a log, iterated to its fixed point ``Q_CQL``.

    Sweeps ``Q_{k+1} = cql_update(T Q_k)`` (see [`cql_update`][] and the module docstring): the
    fitted-Q target ``T Q_k(s,a) = r_hat(s,a) + gamma sum_s' P_hat(s'|s,a) max_{a' in A(s')} Q_k(s',a')``
    (terminating transitions do not bootstrap) followed by the exact minimisation of the CQL(H)
    objective, which gives, wherever the log has data,

        Q_CQL(s,a) = (T Q_CQL)(s,a) - alpha_cql [ pi_Q(a|s) / pi_beta_hat(a|s) - 1 ],

    and ``q_min`` wherever it has none. Starts from ``Q_0 = 0`` and stops when
    ``max_s |V_{k+1}(s) - V_k(s)| < tol`` with ``V_k(s) = max_{a in A(s)} Q_k(s,a)``. Book section:
    *Advanced techniques*, "A tour of offline methods".

    Parameters
    ----------
    data
        The log ([`rlcore.health.logs.LoggedData`][]).
    alpha_cql
        Regulariser weight ``>= 0`` (the book's ``kappa``, the paper's ``alpha``); ``0`` is fitted-Q iteration.
    gamma
        Discount of the backup; default the log's.
    mask
        ``[S, A]`` bool, allowed actions (True); contraindicated ones get ``Q = -inf``.
    q_min
        Floor for pairs without data; default [`rlcore.health.offline.default_q_min`][] (must not exceed any value you
        want to be able to represent).
    tol, max_iterations
        Stopping rule and budget (a ``ConvergenceWarning`` and ``converged=False`` if it runs out).
    progress
        Show a tqdm bar over sweeps.
    """
    if not isinstance(data, LoggedData):
        raise TypeError(f"data must be a LoggedData log, got {type(data).__name__}")
    S, A = data.n_states, data.n_actions
    alpha = check_real(alpha_cql, "alpha_cql")
    g = data.gamma if gamma is None else check_unit_interval(gamma, "gamma")
    tol = check_real(tol, "tol", open_low=True)
    max_iterations = check_positive_int(max_iterations, "max_iterations")
    check_flag(progress, "progress")
    check_flag(push_up, "push_up")
    mask = np.ones((S, A), dtype=bool) if mask is None else check_mask(mask, S, A)
    q_min = default_q_min(data, g) if q_min is None else check_real(q_min, "q_min", low=-np.inf)
    model = _EmpiricalModel(replace(data, gamma=g))
    counts = model.N_sa
    state = {"Z": None, "Q": np.where(mask, 0.0, -np.inf)}

    def sweep(V: np.ndarray) -> np.ndarray:
        Y = model.backup(V, 0.0)
        Q, state["Z"] = cql_update(Y, counts, alpha_cql=alpha, q_min=q_min, mask=mask, push_up=push_up, Z0=state["Z"])
        state["Q"] = Q
        return Q.max(axis=1)

    V0 = np.where(mask, 0.0, -np.inf).max(axis=1)
    _, residual, converged = _fixed_point(sweep, V0, tol, max_iterations, progress, "CQL")
    Q = state["Q"]
    score = np.where(mask, Q, -np.inf)
    best = score >= score.max(axis=1, keepdims=True) - 1e-12
    policy = np.where(best, counts + 1.0, 0.0).argmax(axis=1)
    pi = np.zeros((S, A))
    pi[np.arange(S), policy] = 1.0
    e = np.exp(score - score.max(axis=1, keepdims=True))
    soft_pi = e / e.sum(axis=1, keepdims=True)
    return CQLResult(policy, pi, Q, counts, len(residual), soft_pi, alpha, q_min, converged,
                     {"residual": residual})
