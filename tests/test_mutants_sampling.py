"""Tests written to kill the mutants mutmut left alive in ``rlcore/core/sampling.py``.

References: the kept sets of top-k and top-p worked out action by action with plain Python
(sort, running mass), and the sampled log-probabilities recomputed by hand.
"""

import math

import pytest
import torch

from rlcore.core.sampling import filter_logits, sample_logits


def kept_by_hand(row, temperature=1.0, top_k=None, top_p=1.0):
    z = [v / temperature for v in row]
    keep = [True] * len(z)
    if top_k is not None and top_k < len(z):
        kth = sorted(z, reverse=True)[top_k - 1]
        keep = [v >= kth for v in z]
    if top_p < 1.0:
        zz = [v if k else -math.inf for v, k in zip(z, keep)]
        m = max(zz)
        w = [math.exp(v - m) for v in zz]
        p = [x / sum(w) for x in w]
        order = sorted(range(len(z)), key=lambda a: -zz[a])
        before = 0.0
        for a in order:
            if before >= top_p:
                keep[a] = False
            before += p[a]
    return keep


ROWS = [[2.0, -1.0, 0.5, 0.5, 3.0], [0.1, 0.2, 0.3, 0.4, 0.5], [1.0, 1.0, 1.0, -2.0, 0.0]]


@pytest.mark.parametrize("kw", [dict(), dict(temperature=0.5), dict(temperature=3.0), dict(top_k=1),
                                dict(top_k=2), dict(top_k=3), dict(top_k=4), dict(top_k=5), dict(top_k=9),
                                dict(top_p=0.3), dict(top_p=0.6), dict(top_p=0.9), dict(top_p=0.999),
                                dict(top_k=3, top_p=0.7), dict(temperature=2.0, top_p=0.5),
                                dict(temperature=0.7, top_k=2)])
def test_filter_logits_keeps_what_the_definition_keeps(kw):
    z = torch.tensor(ROWS, dtype=torch.float64)
    out = filter_logits(z, **kw)
    tau = kw.get("temperature", 1.0)
    for row, got in zip(ROWS, out):
        keep = kept_by_hand(row, **kw)
        for a, (v, k) in enumerate(zip(row, keep)):
            if k:
                assert float(got[a]) == pytest.approx(v / tau, rel=1e-12), (kw, row, a)
            else:
                assert float(got[a]) == -math.inf, (kw, row, a)


def test_top_k_keeps_ties_at_the_kth_value():
    z = torch.tensor([[3.0, 1.0, 1.0, 0.0]])
    assert torch.isfinite(filter_logits(z, top_k=2)).tolist() == [[True, True, True, False]]


def test_top_p_boundary_is_strict_on_the_mass_before():
    z = torch.log(torch.tensor([[0.5, 0.25, 0.25]], dtype=torch.float64))
    # mass before: 0, 0.5, 0.75; kept iff < p
    assert torch.isfinite(filter_logits(z, top_p=0.5)).tolist() == [[True, False, False]]
    assert torch.isfinite(filter_logits(z, top_p=0.75)).tolist() == [[True, True, False]]
    assert torch.isfinite(filter_logits(z, top_p=0.76)).tolist() == [[True, True, True]]
    assert torch.isfinite(filter_logits(z, top_p=1.0)).all()


def test_sample_logits_log_probs_are_those_of_the_filtered_distribution():
    logits = torch.tensor([[2.0, -1.0, 0.5, 0.5, 3.0]] * 400, dtype=torch.float64)
    for kw in [dict(), dict(temperature=2.0), dict(top_k=2), dict(top_p=0.7)]:
        actions, logp = sample_logits(logits, generator=torch.Generator().manual_seed(1), **kw)
        keep = kept_by_hand(ROWS[0], **kw)
        tau = kw.get("temperature", 1.0)
        w = [math.exp(v / tau) if k else 0.0 for v, k in zip(ROWS[0], keep)]
        p = [x / sum(w) for x in w]
        assert actions.dtype == torch.long and actions.shape == (400,)
        for a, lp in zip(actions.tolist(), logp.tolist()):
            assert keep[a]
            assert lp == pytest.approx(math.log(p[a]), rel=1e-10)
        # every kept action with mass >= 0.1 shows up in 400 draws
        seen = set(actions.tolist())
        assert {a for a in range(5) if p[a] >= 0.1} <= seen


@pytest.mark.parametrize("kw, match", [
    (dict(temperature=float("inf")), r"^temperature must be a finite number > 0, got inf"),
    (dict(temperature=float("nan")), r"^temperature must be a finite number > 0"),
    (dict(temperature=-1.0), r"^temperature must be a finite number > 0"),
    (dict(top_k=2.5), r"^top_k must be an integer >= 1 or None, got 2.5"),
    (dict(top_k=0), r"^top_k must be an integer >= 1 or None"),
    (dict(top_p=0.0), r"^top_p must lie in \(0, 1\], got 0.0"),
    (dict(top_p=1.01), r"^top_p must lie in \(0, 1\]"),
])
def test_sampling_settings_are_checked(kw, match):
    with pytest.raises(ValueError, match=match):
        filter_logits(torch.zeros(1, 3), **kw)
    assert torch.isfinite(filter_logits(torch.zeros(1, 3), top_k=1)).sum() == 3   # all tied: all kept


def test_filter_logits_works_on_the_last_axis_of_any_batch_shape():
    rows = [[[2.0, -1.0, 0.5, 0.5, 3.0], [0.1, 0.2, 0.3, 0.4, 0.5], [1.0, 1.0, 1.0, -2.0, 0.0]],
            [[0.0, -3.0, 1.0, 2.0, 0.7], [5.0, 4.0, 0.0, 0.0, -1.0], [0.3, 0.3, 0.2, 0.1, 0.0]]]
    z = torch.tensor(rows, dtype=torch.float64)
    for kw in [dict(top_k=2), dict(top_p=0.6), dict(top_k=3, top_p=0.8, temperature=0.5)]:
        out = filter_logits(z, **kw)
        assert out.shape == (2, 3, 5)
        for i in range(2):
            for j in range(3):
                keep = kept_by_hand(rows[i][j], **kw)
                assert torch.isfinite(out[i, j]).tolist() == keep, (kw, i, j)


def test_top_p_one_keeps_tokens_whose_mass_rounds_away():
    # p(second) = e^-50 ~ 2e-22: the mass before it rounds to exactly 1.0; top_p = 1 must still keep it
    z = torch.tensor([[0.0, -50.0]], dtype=torch.float64)
    assert torch.isfinite(filter_logits(z, top_p=1.0)).all()


def test_sample_logits_is_reproducible_and_scores_each_rows_own_action():
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0], [-1.0, 0.0, 1.0], [0.5, 0.5, 0.5]],
                          dtype=torch.float64).repeat(50, 1)
    a1, lp1 = sample_logits(logits, generator=torch.Generator().manual_seed(5))
    torch.manual_seed(0)
    a2, lp2 = sample_logits(logits, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a1, a2) and torch.equal(lp1, lp2)
    assert a1.shape == (200,) and lp1.shape == (200,)
    for row, a, lp in zip(logits.tolist(), a1.tolist(), lp1.tolist()):
        assert lp == pytest.approx(row[a] - math.log(sum(math.exp(v) for v in row)), rel=1e-12)
    one_a, one_lp = sample_logits(logits[:1], generator=torch.Generator().manual_seed(2))
    assert one_a.shape == (1,) and one_lp.shape == (1,)
