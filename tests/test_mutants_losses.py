"""Tests written to kill the mutants mutmut left alive in ``rlcore/lm/losses.py``.

Every loss is recomputed token by token with plain Python floats from its published
formula (Williams, 1992; Schulman et al., 2017; the verl aggregations), not with rlcore.
"""

import math

import pytest
import torch

from rlcore.lm.losses import (
    aggregate,
    clipped_value_loss,
    explained_variance,
    masked_mean,
    normalize_advantages,
    ppo_policy_loss,
    reinforce_loss,
)

MASK = [[True, True, True, False], [True, False, False, False], [False, False, False, False], [True, True, True, True]]
X = [[0.5, -1.0, 2.0, 9.0], [3.0, 7.0, 7.0, 7.0], [5.0, 5.0, 5.0, 5.0], [-0.25, 1.5, 0.0, 1.0]]


def T(x):
    return torch.tensor(x, dtype=torch.float64)


def agg_by_hand(x, mask, mode):
    if mode == "token-mean":
        vals = [v for row, m in zip(x, mask) for v, k in zip(row, m) if k]
        return sum(vals) / max(len(vals), 1)
    per_seq = []
    for row, m in zip(x, mask):
        vals = [v for v, k in zip(row, m) if k]
        s = sum(vals)
        per_seq.append(s / max(len(vals), 1) if mode == "seq-mean-token-mean" else s)
    return sum(per_seq) / len(per_seq)


MODES = ["token-mean", "seq-mean-token-mean", "seq-mean-token-sum"]


@pytest.mark.parametrize("mode", MODES)
def test_aggregate_by_hand(mode):
    mask = torch.tensor(MASK)
    assert float(aggregate(T(X), mask, mode)) == pytest.approx(agg_by_hand(X, MASK, mode), rel=1e-12)
    assert float(aggregate(T(X), torch.zeros(4, 4, dtype=torch.bool), mode)) == 0.0
    assert float(masked_mean(T(X), mask)) == pytest.approx(agg_by_hand(X, MASK, "token-mean"), rel=1e-12)


def test_a_single_valid_token_is_its_own_mean():
    one = torch.zeros(4, 4, dtype=torch.bool)
    one[1, 2] = True
    for mode, expected in [("token-mean", 7.0), ("seq-mean-token-mean", 7.0 / 4), ("seq-mean-token-sum", 7.0 / 4)]:
        assert float(aggregate(T(X), one, mode)) == pytest.approx(expected, rel=1e-12)


def test_the_aggregations_differ_and_default_is_token_mean():
    vals = [agg_by_hand(X, MASK, m) for m in MODES]
    assert len({round(v, 9) for v in vals}) == 3
    assert float(aggregate(T(X), torch.tensor(MASK))) == pytest.approx(vals[0], rel=1e-12)
    with pytest.raises(ValueError, match=r"^loss_agg must be one of \('token-mean', 'seq-mean-token-mean', "
                                         r"'seq-mean-token-sum'\), got 'sum'$"):
        aggregate(T(X), torch.tensor(MASK), "sum")


def normalize_by_hand(x, mask, eps=1e-8):
    vals = [v for row, m in zip(x, mask) for v, k in zip(row, m) if k]
    mean = sum(vals) / len(vals)
    std = math.sqrt(sum((v - mean) ** 2 for v in vals) / len(vals))
    return [[(v - mean) / (std + eps) if k else 0.0 for v, k in zip(row, m)] for row, m in zip(x, mask)]


@pytest.mark.parametrize("x", [X, [[v * 1e-7 for v in row] for row in X], [[v + 100.0 for v in row] for row in X]])
def test_normalize_advantages_population_std_plus_eps(x):
    got = normalize_advantages(T(x), torch.tensor(MASK))
    torch.testing.assert_close(got, T(normalize_by_hand(x, MASK)), rtol=1e-12, atol=1e-15)
    got2 = normalize_advantages(T(x), torch.tensor(MASK), eps=0.5)
    torch.testing.assert_close(got2, T(normalize_by_hand(x, MASK, 0.5)), rtol=1e-12, atol=1e-15)


