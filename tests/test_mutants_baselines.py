"""Tests written to kill the mutants mutmut left alive in the advantage/baseline functions and the DPO loss:
``leave_one_out_baseline`` (rlcore/lm/reinforce.py), ``rloo_advantages`` (rlcore/rlhf/rloo.py),
``group_advantages`` and ``grpo_loss`` (rlcore/rlhf/grpo.py), ``dpo_loss`` (rlcore/rlhf/dpo.py).

References are plain Python loops over the published formulas (Kool et al., 2019; Shao et al.,
2024 and TRL's GRPO; Rafailov et al., 2023; Azar et al., 2023), not other rlcore functions.
"""

import math

import pytest
import torch

from rlcore.lm.reinforce import leave_one_out_baseline
from rlcore.rlhf.dpo import dpo_loss
from rlcore.rlhf.grpo import group_advantages, grpo_loss
from rlcore.rlhf.rloo import rloo_advantages


def T(x):
    return torch.tensor(x, dtype=torch.float64)


R8 = [1.0, 0.0, 3.0, 0.5, 2.0, 2.0, 2.0, 2.0]


def loo_by_hand(G, n):
    out = []
    for i in range(len(G)):
        g0 = (i // n) * n
        others = [G[j] for j in range(g0, g0 + n) if j != i]
        out.append(sum(others) / (n - 1) if others else 0.0)
    return out


@pytest.mark.parametrize("n", [1, 2, 4, 8])
def test_leave_one_out_baseline_by_hand(n):
    got = leave_one_out_baseline(T(R8), n)
    torch.testing.assert_close(got, T(loo_by_hand(R8, n)), rtol=1e-12, atol=0)


def test_leave_one_out_baseline_per_step_and_whole_batch():
    G = [[1.0, 2.0, 0.0], [3.0, -1.0, 4.0], [0.5, 0.5, 0.5], [2.0, 0.0, 1.0]]
    got = leave_one_out_baseline(T(G))                 # one group of 4
    for t in range(3):
        col = [row[t] for row in G]
        torch.testing.assert_close(got[:, t], T(loo_by_hand(col, 4)), rtol=1e-12, atol=0)
    got2 = leave_one_out_baseline(T(G), 2)
    for t in range(3):
        col = [row[t] for row in G]
        torch.testing.assert_close(got2[:, t], T(loo_by_hand(col, 2)), rtol=1e-12, atol=0)
    with pytest.raises(ValueError, match=r"group_size"):
        leave_one_out_baseline(T(G), 3)


@pytest.mark.parametrize("k", [2, 4, 8])
def test_rloo_advantages_by_hand(k):
    expected = [r - b for r, b in zip(R8, loo_by_hand(R8, k))]
    torch.testing.assert_close(rloo_advantages(T(R8), k), T(expected), rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match=r"^num_generations .*got 1$"):
        rloo_advantages(T(R8), 1)


def sample_std(xs):
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


@pytest.mark.parametrize("G", [2, 4])
def test_group_advantages_by_hand(G):
    groups = [R8[i:i + G] for i in range(0, 8, G)]
    centred = [r - sum(g) / G for g in groups for r in g]
    stds = [sample_std(g) for g in groups for _ in g]
    zero = sum(1 for g in groups if sample_std(g) == 0) / len(groups)
    adv, z = group_advantages(T(R8), G, "group")
    torch.testing.assert_close(adv, T([c / (s + 1e-4) for c, s in zip(centred, stds)]), rtol=1e-12, atol=1e-15)
    assert z == zero
    adv, z = group_advantages(T(R8), G)                      # default: per-group scaling
    torch.testing.assert_close(adv, T([c / (s + 1e-4) for c, s in zip(centred, stds)]), rtol=1e-12, atol=1e-15)
    adv, z = group_advantages(T(R8), G, "batch")
    torch.testing.assert_close(adv, T([c / (sample_std(R8) + 1e-4) for c in centred]), rtol=1e-12, atol=1e-15)
    assert z == zero
    adv, _ = group_advantages(T(R8), G, "none")
    torch.testing.assert_close(adv, T(centred), rtol=1e-12, atol=1e-15)
    adv, _ = group_advantages(T(R8), G, "group", eps=0.5)
    torch.testing.assert_close(adv, T([c / (s + 0.5) for c, s in zip(centred, stds)]), rtol=1e-12, atol=1e-15)


def test_group_advantages_zero_std_fraction():
    r = [1.0, 1.0, 0.0, 2.0, 3.0, 3.0]
    adv, z = group_advantages(T(r), 2)
    assert z == pytest.approx(2 / 3)
    assert adv[:2].tolist() == [0.0, 0.0] and adv[4:].tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match=r"^scale_rewards .*'std'$"):
        group_advantages(T(r), 2, "std")
    with pytest.raises(ValueError, match=r"num_generations"):
        group_advantages(T(r), 4)
    with pytest.raises(ValueError, match=r"num_generations"):
        group_advantages(T(r), 1)


