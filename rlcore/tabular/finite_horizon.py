"""Finite-horizon planning: backward induction over the steps of an ``H``-step task.

Book: *Mathematical foundations*, "Bellman equations" (the finite-horizon case) and
*Implementation guide*, "One value per policy".

With a horizon ``H`` nothing is earned after step ``H``, so the value depends on the step:
``V_H = 0`` and, going backwards for ``t = H-1, ..., 0``,

    Q_t(s, a) = R(s, a) + gamma * sum_s' P(s'|s, a) (1 - done) V_{t+1}(s')
    V_t(s)    = max_{a in A(s)} Q_t(s, a)          (optimal control)
    V_t(s)    = sum_a pi(a|s) Q_t(s, a)            (evaluation of a fixed pi)

``H`` backups solve the problem exactly: no tolerance, no fixed point, and ``gamma = 1`` is
as easy as any other discount. The optimal policy ``pi_t`` is in general *non-stationary*
(near the end it may pay to act differently), which is why the result keeps every step.
"""

from __future__ import annotations

import numpy as np

from rlcore.core.mdp import TabularMDP
from rlcore.core.validation import check_instance, check_mask, check_positive_int
from rlcore.tabular.common import DPResult, policy_table

__all__ = ["backward_induction"]


def backward_induction(mdp: TabularMDP, horizon: int, pi_table: np.ndarray | None = None,
                       mask: np.ndarray | None = None) -> DPResult:
    """Solve (``pi_table=None``) or evaluate (an ``[S, A]`` table) the ``horizon``-step task exactly.

    Returns a [`DPResult`][rlcore.tabular.common.DPResult] whose ``V``, ``Q`` and ``policy``
    are those of step 0 and whose ``V_by_step`` ``[H+1, S]`` and ``policy_by_step`` ``[H, S]``
    hold every step; ``mask`` (validated ``[S, A]`` bool, True = allowed) restricts the max.
    ``iterations`` is ``H`` (one backup per step) and ``converged`` is always True.
    """
    H = check_positive_int(horizon, "horizon")
    S, A = check_instance(mdp, "mdp", TabularMDP).n_states, mdp.n_actions
    pi_table = None if pi_table is None else policy_table(pi_table, S, A, "pi_table")
    mask = check_mask(mask, S, A, mdp.state_names)
    penalty = None if mask is None else np.where(mask, 0.0, -np.inf)
    V = np.zeros((H + 1, S))
    policy = np.zeros((H, S), dtype=np.int64)
    Q = np.zeros((S, A))
    for t in range(H - 1, -1, -1):
        Q = mdp.q_from_v(V[t + 1])
        if penalty is not None:
            Q = Q + penalty
        policy[t] = Q.argmax(axis=1)
        V[t] = Q.max(axis=1) if pi_table is None else (pi_table * Q).sum(axis=1)
    return DPResult(V=V[0].copy(), Q=Q, policy=policy[0].copy(), iterations=H, converged=True,
                    history=np.zeros(0), V_by_step=V, policy_by_step=policy)
