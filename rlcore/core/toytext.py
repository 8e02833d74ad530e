"""Reading gymnasium's toy-text models: ``P[s][a] = [(p, s', r, terminated), ...]`` as successor lists.

Book: *Fundamental concepts*, "The MDP tuple" (FrozenLake, CliffWalking and Taxi carry their exact model).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["read_toytext"]


def read_toytext(env: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """``(next_state, prob, reward, done, initial)`` ``[S, A, K]`` from a toy-text env (read via ``env.unwrapped``).

    Repeated entries for the same ``(s', terminated)`` are merged: their
    probabilities add and their rewards are averaged with those probabilities.
    ``initial`` is the env's ``initial_state_distrib`` when it has one, else None.
    """
    base = getattr(env, "unwrapped", env)
    table = getattr(base, "P", None)
    if not isinstance(table, dict):
        raise TypeError(f"env must expose a toy-text transition table P (dict), got {type(table).__name__}")
    try:
        S, A = int(base.observation_space.n), int(base.action_space.n)
        merged, K = _merge(table, S, A)
    except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
        raise ValueError(f"env must have Discrete spaces and a table P[s][a] = [(p, s', r, terminated), ...] "
                         f"for every state and action; reading it failed with {type(exc).__name__}: {exc}") from None
    next_state = np.repeat(np.arange(S)[:, None, None], A, 1).repeat(K, 2)
    prob = np.zeros((S, A, K))
    reward = np.zeros((S, A, K))
    done = np.zeros((S, A, K), dtype=bool)
    for s in range(S):
        for a in range(A):
            for k, ((s2, term), (p, pr)) in enumerate(merged[s][a].items()):
                next_state[s, a, k] = s2
                prob[s, a, k] = p
                reward[s, a, k] = pr / p if p > 0 else 0.0
                done[s, a, k] = term
    initial = getattr(base, "initial_state_distrib", None)
    return next_state, prob, reward, done, None if initial is None else np.asarray(initial, dtype=float)


def _merge(table: dict, S: int, A: int) -> tuple[list[list[dict]], int]:
    """Per ``(s, a)``: ``{(s', terminated): [total p, total p * r]}``, and the largest number of successors."""
    merged: list[list[dict]] = []
    K = 1
    for s in range(S):
        row = []
        for a in range(A):
            acc: dict[tuple[int, bool], list[float]] = {}
            for p, s2, r, term in table[s][a]:
                key = (int(s2), bool(term))
                pr = acc.setdefault(key, [0.0, 0.0])
                pr[0] += float(p)
                pr[1] += float(p) * float(r)
            row.append(acc)
            K = max(K, len(acc))
        merged.append(row)
    return merged, K