LOGP = [[-0.1, -2.0, -0.7, -1.0], [-1.5, -0.3, -3.0, -0.2], [-0.9, -0.05, -1.7, -0.6]]
OLD = [[-0.5, -1.0, -0.7, -3.0], [-1.0, -0.45, -2.0, -0.2], [-0.2, -0.3, -1.0, -0.65]]
REF = [[-0.3, -1.5, -0.9, -0.8], [-1.2, -0.6, -2.2, -0.1], [-0.7, -0.2, -1.1, -0.3]]
ADV = [1.0, -1.5, 0.4]
MASK = [[True, True, True, False], [True, True, False, False], [True, True, True, True]]


def grpo_by_hand(beta, eps, eps_high, loss_type, max_len=None):
    hi = eps if eps_high is None else eps_high
    per, kl, clipped = [], [], []
    for lp_row, old_row, ref_row, a, m in zip(LOGP, OLD, REF, ADV, MASK):
        row = []
        for lp, old, ref, k in zip(lp_row, old_row, ref_row, m):
            rho = math.exp(lp - old)
            k3 = math.exp(ref - lp) - (ref - lp) - 1
            x = -min(rho * a, min(max(rho, 1 - eps), 1 + hi) * a) + beta * k3
            row.append(x)
            if k:
                kl.append(k3)
                clipped.append(1.0 if (rho < 1 - eps and a < 0) or (rho > 1 + hi and a > 0) else 0.0)
        per.append(row)
    if loss_type == "grpo":
        loss = sum(sum(x for x, k in zip(r, m) if k) / sum(m) for r, m in zip(per, MASK)) / len(per)
    elif loss_type == "dapo":
        loss = sum(x for r, m in zip(per, MASK) for x, k in zip(r, m) if k) / sum(map(sum, MASK))
    else:
        L = len(MASK[0]) if max_len is None else max_len
        loss = sum(x for r, m in zip(per, MASK) for x, k in zip(r, m) if k) / (len(per) * L)
    return loss, sum(clipped) / len(clipped), sum(kl) / len(kl)


@pytest.mark.parametrize("loss_type", ["grpo", "dapo", "dr_grpo"])
@pytest.mark.parametrize("beta, eps, eps_high", [(0.0, 0.2, None), (0.04, 0.2, None), (0.1, 0.1, 0.3)])
def test_grpo_loss_by_hand(loss_type, beta, eps, eps_high):
    loss, stats = grpo_loss(T(LOGP), T(OLD), T(REF), T(ADV), torch.tensor(MASK), beta=beta, epsilon=eps,
                            epsilon_high=eps_high, loss_type=loss_type)
    ref_loss, clip, kl = grpo_by_hand(beta, eps, eps_high, loss_type)
    assert float(loss) == pytest.approx(ref_loss, rel=1e-12)
    assert stats["clip_ratio"] == pytest.approx(clip, rel=1e-12)
    assert stats["kl"] == pytest.approx(kl, rel=1e-12)


