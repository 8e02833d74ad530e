"""Tests written to kill the mutants mutmut left alive in ``rlcore/health/ope.py``.

A hand-made log of five episodes (one truncated at the horizon, one that starts in a
terminal state) and plain per-episode, per-step Python loops for every estimator: IS,
WIS, PDIS, FQE on the empirical model, per-decision DR and weighted DR, the effective
sample size, and the percentile bootstrap (the same multinomial draws, recomputed).
"""

import math
import warnings

import numpy as np
import pytest

from rlcore.health.logs import LoggedData
from rlcore.health.ope import (
    NoSupportWarning,
    OPEEstimate,
    doubly_robust,
    evaluate_offline,
    fitted_q_evaluation,
    importance_sampling,
)

GAMMA, H, S, A = 0.9, 3, 3, 2
B = np.array([[0.6, 0.4], [0.7, 0.3], [0.5, 0.5]])          # behaviour; state 2 is terminal
PI = np.array([[0.2, 0.8], [0.5, 0.5], [0.5, 0.5]])
# episodes as lists of (s, a, r, s', terminated)
EPISODES = [
    [(0, 0, 1.0, 1, False), (1, 1, 2.0, 2, True)],
    [(0, 1, 0.5, 0, False), (0, 0, 1.0, 1, False), (1, 0, -1.0, 1, False)],   # cut at the horizon
    [(0, 1, 0.0, 1, False), (1, 1, 3.0, 2, True)],
    [(1, 0, 2.0, 2, True)],
    [],                                                                     # starts in the terminal state
]


def make_log(episodes=EPISODES, behaviour=B):
    N = len(episodes)
    z = lambda dt: np.zeros((N, H), dtype=dt)  # noqa: E731
    s, a, s2, r, term, valid = z(np.int64), z(np.int64), z(np.int64), z(float), z(bool), z(bool)
    bp = np.ones((N, H))
    for i, ep in enumerate(episodes):
        for t, (si, ai, ri, s2i, ti) in enumerate(ep):
            s[i, t], a[i, t], r[i, t], s2[i, t], term[i, t], valid[i, t] = si, ai, ri, s2i, ti, True
            bp[i, t] = behaviour[si, ai]
    if not episodes[-1]:
        s[-1, :] = 0        # padding, as the logger writes it
    return LoggedData(states=s, actions=a, rewards=r, next_states=s2, terminated=term, valid=valid,
                      behaviour_probs=bp, behaviour=behaviour, gamma=GAMMA, horizon=H, n_states=S, n_actions=A,
                      terminal=np.array([False, False, True]))


def rho(s, a, pi=PI, b=B):
    return pi[s, a] / b[s, a]


def is_terms(episodes, pi=PI):
    """Per-episode (w_i, G_i, PDIS term)."""
    out = []
    for ep in episodes:
        w, G, pd = 1.0, 0.0, 0.0
        for t, (s, a, r, _, _) in enumerate(ep):
            w *= rho(s, a, pi)
            G += GAMMA**t * r
            pd += GAMMA**t * w * r
        out.append((w, G, pd))
    return out


def ref_is(episodes, method, u=None, pi=PI):
    u = [1.0] * len(episodes) if u is None else u
    terms = is_terms(episodes, pi)
    if method == "is":
        return sum(ui * w * G for ui, (w, G, _) in zip(u, terms)) / sum(u)
    if method == "pdis":
        return sum(ui * pd for ui, (_, _, pd) in zip(u, terms)) / sum(u)
    tot = sum(ui * w for ui, (w, _, _) in zip(u, terms))
    return sum(ui * w * G for ui, (w, G, _) in zip(u, terms)) / tot if tot > 0 else math.nan


def ref_fqe_tables(episodes, u=None, unseen_q=0.0, pi=PI):
    """``Q[h][s][a]``, h = 0..H, on the empirical model with episode multiplicities ``u``."""
    u = [1.0] * len(episodes) if u is None else u
    trans = {}
    for ui, ep in zip(u, episodes):
        for s, a, r, s2, term in ep:
            trans.setdefault((s, a), []).append((ui, r, s2, term))
    Q = [[[0.0] * A for _ in range(S)]]
    V = [0.0] * S
    for _h in range(H):
        Qh = [[unseen_q] * A for _ in range(S)]
        for (s, a), lst in trans.items():
            n = sum(x[0] for x in lst)
            if n > 0:
                Qh[s][a] = sum(ui * (r + GAMMA * (0.0 if term else 1.0) * V[s2]) for ui, r, s2, term in lst) / n
        V = [sum(pi[s, a] * Qh[s][a] for a in range(A)) for s in range(S)]
        Q.append(Qh)
    return Q


