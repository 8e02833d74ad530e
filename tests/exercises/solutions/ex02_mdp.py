"""Reference solutions for notebooks/exercises/ex02_mdp.py (book chapter 2, *Fundamental concepts*)."""

from __future__ import annotations

import numpy as np


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
    G = 0.0
    for r in reversed(list(np.asarray(rewards, dtype=float))):
        G = r + gamma * G
    return float(G)


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
    q = R[s] + gamma * P[s] @ V  # [A]: one-step lookahead for every action
    return float(pi[s] @ q)


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
    return float(np.max(R[s] + gamma * P[s] @ V))


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
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = 1.0          # cold, wait -> cold
    P[1, 0, 1] = 1.0          # comfortable, wait -> comfortable
    P[0, 1] = [1.0 - p, p]    # cold, heat -> comfortable with probability p
    P[1, 1, 1] = 1.0          # comfortable, heat -> comfortable
    R = np.array([[0.0, -cost], [1.0, 1.0 - cost]])
    return P, R