def test_grpo_loss_defaults_and_max_completion_length():
    loss, stats = grpo_loss(T(LOGP), T(OLD), T(REF), T(ADV), torch.tensor(MASK))
    ref_loss, clip, _ = grpo_by_hand(0.0, 0.2, None, "dapo")
    assert float(loss) == pytest.approx(ref_loss, rel=1e-12) and stats["clip_ratio"] == pytest.approx(clip)
    assert 0 < clip < 1
    loss, _ = grpo_loss(T(LOGP), T(OLD), T(REF), T(ADV), torch.tensor(MASK), loss_type="dr_grpo",
                        max_completion_length=10)
    assert float(loss) == pytest.approx(grpo_by_hand(0.0, 0.2, None, "dr_grpo", 10)[0], rel=1e-12)
    with pytest.raises(ValueError, match=r"^loss_type .*'ppo'$"):
        grpo_loss(T(LOGP), T(OLD), T(REF), T(ADV), torch.tensor(MASK), loss_type="ppo")


def test_grpo_loss_treats_old_logp_ref_and_advantages_as_constants():
    lp, old, ref, adv = (T(x).requires_grad_(True) for x in (LOGP, OLD, REF, ADV))
    loss, _ = grpo_loss(lp, old, ref, adv, torch.tensor(MASK), beta=0.1)
    loss.backward()
    assert old.grad is None and ref.grad is None and adv.grad is None and lp.grad is not None


def log_sigmoid(x):
    return -math.log1p(math.exp(-x)) if x >= 0 else x - math.log1p(math.exp(x))


C, RJ, RC, RR = [-1.0, -2.5, -0.3], [-1.5, -1.0, -0.9], [-1.2, -2.0, -0.5], [-1.1, -1.4, -0.4]


@pytest.mark.parametrize("beta", [0.1, 0.5])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_dpo_sigmoid_loss_by_hand(beta, smoothing):
    losses, cr, rr = dpo_loss(T(C), T(RJ), T(RC), T(RR), beta=beta, label_smoothing=smoothing)
    for i in range(3):
        h = (C[i] - RC[i]) - (RJ[i] - RR[i])
        ref = -(1 - smoothing) * log_sigmoid(beta * h) - smoothing * log_sigmoid(-beta * h)
        assert float(losses[i]) == pytest.approx(ref, rel=1e-12)
        assert float(cr[i]) == pytest.approx(beta * (C[i] - RC[i]), rel=1e-12)
        assert float(rr[i]) == pytest.approx(beta * (RJ[i] - RR[i]), rel=1e-12)


def test_dpo_soft_labels_and_ipo_by_hand():
    q = [1.0, 0.25, 0.0]
    losses, _, _ = dpo_loss(T(C), T(RJ), T(RC), T(RR), beta=0.2, labels=T(q))
    for i in range(3):
        h = (C[i] - RC[i]) - (RJ[i] - RR[i])
        ref = -q[i] * log_sigmoid(0.2 * h) - (1 - q[i]) * log_sigmoid(-0.2 * h)
        assert float(losses[i]) == pytest.approx(ref, rel=1e-12)
    losses, _, _ = dpo_loss(T(C), T(RJ), T(RC), T(RR), beta=0.2, loss_type="ipo", labels=T(q))
    for i in range(3):
        h = (C[i] - RC[i]) - (RJ[i] - RR[i])
        ref = q[i] * (h - 1 / 0.4) ** 2 + (1 - q[i]) * (h + 1 / 0.4) ** 2
        assert float(losses[i]) == pytest.approx(ref, rel=1e-12)
    losses, _, _ = dpo_loss(T(C), T(RJ), T(RC), T(RR), beta=0.2, loss_type="ipo")
    for i in range(3):
        h = (C[i] - RC[i]) - (RJ[i] - RR[i])
        assert float(losses[i]) == pytest.approx((h - 2.5) ** 2, rel=1e-12)


def test_dpo_defaults_and_constants():
    c = T(C).requires_grad_(True)
    rc = T(RC).requires_grad_(True)
    losses, cr, _ = dpo_loss(c, T(RJ), rc, T(RR))
    for i in range(3):
        h = (C[i] - RC[i]) - (RJ[i] - RR[i])
        assert float(losses[i].detach()) == pytest.approx(-log_sigmoid(0.1 * h), rel=1e-12)
    losses.sum().backward()
    assert rc.grad is None and not cr.requires_grad
    dpo_loss(T(C), T(RJ), T(RC), T(RR), label_smoothing=0.5, labels=T([1.0, 0.0, 0.5]))   # the edges pass