def ref_fqe(episodes, u=None, unseen_q=0.0, pi=PI):
    u = [1.0] * len(episodes) if u is None else u
    Q = ref_fqe_tables(episodes, u, unseen_q, pi)
    vals = [sum(pi[ep[0][0], a] * Q[H][ep[0][0]][a] for a in range(A)) if ep else 0.0 for ep in episodes]
    return sum(ui * v for ui, v in zip(u, vals)) / sum(u)


def ref_dr(episodes, u=None, unseen_q=0.0, weighted=False, pi=PI):
    u = [1.0] * len(episodes) if u is None else u
    Q = ref_fqe_tables(episodes, u, unseen_q, pi)
    N = len(episodes)
    # cumulative weight carried past the end of an episode (ratio 1 after the end)
    W = []
    for ep in episodes:
        row, w = [], 1.0
        for t in range(H):
            if t < len(ep):
                w *= rho(ep[t][0], ep[t][1], pi)
            row.append(w)
        W.append(row)
    if weighted:
        mean_w = [sum(u[j] * W[j][t] for j in range(N)) / sum(u) for t in range(H)]
        W = [[W[j][t] / (mean_w[t] if mean_w[t] > 0 else 1.0) for t in range(H)] for j in range(N)]
    total = 0.0
    for i, ep in enumerate(episodes):
        term = 0.0
        for t, (s, a, r, _, _) in enumerate(ep):
            q = Q[H - t][s][a]
            v = sum(pi[s, b] * Q[H - t][s][b] for b in range(A))
            prev = 1.0 if t == 0 else W[i][t - 1]
            term += GAMMA**t * (W[i][t] * (r - q) + prev * v)
        total += u[i] * term
    return total / sum(u)


def ref_percentiles(reps, confidence):
    """Linear-interpolation percentiles written out (numpy's default method)."""
    xs = sorted(x for x in reps if not math.isnan(x))
    out = []
    for q in ((1 - confidence) / 2, (1 + confidence) / 2):
        pos = q * (len(xs) - 1)
        lo = int(math.floor(pos))
        hi = min(lo + 1, len(xs) - 1)
        out.append(xs[lo] + (pos - lo) * (xs[hi] - xs[lo]))
    return out


def draws(seed, n_bootstrap, N):
    rng = np.random.default_rng(seed)
    return [rng.multinomial(N, np.full(N, 1.0 / N)).astype(float).tolist() for _ in range(n_bootstrap)]


# --------------------------------------------------------------- point estimates
@pytest.mark.parametrize("method", ["is", "wis", "pdis"])
def test_importance_sampling_matches_a_per_episode_loop(method):
    est = importance_sampling(make_log(), PI, method, n_bootstrap=0)
    assert isinstance(est, OPEEstimate) and est.method == method and est.n_episodes == 5
    assert est.value == pytest.approx(ref_is(EPISODES, method), rel=1e-12)
    w = [x[0] for x in is_terms(EPISODES)]
    assert est.ess == pytest.approx(sum(w) ** 2 / sum(x * x for x in w), rel=1e-12)


def test_the_three_weightings_differ_on_this_log():
    vals = {m: ref_is(EPISODES, m) for m in ("is", "wis", "pdis")}
    assert len({round(v, 9) for v in vals.values()}) == 3


def test_fqe_matches_exact_evaluation_in_the_empirical_model():
    est = fitted_q_evaluation(make_log(), PI, n_bootstrap=0)
    assert est.method == "fqe" and est.ess == 5.0 and est.n_episodes == 5
    assert est.value == pytest.approx(ref_fqe(EPISODES), rel=1e-12)


def test_fqe_unseen_pairs_take_unseen_q():
    episodes = [[(0, 0, 1.0, 1, False), (1, 0, 1.0, 2, True)], [(0, 0, 0.0, 1, False), (1, 0, 2.0, 2, True)]]
    log = make_log(episodes)
    for unseen in (0.0, 5.0, -3.0):
        est = fitted_q_evaluation(log, PI, unseen_q=unseen, n_bootstrap=0)
        assert est.value == pytest.approx(ref_fqe(episodes, unseen_q=unseen), rel=1e-12)
    assert ref_fqe(episodes, unseen_q=5.0) != ref_fqe(episodes, unseen_q=0.0)


