"""KL-regularised ("soft") value iteration: the optimum of reward minus ``beta`` times the KL to a reference.

Book: *RLHF*, "The KL penalty" and *Case studies*, "Reward over-optimisation" (the tabular picture).

For a reference policy ``pi_ref`` and ``beta > 0`` the objective
``E[sum_t gamma^t (r_t - beta KL(pi(.|s_t) || pi_ref(.|s_t)))]`` has the Bellman equation

    V(s) = beta log sum_a pi_ref(a|s) exp(Q(s, a) / beta),   Q = R + gamma P V,

and its optimal policy tilts the reference, ``pi_beta(a|s) proportional to pi_ref(a|s) exp(Q(s, a) / beta)``:
the per-state version of the RLHF optimum ``pi*(y|x) proportional to pi_ref(y|x) exp(r(x, y) / beta)``.
``beta -> 0`` recovers value iteration; ``beta -> infinity`` keeps ``pi_ref``.
The soft backup is a ``gamma``-contraction, so the iteration converges from any start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import logsumexp

from rlcore.core.exploration import boltzmann_probs
from rlcore.core.mdp import TabularMDP
from rlcore.core.validation import check_instance, check_real
from rlcore.tabular.common import _check_budget, _fixed_point, policy_table

__all__ = ["SoftResult", "soft_value_iteration"]


@dataclass(frozen=True)
class SoftResult:
    """``V``, ``Q`` ``[S, A]`` and the tilted policy ``pi`` ``[S, A]`` of [`soft_value_iteration`][]."""

    V: np.ndarray
    Q: np.ndarray
    pi: np.ndarray
    beta: float
    iterations: int
    converged: bool
    history: np.ndarray = field(repr=False)


def soft_value_iteration(mdp: TabularMDP, pi_ref: Any, beta: float, *, tol: float = 1e-10,
                         max_iterations: int = 100_000, progress: bool = False) -> SoftResult:
    """Iterate ``V <- beta log sum_a pi_ref(a|s) exp(Q_V(s, a) / beta)`` until ``max_s |V_{k+1} - V_k| < tol``.

    ``pi_ref`` is an ``[S, A]`` table (or ``[S]`` actions, which makes every other
    action impossible). Actions with ``pi_ref(a|s) = 0`` keep probability 0 in ``pi``.
    """
    if check_instance(mdp, "mdp", TabularMDP).horizon is not None:
        raise ValueError(f"soft_value_iteration solves the task without a horizon; this MDP has horizon "
                         f"{mdp.horizon} (pass mdp.with_horizon(None) for the discounted infinite-horizon task)")
    beta = check_real(beta, "beta", open_low=True)
    _check_budget(tol, max_iterations, progress)
    ref = policy_table(pi_ref, mdp.n_states, mdp.n_actions, "pi_ref")
    with np.errstate(divide="ignore"):
        log_ref = np.log(ref)

    def sweep(V: np.ndarray) -> np.ndarray:
        return beta * logsumexp(mdp.q_from_v(V) / beta + log_ref, axis=1)

    V, history, converged = _fixed_point(sweep, np.zeros(mdp.n_states), tol, max_iterations, progress,
                                         "soft value iteration")
    Q = mdp.q_from_v(V)
    return SoftResult(V, Q, boltzmann_probs(Q + beta * log_ref, beta), beta, len(history), converged, history)
