"""Reference solutions for notebooks/exercises/ex08_language.py (book chapter 3, the language MDP)."""

from __future__ import annotations

import numpy as np


def token_returns(immediate, final_reward: float, gamma: float):
    """Returns ``G_t`` of one generated text, token by token.

    The text has ``T`` actions (characters, then ``EOS`` or the length limit). Step ``t`` pays
    ``r_t = immediate[t] + [t == T - 1] * final_reward``: a per-token reward plus the delayed reward of
    the finished text, paid once on the last action. ``G_t = sum_{k >= t} gamma^(k - t) r_k``.

    Parameters
    ----------
    immediate : ``[T]`` array, the immediate rewards ``r_imm`` of the ``T`` actions (``T >= 1``).
    final_reward : the delayed reward ``R(x)`` of the finished text.
    gamma : discount factor in ``[0, 1]``.

    Returns
    -------
    ``[T]`` array ``G_0 .. G_{T-1}``.
    """
    r = np.array(immediate, dtype=float)
    r[-1] += final_reward
    G = np.zeros_like(r)
    running = 0.0
    for t in range(len(r) - 1, -1, -1):
        running = r[t] + gamma * running
        G[t] = running
    return G


def prefix_state_count(n_chars: int, max_len: int, window: int | None = None) -> int:
    """Number of states of the character-level language MDP (empty prompt).

    A state is the text written so far, ``0 .. max_len`` characters from an alphabet of ``n_chars``.
    With ``window=k`` the agent only sees the last ``k`` characters, so distinct observations are the
    texts of length ``0 .. min(k, max_len)``.

    Returns
    -------
    int, ``sum_{t=0}^{T'} n_chars^t`` with ``T' = max_len`` (or ``min(window, max_len)``); an exact
    Python integer, even when it is astronomically large.
    """
    top = max_len if window is None else min(window, max_len)
    return sum(n_chars**t for t in range(top + 1))


def top_p_probs(probs, p: float):
    """Nucleus (top-p) filtering of one next-token distribution.

    Sort the tokens from most to least probable and keep a token when the probability mass of the tokens
    *before* it is still ``< p`` (so the most probable token is always kept). Dropped tokens get
    probability 0, and the kept ones are renormalised to sum to one.

    Parameters
    ----------
    probs : ``[A]`` array, a probability vector (no ties needed).
    p : nucleus mass in ``(0, 1]``; ``p = 1`` keeps every token.

    Returns
    -------
    ``[A]`` array, the filtered distribution, in the original token order.
    """
    probs = np.asarray(probs, dtype=float)
    order = np.argsort(-probs, kind="stable")
    sorted_p = probs[order]
    before = np.cumsum(sorted_p) - sorted_p
    keep = np.zeros(probs.shape, dtype=bool)
    keep[order] = before < p
    out = np.where(keep, probs, 0.0)
    return out / out.sum()