def test_normalize_equal_advantages_gives_zero():
    got = normalize_advantages(torch.full((2, 3), 4.0, dtype=torch.float64), torch.ones(2, 3, dtype=torch.bool))
    assert torch.equal(got, torch.zeros(2, 3, dtype=torch.float64))


def test_reinforce_loss_by_hand():
    logp = [[-0.5, -1.0, -2.0, -0.1], [-0.3, -0.7, -0.2, -0.9], [-1.0, -1.0, -1.0, -1.0], [-0.05, -3.0, -0.4, -1.2]]
    G = [[1.0, 2.0, 3.0, 4.0], [0.5, 0.5, 0.5, 0.5], [9.0, 9.0, 9.0, 9.0], [-1.0, 0.0, 1.0, 2.0]]
    b = [[0.5] * 4, [1.0] * 4, [0.0] * 4, [0.25] * 4]
    mask = torch.tensor(MASK)
    for mode in MODES:
        per = [[-lp * g for lp, g in zip(r1, r2)] for r1, r2 in zip(logp, G)]
        assert float(reinforce_loss(T(logp), T(G), None, mask, mode)) == pytest.approx(
            agg_by_hand(per, MASK, mode), rel=1e-12)
        per_b = [[-lp * (g - bb) for lp, g, bb in zip(r1, r2, r3)] for r1, r2, r3 in zip(logp, G, b)]
        assert float(reinforce_loss(T(logp), T(G), T(b), mask, mode)) == pytest.approx(
            agg_by_hand(per_b, MASK, mode), rel=1e-12)
    # the default aggregation is the unbiased seq-mean-token-sum
    per = [[-lp * g for lp, g in zip(r1, r2)] for r1, r2 in zip(logp, G)]
    assert float(reinforce_loss(T(logp), T(G), None, mask)) == pytest.approx(
        agg_by_hand(per, MASK, "seq-mean-token-sum"), rel=1e-12)
    # returns and baseline are constants: the gradient is -G m / B on log pi only
    lp = T(logp).requires_grad_(True)
    Gt = T(G).requires_grad_(True)
    reinforce_loss(lp, Gt, None, mask).backward()
    assert Gt.grad is None
    expected = [[(-g / 4 if k else 0.0) for g, k in zip(r, m)] for r, m in zip(G, MASK)]
    torch.testing.assert_close(lp.grad, T(expected))


LOGP = [[-0.1, -2.0, -0.7, -1.0], [-1.5, -0.3, -3.0, -0.2], [-0.4, -0.4, -0.4, -0.4], [-0.9, -0.05, -1.7, -0.6]]
OLD = [[-0.5, -1.0, -0.7, -3.0], [-1.0, -0.35, -2.0, -0.2], [-0.4, -0.4, -0.4, -0.4], [-0.2, -0.3, -1.0, -0.65]]
ADV = [[1.0, -2.0, 0.5, 3.0], [-1.0, 2.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.7, -0.3, -1.5, 2.0]]


def ppo_by_hand(eps, mode):
    per, kl, clip, dev = [], [], [], []
    for r1, r2, r3, m in zip(LOGP, OLD, ADV, MASK):
        row = []
        for lp, olp, a, k in zip(r1, r2, r3, m):
            rho = math.exp(lp - olp)
            row.append(max(-a * rho, -a * min(max(rho, 1 - eps), 1 + eps)))
            if k:
                kl.append((rho - 1) - (lp - olp))
                clip.append(1.0 if abs(rho - 1) > eps else 0.0)
                dev.append(abs(rho - 1))
        per.append(row)
    return agg_by_hand(per, MASK, mode), sum(kl) / len(kl), sum(clip) / len(clip), max(dev)


@pytest.mark.parametrize("eps", [0.1, 0.2, 0.5])
@pytest.mark.parametrize("mode", MODES)
def test_ppo_policy_loss_and_stats_by_hand(eps, mode):
    loss, stats = ppo_policy_loss(T(LOGP), T(OLD), T(ADV), torch.tensor(MASK), eps, mode)
    ref, kl, clip, dev = ppo_by_hand(eps, mode)
    assert float(loss) == pytest.approx(ref, rel=1e-12)
    assert stats["approx_kl"] == pytest.approx(kl, rel=1e-12)
    assert stats["clipfrac"] == pytest.approx(clip, rel=1e-12)
    assert stats["ratio_dev"] == pytest.approx(dev, rel=1e-12)


