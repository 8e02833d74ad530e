"""Checks of the inputs every layer shares, in one place: each raises ``ValueError`` naming the argument.

Book: *Implementation guide*, "Conventions" (errors that say what was given and what was expected).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["check_unit_interval", "check_positive_int", "check_nonnegative_int", "check_real", "check_flag",
           "check_probability_vector", "check_successor_arrays", "terminal_mask", "as_names", "check_mask"]

PROB_ATOL = 1e-6
"""How far from 1 a probability vector may sum (rounding of hand-written models)."""


def check_unit_interval(value: Any, name: str = "gamma") -> float:
    """``value`` as a float in ``[0, 1]`` (NaN refused)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}") from None
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got {value}")
    return v


def check_positive_int(value: Any, name: str, none: bool = False) -> int | None:
    """``value`` as an ``int >= 1`` (``None`` passes when ``none``); floats like ``2.5`` are refused."""
    if none and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float)) or not math.isfinite(value) \
            or int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer{' or None' if none else ''}, got {value!r}")
    return int(value)


def check_nonnegative_int(value: Any, name: str, none: bool = False) -> int | None:
    """``value`` as an ``int >= 0`` (``None`` passes when ``none``); floats and booleans are refused (seeds, counts)."""
    if none and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer{' or None' if none else ''}, got {value!r}")
    return int(value)


def check_real(value: Any, name: str, low: float = 0.0, open_low: bool = False, none: bool = False) -> float | None:
    """``value`` as a finite float ``>= low`` (``> low`` when ``open_low``; ``None`` passes when ``none``)."""
    if none and value is None:
        return None
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating)) \
        and math.isfinite(value) and (value > low if open_low else value >= low)
    if not ok:
        span = f"> {low:g}" if open_low else f">= {low:g}"
        raise ValueError(f"{name} must be a finite number {span}{' or None' if none else ''}, got {value!r}")
    return float(value)


def check_flag(value: Any, name: str) -> bool:
    """``value`` if it is ``True`` or ``False`` (``1``, ``"yes"`` and ``None`` are refused)."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def check_probability_vector(p: Any, n: int, name: str = "initial") -> np.ndarray:
    """``p`` as a float64 vector of shape ``[n]``: finite, non-negative, summing to 1 (within rounding)."""
    arr = np.asarray(p, dtype=np.float64)
    if arr.shape != (n,) or not np.isfinite(arr).all() or (arr < 0).any() or abs(arr.sum() - 1) > PROB_ATOL:
        raise ValueError(f"{name} must be a probability vector of shape ({n},) (finite, >= 0, summing to 1), "
                         f"got shape {arr.shape} summing to {arr.sum():.4g}")
    return arr


def check_successor_arrays(next_state: Any, prob: Any, reward: Any, done: Any = None
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate a model stored as successor lists ``[S, A, K]``; returns ``(next_state, prob, reward, done)``.

    ``prob`` non-negative and summing to 1 over ``k``, ``next_state`` integer indices
    in ``[0, S)``, ``reward`` finite, all four of one shape.
    """
    next_state = np.asarray(next_state)
    prob = np.asarray(prob, dtype=np.float64)
    reward = np.asarray(reward, dtype=np.float64)
    if prob.ndim != 3:
        raise ValueError(f"prob must have shape [S, A, K], got {prob.ndim} dimension(s) {prob.shape}")
    S = prob.shape[0]
    if 0 in prob.shape:
        raise ValueError(f"the MDP needs at least one state, action and successor, got shape {prob.shape}")
    for name, arr in (("next_state", next_state), ("reward", reward)):
        if arr.shape != prob.shape:
            raise ValueError(f"{name} must have the shape of prob {prob.shape}, got {arr.shape}")
    done = np.zeros(prob.shape, dtype=bool) if done is None else np.asarray(done, dtype=bool)
    if done.shape != prob.shape:
        raise ValueError(f"done must have the shape of prob {prob.shape}, got {done.shape}")
    if not np.issubdtype(next_state.dtype, np.integer):
        raise TypeError(f"next_state must hold integer state indices, got dtype {next_state.dtype}")
    if next_state.min() < 0 or next_state.max() >= S:
        raise ValueError(f"next_state must index states in [0, {S}), got values in "
                         f"[{next_state.min()}, {next_state.max()}]")
    if not np.all(np.isfinite(prob)):
        raise ValueError("prob must be finite, found NaN or inf")
    if (prob < 0).any():
        s, a, _ = np.argwhere(prob < 0)[0]
        raise ValueError(f"probabilities must be non-negative, found {prob[prob < 0].min():.3g} "
                         f"at state {s}, action {a}")
    totals = prob.sum(axis=2)
    bad = np.abs(totals - 1.0) > PROB_ATOL
    if bad.any():
        s, a = np.argwhere(bad)[0]
        raise ValueError(f"probabilities must sum to 1 over next states, got {totals[s, a]:.6g} "
                         f"at state {s}, action {a}")
    if not np.all(np.isfinite(reward)):
        raise ValueError("reward must be finite, found NaN or inf")
    return next_state, prob, reward, done


