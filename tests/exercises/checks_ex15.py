"""Checks for notebooks/exercises/ex15_foundations.py (book chapter 8)."""

from __future__ import annotations

import math

import numpy as np

from rlcore import TabularMDP, policy_evaluation, policy_iteration
from rlcore.core.random_mdp import random_mdp
from rlcore.tabular.soft import soft_value_iteration

from .harness import check, expect, expect_close

MODULE = "ex15_foundations"


# --------------------------------------------------------------------------- contraction_bound_sweeps
@check(MODULE, "contraction_bound_sweeps", "smallest k with gamma^k * e0 <= eps: round the logarithm up, and an "
                                            "exact power of gamma already counts")
def check_sweeps_by_hand(f):
    expect_close(f(0.5, 0.125, 1.0), 3, "contraction_bound_sweeps(0.5, 0.125, 1.0) (0.5^3 = 0.125 exactly)")
    expect_close(f(0.5, 0.1, 1.0), 4, "contraction_bound_sweeps(0.5, 0.1, 1.0) (0.5^3 = 0.125 is not enough)")
    expect_close(f(0.5, 1.0, 2.0), 1, "contraction_bound_sweeps(0.5, 1.0, 2.0)")
    expect_close(f(0.9, 1.0, 0.5), 0, "contraction_bound_sweeps(0.9, eps=1.0, initial_error=0.5) (already there)")
    expect_close(f(0.9, 1e-3, 0.0), 0, "contraction_bound_sweeps(0.9, 1e-3, initial_error=0.0)")


@check(MODULE, "contraction_bound_sweeps", "count multiplications by gamma until gamma^k * e0 <= eps")
def check_sweeps_against_counting(f):
    rng = np.random.default_rng(11)
    for _ in range(200):
        gamma = float(rng.uniform(0.05, 0.999))
        e0 = float(10 ** rng.uniform(-2, 3))
        eps = float(10 ** rng.uniform(-9, 1))
        bound, k = e0, 0
        while bound > eps:
            bound, k = bound * gamma, k + 1
        got = f(gamma, eps, e0)
        expect(isinstance(got, (int, np.integer)), f"expected an int, got {type(got).__name__} {got!r}")
        expect_close(got, k, f"contraction_bound_sweeps({gamma:.4f}, {eps:.3g}, {e0:.3g})")


@check(MODULE, "contraction_bound_sweeps", "after that many sweeps from V_0 = 0 value iteration must be eps-accurate")
def check_sweeps_suffice_for_value_iteration(f):
    base = random_mdp(30, 3, 4, seed=5)
    for gamma in (0.5, 0.9, 0.97):
        mdp = TabularMDP(base.next_state, base.prob, base.reward, gamma=gamma)
        V_star = policy_iteration(mdp).V
        k = f(gamma, 1e-4, float(np.abs(V_star).max()))
        V = np.zeros(mdp.n_states)
        for _ in range(int(k)):
            V = mdp.q_from_v(V).max(axis=1)
        err = float(np.abs(V - V_star).max())
        expect(err <= 1e-4, f"gamma={gamma}: after your {k} sweeps the error is {err:.2e} > 1e-4")


# --------------------------------------------------------------------------- greedy_loss_bound
@check(MODULE, "greedy_loss_bound", "2 gamma err / (1 - gamma): the factor 2, the gamma on top, one power of 1 - gamma")
def check_greedy_bound_chapter_numbers(f):
    # Chapter 8, "Check your understanding": gamma = 0.95 and err = 19e-6 give about 7.2e-4.
    expect_close(f(0.95, 19e-6), 7.22e-4, "greedy_loss_bound(0.95, 1.9e-5)", atol=1e-9)
    expect_close(f(0.5, 1.0), 2.0, "greedy_loss_bound(0.5, 1.0)")
    expect_close(f(0.0, 3.0), 0.0, "greedy_loss_bound(0.0, 3.0) (gamma = 0: greedy on R is optimal)")


def _stay_or_leave(gamma: float, delta: float) -> TabularMDP:
    """State 0: stay (reward c, back to 0) or leave (reward 0, to state 1); state 1 pays 1 forever.

    Staying forever is worth c / (1 - gamma) = gamma / (1 - gamma) - delta, leaving gamma / (1 - gamma).
    """
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = P[0, 1, 1] = 1.0
    P[1, :, 1] = 1.0
    R = np.array([[gamma - (1 - gamma) * delta, 0.0], [1.0, 1.0]])
    return TabularMDP.from_dense(P, R, gamma=gamma)


@check(MODULE, "greedy_loss_bound", "the bound is attained: on this two-state MDP the measured loss is 99.9% of it")
def check_greedy_bound_is_tight(f):
    for gamma, err in ((0.5, 0.1), (0.9, 0.01), (0.99, 0.001)):
        delta = 0.999 * 2 * gamma * err / (1 - gamma)  # just inside the region where greedy goes wrong
        mdp = _stay_or_leave(gamma, delta)
        V_star = policy_iteration(mdp).V
        V = V_star + np.array([err, -err])
        greedy = mdp.q_from_v(V).argmax(axis=1)
        loss = float(np.abs(V_star - policy_evaluation(mdp, greedy).V).max())
        bound = f(gamma, err)
        expect(loss <= bound * (1 + 1e-9), f"gamma={gamma}, err={err}: measured loss {loss:.6g} exceeds "
                                            f"your bound {bound:.6g}")
        expect(bound <= loss / 0.999 * (1 + 1e-6), f"gamma={gamma}, err={err}: measured loss {loss:.6g} is 99.9% "
                                                    f"of the true bound, yours {bound:.6g} is too loose")