def test_ppo_policy_loss_defaults_are_cliprange_02_and_token_mean():
    loss, stats = ppo_policy_loss(T(LOGP), T(OLD), T(ADV), torch.tensor(MASK))
    ref, _, clip, _ = ppo_by_hand(0.2, "token-mean")
    assert float(loss) == pytest.approx(ref, rel=1e-12) and stats["clipfrac"] == pytest.approx(clip)
    assert ppo_by_hand(0.2, "token-mean")[0] != pytest.approx(ppo_by_hand(1.2, "token-mean")[0])


def test_ppo_gradient_flows_only_through_the_unclipped_tokens():
    lp = T(LOGP).requires_grad_(True)
    old = T(OLD).requires_grad_(True)
    adv = T(ADV).requires_grad_(True)
    loss, _ = ppo_policy_loss(lp, old, adv, torch.tensor(MASK), 0.2, "seq-mean-token-sum")
    loss.backward()
    assert old.grad is None and adv.grad is None
    for i in range(4):
        for t in range(4):
            rho = math.exp(LOGP[i][t] - OLD[i][t])
            a = ADV[i][t]
            clipped_branch_wins = -a * min(max(rho, 0.8), 1.2) > -a * rho
            expected = 0.0 if (not MASK[i][t] or clipped_branch_wins) else -a * rho / 4
            assert float(lp.grad[i, t]) == pytest.approx(expected, abs=1e-12), (i, t)


def test_clipfrac_counts_only_deviations_strictly_beyond_the_cliprange():
    logp = T([[0.3, -0.2, 0.0]])
    old = T([[0.0, 0.0, 0.0]])
    dev = float((logp - old).exp().sub(1).abs()[0, 0])        # use the first token's own deviation as eps
    _, stats = ppo_policy_loss(logp, old, T([[1.0, 1.0, 1.0]]), torch.ones(1, 3, dtype=torch.bool), dev)
    assert stats["clipfrac"] == 0.0                             # |rho - 1| == eps is not clipped; 0.18 < eps
    _, stats = ppo_policy_loss(logp, old, T([[1.0, 1.0, 1.0]]), torch.ones(1, 3, dtype=torch.bool), 0.1)
    assert stats["clipfrac"] == pytest.approx(2 / 3)


def test_ppo_stats_with_no_completion_tokens():
    empty = torch.zeros(2, 0, dtype=torch.float64)
    loss, stats = ppo_policy_loss(empty, empty, empty, torch.zeros(2, 0, dtype=torch.bool))
    assert float(loss) == 0.0 and stats["ratio_dev"] == 0.0


def test_value_clipping_binds_on_both_sides():
    # token 0: V moved up by 1 from V_old = 0 past R = 1.1; clipped V = 0.2 is far from R: the clipped error wins
    # token 1: the mirror image below; token 2: inside the clip range; token 3: clipped but the plain error wins
    v, vold, r = T([[1.0, -1.0, 0.1, 1.0]]), T([[0.0, 0.0, 0.0, 0.0]]), T([[1.1, -1.1, 0.5, -0.5]])
    mask = torch.ones(1, 4, dtype=torch.bool)
    for c, clipped in [(0.2, [0.2, -0.2, 0.1, 0.2]), (1.2, [1.0, -1.0, 0.1, 1.0]), (0.05, [0.05, -0.05, 0.05, 0.05])]:
        per = [max((vi - ri) ** 2, (vc - ri) ** 2) for vi, ri, vc in zip([1.0, -1.0, 0.1, 1.0], [1.1, -1.1, 0.5, -0.5],
                                                                          clipped)]
        assert float(clipped_value_loss(v, vold, r, mask, c)) == pytest.approx(0.5 * sum(per) / 4, rel=1e-12)
    per = [max((vi - ri) ** 2, (vc - ri) ** 2) for vi, ri, vc in zip([1.0, -1.0, 0.1, 1.0], [1.1, -1.1, 0.5, -0.5],
                                                                      [0.2, -0.2, 0.1, 0.2])]
    assert float(clipped_value_loss(v, vold, r, mask)) == pytest.approx(0.5 * sum(per) / 4, rel=1e-12)   # c = 0.2


