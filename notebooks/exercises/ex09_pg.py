"""Exercises for chapters 3-4: the REINFORCE loss with a baseline, PPO's clipped surrogate, the KL-penalised reward.

Companion notebook: notebooks/09_policy_gradients_ppo.ipynb.
Fill in each function body (replace the ``raise NotImplementedError``), then check your work with

    python -m pytest tests/exercises --student -k ex09
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (you will need it)
import torch  # noqa: F401  (you will need it)


def reinforce_loss(logprobs, returns, baseline, mask):
    """REINFORCE surrogate loss of a batch of ``B`` texts, padded to ``L`` tokens (torch).

    ``L(theta) = -(1/B) sum_b sum_t m_{b,t} log pi_theta(a_t|s_t) (G_t - b(s_t))``, so that ``-grad L``
    is the REINFORCE estimate of ``grad J``. Only ``logprobs`` may carry gradient: the returns and the
    baseline are constants (detach them).

    Parameters
    ----------
    logprobs : ``[B, L]`` float tensor, ``log pi_theta(a_t|s_t)`` (may require grad).
    returns : ``[B, L]`` float tensor, ``G_t``.
    baseline : ``[B, L]`` float tensor ``b(s_t)``, or ``None`` for no baseline.
    mask : ``[B, L]`` bool tensor, True on real tokens (False on padding).

    Returns
    -------
    0-dim torch tensor, the loss (differentiable with respect to ``logprobs``).
    """
    raise NotImplementedError("(returns - baseline).detach(); zero the padding; sum over tokens, mean over texts")


def ppo_clipped_loss(ratio, advantages, cliprange: float = 0.2) -> float:
    """PPO's clipped surrogate, as a loss to minimise, averaged over tokens (numpy).

    ``loss = -mean_t min( rho_t A_t, clip(rho_t, 1 - eps, 1 + eps) A_t )`` with ``eps = cliprange``.

    Parameters
    ----------
    ratio : ``[N]`` array, ``rho_t = pi_theta(a_t|s_t) / pi_old(a_t|s_t)`` of ``N`` tokens.
    advantages : ``[N]`` array, ``A_t``.
    cliprange : ``epsilon_clip > 0``.

    Returns
    -------
    float, the loss.
    """
    raise NotImplementedError("np.minimum of ratio * A and np.clip(ratio, ..) * A; mind the minus sign")


def kl_penalised_rewards(task_rewards, logprobs, ref_logprobs, mask, kl_coef: float):
    """Per-token rewards of RLHF: the task reward minus a KL toll to the reference model (numpy).

    ``r~_t = r_t - beta (log pi(a_t|s_t) - log pi_ref(a_t|s_t))`` on real tokens, 0 on padding,
    with ``beta = kl_coef``.

    Parameters
    ----------
    task_rewards : ``[B, L]`` array, ``r_t`` (the delayed reward sits on the last real token).
    logprobs, ref_logprobs : ``[B, L]`` arrays, log-probabilities of the sampled tokens under the
        policy and under the frozen reference.
    mask : ``[B, L]`` bool array, True on real tokens.
    kl_coef : ``beta >= 0``.

    Returns
    -------
    ``[B, L]`` array of shaped rewards.
    """
    raise NotImplementedError("subtract kl_coef * (logprobs - ref_logprobs) from the task rewards; 0 on padding")
