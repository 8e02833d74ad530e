"""Reference solutions for notebooks/exercises/ex07_actor_critic.py (book chapter 3, "From tables to networks")."""

from __future__ import annotations

import numpy as np


def rollout_advantages(rewards, values, last_value: float, terminated, truncated, final_values, gamma: float,
                       lam: float = 1.0):
    """Advantages and value targets of one environment copy's rollout, by GAE's backward recursion.

    The rollout has ``T`` steps and may hold several episodes: step ``t`` ends one when
    ``terminated[t]`` (a terminal state: no future) or ``truncated[t]`` (a time limit: the state
    it was cut in still has a future, worth ``final_values[t]``). A step flagged both ways counts as
    terminated. The value of what follows step ``t`` is

    - ``0`` if ``terminated[t]``;
    - ``final_values[t]`` if ``truncated[t]`` (and not terminated);
    - ``values[t + 1]`` otherwise, with ``values[T]`` read as ``last_value`` (the state after the
      rollout's last step).

    Call it ``next_t``. Then, from ``t = T - 1`` down to ``0``, with ``A_T = 0``:

    ``delta_t = r_t + gamma * next_t - values[t]``
    ``A_t = delta_t + gamma * lam * (1 - end_t) * A_{t+1}``, ``end_t = terminated[t] or truncated[t]``

    and the value targets are ``returns = A + values``. With ``lam = 1`` these are A2C's ``n``-step
    returns (rewards up to the end of the episode or of the rollout, then a bootstrap), with
    ``lam = 0`` the one-step TD targets.

    Parameters
    ----------
    rewards, values : ``[T]`` arrays, ``r_t`` and ``V(s_t)``.
    last_value : ``V(s_T)``.
    terminated, truncated : ``[T]`` bool arrays.
    final_values : ``[T]`` array, ``V`` of the state an episode was cut in; read only where ``truncated``.
    gamma : discount factor in ``[0, 1]``; lam : GAE's ``lambda`` in ``[0, 1]``.

    Returns
    -------
    ``(advantages, returns)``, two ``[T]`` float arrays.
    """
    rewards, values = np.asarray(rewards, dtype=float), np.asarray(values, dtype=float)
    terminated, truncated = np.asarray(terminated, dtype=bool), np.asarray(truncated, dtype=bool)
    final_values = np.asarray(final_values, dtype=float)
    T = len(rewards)
    adv = np.zeros(T)
    running = 0.0
    for t in range(T - 1, -1, -1):
        if terminated[t]:
            nxt = 0.0
        elif truncated[t]:
            nxt = final_values[t]
        else:
            nxt = last_value if t == T - 1 else values[t + 1]
        delta = rewards[t] + gamma * nxt - values[t]
        end = terminated[t] or truncated[t]
        running = delta + (0.0 if end else gamma * lam * running)
        adv[t] = running
    return adv, adv + values


def a2c_loss(logp, advantages, values, returns, entropy, vf_coef: float = 0.5, ent_coef: float = 0.0):
    """The A2C loss of a batch of ``n`` transitions, from its ingredients (torch).

    ``L = -mean(logp * A) + vf_coef * mean((values - returns)^2) - ent_coef * mean(entropy)``

    The value term is the plain mean squared error (not half of it): this is the convention of
    ``rlcore.approx.a2c.a2c_loss`` and of stable-baselines3. The advantages ``A`` and the
    ``returns`` are targets, constants of the step: detach them, so that no gradient flows into
    whatever computed them. Gradient flows through ``logp`` (to the actor), ``values`` (to the
    critic) and ``entropy`` (to the actor).

    Parameters
    ----------
    logp : ``[n]`` tensor, ``log pi(a_t|s_t)`` of the actions taken.
    advantages, returns : ``[n]`` tensors, ``A_t`` and the value targets ``G_t``.
    values : ``[n]`` tensor, ``V(s_t)``.
    entropy : ``[n]`` tensor, ``H(pi(.|s_t))`` of each state.
    vf_coef, ent_coef : weights of the value term and of the entropy bonus, ``>= 0``.

    Returns
    -------
    0-dim torch tensor, the loss (differentiable with respect to ``logp``, ``values``, ``entropy``).
    """
    policy = -(logp * advantages.detach()).mean()
    value = ((values - returns.detach()) ** 2).mean()
    return policy + vf_coef * value - ent_coef * entropy.mean()
