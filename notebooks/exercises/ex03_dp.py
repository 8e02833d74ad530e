"""Exercises for chapter 2, dynamic programming: policy evaluation, improvement, value iteration.

Companion notebook: notebooks/03_dynamic_programming.ipynb.
Fill in each function body (replace the ``raise NotImplementedError``), then check your work with

    python -m pytest tests/exercises --student -k ex03

Everything works on the dense arrays ``P [S, A, S]`` and ``R [S, A]``; ``P @ V`` has shape ``[S, A]``.
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (you will need it)


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
    raise NotImplementedError("R + gamma * P @ V is the [S, A] table of one-step lookaheads; weight it by pi")


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
    raise NotImplementedError("call policy_evaluation_sweep in a loop until the largest change is below tol")


def greedy_policy(P, R, gamma: float, V):
    """Greedy policy improvement: ``pi'(s) = argmax_a [ R(s,a) + gamma * sum_s' P(s'|s,a) V(s') ]``.

    Parameters
    ----------
    P : ``[S, A, S]`` array; R : ``[S, A]`` array; gamma : float; V : ``[S]`` array.

    Returns
    -------
    ``[S]`` integer array, one greedy action per state (any maximiser is fine on ties).
    """
    raise NotImplementedError("compute Q = R + gamma * P @ V and take np.argmax over the action axis")


def value_iteration(P, R, gamma: float, tol: float = 1e-10, max_sweeps: int = 100_000):
    """Value iteration: ``V_{k+1}(s) = max_a [ R(s,a) + gamma * sum_s' P(s'|s,a) V_k(s') ]`` from ``V_0 = 0``.

    Stop when ``max_s |V_{k+1}(s) - V_k(s)| < tol``.

    Returns
    -------
    V : ``[S]`` array, approximately ``V*``.
    policy : ``[S]`` integer array, greedy with respect to the returned ``V``.
    """
    raise NotImplementedError("like evaluate_policy, but replace the average over pi by a max over actions")
