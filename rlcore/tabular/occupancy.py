"""Discounted occupancy measures: how often a policy visits each state-action pair.

Book: *Healthcare*, "Safety constraints" (a policy's value for any reward is linear in its occupancy).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rlcore.core.mdp import TabularMDP
from rlcore.tabular.dp import as_policy_table

__all__ = ["occupancy"]


def occupancy(mdp: TabularMDP, pi: Any, initial: Any = None) -> np.ndarray:
    """Discounted state-action occupancy ``d(s, a) = sum_t gamma^t P(s_t = s, a_t = a)``, ``[S, A]``.

    Solves ``d_S = mu_0 + gamma (P^pi)^T d_S`` (with terminating transitions removed) and sets
    ``d(s, a) = d_S(s) pi(a|s)``; then ``v(pi) = sum_{s,a} d(s, a) R(s, a)`` for any reward.
    """
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    table = as_policy_table(mdp, pi)
    mu = mdp.initial if initial is None else np.asarray(initial, dtype=float)
    M = mdp.policy_matrix(table)
    d_s = spla.spsolve((sp.identity(mdp.n_states, format="csc") - M.T).tocsc(), mu)
    return np.atleast_1d(d_s)[:, None] * table
