"""Reference solutions for notebooks/exercises/ex09_pg.py (book chapters 3-4, REINFORCE and PPO)."""

from __future__ import annotations

import numpy as np
import torch


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
    adv = returns if baseline is None else returns - baseline
    adv = adv.detach()
    per_token = torch.where(mask, -logprobs * adv, torch.zeros_like(logprobs))
    return per_token.sum(-1).mean()


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
    ratio = np.asarray(ratio, dtype=float)
    adv = np.asarray(advantages, dtype=float)
    surrogate = np.minimum(ratio * adv, np.clip(ratio, 1 - cliprange, 1 + cliprange) * adv)
    return float(-surrogate.mean())


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
    task_rewards = np.asarray(task_rewards, dtype=float)
    log_ratio = np.asarray(logprobs, dtype=float) - np.asarray(ref_logprobs, dtype=float)
    return np.where(np.asarray(mask, dtype=bool), task_rewards - kl_coef * log_ratio, 0.0)
