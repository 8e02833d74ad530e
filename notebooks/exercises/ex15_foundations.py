"""Exercises for chapter 8, mathematical foundations: the contraction bound, the greedy-policy bound, the soft backup.

Companion notebook: notebooks/15_mathematical_foundations.ipynb.
Fill in each function body (replace the ``raise NotImplementedError``), then check your work with

    python -m pytest tests/exercises --student -k ex15

numpy only: no rlcore solvers and no scipy.
"""

from __future__ import annotations

import math  # noqa: F401  (you may need it)

import numpy as np  # noqa: F401  (you will need it)


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
    raise NotImplementedError("solve gamma^k * e0 <= eps for k with logarithms (log gamma < 0 flips the "
                              "inequality), round up, and make sure the inequality really holds at k")


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
    raise NotImplementedError("one line: the lookaheads move by gamma * err each way, and the loss repeats "
                              "over an effective horizon 1 / (1 - gamma)")


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
    raise NotImplementedError("m(s) = max of Q(s, a) over actions with pi_ref > 0; then "
                              "f = m + beta * log sum_a pi_ref * exp((Q - m) / beta)")