@pytest.mark.parametrize("weighted", [False, True])
def test_doubly_robust_matches_a_per_decision_loop(weighted):
    est = doubly_robust(make_log(), PI, weighted=weighted, n_bootstrap=0)
    assert est.method == ("wdr" if weighted else "dr")
    assert est.value == pytest.approx(ref_dr(EPISODES, weighted=weighted), rel=1e-12)
    w = [x[0] for x in is_terms(EPISODES)]
    assert est.ess == pytest.approx(sum(w) ** 2 / sum(x * x for x in w), rel=1e-12)


@pytest.mark.parametrize("unseen", [0.0, 4.0])
def test_doubly_robust_with_unseen_pairs(unseen):
    episodes = [[(0, 1, 1.0, 1, False), (1, 0, 1.0, 2, True)], [(0, 1, 0.0, 0, False), (0, 1, 2.0, 2, True)],
                [(1, 0, 0.5, 1, False), (1, 0, 0.5, 1, False), (1, 0, 0.5, 1, False)]]
    log = make_log(episodes)
    for weighted in (False, True):
        est = doubly_robust(log, PI, unseen_q=unseen, weighted=weighted, n_bootstrap=0)
        assert est.value == pytest.approx(ref_dr(episodes, unseen_q=unseen, weighted=weighted), rel=1e-12)


def test_dr_and_wdr_differ_and_on_policy_is_weights_are_one():
    assert abs(ref_dr(EPISODES) - ref_dr(EPISODES, weighted=True)) > 1e-6
    on = make_log(EPISODES, behaviour=PI)
    rets = [sum(GAMMA**t * r for t, (_, _, r, _, _) in enumerate(ep)) for ep in EPISODES]
    for est in (importance_sampling(on, PI, "is", n_bootstrap=0), importance_sampling(on, PI, "wis", n_bootstrap=0),
                importance_sampling(on, PI, "pdis", n_bootstrap=0)):
        assert est.value == pytest.approx(sum(rets) / len(rets), rel=1e-12), est.method
        assert est.ess == pytest.approx(5.0)


def test_a_deterministic_policy_is_a_one_hot_table():
    det = np.array([1, 0, 0])
    table = np.eye(2)[det]
    for m in ("is", "wis", "pdis"):
        assert importance_sampling(make_log(), det, m, n_bootstrap=0).value == pytest.approx(
            ref_is(EPISODES, m, pi=table), rel=1e-12, nan_ok=True)


# --------------------------------------------------------------- the bootstrap
@pytest.mark.parametrize("method", ["is", "wis", "pdis", "fqe", "dr", "wdr"])
def test_bootstrap_replicates_and_interval_match_a_plain_resampling_loop(method):
    n_boot, conf, seed = 30, 0.8, 7
    log = make_log()
    if method in ("is", "wis", "pdis"):
        est = importance_sampling(log, PI, method, n_bootstrap=n_boot, confidence=conf, seed=seed)
        ref = lambda u: ref_is(EPISODES, method, u)  # noqa: E731
    elif method == "fqe":
        est = fitted_q_evaluation(log, PI, n_bootstrap=n_boot, confidence=conf, seed=seed)
        ref = lambda u: ref_fqe(EPISODES, u)  # noqa: E731
    else:
        est = doubly_robust(log, PI, weighted=method == "wdr", n_bootstrap=n_boot, confidence=conf, seed=seed)
        ref = lambda u: ref_dr(EPISODES, u, weighted=method == "wdr")  # noqa: E731
    reps = [ref(u) for u in draws(seed, n_boot, 5)]
    assert est.bootstrap.shape == (n_boot,)
    np.testing.assert_allclose(est.bootstrap, reps, rtol=1e-10, atol=1e-12)
    lo, hi = ref_percentiles(reps, conf)
    assert est.ci_low == pytest.approx(lo, rel=1e-10, abs=1e-12)
    assert est.ci_high == pytest.approx(hi, rel=1e-10, abs=1e-12)
    assert est.ci_low < est.ci_high


def test_bootstrap_with_no_replicates_gives_no_interval():
    est = importance_sampling(make_log(), PI, "is", n_bootstrap=0)
    assert math.isnan(est.ci_low) and math.isnan(est.ci_high) and est.bootstrap.shape == (0,)
    assert "no bootstrap interval" in repr(est)


