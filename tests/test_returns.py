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


# ------------------------------------------- episodes truncated in mid-row
def _episodes(done, trunc):
    """Split one row into episodes ``(start, stop, how)``; ``how`` is 'terminated', 'truncated' or 'open'."""
    out, start = [], 0
    for t in range(len(done)):
        if done[t] or trunc[t]:
            out.append((start, t + 1, "terminated" if done[t] else "truncated"))
            start = t + 1
    if start < len(done):
        out.append((start, len(done), "open"))
    return out


def loop_returns_and_gae(r, v, nv, done, trunc, last, gamma, lam):
    """Plain per-episode reference: each episode on its own, bootstrapped as its ending says."""
    G, A = [0.0] * len(r), [0.0] * len(r)
    for start, stop, how in _episodes(done, trunc):
        tail = {"terminated": 0.0, "truncated": nv[stop - 1], "open": last}[how]
        g, a = tail, 0.0
        for t in reversed(range(start, stop)):
            g = r[t] + gamma * g
            G[t] = g
            v_next = v[t + 1] if t + 1 < stop else tail
            a = r[t] + gamma * v_next - v[t] + gamma * lam * a
            A[t] = a
    return np.array(G), np.array(A)


@st.composite
def rows_with_endings(draw):
    B, T = draw(st.integers(1, 4)), draw(st.integers(1, 9))
    seed = draw(st.integers(0, 2**31 - 1))
    gamma = draw(st.sampled_from([0.0, 0.5, 0.9, 1.0]))
    lam = draw(st.sampled_from([0.0, 0.7, 1.0]))
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, 4, size=(B, T))  # 0, 1: continue, 2: terminated, 3: truncated
    if draw(st.booleans()):
        kind[:, -1] = 3  # every row ends truncated at its last column
    return (rng.normal(size=(B, T)), rng.normal(size=(B, T)), rng.normal(size=(B, T)),
            kind == 2, kind == 3, rng.normal(size=B), gamma, lam)


@pytest.mark.parametrize("lib", ["numpy", "torch"])
@given(rows_with_endings())
def test_truncation_mid_row_matches_a_per_episode_loop(lib, case):
    r, v, nv, done, trunc, last, gamma, lam = case
    G_ref = np.zeros_like(r)
    A_ref = np.zeros_like(r)
    for b in range(r.shape[0]):
        G_ref[b], A_ref[b] = loop_returns_and_gae(r[b], v[b], nv[b], done[b], trunc[b], last[b], gamma, lam)
    conv = torch.tensor if lib == "torch" else np.asarray
    G = discounted_returns(conv(r), gamma, conv(done), bootstrap=conv(last), truncated=conv(trunc),
                           next_values=conv(nv))
    A, ret = gae(conv(r), conv(v), gamma, lam, dones=conv(done), last_value=conv(last), truncated=conv(trunc),
                 next_values=conv(nv))
    to_np = (lambda x: x.numpy()) if lib == "torch" else np.asarray
    np.testing.assert_allclose(to_np(G), G_ref, atol=1e-9)
    np.testing.assert_allclose(to_np(A), A_ref, atol=1e-9)
    np.testing.assert_allclose(to_np(ret), A_ref + v, atol=1e-9)


def test_truncated_at_the_last_column_with_gamma_one_by_hand():
    r = np.array([[1.0, 2.0, 3.0]])
    trunc = np.array([[False, True, True]])
    nv = np.array([[0.0, 10.0, 100.0]])
    # episode 1: steps 0..1 cut at 1 -> G_1 = 2 + 10, G_0 = 1 + 12; episode 2: step 2 cut -> 3 + 100
    G = discounted_returns(r, 1.0, truncated=trunc, next_values=nv)
    np.testing.assert_allclose(G, [[13.0, 12.0, 103.0]])
    # the same row terminated instead: no bootstrap at all
    np.testing.assert_allclose(discounted_returns(r, 1.0, dones=trunc, truncated=trunc, next_values=nv),
                               [[3.0, 2.0, 3.0]])


def test_without_truncated_flags_nothing_changes():
    rng = np.random.default_rng(0)
    r, v = rng.normal(size=(3, 6)), rng.normal(size=(3, 6))
    d = rng.random((3, 6)) < 0.3
    no = np.zeros_like(d)
    np.testing.assert_array_equal(discounted_returns(r, 0.9, d, truncated=no, next_values=v),
                                  discounted_returns(r, 0.9, d))
    np.testing.assert_allclose(gae(r, v, 0.9, 0.8, dones=d, truncated=no, next_values=v)[0],
                               gae(r, v, 0.9, 0.8, dones=d)[0], atol=1e-12)


def test_truncated_needs_next_values():
    with pytest.raises(ValueError, match="next_values"):
        discounted_returns(np.zeros(3), 0.9, truncated=np.zeros(3, dtype=bool))
    with pytest.raises(ValueError, match="next_values"):
        gae(np.zeros(3), np.zeros(3), 0.9, 0.9, truncated=np.zeros(3, dtype=bool), next_values=np.zeros(2))


def test_integer_rewards_give_float_returns_and_errors_name_the_function():
    """Mutation testing (issue 9) left these alive: returns of integer rewards must not be cast back to int,
    float32 rewards come back as float64, and the truncation error names its function and what is missing."""
    G = discounted_returns(np.array([1, 0, 2]), 0.5)
    assert G.dtype == np.float64 and G.tolist() == [1 + 0.5 * 0 + 0.25 * 2, 0 + 0.5 * 2, 2.0]
    assert discounted_returns(np.ones(3, dtype=np.float32), 0.9).dtype == np.float64
    with pytest.raises(ValueError) as err:
        discounted_returns(np.zeros(3), 0.9, truncated=np.zeros(3, dtype=bool))
    assert str(err.value) == ("discounted_returns: truncated was given without next_values; a truncated step "
                              "needs V(s_{t+1}) of the state it was cut at (next_values[..., t])")
