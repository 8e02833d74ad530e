"""Exercises for chapter 2, *Fundamental concepts*: returns, Bellman backups, a hand-built MDP.

Companion notebook: notebooks/02_mdps_and_gridworld.ipynb.
Fill in each function body (replace the ``raise NotImplementedError``), then check your work with

    python -m pytest tests/exercises --student -k ex02

Notation follows the book: ``P[s, a, s2] = P(s2|s,a)``, ``R[s, a]``, ``V[s]``, ``pi[s, a] = pi(a|s)``.
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (you will need it)


def discounted_return(rewards, gamma: float) -> float:
    """Discounted return of one episode, ``G_0 = sum_k gamma^k r_{k+1}``.

    Parameters
    ----------
    rewards : ``[T]`` array of floats, the rewards ``r_1 .. r_T`` in the order received.
    gamma : discount factor in ``[0, 1]``.

    Returns
    -------
    float, ``G_0`` (0.0 for an empty episode).
    """
    raise NotImplementedError("loop over the rewards backwards with G <- r + gamma * G")


def bellman_expectation_backup(P, R, gamma: float, V, pi, s: int) -> float:
    """One Bellman expectation backup for a single state ``s``.

    ``V_new(s) = sum_a pi(a|s) [ R(s,a) + gamma * sum_s' P(s'|s,a) V(s') ]``

    Parameters
    ----------
    P : ``[S, A, S]`` array, ``P[s, a, s2] = P(s2 | s, a)``.
    R : ``[S, A]`` array, expected immediate reward ``R(s, a)``.
    gamma : discount factor.
    V : ``[S]`` array, current value estimate.
    pi : ``[S, A]`` array, ``pi[s, a] = pi(a|s)`` (rows sum to one).
    s : the state to back up.

    Returns
    -------
    float, the backed-up value ``V_new(s)``.
    """
    raise NotImplementedError("R[s] + gamma * P[s] @ V gives one value per action; average it with pi[s]")


def bellman_optimality_backup(P, R, gamma: float, V, s: int) -> float:
    """One Bellman optimality backup for a single state ``s``.

    ``V_new(s) = max_a [ R(s,a) + gamma * sum_s' P(s'|s,a) V(s') ]``

    Parameters
    ----------
    P : ``[S, A, S]`` array; R : ``[S, A]`` array; V : ``[S]`` array; s : state index.

    Returns
    -------
    float, the backed-up value ``V_new(s)``.
    """
    raise NotImplementedError("like the expectation backup, but take the max over actions instead of averaging")


def two_state_mdp(p: float, cost: float) -> tuple[np.ndarray, np.ndarray]:
    """Dense ``P`` and ``R`` of the two-state "thermostat" MDP.

    States: ``0`` = room too cold, ``1`` = room comfortable.
    Actions: ``0`` = wait, ``1`` = heat.

    * wait: the state does not change (probability 1).
    * heat in state 0: the room becomes comfortable with probability ``p``, else stays cold.
    * heat in state 1: the room stays comfortable (probability 1).
    * reward: ``R(s, a) = [s == 1] - cost * [a == 1]``
      (1 for each step spent comfortable, minus ``cost`` whenever you heat).

    Returns
    -------
    P : ``[2, 2, 2]`` array, ``P[s, a, s2] = P(s2 | s, a)``.
    R : ``[2, 2]`` array, ``R[s, a]``.
    """
    raise NotImplementedError("start from np.zeros((2, 2, 2)) and fill P[s, a] row by row; every row must sum to 1")
