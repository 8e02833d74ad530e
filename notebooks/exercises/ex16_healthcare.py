"""Exercises for chapter 9, healthcare: importance sampling, effective sample size, contraindication masks.

Companion notebook: notebooks/16_healthcare.ipynb. The treatment models are teaching models, not clinical tools.
Fill in each function body (replace the ``raise NotImplementedError``), then check your work with

    python -m pytest tests/exercises --student -k ex16
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (you will need it)


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
    raise NotImplementedError("w_i = prod_t pi_probs / mu_probs; G_i = sum_t gamma**t r_t; divide by sum(w), not N")


def effective_sample_size(weights):
    """Kish's effective sample size of importance weights, ``ESS = (sum_i w_i)^2 / sum_i w_i^2``.

    Parameters
    ----------
    weights : ``[N]`` array of non-negative episode weights ``w_i``.

    Returns
    -------
    float between 1 and ``N`` (``N`` when all weights are equal); ``0.0`` if every weight is zero.
    """
    raise NotImplementedError("square the sum of the weights and divide by the sum of their squares")


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
    raise NotImplementedError("set the masked entries of a copy of Q to -inf, then take np.argmax over the action axis")
