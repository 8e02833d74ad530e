"""Checks of the inputs every layer shares, in one place: each raises ``ValueError`` naming the argument.

Book: *Implementation guide*, "Conventions" (errors that say what was given and what was expected).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from rlcore.core.tensor_checks import check_device, check_tensor  # noqa: F401 (re-exported)

__all__ = ["check_unit_interval", "check_positive_int", "check_nonnegative_int", "check_real", "check_flag",
           "check_probability_vector", "check_successor_arrays", "terminal_mask", "as_names", "check_mask",
           "check_array", "check_choice", "check_instance", "check_callable", "check_log_probs", "check_strings",
           "check_index_array", "check_stochastic", "check_flags"]

PROB_ATOL = 1e-6
"""How far from 1 a probability vector may sum (rounding of hand-written models)."""


def check_unit_interval(value: Any, name: str = "gamma") -> float:
    """``value`` as a float in ``[0, 1]`` (NaN, strings and booleans refused)."""
    if isinstance(value, (str, bytes, bool)):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
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
    arr = check_array(p, name, finite=False, allow_empty=True)
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
    prob = check_array(prob, "prob", finite=False, allow_empty=True)
    reward = check_array(reward, "reward", finite=False, allow_empty=True)
    if prob.ndim != 3:
        raise ValueError(f"prob must have shape [S, A, K], got {prob.ndim} dimension(s) {prob.shape}")
    S = prob.shape[0]
    if 0 in prob.shape:
        raise ValueError(f"prob: the MDP needs at least one state, action and successor, got shape {prob.shape}")
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
    if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
        raise TypeError(f"{arg} must be a sequence of names, got {type(names).__name__}")
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


def check_array(value: Any, name: str, ndim: int | None = None, shape: tuple[int | None, ...] | None = None,
                finite: bool = True, allow_empty: bool = False, integer: bool = False) -> np.ndarray:
    """``value`` as a numpy array (float64, or int64 when ``integer``) after checking what every array argument needs.

    ``ndim`` fixes the number of dimensions, ``shape`` the sizes (``None`` leaves one free);
    ``finite`` refuses NaN and inf; empty arrays are refused unless ``allow_empty``; ``integer``
    refuses fractional values (``1.5`` as an index or a count). Strings, ``None`` and ragged
    lists are refused with the argument's name, never with numpy's own message.
    """
    if value is None or isinstance(value, (str, bytes, dict, set)):
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}")
    if hasattr(value, "detach") and hasattr(value, "cpu"):          # a torch tensor
        value = value.detach().cpu()
        if value.is_floating_point() and value.element_size() < 4:   # bfloat16 has no numpy twin
            value = value.float()
        value = value.numpy()
    try:
        raw = np.asarray(value)
        arr = raw.astype(np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers (rectangular, not ragged), got {type(value).__name__}"
                        ) from None
    if raw.dtype == bool and integer:
        raise TypeError(f"{name} must hold integers, got booleans")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got {arr.ndim} (shape {arr.shape})")
    if shape is not None:
        if arr.ndim != len(shape) or any(w is not None and w != g for w, g in zip(shape, arr.shape)):
            want = "(" + ", ".join("*" if w is None else str(w) for w in shape) + ")"
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if finite and not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite, found {int((~np.isfinite(arr)).sum())} NaN or inf value(s)")
    if integer:
        if (arr != np.round(arr)).any():
            raise ValueError(f"{name} must hold whole numbers, got e.g. {float(arr[arr != np.round(arr)].flat[0])}")
        return arr.astype(np.int64)
    return arr


def check_choice(value: Any, name: str, choices: Sequence[Any]) -> Any:
    """``value`` if it is one of ``choices``; otherwise a ``ValueError`` listing them."""
    try:
        ok = value in choices
    except TypeError:                                  # unhashable value against a set/dict
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def check_instance(value: Any, name: str, types: type | tuple[type, ...], what: str | None = None) -> Any:
    """``value`` if it is an instance of ``types``; otherwise a ``TypeError`` saying what was expected."""
    if not isinstance(value, types):
        if what is None:
            ts = types if isinstance(types, tuple) else (types,)
            what = " or ".join(t.__name__ for t in ts)
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}")
    return value


def check_callable(value: Any, name: str) -> Any:
    """``value`` if it can be called (a reward rule, a ``TextReward``); otherwise a ``TypeError`` naming ``name``."""
    if not callable(value):
        raise TypeError(f"{name} must be callable (a function or a TextReward), got {type(value).__name__}")
    return value


def check_log_probs(value: Any, name: str, ndim: int | None = 1, shape: tuple[int | None, ...] | None = None
                    ) -> np.ndarray:
    """``value`` as float64 log-probabilities: [`check_array`][], but ``-inf`` (zero probability) allowed, NaN not."""
    arr = check_array(value, name, ndim=ndim, shape=shape, finite=False)
    if np.isnan(arr).any() or (arr == np.inf).any():
        raise ValueError(f"{name} must hold log-probabilities (finite or -inf), found NaN or +inf")
    return arr


def check_strings(value: Any, name: str, allow_empty: bool = False) -> tuple[str, ...]:
    """``value`` as a tuple of strings from a list or tuple of ``str`` (a lone string is refused, not split)."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list or tuple of strings, got {type(value).__name__}")
    bad = [x for x in value if not isinstance(x, str)]
    if bad:
        raise TypeError(f"{name} must hold strings only, got {bad[0]!r}")
    if not value and not allow_empty:
        raise ValueError(f"{name} must hold at least one string, got none")
    return tuple(value)


def check_index_array(value: Any, name: str, n: int, shape: tuple | None = None, allow_empty: bool = False):
    """``value`` as an int64 array of indices in ``[0, n)`` (negative ones would wrap around silently)."""
    arr = check_array(value, name, shape=shape, allow_empty=allow_empty, integer=True)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"{name} must hold indices in [0, {n}), got values in [{arr.min()}, {arr.max()}]")
    return arr


def check_stochastic(value: Any, name: str, shape: tuple | None = None) -> np.ndarray:
    """``value`` as a float64 array whose last axis holds probability vectors (finite, >= 0, summing to 1)."""
    arr = check_array(value, name, shape=shape)
    sums = arr.sum(axis=-1) if arr.ndim else arr
    if arr.ndim == 0 or (arr < 0).any() or np.abs(sums - 1).max() > PROB_ATOL:
        raise ValueError(f"{name} must hold probabilities (>= 0, summing to 1) along its last axis, got shape "
                         f"{arr.shape}, min {arr.min():.4g}, sums in [{sums.min():.6g}, {sums.max():.6g}]")
    return arr


def check_flags(value: Any, name: str, shape: tuple | None = None) -> np.ndarray:
    """``value`` as a bool array: booleans or 0/1 only (``done = 2`` would flip a sign, ``0.5`` halve a return)."""
    arr = check_array(value, name, shape=shape, allow_empty=True)
    if not np.isin(arr, (0.0, 1.0)).all():
        raise ValueError(f"{name} must hold booleans (or 0/1), got {arr[~np.isin(arr, (0.0, 1.0))][0]!r}")
    return arr.astype(bool)
