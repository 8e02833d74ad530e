"""Checks for notebooks/exercises/ex14_case_studies.py (book chapter 7)."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np

from rlcore import GridWorld
from rlcore.rlhf import best_of_n_distribution
from rlcore.tabular.soft import soft_value_iteration

from .harness import check, expect, expect_close

MODULE = "ex14_case_studies"


# --------------------------------------------------------------------------- pass@k
def _pass_at_k_by_enumeration(n: int, c: int, k: int) -> float:
    """Share of the k-subsets of n samples (the first c of them correct) that hold at least one pass."""
    subsets = list(itertools.combinations(range(n), k))
    return sum(any(i < c for i in s) for s in subsets) / len(subsets)


@check(MODULE, "pass_at_k", "k samples are drawn without replacement: 1 - C(n-c, k) / C(n, k), not 1 - (1-c/n)^k")
def check_pass_at_k_brute_force(f):
    for n, c, k in ((8, 1, 1), (8, 2, 3), (8, 3, 5), (9, 4, 2), (10, 2, 5), (7, 0, 3), (7, 5, 3), (7, 7, 7)):
        expect_close(f(n, c, k), _pass_at_k_by_enumeration(n, c, k),
                     f"pass_at_k(n={n}, c={c}, k={k}) against enumerating every {k}-subset")


@check(MODULE, "pass_at_k", "the edge cases: 0 when c = 0, exactly 1 once n - c < k, c/n when k = 1")
def check_pass_at_k_by_hand(f):
    expect_close(f(10, 2, 1), 0.2, "pass@1 from n = 10, c = 2 (the chapter's worked example)")
    expect_close(f(10, 2, 5), 1 - 56 / 252, "pass@5 from n = 10, c = 2: 1 - C(8, 5) / C(10, 5)")
    expect_close(f(50, 0, 10), 0.0, "no sample passed (c = 0)")
    expect_close(f(10, 8, 5), 1.0, "n - c = 2 < k = 5: every 5 samples include a pass")
    expect_close(f(200, 10, 200), 1.0, "k = n with c > 0")


@check(MODULE, "pass_at_k", "float binomials overflow for large n: use the product of (1 - k / i)")
def check_pass_at_k_large_n(f):
    for n, c, k in ((20_000, 30, 1_000), (5_000, 3, 2_500)):
        exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
        got = f(n, c, k)
        expect(got is not None and np.isfinite(got), f"pass_at_k({n}, {c}, {k}) must be finite, got {got}")
        expect_close(got, float(exact), f"pass_at_k(n={n}, c={c}, k={k}) against exact integer arithmetic")


@check(MODULE, "pass_at_k", "the estimator is unbiased: its mean over c ~ Binomial(n, p) is 1 - (1-p)^k")
def check_pass_at_k_unbiased(f):
    n, p = 12, 0.3
    pmf = [math.comb(n, c) * p**c * (1 - p) ** (n - c) for c in range(n + 1)]
    for k in (1, 3, 6, 12):
        mean = sum(w * f(n, c, k) for c, w in enumerate(pmf))
        expect_close(mean, 1 - (1 - p) ** k, f"E[pass_at_k(12, c, {k})] for c ~ Binomial(12, 0.3)", atol=1e-9)


# --------------------------------------------------------------------------- the soft backup
@check(MODULE, "soft_backup", "V = beta log sum_a pi_ref exp(Q / beta): weight by pi_ref and keep the factor beta")
def check_soft_backup_by_hand(f):
    V, pi = f(np.array([[0.0, 1.0]]), np.array([[0.5, 0.5]]), 1.0)
    expect_close(V, [math.log((1 + math.e) / 2)], "one state, Q = (0, 1), uniform reference, beta = 1")
    expect_close(pi, [[1 / (1 + math.e), math.e / (1 + math.e)]], "its tilted policy")
    V, pi = f(np.array([[0.0, 1.0]]), np.array([[0.75, 0.25]]), 0.5)
    z = 0.75 + 0.25 * math.e**2
    expect_close(V, [0.5 * math.log(z)], "Q = (0, 1), pi_ref = (0.75, 0.25), beta = 0.5")
    expect_close(pi, [[0.75 / z, 0.25 * math.e**2 / z]], "its tilted policy")


@check(MODULE, "soft_backup", "rlcore's soft value iteration converges to a fixed point of your backup")
def check_soft_backup_fixed_point(f):
    mdp = GridWorld.open(3, 3, step_reward=-0.04, goal_reward=1.0, gamma=0.9).mdp
    ref = np.random.default_rng(30).dirichlet(np.ones(mdp.n_actions), size=mdp.n_states)
    for beta in (0.05, 1.0):
        res = soft_value_iteration(mdp, ref, beta)
        V, pi = f(res.Q, ref, beta)
        expect_close(V, res.V, f"V from rlcore.tabular.soft's converged Q (3x3 room, beta={beta})", atol=1e-8)
        expect_close(pi, res.pi, f"pi from rlcore.tabular.soft's converged Q (beta={beta})", atol=1e-8)


@check(MODULE, "soft_backup", "subtract the row maximum before exp (small beta), and leave pi_ref = 0 actions out")
def check_soft_backup_limits(f):
    q = np.array([[0.3, 1.0, -2.0], [0.5, 0.9, 0.2]])
    ref = np.array([[0.2, 0.5, 0.3], [0.4, 0.0, 0.6]])
    with np.errstate(divide="ignore"):
        V, pi = f(q, ref, 1e-4)
    expect_close(V, [1.0, 0.5], "beta = 1e-4: V is the best Q the reference allows (action 1 of state 1 has "
                 "pi_ref = 0)", atol=1e-3)
    expect_close(pi, [[0, 1, 0], [1, 0, 0]], "beta = 1e-4: pi is greedy among the allowed actions", atol=1e-6)
    with np.errstate(divide="ignore"):
        V, pi = f(q, ref, 1e4)
    expect_close(V, (ref * q).sum(axis=1), "beta = 1e4: V is the reference's mean Q", atol=1e-3)
    expect_close(pi, ref, "beta = 1e4: pi stays the reference", atol=1e-3)


# --------------------------------------------------------------------------- best-of-n
def _best_of_n_by_enumeration(p: np.ndarray, r: np.ndarray, n: int) -> np.ndarray:
    """Walk every ordered n-tuple of draws; the kept text is the first draw with the top score."""
    out = np.zeros(len(p))
    for draws in itertools.product(range(len(p)), repeat=n):
        scores = r[list(draws)]
        out[draws[int(np.argmax(scores))]] += np.prod(p[list(draws)])
    return out


@check(MODULE, "best_of_n_probs", "ties go to the first draw, so a tied level is shared in proportion to pi")
def check_best_of_n_brute_force(f):
    p = np.array([0.4, 0.1, 0.3, 0.2])
    for r in (np.array([0.0, 2.0, 1.0, 3.0]), np.array([1.0, 0.0, 1.0, 0.0]), np.array([2.0, 2.0, 2.0, 2.0])):
        for n in (1, 2, 4):
            expect_close(f(p, r, n), _best_of_n_by_enumeration(p, r, n),
                         f"best-of-{n} with scores {r.tolist()} against all {len(p)}^{n} draws")


@check(MODULE, "best_of_n_probs", "P(kept score = t) = F(t)^n - (F(t) - m(t))^n with F the CDF of the score")
def check_best_of_n_against_rlcore(f):
    rng = np.random.default_rng(31)
    p = rng.dirichlet(np.ones(12))
    r = rng.integers(0, 4, size=12).astype(float)  # a judge with four levels: many ties
    for n in (3, 16):
        want = np.exp(best_of_n_distribution(np.log(p), r, np.zeros(12, dtype=int), n))
        expect_close(f(p, r, n), want, f"12 texts, 4 score levels, n = {n}, against rlcore.rlhf", atol=1e-9)
    q = np.array([0.5, 0.3, 0.2])
    expect_close(f(q, np.array([0.0, 1.0, 5.0]), 3)[2], 1 - 0.8**3, "distinct scores: the top text "
                 "is kept unless all 3 draws miss it")


def mutants(sol):
    """Plausible wrong answers (each must be caught by at least one check of its function)."""
    from scipy.special import comb

    def float_binomials(n, c, k):
        return float(1 - comb(n - c, k) / comb(n, k))

    def product_off_by_one(n, c, k):
        return 1.0 if n - c < k else float(1 - np.prod(1 - k / np.arange(n - c, n, dtype=float)))

    def soft_uniform_ref(q, ref, beta):
        return sol.soft_backup(q, np.where(np.asarray(ref) > 0, 1.0, 0.0) / (np.asarray(ref) > 0).sum(1, keepdims=True),
                               beta)

    def soft_no_beta_factor(q, ref, beta):
        V, pi = sol.soft_backup(q, ref, beta)
        return V / beta, pi

    def soft_overflows(q, ref, beta):
        w = np.asarray(ref) * np.exp(np.asarray(q) / beta)
        return beta * np.log(w.sum(1)), w / w.sum(1, keepdims=True)

    def hard_backup(q, ref, beta):
        q = np.where(np.asarray(ref) > 0, q, -np.inf)
        return q.max(1), np.eye(q.shape[1])[q.argmax(1)]

    def bon_no_ties(p, r, n):
        order = np.lexsort((np.arange(len(r)), r))  # ties ranked by position, as if the scores were distinct
        p = np.asarray(p, dtype=float)
        cdf = np.cumsum(p[order])
        out = np.empty_like(p)
        out[order] = cdf**n - (cdf - p[order]) ** n
        return out

    def bon_cdf_only(p, r, n):
        levels, inv = np.unique(r, return_inverse=True)
        mass = np.bincount(inv, weights=p, minlength=len(levels))
        return np.asarray(p) / mass[inv] * np.cumsum(mass)[inv] ** n

    def bon_tilted(p, r, n):
        w = np.asarray(p) * np.exp(np.asarray(r, dtype=float) * math.log(n))
        return w / w.sum()

    return {
        f"{MODULE}.pass_at_k": [
            ("biased 1-(1-c/n)^k", lambda n, c, k: 1 - (1 - c / n) ** k),
            ("forgot the complement", lambda n, c, k: 1 - sol.pass_at_k(n, c, k)),
            ("float binomials overflow", float_binomials),
            ("product over the wrong range", product_off_by_one),
        ],
        f"{MODULE}.soft_backup": [
            ("reference ignored", soft_uniform_ref),
            ("no factor beta", soft_no_beta_factor),
            ("overflows", soft_overflows),
            ("hard max", hard_backup),
        ],
        f"{MODULE}.best_of_n_probs": [
            ("ties ranked by position", bon_no_ties),
            ("F^n without subtracting", bon_cdf_only),
            ("reward tilt instead of best-of-n", bon_tilted),
        ],
    }

