"""Returns, TD targets and GAE: one implementation for numpy and torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rlcore.core.returns import discounted_returns, gae, td_target


def naive_returns(r, gamma):
    G, out = 0.0, []
    for x in reversed(r):
        G = x + gamma * G
        out.append(G)
    return out[::-1]


@given(st.lists(st.floats(-10, 10), min_size=1, max_size=30), st.floats(0, 1))
def test_discounted_returns_match_the_definition(rewards, gamma):
    np.testing.assert_allclose(discounted_returns(np.array(rewards), gamma), naive_returns(rewards, gamma),
                               atol=1e-9)


def test_dones_restart_the_sum_and_bootstrap_continues_it():
    r = np.array([1.0, 1.0, 1.0, 1.0])
    d = np.array([False, True, False, False])
    np.testing.assert_allclose(discounted_returns(r, 0.5, d), [1.5, 1.0, 1.5, 1.0])
    np.testing.assert_allclose(discounted_returns(r, 0.5, d, bootstrap=np.array(2.0)), [1.5, 1.0, 2.0, 2.0])


@given(st.integers(1, 20), st.floats(0, 1), st.integers(0, 1000))
def test_gae_limits(T, gamma, seed):
    rng = np.random.default_rng(seed)
    r, v = rng.normal(size=(2, T))
    adv0, _ = gae(r, v, gamma, 0.0)
    v_next = np.append(v[1:], 0.0)
    np.testing.assert_allclose(adv0, r + gamma * v_next - v, atol=1e-9)  # lam = 0: the TD error
    adv1, ret1 = gae(r, v, gamma, 1.0)
    np.testing.assert_allclose(adv1, discounted_returns(r, gamma) - v, atol=1e-9)  # lam = 1: MC advantage
    np.testing.assert_allclose(ret1, discounted_returns(r, gamma), atol=1e-9)


def test_numpy_and_torch_agree_on_batches():
    rng = np.random.default_rng(0)
    r, v = rng.normal(size=(2, 4, 7))
    d = rng.random((4, 7)) < 0.2
    a_np, ret_np = gae(r, v, 0.99, 0.95, dones=d)
    a_t, ret_t = gae(torch.tensor(r), torch.tensor(v), 0.99, 0.95, dones=torch.tensor(d))
    np.testing.assert_allclose(a_t.numpy(), a_np, atol=1e-12)
    np.testing.assert_allclose(ret_t.numpy(), ret_np, atol=1e-12)
    np.testing.assert_allclose(discounted_returns(torch.tensor(r), 0.9, torch.tensor(d)).numpy(),
                               discounted_returns(r, 0.9, d), atol=1e-12)


def test_td_target_terminated_versus_truncated():
    assert td_target(1.0, 10.0, 0.9, terminated=True) == 1.0
    assert td_target(1.0, 10.0, 0.9, terminated=False) == pytest.approx(10.0)


@pytest.mark.parametrize("gamma, lam", [(1.5, 0.9), (0.9, -0.1)])
def test_gae_validation(gamma, lam):
    with pytest.raises(ValueError, match="must lie in"):
        gae(np.zeros(3), np.zeros(3), gamma, lam)
