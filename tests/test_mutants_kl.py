"""Tests written to kill the mutants mutmut left alive in ``rlcore/lm/kl.py``.

References are per-token Python loops over the definitions (Schulman, 2020) and
the closed-form controller update of Ziegler et al. (2019), not other rlcore functions.
"""

import math

import pytest
import torch

from rlcore.lm.kl import AdaptiveKLController, kl_estimate, kl_to_reference


def _k(logp, ref_logp, estimator):
    log_r = ref_logp - logp
    if estimator == "k1":
        return -log_r
    if estimator == "k2":
        return 0.5 * log_r * log_r
    return math.exp(log_r) - 1 - log_r


@pytest.mark.parametrize("estimator", ["k1", "k2", "k3"])
def test_kl_to_reference_is_a_masked_per_sequence_sum_of_the_named_estimator(estimator):
    logp = torch.tensor([[-0.1, -2.0, -0.7], [-1.5, -0.3, -3.0]], dtype=torch.float64)
    ref = torch.tensor([[-0.9, -0.4, -0.7], [-0.2, -1.1, -0.05]], dtype=torch.float64)
    mask = torch.tensor([[True, True, False], [True, False, True]])
    expected = []
    for b in range(2):
        total = 0.0
        for t in range(3):
            if mask[b, t]:
                total += _k(float(logp[b, t]), float(ref[b, t]), estimator)
        expected.append(total)
    got = kl_to_reference(logp, ref, mask, estimator)
    assert got.shape == (2,)
    torch.testing.assert_close(got, torch.tensor(expected, dtype=torch.float64), rtol=1e-12, atol=1e-12)
    per_token = kl_estimate(logp, ref, estimator)
    for b in range(2):
        for t in range(3):
            assert float(per_token[b, t]) == pytest.approx(_k(float(logp[b, t]), float(ref[b, t]), estimator),
                                                           rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("kw", [dict(kl_coef=0.1, target=0.0, horizon=10),
                                dict(kl_coef=0.1, target=-1.0, horizon=10),
                                dict(kl_coef=0.0, target=6.0, horizon=10),
                                dict(kl_coef=0.1, target=6.0, horizon=0)])
def test_controller_refuses_non_positive_settings(kw):
    with pytest.raises(ValueError):
        AdaptiveKLController(**kw)


def test_controller_accepts_horizon_one_and_follows_the_closed_form():
    c = AdaptiveKLController(0.5, 2.0, 1)
    # e = clip(kl / target - 1, -0.2, 0.2); value *= 1 + e * n_steps / horizon
    assert c.update(2.2, 1) == pytest.approx(0.5 * (1 + 0.1))
    c = AdaptiveKLController(0.5, 2.0, 100)
    v = 0.5
    for kl, n in [(10.0, 8), (0.0, 16), (2.0, 4), (1.9, 50)]:
        e = min(max(kl / 2.0 - 1.0, -0.2), 0.2)
        v *= 1 + e * n / 100
        assert c.update(kl, n) == pytest.approx(v, rel=1e-12)
        assert c.value == pytest.approx(v, rel=1e-12)


def test_k1_is_the_default_and_an_unknown_estimator_is_named():
    logp, ref = torch.tensor([[-0.2, -1.0]]), torch.tensor([[-0.7, -0.4]])
    torch.testing.assert_close(kl_estimate(logp, ref), logp - ref)
    torch.testing.assert_close(kl_to_reference(logp, ref, torch.tensor([[True, True]])), (logp - ref).sum(-1))
    with pytest.raises(ValueError, match=r"^kl_estimator must be one of \('k1', 'k2', 'k3'\), got 'k4'"):
        kl_estimate(logp, ref, "k4")
