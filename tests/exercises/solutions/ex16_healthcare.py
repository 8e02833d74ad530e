"""Reference solutions for notebooks/exercises/ex16_healthcare.py (book chapter 9, healthcare)."""

from __future__ import annotations

import numpy as np


def weighted_importance_sampling(rewards, pi_probs, mu_probs, gamma: float):
    """Weighted importance sampling (WIS) estimate of ``v(pi)`` from ``N`` logged episodes.

    With ``rho_t = pi(a_t|s_t) / mu(a_t|s_t)``, episode weight ``w_i = prod_t rho_t`` and discounted
    return ``G_i = sum_t gamma^t r_t``, the estimate is ``sum_i w_i G_i / sum_i w_i``.

    Parameters
    ----------
    rewards : ``[N, H]`` array, ``r_t`` of episode ``i`` at step ``t`` (0 after the episode ended).
    pi_probs : ``[N, H]`` array, ``pi(a_t|s_t)`` of the logged action under the evaluated policy
        (1 after the episode ended).
    mu_probs : ``[N, H]`` array, ``mu(a_t|s_t)`` of the logged action under the behaviour policy
        (1 after the episode ended).
    gamma : discount factor.

    Returns
    -------
    float, the WIS estimate; ``nan`` if every episode has weight zero.
    """
    rewards = np.asarray(rewards, dtype=float)
    w = np.prod(np.asarray(pi_probs, dtype=float) / np.asarray(mu_probs, dtype=float), axis=1)
    G = rewards @ gamma ** np.arange(rewards.shape[1])
    total = w.sum()
    return float(w @ G / total) if total > 0 else float("nan")


def effective_sample_size(weights):
    """Kish's effective sample size of importance weights, ``ESS = (sum_i w_i)^2 / sum_i w_i^2``.

    Parameters
    ----------
    weights : ``[N]`` array of non-negative episode weights ``w_i``.

    Returns
    -------
    float between 1 and ``N`` (``N`` when all weights are equal); ``0.0`` if every weight is zero.
    """
    w = np.asarray(weights, dtype=float)
    den = float(w @ w)
    return float(w.sum() ** 2 / den) if den > 0 else 0.0


def masked_greedy_policy(Q, mask):
    """Greedy policy that never takes a contraindicated action: ``pi(s) = argmax_{a in A(s)} Q(s, a)``.

    Parameters
    ----------
    Q : ``[S, A]`` array of action values (any sign; may already hold ``-inf`` at masked entries).
    mask : ``[S, A]`` bool array, True where the action is allowed; every row allows at least one action.

    Returns
    -------
    ``[S]`` integer array of allowed actions (lowest index on ties). ``Q`` is left unchanged.
    """
    allowed = np.asarray(mask, dtype=bool)
    return np.where(allowed, np.asarray(Q, dtype=float), -np.inf).argmax(axis=1)