def terminal_mask(terminal: Any, n_states: int) -> np.ndarray:
    """A bool mask ``[S]`` from a list of state indices or a mask (``None``: no terminal state)."""
    term = np.zeros(n_states, dtype=bool)
    if terminal is None:
        return term
    t = np.asarray(terminal)
    if t.dtype == bool:
        if t.shape != (n_states,):
            raise ValueError(f"terminal mask must have shape ({n_states},), got {t.shape}")
        return term | t
    if t.size and not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"terminal states must be integer indices or a bool mask, got {t.tolist()}")
    t = t.astype(np.int64).ravel()
    if t.size and (t.min() < 0 or t.max() >= n_states):
        raise ValueError(f"terminal states must be indices in [0, {n_states}), got {t.tolist()}")
    term[t] = True
    return term


def as_names(names: Sequence[str] | None, n: int, arg: str, default: str) -> tuple[str, ...]:
    """``n`` display names: the given ones (one per item) or ``default0, default1, ...``."""
    if names is None:
        return tuple(f"{default}{i}" for i in range(n))
    names = tuple(str(x) for x in names)
    if len(names) != n:
        raise ValueError(f"{arg} must have one name per {default.strip('_')} ({n}), got {len(names)}")
    return names


def check_mask(mask, n_states: int, n_actions: int, state_names=None) -> np.ndarray | None:
    """Validate an action mask and return it as a read-only ``[S, A]`` bool array (``None`` passes through).

    ``mask[s, a] = True`` means action ``a`` is *allowed* in state ``s``; ``False`` marks it
    contraindicated, so planners and learners restrict every ``max``/``argmax``/sample to
    ``A(s) = {a : mask[s, a]}``. Every state needs at least one allowed action.
    """
    if mask is None:
        return None
    arr = np.asarray(mask)
    if arr.shape != (n_states, n_actions):
        raise ValueError(f"mask must have shape [S, A] = ({n_states}, {n_actions}), got {arr.shape}")
    if arr.dtype != bool:
        if not np.isin(arr, (0, 1)).all():
            raise ValueError("mask must be boolean (True = allowed), got non-0/1 values")
        arr = arr.astype(bool)
    empty = ~arr.any(axis=1)
    if empty.any():
        s = int(np.flatnonzero(empty)[0])
        name = f" ({state_names[s]!r})" if state_names is not None else ""
        raise ValueError(f"mask removes every action in state {s}{name} ({int(empty.sum())} such state(s)); "
                         f"allow at least one action in every state (terminal states included)")
    arr = arr.copy()
    arr.setflags(write=False)
    return arr


# ------------------------------------------------------- vectorised tables
