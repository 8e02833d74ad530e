"""Reference solutions for notebooks/exercises/ex11_rlhf.py (book chapter 4, RLHF and direct alignment)."""

from __future__ import annotations

import numpy as np


def bradley_terry_loss(r_chosen, r_rejected) -> float:
    """Mean Bradley-Terry loss of a reward model on preference pairs (numpy).

    ``loss = -(1/N) sum_i log sigmoid(r_c,i - r_r,i)``: small when the chosen text scores higher.
    Compute ``-log sigmoid(d)`` as ``log(1 + exp(-d))`` in a way that does not overflow for large ``|d|``.

    Parameters
    ----------
    r_chosen, r_rejected : ``[N]`` arrays, the reward model's scores of the chosen and rejected texts.

    Returns
    -------
    float, the mean loss (``log 2`` when every pair scores equal).
    """
    d = np.asarray(r_chosen, dtype=float) - np.asarray(r_rejected, dtype=float)
    return float(np.mean(np.logaddexp(0.0, -d)))


def dpo_loss(chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps, beta: float) -> float:
    """Mean DPO loss (the sigmoid form) of preference pairs, from sequence log-probabilities (numpy).

    ``h_i = [log pi(y_c) - log pi_ref(y_c)] - [log pi(y_r) - log pi_ref(y_r)]`` and
    ``loss = -(1/N) sum_i log sigmoid(beta h_i)``.

    Parameters
    ----------
    chosen_logps, rejected_logps : ``[N]`` arrays, ``log pi(y|x)`` of the policy.
    ref_chosen_logps, ref_rejected_logps : ``[N]`` arrays, the same under the reference.
    beta : float > 0.

    Returns
    -------
    float, the mean loss (``log 2`` when the policy is the reference).
    """
    h = (np.asarray(chosen_logps) - ref_chosen_logps) - (np.asarray(rejected_logps) - ref_rejected_logps)
    return float(np.mean(np.logaddexp(0.0, -beta * h)))


def group_advantages(rewards, group_size: int):
    """GRPO's group-relative advantages (numpy): ``A_i = (r_i - mean_g) / (std_g + 1e-4)``.

    Rows come in consecutive groups of ``group_size`` completions of one prompt; ``mean_g`` and
    ``std_g`` are the group's mean and *sample* standard deviation (``ddof=1``).

    Parameters
    ----------
    rewards : ``[B]`` array, ``B`` a multiple of ``group_size``.
    group_size : int >= 2.

    Returns
    -------
    ``[B]`` float array (zeros for a group whose rewards are all equal).
    """
    g = np.asarray(rewards, dtype=float).reshape(-1, group_size)
    centred = g - g.mean(axis=1, keepdims=True)
    return (centred / (g.std(axis=1, ddof=1, keepdims=True) + 1e-4)).reshape(-1)


def kl_estimators(logp, ref_logp):
    """The three per-sample estimators of ``KL(pi || pi_ref)`` for samples drawn from ``pi`` (numpy).

    With ``log r = log pi_ref - log pi``: ``k1 = -log r``, ``k2 = (log r)^2 / 2``, ``k3 = (r - 1) - log r``.

    Parameters
    ----------
    logp, ref_logp : arrays of one shape, ``log pi(a)`` and ``log pi_ref(a)`` of sampled ``a``.

    Returns
    -------
    tuple ``(k1, k2, k3)`` of arrays of that shape.
    """
    log_r = np.asarray(ref_logp, dtype=float) - np.asarray(logp, dtype=float)
    return -log_r, 0.5 * log_r**2, np.expm1(log_r) - log_r


def tilted_optimum(ref_probs, rewards, beta: float):
    """The KL-regularised optimum over a finite set of texts: ``pi*(y) = pi_ref(y) exp(r(y)/beta) / Z`` (numpy).

    Parameters
    ----------
    ref_probs : ``[N]`` array, ``pi_ref(y)`` (sums to 1).
    rewards : ``[N]`` array, ``r(y)``.
    beta : float > 0.

    Returns
    -------
    tuple ``(pi_star, value)``: the ``[N]`` probabilities and ``J* = beta log Z``, the best reward minus
    ``beta`` times the KL to the reference that any policy can reach.
    """
    logits = np.log(np.asarray(ref_probs, dtype=float)) + np.asarray(rewards, dtype=float) / beta
    m = logits.max()
    log_z = m + np.log(np.exp(logits - m).sum())
    return np.exp(logits - log_z), float(beta * log_z)
