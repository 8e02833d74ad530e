"""Reference solutions for notebooks/exercises/ex03_dp.py (book chapter 2, dynamic programming)."""

from __future__ import annotations

import numpy as np


def policy_evaluation_sweep(P, R, gamma: float, pi, V):
    """One synchronous sweep of iterative policy evaluation.

    ``V_{k+1}(s) = sum_a pi(a|s) [ R(s,a) + gamma * sum_s' P(s'|s,a) V_k(s') ]`` for every ``s``,
    using only the old values ``V_k`` on the right-hand side.

    Parameters
    ----------
    P : ``[S, A, S]`` array; R : ``[S, A]`` array; gamma : float;
    pi : ``[S, A]`` array of action probabilities; V : ``[S]`` array, ``V_k``.

    Returns
    -------
    ``[S]`` array, ``V_{k+1}`` (a new array; ``V`` is left unchanged).
    """
    Q = R + gamma * P @ V  # [S, A]
    return (pi * Q).sum(axis=1)


def evaluate_policy(P, R, gamma: float, pi, tol: float = 1e-10, max_sweeps: int = 100_000):
    """Iterative policy evaluation: sweep from ``V_0 = 0`` until ``max_s |V_{k+1}(s) - V_k(s)| < tol``.

    Parameters
    ----------
    P, R, gamma, pi : as in :func:`policy_evaluation_sweep`.
    tol : stopping threshold on the largest change in one sweep.
    max_sweeps : give up (raise ``RuntimeError``) after this many sweeps.

    Returns
    -------
    ``[S]`` array, ``V^pi`` to within about ``tol``.
    """
    V = np.zeros(P.shape[0])
    for _ in range(max_sweeps):
        V_new = policy_evaluation_sweep(P, R, gamma, pi, V)
        if np.max(np.abs(V_new - V)) < tol:
            return V_new
        V = V_new
    raise RuntimeError(f"policy evaluation did not converge in {max_sweeps} sweeps")


def greedy_policy(P, R, gamma: float, V):
    """Greedy policy improvement: ``pi'(s) = argmax_a [ R(s,a) + gamma * sum_s' P(s'|s,a) V(s') ]``.

    Parameters
    ----------
    P : ``[S, A, S]`` array; R : ``[S, A]`` array; gamma : float; V : ``[S]`` array.

    Returns
    -------
    ``[S]`` integer array, one greedy action per state (any maximiser is fine on ties).
    """
    return np.argmax(R + gamma * P @ V, axis=1)


def value_iteration(P, R, gamma: float, tol: float = 1e-10, max_sweeps: int = 100_000):
    """Value iteration: ``V_{k+1}(s) = max_a [ R(s,a) + gamma * sum_s' P(s'|s,a) V_k(s') ]`` from ``V_0 = 0``.

    Stop when ``max_s |V_{k+1}(s) - V_k(s)| < tol``.

    Returns
    -------
    V : ``[S]`` array, approximately ``V*``.
    policy : ``[S]`` integer array, greedy with respect to the returned ``V``.
    """
    V = np.zeros(P.shape[0])
    for _ in range(max_sweeps):
        V_new = np.max(R + gamma * P @ V, axis=1)
        done = np.max(np.abs(V_new - V)) < tol
        V = V_new
        if done:
            return V, greedy_policy(P, R, gamma, V)
    raise RuntimeError(f"value iteration did not converge in {max_sweeps} sweeps")
