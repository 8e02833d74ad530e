"""Exercises for chapter 4: the Bradley-Terry loss, the DPO loss, GRPO's group advantages, the KL
estimators and the KL-regularised optimum of a small set of texts.

Companion code: rlcore/rlhf/ (the tests check your answers against it).
Fill in each function body (replace the ``raise NotImplementedError``), then check your work with

    python -m pytest tests/exercises --student -k ex11
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (you will need it)


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
    raise NotImplementedError("d = r_chosen - r_rejected; np.logaddexp(0, -d) is -log sigmoid(d); take the mean")


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
    raise NotImplementedError("h = (logratio of chosen) - (logratio of rejected); mean of np.logaddexp(0, -beta * h)")


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
    raise NotImplementedError("reshape to [groups, group_size]; subtract the row mean; divide by std(ddof=1) + 1e-4")


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
    raise NotImplementedError("log_r = ref_logp - logp; k1 = -log_r, k2 = log_r**2 / 2, k3 = exp(log_r) - 1 - log_r")


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
    raise NotImplementedError("logits = log pi_ref + r / beta; normalise with a stable log-sum-exp; J* = beta log Z")
