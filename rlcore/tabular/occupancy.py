"""Discounted occupancy measures: how often a policy visits each state-action pair.

Book: *Healthcare*, "Safety constraints" (a policy's value for any reward is linear in its occupancy).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rlcore.core.mdp import TabularMDP
from rlcore.core.validation import check_probability_vector
from rlcore.tabular.dp import as_policy_table, never_terminating

__all__ = ["occupancy"]


def occupancy(mdp: TabularMDP, pi: Any, initial: Any = None) -> np.ndarray:
    """Discounted state-action occupancy ``d(s, a) = sum_t gamma^t P(s_t = s, a_t = a)``, ``[S, A]``.

    Solves ``d_S = mu_0 + gamma (P^pi)^T d_S`` (with terminating transitions removed) and sets
    ``d(s, a) = d_S(s) pi(a|s)``; then ``v(pi) = sum_{s,a} d(s, a) R(s, a)`` for any reward.
    For an MDP with a ``horizon`` ``H`` the sum stops at ``t = H - 1``: ``d_S = sum_{t<H} mu_t``
    with ``mu_{t+1} = gamma (P^pi)^T mu_t`` (the same value as backward induction gives).
    """
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    table = as_policy_table(mdp, pi)
    mu = mdp.initial if initial is None else check_probability_vector(initial, mdp.n_states, "initial")
    M = mdp.policy_matrix(table)
    if mdp.horizon is not None:
        d_s, mu_t, MT = np.zeros(mdp.n_states), mu, M.T.tocsr()
        for _ in range(mdp.horizon):
            d_s = d_s + mu_t
            mu_t = MT @ mu_t
        return d_s[:, None] * table
    if mdp.gamma == 1.0 and (stuck := np.flatnonzero(never_terminating(mdp, table))).size:
        raise ValueError(f"with gamma = 1 the policy pi must end the episode from every state; from {stuck.size} "
                         f"state(s), {mdp.state_names[stuck[0]]} among them, it never does: the occupancy is infinite")
    d_s = spla.spsolve((sp.identity(mdp.n_states, format="csc") - M.T).tocsc(), mu)
    return np.atleast_1d(d_s)[:, None] * table