@pytest.mark.parametrize("confidence", [0.0, 1.0, -0.5, 1.5])
def test_bootstrap_confidence_must_lie_strictly_inside_zero_one(confidence):
    with pytest.raises(ValueError, match=r"confidence must lie in \(0, 1\)"):
        importance_sampling(make_log(), PI, "is", n_bootstrap=5, confidence=confidence, seed=0)


def test_bootstrap_skips_nan_replicates():
    # WIS is nan on a resample whose episodes all have weight 0; the interval ignores those replicates
    pi = np.array([[1.0, 0.0], [1.0, 0.0], [0.5, 0.5]])     # weight 0 wherever action 1 was logged
    episodes = [[(0, 0, 1.0, 2, True)], [(0, 1, 5.0, 2, True)], [(0, 1, 3.0, 2, True)]]
    log = make_log(episodes)
    n_boot, seed = 40, 3
    est = importance_sampling(log, pi, "wis", n_bootstrap=n_boot, confidence=0.9, seed=seed)
    reps = [ref_is(episodes, "wis", u, pi=pi) for u in draws(seed, n_boot, 3)]
    assert any(math.isnan(x) for x in reps) and not all(math.isnan(x) for x in reps)
    np.testing.assert_allclose(est.bootstrap, reps, rtol=1e-12, equal_nan=True)
    lo, hi = ref_percentiles(reps, 0.9)
    assert (est.ci_low, est.ci_high) == pytest.approx((lo, hi))


def test_no_support_warns_and_wis_is_nan():
    pi = np.array([[0.0, 1.0], [0.0, 1.0], [0.5, 0.5]])
    episodes = [[(0, 0, 1.0, 2, True)], [(1, 0, 2.0, 2, True)]]
    log = make_log(episodes)
    with pytest.warns(NoSupportWarning, match=r"^WIS: no logged episode has positive weight under pi \(every one "
                                              r"of the 2 episodes.*; WIS is nan$"):
        est = importance_sampling(log, pi, "wis", n_bootstrap=4, seed=0)
    assert math.isnan(est.value) and math.isnan(est.ci_low) and est.ess == 0.0
    with pytest.warns(NoSupportWarning, match=r"^IS: .*; the estimate is 0$"):
        assert importance_sampling(log, pi, "is", n_bootstrap=0).value == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        importance_sampling(make_log(), PI, "wis", n_bootstrap=0)    # support: no warning


def test_evaluate_offline_runs_each_method_on_one_generator():
    log = make_log()
    out = evaluate_offline(log, PI, n_bootstrap=6, confidence=0.9, unseen_q=1.0, seed=11)
    assert list(out) == ["is", "wis", "pdis", "dr", "wdr", "fqe"]
    rng = np.random.default_rng(11)
    expected = {
        "is": importance_sampling(log, PI, "is", n_bootstrap=6, confidence=0.9, seed=rng),
        "wis": importance_sampling(log, PI, "wis", n_bootstrap=6, confidence=0.9, seed=rng),
        "pdis": importance_sampling(log, PI, "pdis", n_bootstrap=6, confidence=0.9, seed=rng),
        "dr": doubly_robust(log, PI, unseen_q=1.0, n_bootstrap=6, confidence=0.9, seed=rng),
        "wdr": doubly_robust(log, PI, unseen_q=1.0, weighted=True, n_bootstrap=6, confidence=0.9, seed=rng),
        "fqe": fitted_q_evaluation(log, PI, unseen_q=1.0, n_bootstrap=6, confidence=0.9, seed=rng),
    }
    for m, e in expected.items():
        assert out[m].method == m
        assert out[m].value == e.value
        np.testing.assert_array_equal(out[m].bootstrap, e.bootstrap)
        assert (out[m].ci_low, out[m].ci_high) == (e.ci_low, e.ci_high)
    assert out["fqe"].value == pytest.approx(ref_fqe(EPISODES, unseen_q=1.0), rel=1e-12)
    assert out["dr"].value == pytest.approx(ref_dr(EPISODES, unseen_q=1.0), rel=1e-12)
    with pytest.raises(ValueError, match=r"^unknown OPE method 'x'; choose from \('is', 'wis', 'pdis', 'dr', "
                                         r"'wdr', 'fqe'\)$"):
        evaluate_offline(log, PI, ("x",), n_bootstrap=0)
    with pytest.raises(ValueError, match=r"^method must be 'is', 'wis' or 'pdis', got 'dr'$"):
        importance_sampling(log, PI, "dr")
