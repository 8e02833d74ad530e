"""Reference solutions for notebooks/exercises/ex14_case_studies.py (book chapter 7, case studies)."""

from __future__ import annotations

import numpy as np


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased estimate of pass@k from ``n`` samples of which ``c`` passed (Chen et al., 2021).

    ``pass@k = 1 - C(n - c, k) / C(n, k)``: one minus the chance that ``k`` samples drawn without
    replacement from the ``n`` are all failures. It is exactly 1 when ``n - c < k`` (every choice of
    ``k`` contains a pass) and 0 when ``c = 0``. The binomial coefficients overflow a float long
    before ``n`` reaches the thousands, so do not compute them as floats.

    Parameters
    ----------
    n : int >= 1, samples drawn for the problem.
    c : int, ``0 <= c <= n``, how many of them passed.
    k : int, ``1 <= k <= n``, the attempt budget.

    Returns
    -------
    float in ``[0, 1]``.
    """
    if n - c < k:
        return 1.0
    i = np.arange(n - c + 1, n + 1, dtype=float)
    return float(1.0 - np.prod(1.0 - k / i))


def soft_backup(q, pi_ref, beta: float):
    """The soft (KL-regularised) Bellman backup of every state, and the policy it implies (numpy).

    ``V(s) = beta log sum_a pi_ref(a|s) exp(Q(s, a) / beta)`` and
    ``pi(a|s) = pi_ref(a|s) exp((Q(s, a) - V(s)) / beta)``, the reference tilted towards high ``Q``.
    Actions with ``pi_ref(a|s) = 0`` get ``pi(a|s) = 0`` and do not enter the sum. Small ``beta``
    (``1e-4`` with ``Q`` of order 1) must not overflow: ``V`` then approaches the largest ``Q`` among
    the actions the reference allows, and large ``beta`` gives ``V`` near ``sum_a pi_ref(a|s) Q(s, a)``.

    Parameters
    ----------
    q : ``[S, A]`` array, ``Q(s, a)``.
    pi_ref : ``[S, A]`` array, the reference policy (rows sum to 1; entries may be 0).
    beta : float > 0, the KL strength.

    Returns
    -------
    tuple ``(V, pi)``: the ``[S]`` soft values and the ``[S, A]`` tilted policy (rows sum to 1).
    """
    q = np.asarray(q, dtype=float)
    ref = np.asarray(pi_ref, dtype=float)
    with np.errstate(divide="ignore"):
        logits = np.where(ref > 0, np.log(np.where(ref > 0, ref, 1.0)) + q / beta, -np.inf)
    m = logits.max(axis=1, keepdims=True)
    log_z = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    return beta * log_z, np.exp(logits - log_z[:, None])


def best_of_n_probs(ref_probs, rewards, n: int):
    """Exact distribution of best-of-``n``: draw ``n`` texts from ``pi``, keep the one the judge scores highest.

    With ``F(t) = P_pi(r <= t)`` and ``m(t) = P_pi(r = t)``, the kept text's score is ``t`` with
    probability ``F(t)^n - (F(t) - m(t))^n``. Ties are broken by the first draw, so that probability is
    shared among the texts scoring ``t`` in proportion to ``pi``:

        ``pi_n(y) = pi(y) / m(r_y) * [F(r_y)^n - (F(r_y) - m(r_y))^n]``.

    Parameters
    ----------
    ref_probs : ``[N]`` array, ``pi(y)`` of each text (sums to 1, entries > 0).
    rewards : ``[N]`` array, the judge's score of each text (ties allowed).
    n : int >= 1, how many texts are drawn.

    Returns
    -------
    ``[N]`` array, ``pi_n(y)`` (sums to 1; equals ``ref_probs`` when ``n = 1``).
    """
    p = np.asarray(ref_probs, dtype=float)
    r = np.asarray(rewards, dtype=float)
    levels, inverse = np.unique(r, return_inverse=True)
    mass = np.bincount(inverse, weights=p, minlength=len(levels))
    cdf = np.minimum(np.cumsum(mass), 1.0)
    below = np.maximum(cdf - mass, 0.0)
    level_prob = cdf**n - below**n
    return p / mass[inverse] * level_prob[inverse]
