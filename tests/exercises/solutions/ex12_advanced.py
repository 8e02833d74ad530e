"""Reference solutions for notebooks/exercises/ex12_advanced.py (book chapter 5, advanced techniques)."""

from __future__ import annotations

import numpy as np


def smdp_q_update(Q, s: int, o: int, G: float, k: int, s_next: int, ended: bool, alpha: float, gamma: float):
    """One SMDP Q-learning update after option ``o``, started in ``s``, ran ``k`` steps (numpy; returns a new array).

    ``G = r_1 + gamma r_2 + ... + gamma^(k-1) r_k`` is the discounted reward the option collected and
    ``s_next`` the state it stopped in. The update is

        Q(s, o) <- Q(s, o) + alpha [ G + gamma^k max_o' Q(s_next, o') - Q(s, o) ],

    with no bootstrap term when the episode ``ended`` on the option's last step. Options that are
    not available in ``s_next`` are stored as ``-inf`` in ``Q``, so the plain maximum skips them.
    Leave the input unchanged and return the updated copy.

    Parameters
    ----------
    Q : ``[S, O]`` array of option values.
    s, o : the start state and the option that ran.
    G : float, the discounted reward collected while it ran.
    k : int >= 1, the number of primitive steps it took.
    s_next : the state it stopped in.
    ended : bool, whether the episode ended there.
    alpha, gamma : step size and discount.

    Returns
    -------
    ``[S, O]`` array, ``Q`` with entry ``(s, o)`` updated.
    """
    Q = np.array(Q, dtype=float)
    ahead = 0.0 if ended else gamma**k * np.max(Q[s_next])
    Q[s, o] += alpha * (G + ahead - Q[s, o])
    return Q


def awr_weights(rewards, prompt_ids, temperature: float, max_weight: float):
    """Advantage-weighted regression's weights for a log of scored texts (numpy).

    Entry ``i`` of the log answered prompt ``prompt_ids[i]`` and earned ``rewards[i]``. Its advantage
    is its reward minus the mean reward of the entries *of the same prompt*, and its weight is

        w_i = min( exp( (r_i - mean_{j : x_j = x_i} r_j) / T ), max_weight ).

    Parameters
    ----------
    rewards : ``[N]`` floats.
    prompt_ids : ``[N]`` ints (or any hashable labels) naming each entry's prompt.
    temperature : float > 0, ``T``.
    max_weight : float > 0, the cap.

    Returns
    -------
    ``[N]`` array of weights.
    """
    r = np.asarray(rewards, dtype=float)
    ids = np.asarray(prompt_ids)
    baseline = np.empty_like(r)
    for p in np.unique(ids):
        baseline[ids == p] = r[ids == p].mean()
    return np.minimum(np.exp((r - baseline) / temperature), max_weight)