def test_ppo_stats_with_an_empty_mask():
    _, stats = ppo_policy_loss(T(LOGP), T(OLD), T(ADV), torch.zeros(4, 4, dtype=torch.bool))
    assert stats == {"approx_kl": 0.0, "clipfrac": 0.0, "ratio_dev": 0.0}


V = [[0.0, 1.0, 2.0, 0.5], [1.0, -1.0, 0.3, 0.0], [2.0, 2.0, 2.0, 2.0], [0.9, 0.1, -0.5, 3.0]]
VOLD = [[0.5, 0.5, 1.5, 0.0], [0.0, -1.2, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [1.0, 0.4, 0.0, 2.5]]
R = [[1.0, 0.0, 1.7, 0.0], [0.2, 0.0, 1.0, 5.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.8, -0.2, 2.0]]


@pytest.mark.parametrize("c", [None, 0.1, 0.2, 1.0])
@pytest.mark.parametrize("mode", MODES)
def test_clipped_value_loss_by_hand(c, mode):
    per = []
    for r1, r2, r3 in zip(V, VOLD, R):
        row = []
        for v, vo, ret in zip(r1, r2, r3):
            e = (v - ret) ** 2
            if c is not None:
                vc = vo + min(max(v - vo, -c), c)
                e = max(e, (vc - ret) ** 2)
            row.append(e)
        per.append(row)
    got = clipped_value_loss(T(V), T(VOLD), T(R), torch.tensor(MASK), c, mode)
    assert float(got) == pytest.approx(0.5 * agg_by_hand(per, MASK, mode), rel=1e-12)


def test_clipped_value_loss_defaults_and_constant_returns():
    per = []
    for r1, r2, r3 in zip(V, VOLD, R):
        per.append([max((v - ret) ** 2, (vo + min(max(v - vo, -0.2), 0.2) - ret) ** 2)
                    for v, vo, ret in zip(r1, r2, r3)])
    v = T(V).requires_grad_(True)
    ret = T(R).requires_grad_(True)
    got = clipped_value_loss(v, T(VOLD), ret, torch.tensor(MASK))
    assert float(got.detach()) == pytest.approx(0.5 * agg_by_hand(per, MASK, "token-mean"), rel=1e-12)
    got.backward()
    assert ret.grad is None


def ev_by_hand(values, returns, mask):
    r = [x for row, m in zip(returns, mask) for x, k in zip(row, m) if k]
    v = [x for row, m in zip(values, mask) for x, k in zip(row, m) if k]
    if not r:
        return 0.0
    var = lambda xs: sum((x - sum(xs) / len(xs)) ** 2 for x in xs) / len(xs)  # noqa: E731
    return 0.0 if var(r) == 0 else 1 - var([a - b for a, b in zip(r, v)]) / var(r)


def test_explained_variance_by_hand():
    got = explained_variance(T(V), T(R), torch.tensor(MASK))
    assert isinstance(got, float)
    assert got == pytest.approx(ev_by_hand(V, R, MASK), rel=1e-12)
    assert 0.0 != pytest.approx(ev_by_hand(V, R, MASK))
    # perfect values explain everything; constant values explain nothing
    assert explained_variance(T(R), T(R), torch.tensor(MASK)) == pytest.approx(1.0)
    assert explained_variance(torch.zeros(4, 4, dtype=torch.float64) + 3.0, T(R),
                              torch.tensor(MASK)) == pytest.approx(0.0, abs=1e-12)
    # a value offset by a constant still explains all the variance
    assert explained_variance(T(R) + 2.0, T(R), torch.tensor(MASK)) == pytest.approx(1.0)


def test_explained_variance_degenerate_cases_are_zero():
    assert explained_variance(T(V), T(R), torch.zeros(4, 4, dtype=torch.bool)) == 0.0
    assert explained_variance(T(V), torch.ones(4, 4, dtype=torch.float64), torch.tensor(MASK)) == 0.0
    one = torch.zeros(4, 4, dtype=torch.bool)
    one[0, 0] = True
    assert explained_variance(T(V), T(R), one) == 0.0
