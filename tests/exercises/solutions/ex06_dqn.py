"""Reference solutions for notebooks/exercises/ex06_dqn.py (book chapter 3, "From tables to networks", DQN)."""

from __future__ import annotations

import numpy as np


def dqn_targets(rewards, next_q_target, terminated, gamma: float):
    """The DQN bootstrap targets of a batch: ``y_i = r_i + gamma * (1 - terminated_i) * max_a' Q_target(s'_i, a')``.

    ``next_q_target[i]`` holds the target network's values of every action in the next state of
    transition ``i``, so the maximum runs over the *actions* of each row (the last axis), never over
    the batch. Only ``terminated`` is passed, on purpose: a transition cut by a time limit (gymnasium's
    ``truncated``, CartPole's 500-step cap) is stored with ``terminated = False`` and must still
    bootstrap, because the cut is not a state of the task. A terminated transition has
    ``Q(s', .) = 0``, whatever the network says about ``s'``.

    Parameters
    ----------
    rewards : ``[B]`` rewards ``r_i``.
    next_q_target : ``[B, A]`` target-network values ``Q_target(s'_i, a)``.
    terminated : ``[B]`` bool, True where ``s'_i`` is a terminal state.
    gamma : discount factor in ``[0, 1]``.

    Returns
    -------
    ``[B]`` float array ``y``.
    """
    rewards = np.asarray(rewards, dtype=float)
    next_max = np.asarray(next_q_target, dtype=float).max(axis=-1)
    return rewards + gamma * (1.0 - np.asarray(terminated, dtype=float)) * next_max


def huber(x, delta: float = 1.0):
    """The Huber function, elementwise: quadratic near zero, linear beyond ``delta``.

    ``huber(x) = x**2 / 2`` where ``|x| <= delta`` and ``delta * (|x| - delta / 2)`` where ``|x| > delta``.

    The two branches meet with the same value and the same slope at ``|x| = delta``; the derivative
    is ``clip(x, -delta, delta)``, so one large TD error cannot push the weights harder than
    ``delta`` does. With ``delta = 1`` this is ``torch.nn.functional.smooth_l1_loss`` without the
    mean, the loss DQN minimises.

    Parameters
    ----------
    x : array of errors (any shape).
    delta : where the quadratic part ends, ``> 0``.

    Returns
    -------
    float array of the shape of ``x``.
    """
    x = np.asarray(x, dtype=float)
    a = np.abs(x)
    return np.where(a <= delta, 0.5 * x**2, delta * (a - 0.5 * delta))


def dqn_loss(q_values, actions, targets):
    """The DQN loss of a batch: the mean Huber error (``delta = 1``) of the taken actions' values.

    ``L = mean_i huber(Q(s_i, a_i) - y_i)``, where ``Q(s_i, a_i) = q_values[i, actions[i]]`` is the
    online network's value of the action actually taken in transition ``i`` (not the largest value
    of the row), and ``y_i`` the target, held fixed.

    Parameters
    ----------
    q_values : ``[B, A]`` online-network values ``Q(s_i, a)`` of every action.
    actions : ``[B]`` integer actions ``a_i``.
    targets : ``[B]`` targets ``y_i``.

    Returns
    -------
    float, the loss.
    """
    q_values = np.asarray(q_values, dtype=float)
    actions = np.asarray(actions, dtype=np.int64)
    q_sa = np.take_along_axis(q_values, actions[:, None], axis=1)[:, 0]
    return float(np.mean(huber(q_sa - np.asarray(targets, dtype=float))))


def double_dqn_targets(rewards, next_q_online, next_q_target, terminated, gamma: float):
    """Double-DQN targets (van Hasselt, Guez and Silver, 2016): the online net picks, the target net values.

    ``a*_i = argmax_a Q_online(s'_i, a)`` and ``y_i = r_i + gamma * (1 - terminated_i) * Q_target(s'_i, a*_i)``.

    Plain DQN takes the maximum of one noisy estimate, which is biased upwards; splitting the choice
    of the action from its evaluation reduces that bias. Ties in the argmax go to the first
    largest entry (as ``np.argmax``). As in ``dqn_targets``, a truncated transition has
    ``terminated = False`` and bootstraps.

    Parameters
    ----------
    rewards : ``[B]`` rewards.
    next_q_online : ``[B, A]`` online-network values of the next states (they choose ``a*``).
    next_q_target : ``[B, A]`` target-network values of the next states (they value ``a*``).
    terminated : ``[B]`` bool.
    gamma : discount factor in ``[0, 1]``.

    Returns
    -------
    ``[B]`` float array ``y``.
    """
    next_q_target = np.asarray(next_q_target, dtype=float)
    best = np.asarray(next_q_online, dtype=float).argmax(axis=-1)
    value = np.take_along_axis(next_q_target, best[:, None], axis=1)[:, 0]
    return np.asarray(rewards, dtype=float) + gamma * (1.0 - np.asarray(terminated, dtype=float)) * value
