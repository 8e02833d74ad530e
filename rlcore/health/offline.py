"""Offline policy learning from a log: fitted-Q iteration (optionally pessimistic) and behaviour cloning.

Book: *Healthcare*, "Learning from logged clinical decisions".

[`fitted_q_iteration`][] learns greedy values from the empirical model of the
log; with ``pessimistic=True`` actions the log never shows get a lower bound and
rarely seen ones a count penalty ``penalty / sqrt(N(s, a))``.
[`behaviour_cloning`][] copies the clinicians' most frequent action. The log
types, the exact truth ([`rlcore.health.logs`][]) and the off-policy
estimators ([`rlcore.health.ope`][]) are re-exported here for convenience.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rlcore.core.policies import check_mask
from rlcore.core.validation import check_flag, check_instance, check_positive_int, check_real, check_unit_interval
from rlcore.health.logs import (  # noqa: F401 (re-exported)
    OPE_METHODS,
    LoggedData,
    check_support,
    collect_logs,
    finite_horizon_values,
    soften_policy,
    true_value,
)
from rlcore.health.ope import (  # noqa: F401 (re-exported)
    OPEEstimate,
    _EmpiricalModel,  # noqa: F401
    doubly_robust,
    evaluate_offline,
    fitted_q_evaluation,
    importance_sampling,
)

__all__ = [
    "LoggedData", "collect_logs", "soften_policy", "true_value", "finite_horizon_values",
    "OPEEstimate", "importance_sampling", "doubly_robust", "fitted_q_evaluation", "evaluate_offline",
    "OPE_METHODS", "check_support", "OfflineResult", "default_q_min", "fitted_q_iteration", "behaviour_cloning",
]


# ------------------------------------------------------------- offline learning
@dataclass(frozen=True)
class OfflineResult:
    """A policy learned from a log.

    Attributes
    ----------
    policy
        ``[S]`` greedy/most-likely action.
    pi
        ``[S, A]`` policy table (one-hot for FQI).
    Q
        ``[S, A]`` fitted action values (FQI) or action counts (behaviour cloning).
    counts
        ``[S, A]`` logged visit counts ``N(s, a)``.
    iterations
        FQI sweeps (0 for behaviour cloning).
    """

    policy: np.ndarray
    pi: np.ndarray
    Q: np.ndarray
    counts: np.ndarray
    iterations: int

    def __repr__(self) -> str:
        seen = int((self.counts.sum(axis=1) > 0).sum())
        return (f"OfflineResult({self.pi.shape[0]} states x {self.pi.shape[1]} actions, {self.iterations} "
                f"iterations, {seen} states seen in the log)")


def default_q_min(data: LoggedData, gamma: float | None = None) -> float:
    """The smallest return any episode can have given the logged rewards, ``min(0, r_min) / (1 - gamma)``.

    With ``gamma = 1`` it is ``min(0, r_min) * horizon``; ``gamma`` defaults to the log's. The value
    pessimistic [`fitted_q_iteration`][] and [`rlcore.advanced.cql`][] give to actions the log lacks.
    """
    check_instance(data, "data", LoggedData)
    g = data.gamma if gamma is None else check_unit_interval(gamma, "gamma")
    r_min = min(0.0, float(data.rewards[data.valid].min())) if data.valid.any() else 0.0
    return r_min / (1 - g) if g < 1 else r_min * data.horizon


def fitted_q_iteration(data: LoggedData, *, mask: Any = None, pessimistic: bool = True,
                       unseen_q: float | None = None, penalty: float = 0.0, tol: float = 1e-8,
                       max_iterations: int = 10_000) -> OfflineResult:
    """Fitted-Q iteration with a tabular regressor, optionally pessimistic about what the log lacks.

    ``Q_{k+1}(s,a) = mean_{logged (s,a)} [r + gamma (1 - terminated) max_{a' in A(s')} Q_k(s',a')]
    - penalty / sqrt(N(s,a))``, iterated to convergence (``max |Q_{k+1} - Q_k| < tol``), i.e. value
    iteration in the log's maximum-likelihood model.

    Actions never logged in a state get ``Q = unseen_q``. With ``pessimistic=True`` the default
    is a lower bound on any return, ``min(0, r_min) / (1 - gamma)`` (``r_min`` the smallest
    logged reward), so the learner never prefers an action it has no evidence about; with
    ``pessimistic=False`` it is ``0`` (a naive, often optimistic guess). ``penalty > 0``
    subtracts a count-based bonus ``penalty / sqrt(N(s,a))``, a lower-confidence-bound style of
    pessimism in the spirit of conservative offline RL. ``mask`` removes contraindicated actions.
    """
    S, A = check_instance(data, "data", LoggedData).n_states, data.n_actions
    mask = np.ones((S, A), dtype=bool) if mask is None else check_mask(mask, S, A)
    check_flag(pessimistic, "pessimistic")
    check_real(penalty, "penalty")
    check_real(tol, "tol", open_low=True)
    max_iterations = check_positive_int(max_iterations, "max_iterations")
    check_real(unseen_q, "unseen_q", low=-np.inf, none=True)
    if unseen_q is None:
        if pessimistic:
            unseen_q = default_q_min(data)
        else:
            unseen_q = 0.0
    model = _EmpiricalModel(data)
    bonus = penalty / np.sqrt(np.maximum(model.N_sa, 1))
    neg = np.where(mask, 0.0, -np.inf)
    Q = np.where(mask, 0.0, -np.inf)
    k = 0
    for k in range(1, max_iterations + 1):  # noqa: B007
        V = (Q + neg).max(axis=1)
        Q_new = model.backup(V, unseen_q) - np.where(model.seen, bonus, 0.0) + neg
        diff = float(np.abs(Q_new[mask] - Q[mask]).max())
        Q = Q_new
        if diff < tol:
            break
    # Ties (e.g. a never-visited state) go to the most-logged allowed action, then the lowest index.
    score = np.where(mask, Q, -np.inf)
    best = score >= score.max(axis=1, keepdims=True) - 1e-12
    policy = np.where(best, model.N_sa + 1.0, 0.0).argmax(axis=1)
    pi = np.zeros((S, A))
    pi[np.arange(S), policy] = 1.0
    return OfflineResult(policy, pi, Q, model.N_sa, k)


def behaviour_cloning(data: LoggedData, *, mask: Any = None, smoothing: float = 0.0) -> OfflineResult:
    """Imitate the clinicians: ``pi_BC(a|s) = (N(s,a) + smoothing) / sum_{a' in A(s)} (N(s,a') + smoothing)``.

    ``policy[s]`` is the most logged allowed action (lowest index on ties); states never
    logged get the uniform distribution over allowed actions.
    """
    S, A = check_instance(data, "data", LoggedData).n_states, data.n_actions
    mask = np.ones((S, A), dtype=bool) if mask is None else check_mask(mask, S, A)
    check_real(smoothing, "smoothing")
    N = data.counts().astype(float)
    c = np.where(mask, N + smoothing, 0.0)
    tot = c.sum(axis=1, keepdims=True)
    pi = np.where(tot > 0, c / np.where(tot > 0, tot, 1), mask / mask.sum(axis=1, keepdims=True))
    policy = np.where(mask, N, -1.0).argmax(axis=1)
    return OfflineResult(policy, pi, N, N, 0)


