"""Reference solutions for notebooks/exercises/ex15_foundations.py (book chapter 8, mathematical foundations)."""

from __future__ import annotations

import math

import numpy as np


def contraction_bound_sweeps(gamma: float, eps: float, initial_error: float) -> int:
    """Sweeps of value iteration after which the contraction bound guarantees accuracy ``eps``.

    The bound is ``||V_k - V*||_inf <= gamma^k ||V_0 - V*||_inf``. Return the smallest integer
    ``k >= 0`` with ``gamma^k * initial_error <= eps`` (note: ``<=``, so an exact power counts).

    Parameters
    ----------
    gamma : discount factor, ``0 <= gamma < 1``.
    eps : target accuracy, ``> 0``.
    initial_error : ``||V_0 - V*||_inf``, ``>= 0``.

    Returns
    -------
    int, the number of sweeps ``k`` (0 when ``initial_error <= eps`` already).
    """
    if initial_error <= eps:
        return 0
    if gamma == 0.0:
        return 1
    k = max(0, math.ceil(math.log(eps / initial_error) / math.log(gamma)))
    # the logarithms can round either way at an exact power: settle k on the inequality itself
    while gamma**k * initial_error > eps:
        k += 1
    while k > 0 and gamma ** (k - 1) * initial_error <= eps:
        k -= 1
    return int(k)


def greedy_loss_bound(gamma: float, err: float) -> float:
    """Worst-case value lost by acting greedily on an approximate value function.

    If ``||V - V*||_inf <= err`` and ``pi`` is greedy with respect to ``V``, then
    ``||V* - V^pi||_inf <= 2 * gamma * err / (1 - gamma)`` (Singh and Yee, 1994). Return that bound.

    Parameters
    ----------
    gamma : discount factor, ``0 <= gamma < 1``.
    err : ``||V - V*||_inf``, ``>= 0``.

    Returns
    -------
    float, ``2 gamma err / (1 - gamma)``.
    """
    return 2.0 * gamma * err / (1.0 - gamma)


def soft_backup(Q, pi_ref, beta: float):
    """The KL-regularised (soft) backup of a table of action values, computed without overflow.

    ``f(Q)(s) = beta * log sum_a pi_ref(a|s) exp(Q(s, a) / beta)`` for every state ``s``.
    Actions with ``pi_ref(a|s) = 0`` must not count, whatever their ``Q``. Subtract the largest
    ``Q(s, a)`` over the allowed actions before exponentiating (log-sum-exp), so that a small
    ``beta`` neither overflows nor loses the answer; use numpy only.

    Parameters
    ----------
    Q : ``[S, A]`` array of action values.
    pi_ref : ``[S, A]`` array, rows are probability distributions (zeros allowed).
    beta : temperature, ``> 0``.

    Returns
    -------
    ``[S]`` array, ``f(Q)``.
    """
    Q = np.asarray(Q, dtype=float)
    pi_ref = np.asarray(pi_ref, dtype=float)
    allowed = pi_ref > 0
    top = np.where(allowed, Q, -np.inf).max(axis=1, keepdims=True)
    z = np.where(allowed, np.exp((np.where(allowed, Q, top) - top) / beta), 0.0)
    return top[:, 0] + beta * np.log((pi_ref * z).sum(axis=1))
