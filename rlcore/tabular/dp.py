"""Dynamic programming: policy evaluation, policy iteration and value iteration.

Book: *Fundamental concepts* and *Mathematical foundations*, "Convergence guarantees".

All three read the model through one primitive, the Bellman backup
[`TabularMDP.q_from_v`][]:

    Q(s, a) = R(s, a) + gamma * sum_s' P(s'|s, a) (1 - done) V(s')

so a sweep costs ``O(S * A * K)`` with ``K`` successors per pair.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from rlcore.core.mdp import TabularMDP
from rlcore.core.policies import check_mask
from rlcore.core.validation import check_array, check_choice, check_instance
from rlcore.tabular.common import (  # noqa: F401 (re-exported)
    ConvergenceWarning,
    DPResult,
    _check_budget,
    _fixed_point,
    _warn,
    as_policy_table,
    never_terminating,
    policy_table,
)
from rlcore.tabular.finite_horizon import backward_induction

__all__ = ["DPResult", "ConvergenceWarning", "policy_evaluation", "policy_iteration",
           "value_iteration", "bellman_optimality_residual", "as_policy_table", "policy_table", "proper_policy"]


def bellman_optimality_residual(mdp: TabularMDP, V: np.ndarray) -> float:
    """``max_s |(T V)(s) - V(s)|`` with ``(T V)(s) = max_a Q(s, a)``: zero exactly at ``V*``."""
    V = check_array(V, "V", shape=(check_instance(mdp, "mdp", TabularMDP).n_states,))
    return float(np.abs(mdp.q_from_v(V).max(axis=1) - V).max())


def policy_evaluation(
    mdp: TabularMDP,
    pi: Any,
    *,
    method: str = "exact",
    tol: float = 1e-10,
    max_iterations: int = 100_000,
    V0: np.ndarray | None = None,
    progress: bool = False,
) -> DPResult:
    """Value of a fixed policy: ``V^pi = R^pi + gamma P^pi V^pi``.

    ``method="exact"`` solves the linear system ``(I - gamma P^pi) V = R^pi``
    (sparse, so it scales to large MDPs); ``method="iterative"`` sweeps
    ``V <- R^pi + gamma P^pi V`` until ``max_s |V_{k+1} - V_k| < tol``.

    ``pi`` is an ``[S, A]`` table of probabilities or an ``[S]`` array of actions.

    An MDP with a ``horizon`` ``H`` is evaluated exactly by backward induction,
    ``V_t = R^pi + gamma P^pi V_{t+1}`` from ``V_H = 0`` (``method``, ``tol`` and
    ``max_iterations`` play no part); ``V`` is then ``V_0`` and ``V_by_step`` holds every ``V_t``.
    """
    table = as_policy_table(mdp, pi)
    _check_budget(tol, max_iterations, progress)
    if method not in ("exact", "iterative"):
        raise ValueError(f"method must be 'exact' or 'iterative', got {method!r}")
    if V0 is not None and (method == "exact" or mdp.horizon is not None):
        raise ValueError("V0 only applies to method='iterative' without a horizon (it is the sweeps' start)")
    if mdp.horizon is not None:
        return backward_induction(mdp, mdp.horizon, table)
    S = mdp.n_states
    rows = np.arange(S)
    R_pi = (table * mdp._R).sum(axis=1)
    if method == "exact":
        import scipy.sparse as sp
        import scipy.sparse.linalg as spla

        if mdp.gamma == 1.0:
            stuck = np.flatnonzero(never_terminating(mdp, table))
            if stuck.size:
                name = mdp.state_names[stuck[0]]
                raise ValueError(f"with gamma = 1 the policy must reach a terminal state from every state; from "
                                 f"{stuck.size} state(s), {name} among them, it never does, so V^pi is not finite "
                                 f"(give the MDP a horizon or gamma < 1, or use method='iterative' to see it "
                                 f"diverge)")
        M = mdp.policy_matrix(table)  # gamma P^pi, terminating transitions removed
        with warnings.catch_warnings():
            warnings.simplefilter("error", spla.MatrixRankWarning)
            try:
                V = spla.spsolve((sp.identity(S, format="csc") - M).tocsc(), R_pi)
            except (spla.MatrixRankWarning, RuntimeError) as exc:
                raise ValueError("I - gamma P^pi is singular: with gamma = 1 the policy must reach a "
                                 "terminal state from every state (use method='iterative' to see "
                                 "it diverge)") from exc
        V = np.atleast_1d(np.asarray(V, dtype=float))
        if not np.all(np.isfinite(V)):
            raise ValueError("policy evaluation produced non-finite values: the policy may never terminate")
        Q = mdp.q_from_v(V)
        return DPResult(V=V, Q=Q, policy=Q.argmax(axis=1), iterations=1, converged=True,
                        history=np.zeros(0))
    if method != "iterative":
        raise ValueError(f"method must be 'exact' or 'iterative', got {method!r}")

    deterministic = np.isin(table, (0.0, 1.0)).all()
    V = np.zeros(S) if V0 is None else check_array(V0, "V0").copy()
    if V.shape != (S,):
        raise ValueError(f"V0 must have shape ({S},), got {V.shape}")
    if deterministic:  # gather only the chosen action: O(S * K) per sweep
        a = table.argmax(axis=1)
        cont, nxt = mdp._cont[rows, a], mdp.next_state[rows, a]
    else:
        W = table[:, :, None] * mdp._cont

    def sweep(V: np.ndarray) -> np.ndarray:
        if deterministic:
            return R_pi + (cont * V[nxt]).sum(axis=1)
        return R_pi + (W * V[mdp.next_state]).sum(axis=(1, 2))

    V, history, converged = _fixed_point(sweep, V, tol, max_iterations, progress, "policy evaluation")
    Q = mdp.q_from_v(V)
    return DPResult(V=V, Q=Q, policy=Q.argmax(axis=1), iterations=len(history), converged=converged,
                    history=history)


def value_iteration(
    mdp: TabularMDP,
    *,
    tol: float = 1e-8,
    max_iterations: int = 100_000,
    V0: np.ndarray | None = None,
    progress: bool = False,
    mask: np.ndarray | None = None,
) -> DPResult:
    """Value iteration: ``V_{k+1}(s) = max_a [R(s,a) + gamma sum_s' P(s'|s,a) V_k(s')]``.

    Stops when ``max_s |V_{k+1}(s) - V_k(s)| < tol``. For ``gamma < 1`` the
    Bellman optimality operator is a ``gamma``-contraction in the sup norm, so
    the final error to ``V*`` is at most ``tol * gamma / (1 - gamma)``.
    Returns ``V``, the greedy ``policy`` and ``Q`` computed from the final sweep.

    ``mask`` (``[S, A]`` bool, True = allowed) restricts the max to the allowed
    actions, ``V_{k+1}(s) = max_{a in A(s)} Q_k(s, a)``: masked entries get
    ``-inf`` added, so the returned ``Q`` is ``-inf`` there and ``policy`` never
    picks them.

    An MDP with a ``horizon`` ``H`` is solved exactly by backward induction instead
    ([`rlcore.tabular.finite_horizon.backward_induction`][]): ``H`` backups from ``V_H = 0``,
    a step-dependent policy in ``policy_by_step`` (``policy`` is step 0's), no tolerance.
    """
    _check_budget(tol, max_iterations, progress)
    mask = check_mask(mask, check_instance(mdp, "mdp", TabularMDP).n_states, mdp.n_actions, mdp.state_names)
    if mdp.horizon is not None:
        if V0 is not None:
            raise ValueError("V0 has no role with a horizon: backward induction starts from V_H = 0")
        return backward_induction(mdp, mdp.horizon, None, mask)
    S, A, K = mdp.prob.shape
    V = np.zeros(S) if V0 is None else check_array(V0, "V0").copy()
    if V.shape != (S,):
        raise ValueError(f"V0 must have shape ({S},), got {V.shape}")
    # Successor-major copies [K, A, S] make every array operation of the sweep contiguous.
    cont, nxt, R = mdp._successor_major()
    if mask is not None:  # an additive [A, S] penalty keeps the sweep unchanged
        R = R + np.where(mask.T, 0.0, -np.inf)
    gathered = np.empty((K, A, S))
    Q = np.empty((A, S))

    def sweep(V: np.ndarray) -> np.ndarray:
        np.take(V, nxt, out=gathered, mode="clip")  # indices are valid; "clip" avoids a buffer
        np.multiply(gathered, cont, out=gathered)
        np.sum(gathered, axis=0, out=Q)
        np.add(Q, R, out=Q)
        return Q.max(axis=0)

    V, history, converged = _fixed_point(sweep, V, tol, max_iterations, progress, "value iteration")
    Q = np.ascontiguousarray(Q.T)
    return DPResult(V=V, Q=Q, policy=Q.argmax(axis=1), iterations=len(history),
                    converged=converged, history=history)


def proper_policy(mdp: TabularMDP, mask: np.ndarray | None = None) -> np.ndarray:
    """A policy that terminates with probability one from every state that can terminate.

    Each state picks an action with a positive chance of moving one step
    closer (in hops) to a terminating transition. Policy iteration with
    ``gamma = 1`` needs such a *proper* starting policy: an improper one has
    infinite (or undefined) value and ``I - P^pi`` is singular. With a ``mask``
    only allowed actions are used (states that cannot terminate keep their
    first allowed action).
    """
    S, A, _ = check_instance(mdp, "mdp", TabularMDP).prob.shape
    mask = check_mask(mask, S, A, mdp.state_names)
    live = mdp.prob > 0
    if mask is not None:
        live = live & mask[:, :, None]
    hops = np.full(S, np.inf)
    policy = np.zeros(S, dtype=np.int64) if mask is None else mask.argmax(axis=1).astype(np.int64)
    reach = (live & mdp.done).any(axis=2)  # [S, A]: can terminate right now
    for k in range(S + 1):
        fresh = np.isinf(hops) & reach.any(axis=1)
        if not fresh.any():
            break
        hops[fresh] = k
        policy[fresh] = reach[fresh].argmax(axis=1)
        reach = (live & np.isfinite(hops)[mdp.next_state]).any(axis=2)
    return policy


def policy_iteration(
    mdp: TabularMDP,
    *,
    policy0: np.ndarray | None = None,
    evaluation: str = "exact",
    max_iterations: int = 1_000,
    tol: float = 1e-10,
    progress: bool = False,
    mask: np.ndarray | None = None,
) -> DPResult:
    """Policy iteration (Howard, 1960): evaluate ``pi_k``, then act greedily on ``Q^{pi_k}``.

    ``pi_{k+1}(s) = argmax_a Q^{pi_k}(s, a)``; an action changes only when it is
    strictly better (by more than ``1e-12`` relative), so the loop cannot cycle
    between tied policies and stops when the policy is stable.

    ``mask`` (``[S, A]`` bool, True = allowed) restricts both the start policy and
    every improvement step to allowed actions, ``argmax_{a in A(s)}``; the
    returned ``Q`` is ``-inf`` at masked entries.

    For an MDP with a ``horizon`` the optimal policy depends on the step, which no stationary
    ``pi_k`` can express: the problem is solved by backward induction, exactly as
    [`value_iteration`][] does (``policy0`` and ``evaluation`` are then only validated).
    """
    _check_budget(tol, max_iterations, progress)
    check_choice(evaluation, "evaluation", ("exact", "iterative"))
    S = check_instance(mdp, "mdp", TabularMDP).n_states
    mask = check_mask(mask, S, mdp.n_actions, mdp.state_names)
    if policy0 is not None:
        policy = np.asarray(policy0).copy()
        if policy.shape != (S,):
            raise ValueError(f"policy0 must be an [S] = ({S},) array of actions, got shape {policy.shape}")
        policy_table(policy, S, mdp.n_actions, "policy0")
    elif mdp.gamma < 1:
        policy = np.zeros(S, dtype=np.int64) if mask is None else mask.argmax(axis=1).astype(np.int64)
    else:  # undiscounted: start from a policy that surely terminates
        policy = proper_policy(mdp, mask)
    as_policy_table(mdp, policy)  # validates shape and range
    if mask is not None and not mask[np.arange(S), policy].all():
        s = int(np.flatnonzero(~mask[np.arange(S), policy])[0])
        raise ValueError(f"policy0 takes masked action {int(policy[s])} in state {s}; start from allowed actions")
    if mdp.horizon is not None:
        return backward_induction(mdp, mdp.horizon, None, mask)
    penalty = None if mask is None else np.where(mask, 0.0, -np.inf)
    rows = np.arange(S)
    history = []
    converged = False
    result = None
    bar = tqdm(total=max_iterations, disable=not progress, desc="policy iteration", leave=False)
    for _ in range(max_iterations):
        result = policy_evaluation(mdp, policy, method=evaluation, tol=tol)
        Q = result.Q if penalty is None else result.Q + penalty
        history.append(float(np.abs(Q.max(axis=1) - result.V).max()))
        best = Q.argmax(axis=1)
        current = Q[rows, policy]
        improve = Q[rows, best] > current + 1e-12 * np.maximum(1.0, np.abs(current))
        bar.update()
        if not improve.any():
            converged = True
            break
        policy = np.where(improve, best, policy)
    bar.close()
    if not converged:
        _warn("policy iteration", len(history), history[-1], tol)
    return DPResult(V=result.V, Q=Q, policy=policy, iterations=len(history),
                    converged=converged, history=np.asarray(history))
