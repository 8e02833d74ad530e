"""Returns, TD targets and generalised advantage estimation, written once.

Book: *Sequential decision making*, "Value functions"; used by Monte Carlo,
the TD learners, REINFORCE and PPO alike.

All functions work on numpy arrays or torch tensors along the last axis
(time), so a batch of padded sequences ``[B, T]`` is handled in one call.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from rlcore.core.validation import check_array, check_flags, check_real, check_unit_interval

__all__ = ["discounted_returns", "td_target", "gae"]


def _lib(x: Any):
    """numpy or torch, whichever ``x`` belongs to."""
    if type(x).__module__.startswith("torch"):
        import torch

        return torch
    return np


def _as_float(flags: Any, like: Any) -> Any:
    """Boolean flags as 0/1 in the floating dtype of ``like`` (keeps float64 math in float64)."""
    if flags is None:
        return None
    if type(like).__module__.startswith("torch"):
        return flags.to(like.dtype)
    return np.asarray(flags, dtype=np.result_type(like, np.float32))


def _check_gamma(gamma: float, name: str = "gamma") -> None:
    check_unit_interval(gamma, name)


def _checked(x: Any, name: str, shape: tuple | None = None, flags: bool = False, scalar: bool = False) -> Any:
    """``x`` checked by ``check_array`` (``check_flags`` for 0/1 flags) against ``shape``, naming it; a torch
    tensor comes back as it is, anything else as a numpy array. ``scalar``: a number passes (it broadcasts)."""
    if x is None and name != "rewards":
        return None
    (check_flags if flags else check_array)(x, name, shape=None if scalar and np.ndim(x) == 0 else shape)
    out = x if type(x).__module__.startswith("torch") else np.asarray(x)
    if name in ("rewards", "values") and out.ndim == 0:
        raise ValueError(f"{name} must have a time axis [..., T], got a scalar")
    return out


def _truncation(dones: Any, truncated: Any, next_values: Any, like: Any, fn: str) -> tuple[Any, Any, Any]:
    """``(end, boot, next_values)`` as floats: ``end_t`` = the episode ends at ``t`` (either way),
    ``boot_t`` = it was truncated there and not terminated (terminated wins when both are set)."""
    if next_values is None:
        raise ValueError(f"{fn}: truncated was given without next_values; a truncated step needs "
                         "V(s_{t+1}) of the state it was cut at (next_values[..., t])")
    if tuple(next_values.shape) != tuple(like.shape):
        raise ValueError(f"{fn}: next_values must have the shape of rewards {tuple(like.shape)}, "
                         f"got {tuple(next_values.shape)}")
    tr = _as_float(truncated, like)
    d = tr * 0 if dones is None else dones
    return d + tr - d * tr, tr * (1 - d), next_values


def discounted_returns(rewards: Any, gamma: float, dones: Any = None, bootstrap: Any = None, *,
                       truncated: Any = None, next_values: Any = None) -> Any:
    """Discounted return ``G_t = r_t + gamma * (1 - done_t) * G_{t+1}`` along the last axis.

    With ``truncated``: ``G_t = r_t + gamma * [(1 - end_t) G_{t+1} + trunc_t (1 - done_t) V(s_{t+1})]``
    with ``end_t = done_t or trunc_t``: a truncated episode ends at ``t`` but its
    return bootstraps from its own next state's value, ``next_values[..., t]``.

    Parameters
    ----------
    rewards : array [..., T]
        Rewards ``r_0 .. r_{T-1}``.
    gamma : float
        Discount factor in ``[0, 1]``.
    dones : bool array [..., T], optional
        ``done_t`` is True when the transition at ``t`` ended the episode; the
        sum restarts there (several episodes may share one row).
    bootstrap : array [...], optional
        Value of the state after the last step, ``V(s_T)``, for a row that was
        cut off (truncated) rather than terminated. Default 0.
    truncated : bool array [..., T], optional (keyword)
        ``trunc_t`` is True when an episode was cut at ``t`` by a time limit: the
        next step (if any) starts another episode, and ``G_t`` bootstraps from
        ``next_values[..., t]``. A step flagged in both ``dones`` and
        ``truncated`` counts as terminated (bootstrap 0). A flag at the last
        column overrides ``bootstrap`` for that row.
    next_values : array [..., T], optional (keyword)
        ``V(s_{t+1})`` of the state each step led to; read only where ``truncated``.
    """
    _check_gamma(gamma)
    rewards = _checked(rewards, "rewards")
    shape, lead = tuple(rewards.shape), tuple(rewards.shape[:-1])
    dones, truncated = _checked(dones, "dones", shape, flags=True), _checked(truncated, "truncated", shape, flags=True)
    bootstrap = _checked(bootstrap, "bootstrap", lead, scalar=True)
    next_values = _checked(next_values, "next_values", shape)
    xp = _lib(rewards)
    T = rewards.shape[-1]
    out = xp.zeros_like(rewards) if xp is np else rewards.new_zeros(rewards.shape)
    if xp is np:
        out = out.astype(np.result_type(rewards, np.float64))
    running = (xp.zeros_like(rewards[..., 0]) if bootstrap is None else bootstrap) * 1.0
    dones = _as_float(dones, out)
    if truncated is not None:
        end, boot, nv = _truncation(dones, truncated, next_values, rewards, "discounted_returns")
        for t in range(T - 1, -1, -1):
            running = running * (1 - end[..., t]) + boot[..., t] * nv[..., t]
            running = rewards[..., t] + gamma * running
            out[..., t] = running
        return out
    for t in range(T - 1, -1, -1):
        if dones is not None:
            running = running * (1 - dones[..., t])
        running = rewards[..., t] + gamma * running
        out[..., t] = running
    return out


def td_target(reward: Any, next_value: Any, gamma: float, terminated: Any) -> Any:
    """One-step TD target ``y = r + gamma * (1 - terminated) * V(s')``.

    A *truncated* transition (time limit) is not terminated: it still
    bootstraps from ``V(s')``. Only true termination cuts the sum.
    """
    check_unit_interval(gamma)
    for name, x in (("reward", reward), ("next_value", next_value)):     # a fast path for the scalars of a loop
        check_real(x, name, low=-math.inf) if isinstance(x, numbers.Real) else check_array(x, name)
    if not (isinstance(terminated, (bool, np.bool_)) or isinstance(terminated, numbers.Real) and terminated in (0, 1)):
        check_flags(terminated, "terminated")
    shapes = [tuple(np.shape(x)) for x in (reward, next_value, terminated)]
    if any(shapes):
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:
            raise ValueError(f"next_value must broadcast with reward and terminated, got shapes {shapes}") from None
    return reward + gamma * (1 - terminated * 1) * next_value


def gae(rewards: Any, values: Any, gamma: float, lam: float, dones: Any = None,
        last_value: Any = None, *, truncated: Any = None, next_values: Any = None) -> tuple[Any, Any]:
    """Generalised advantage estimation (Schulman et al., 2016).

    ``delta_t = r_t + gamma * V(s_{t+1}) * (1 - done_t) - V(s_t)``
    ``A_t = delta_t + gamma * lam * (1 - done_t) * A_{t+1}``

    ``lam = 0`` gives the one-step TD error, ``lam = 1`` the Monte Carlo
    return minus ``V(s_t)``. Returns ``(advantages, returns)`` with
    ``returns = advantages + values`` (the value-function targets).

    Parameters
    ----------
    rewards, values : arrays [..., T]
        ``r_t`` and ``V(s_t)``.
    dones : bool array [..., T], optional
        ``done_t`` marks a terminating transition at ``t``.
    last_value : array [...], optional
        ``V(s_T)`` for the state after the final step (0 if omitted).
    truncated : bool array [..., T], optional (keyword)
        ``trunc_t`` marks an episode cut at ``t`` by a time limit: the advantage
        sum stops there as for ``done_t``, but
        ``delta_t = r_t + gamma * next_values[..., t] - V(s_t)`` bootstraps from
        the value of the state it was cut at. Terminated wins when both are set.
    next_values : array [..., T], optional (keyword)
        ``V(s_{t+1})`` of the state each step led to; read only where ``truncated``.
    """
    _check_gamma(gamma)
    _check_gamma(lam, "lam")
    rewards = _checked(rewards, "rewards")
    shape, lead = tuple(rewards.shape), tuple(rewards.shape[:-1])
    values = _checked(values, "values", shape)
    dones, truncated = _checked(dones, "dones", shape, flags=True), _checked(truncated, "truncated", shape, flags=True)
    last_value = _checked(last_value, "last_value", lead, scalar=True)
    next_values = _checked(next_values, "next_values", shape)
    xp = _lib(rewards)
    T = rewards.shape[-1]
    adv = xp.zeros_like(values) * 1.0
    next_value = xp.zeros_like(values[..., 0]) * 1.0 if last_value is None else last_value * 1.0
    running = xp.zeros_like(values[..., 0]) * 1.0
    dones = _as_float(dones, adv)
    if truncated is not None:
        end, boot, nv = _truncation(dones, truncated, next_values, rewards, "gae")
        for t in range(T - 1, -1, -1):
            target = next_value * (1 - end[..., t]) + boot[..., t] * nv[..., t]
            delta = rewards[..., t] + gamma * target - values[..., t]
            running = delta + gamma * lam * (1 - end[..., t]) * running
            adv[..., t] = running
            next_value = values[..., t]
        return adv, adv + values
    for t in range(T - 1, -1, -1):
        cont = 1.0 if dones is None else 1 - dones[..., t]
        delta = rewards[..., t] + gamma * next_value * cont - values[..., t]
        running = delta + gamma * lam * cont * running
        adv[..., t] = running
        next_value = values[..., t]
    return adv, adv + values
