"""Exercises for chapter 7 (case studies): the pass@k estimator of code generation, the soft Bellman
backup behind the KL leash, and the exact distribution of best-of-n filtering by a judge.

Companion notebook: notebooks/14_case_studies.ipynb. The tests check your answers against brute-force
enumeration, cases worked by hand, and rlcore's own rlcore/tabular/soft.py and rlcore/rlhf/best_of_n.py.
Fill in each function body (replace the ``raise NotImplementedError``), then check your work with

    python -m pytest tests/exercises --student -k ex14
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (you will need it)


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
    raise NotImplementedError(
        "return 1.0 if n - c < k; else 1 - prod over i = n-c+1 .. n of (1 - k / i) (np.arange, np.prod)")


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
    raise NotImplementedError(
        "logits = log pi_ref + Q / beta (-inf where pi_ref = 0); V = beta * logsumexp; pi = exp(logits - log Z)")


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
    raise NotImplementedError(
        "np.unique(rewards, return_inverse=True); mass per level (np.bincount); F = cumsum; F**n - (F - m)**n")
