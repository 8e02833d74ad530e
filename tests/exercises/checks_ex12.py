"""Checks for notebooks/exercises/ex12_advanced.py (book chapter 5)."""

from __future__ import annotations

import numpy as np

from rlcore.advanced import TextLog, awr_weights, smdp_q_update
from rlcore.envs.vocabulary import Vocabulary

from .harness import check, expect, expect_close

MODULE = "ex12_advanced"


# --------------------------------------------------------------------------- smdp_q_update
@check(MODULE, "smdp_q_update", "the bootstrap is discounted by gamma**k, one factor gamma per step the option took")
def check_smdp_update_by_hand(f):
    Q = np.array([[0.0, 1.0], [2.0, 5.0]])
    # 1 + 0.5 (0.5 + 0.9^3 * 5 - 1) = 1 + 0.5 * 3.145 = 2.5725
    expect_close(f(Q, 0, 1, 0.5, 3, 1, False, 0.5, 0.9), [[0.0, 2.5725], [2.0, 5.0]],
                 "Q after option 1 ran 3 steps from state 0 (G = 0.5, alpha = 0.5, gamma = 0.9)")
    expect_close(f(Q, 0, 0, 0.5, 2, 1, True, 1.0, 0.9), [[0.5, 1.0], [2.0, 5.0]],
                 "an option whose last step ended the episode: no bootstrap, target = G")
    expect(np.array_equal(Q, [[0.0, 1.0], [2.0, 5.0]]), "smdp_q_update changed its input Q: return a copy")


@check(MODULE, "smdp_q_update", "unavailable options hold -inf; max over the row of s_next skips them")
def check_smdp_update_against_rlcore(f):
    rng = np.random.default_rng(12)
    for _ in range(20):
        Q = rng.normal(size=(5, 4))
        Q[rng.random((5, 4)) < 0.3] = -np.inf
        Q[:, 0] = rng.normal(size=5)  # one option everywhere
        s, o, s2, k = int(rng.integers(5)), 0, int(rng.integers(5)), int(rng.integers(1, 6))
        G, ended = float(rng.normal()), bool(rng.random() < 0.3)
        want = Q.copy()
        smdp_q_update(want, s, o, G, k, s2, ended, np.isfinite(Q[s2]), 0.3, 0.95)
        expect_close(f(Q, s, o, G, k, s2, ended, 0.3, 0.95), want,
                     f"a random case against rlcore.advanced.smdp_q_update (k = {k}, ended = {ended})", atol=1e-12)


@check(MODULE, "smdp_q_update", "with k = 1 the update is one-step Q-learning")
def check_one_step_is_q_learning(f):
    Q = np.array([[0.2, -0.1, 0.4], [1.0, 3.0, 2.0]])
    target = -0.5 + 0.9 * 3.0
    expect_close(f(Q, 0, 2, -0.5, 1, 1, False, 0.1, 0.9)[0, 2], 0.4 + 0.1 * (target - 0.4),
                 "Q(0, 2) after a primitive step (r = -0.5, alpha = 0.1, gamma = 0.9)")


# --------------------------------------------------------------------------- awr_weights
@check(MODULE, "awr_weights", "the baseline is the mean reward of the same prompt's entries, not of the whole log")
def check_awr_by_hand(f):
    r, ids = [1.0, 0.0, 5.0, 7.0], [0, 0, 1, 1]
    # prompt 0: mean 0.5, advantages +0.5, -0.5; prompt 1: mean 6, advantages -1, +1; T = 0.5
    want = np.exp(np.array([0.5, -0.5, -1.0, 1.0]) / 0.5)
    expect_close(f(r, ids, 0.5, 100.0), want, "weights for two prompts, T = 0.5, no clipping reached")
    expect_close(f(r, ids, 0.5, 2.0), np.minimum(want, 2.0), "the same with max_weight = 2")
    expect_close(f([3.0, 3.0, 3.0], ["a", "a", "a"], 0.1, 20.0), [1.0, 1.0, 1.0],
                 "equal rewards: every advantage is 0 and every weight 1")


@check(MODULE, "awr_weights", "w = min(exp((r - b) / T), max_weight): clip after the exponential")
def check_awr_against_rlcore(f):
    rng = np.random.default_rng(5)
    prompts = tuple(str(p) for p in rng.choice(["a", "b", "ab"], size=30))
    rewards = rng.normal(size=30) * 2
    log = TextLog(prompts, ("",) * 30, rewards, Vocabulary("ab"), 4)
    for T, cap in ((0.2, 20.0), (1.0, 3.0)):
        expect_close(f(rewards, np.array(prompts), T, cap), awr_weights(log, T, cap),
                     f"30 entries, three prompts, T = {T}, max_weight = {cap}, against rlcore.advanced.awr_weights",
                     atol=1e-10)


def mutants(sol):
    """Plausible wrong answers (each must be caught by at least one check of its function)."""

    def gamma_once(Q, s, o, G, k, s_next, ended, alpha, gamma):
        return sol.smdp_q_update(Q, s, o, G, 1, s_next, ended, alpha, gamma) if k == 1 else \
            _update(Q, s, o, G + gamma * (0 if ended else np.max(np.asarray(Q)[s_next])), alpha)

    def bootstraps_at_the_end(Q, s, o, G, k, s_next, ended, alpha, gamma):
        return sol.smdp_q_update(Q, s, o, G, k, s_next, False, alpha, gamma)

    def in_place(Q, s, o, G, k, s_next, ended, alpha, gamma):
        out = sol.smdp_q_update(Q, s, o, G, k, s_next, ended, alpha, gamma)
        np.asarray(Q)[...] = out
        return out

    def global_baseline(r, ids, T, cap):
        r = np.asarray(r, dtype=float)
        return np.minimum(np.exp((r - r.mean()) / T), cap)

    def no_baseline(r, ids, T, cap):
        return np.minimum(np.exp(np.asarray(r, dtype=float) / T), cap)

    def clip_inside(r, ids, T, cap):
        w = sol.awr_weights(r, ids, T, np.inf)
        return np.exp(np.minimum(np.log(w), cap))

    return {
        "ex12_advanced.smdp_q_update": [("gamma instead of gamma**k", gamma_once),
                                        ("bootstraps after the episode ended", bootstraps_at_the_end),
                                        ("changes its input", in_place)],
        "ex12_advanced.awr_weights": [("one baseline for the whole log", global_baseline), ("no baseline", no_baseline),
                                      ("clips the advantage, not the weight", clip_inside)],
    }


def _update(Q, s, o, target, alpha):
    Q = np.array(Q, dtype=float)
    Q[s, o] += alpha * (target - Q[s, o])
    return Q