# --------------------------------------------------------------------------- soft_backup
@check(MODULE, "soft_backup", "beta * log of the pi_ref-weighted sum of exp(Q / beta); pi_ref = 0 removes an action")
def check_soft_backup_by_hand(f):
    # beta = 1: log(0.5 * e^0 + 0.5 * e^(log 3)) = log 2; a constant row passes through unchanged.
    Q = np.array([[0.0, math.log(3.0)], [1.5, 1.5], [2.0, 100.0]])
    pi = np.array([[0.5, 0.5], [0.3, 0.7], [1.0, 0.0]])
    expect_close(f(Q, pi, 1.0), [math.log(2.0), 1.5, 2.0], "soft_backup, beta = 1 (rows by hand)", atol=1e-9)
    # beta = 2: 2 log(0.25 e^0 + 0.75 e^1) = 2 log(0.25 + 0.75 e)
    expect_close(f(np.array([[0.0, 2.0]]), np.array([[0.25, 0.75]]), 2.0), [2 * math.log(0.25 + 0.75 * math.e)],
                 "soft_backup, beta = 2, Q = [0, 2], pi_ref = [0.25, 0.75]", atol=1e-9)


@check(MODULE, "soft_backup", "subtract the row maximum (over allowed actions) before exp, add it back after the log")
def check_soft_backup_limits(f):
    rng = np.random.default_rng(3)
    Q = rng.normal(scale=5.0, size=(6, 4))
    pi = rng.dirichlet(np.ones(4), size=6)
    pi[0, np.argmax(Q[0])] = 0.0  # the best action of state 0 is impossible under pi_ref
    pi /= pi.sum(axis=1, keepdims=True)
    masked = np.where(pi > 0, Q, -np.inf)
    best = masked.argmax(axis=1)
    # beta -> 0: max over allowed actions plus beta log pi_ref(best); the rest is below e^(-gap / beta)
    beta = 1e-3
    expected = masked.max(axis=1) + beta * np.log(pi[np.arange(6), best])
    with np.errstate(all="ignore"):
        got = f(Q, pi, beta)
    expect_close(got, expected, "soft_backup with beta = 1e-3 (close to the max: no overflow allowed)", atol=1e-9)
    # beta -> infinity: the pi_ref-average of Q, plus the variance over 2 beta
    beta = 1e4
    mean = (pi * Q).sum(axis=1)
    expected = mean + (pi * (Q - mean[:, None]) ** 2).sum(axis=1) / (2 * beta)
    expect_close(f(Q, pi, beta), expected, "soft_backup with beta = 1e4 (close to the pi_ref-average)", atol=1e-6)


@check(MODULE, "soft_backup", "V from soft value iteration is a fixed point: V = f(R + gamma P V)")
def check_soft_backup_fixed_point(f):
    mdp = random_mdp(12, 3, 4, gamma=0.9, seed=8)
    pi = np.random.default_rng(8).dirichlet(np.ones(3), size=12)
    pi[:4, 2] = 0.0
    pi /= pi.sum(axis=1, keepdims=True)
    for beta in (0.05, 1.0):
        res = soft_value_iteration(mdp, pi, beta, tol=1e-12)
        expect_close(f(mdp.q_from_v(res.V), pi, beta), res.V, f"soft_backup(R + gamma P V_beta) at beta = {beta}",
                     atol=1e-8)


def mutants(sol):
    """Plausible wrong answers (each must be caught by at least one check of its function)."""

    def naive_soft(Q, pi, beta):
        return beta * np.log((np.asarray(pi) * np.exp(np.asarray(Q) / beta)).sum(axis=1))

    def unweighted_soft(Q, pi, beta):
        Q = np.asarray(Q, dtype=float)
        m = Q.max(axis=1, keepdims=True)
        return m[:, 0] + beta * np.log(np.exp((Q - m) / beta).sum(axis=1))

    return {
        "ex15_foundations.contraction_bound_sweeps": [
            ("floor instead of ceil", lambda g, eps, e0: 0 if e0 <= eps else math.floor(
                math.log(eps / e0) / math.log(g))),
            ("strict inequality", lambda g, eps, e0: sol.contraction_bound_sweeps(g, eps * (1 - 1e-12), e0)),
            ("log(1/gamma) replaced by 1 - gamma", lambda g, eps, e0: 0 if e0 <= eps else math.ceil(
                math.log(e0 / eps) / (1 - g))),
            ("initial error ignored", lambda g, eps, e0: sol.contraction_bound_sweeps(g, eps, 1.0))],
        "ex15_foundations.greedy_loss_bound": [
            ("forgot the factor 2", lambda g, e: g * e / (1 - g)),
            ("no gamma on top", lambda g, e: 2 * e / (1 - g)),
            ("squared horizon", lambda g, e: 2 * g * e / (1 - g) ** 2)],
        "ex15_foundations.soft_backup": [
            ("pi_ref ignored", unweighted_soft),
            ("no max subtraction (overflows)", naive_soft),
            ("beta not multiplied back", lambda Q, pi, beta: sol.soft_backup(Q, pi, beta) / beta),
            ("pi_ref-weighted mean", lambda Q, pi, beta: (np.asarray(pi) * Q).sum(axis=1)),
            ("hard max over every action", lambda Q, pi, beta: np.asarray(Q).max(axis=1))],
    }
