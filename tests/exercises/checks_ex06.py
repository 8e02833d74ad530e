"""Checks for notebooks/exercises/ex06_dqn.py (book chapter 3, "From tables to networks", DQN).

References: batches worked by hand in the comments; ``rlcore.core.returns.td_target`` for the
targets; torch's ``smooth_l1_loss`` / ``huber_loss`` and autograd for the Huber function; and
``rlcore.approx.dqn.dqn_loss`` on a real network and replay batch for the loss.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from rlcore.approx.common import mlp
from rlcore.approx.dqn import dqn_loss as rl_dqn_loss
from rlcore.approx.replay import ReplayBuffer
from rlcore.core.returns import td_target

from .harness import check, expect, expect_close

MODULE = "ex06_dqn"

# A batch of three transitions with two actions, worked by hand below.
R3 = np.array([1.0, 0.0, -1.0])
NEXT3 = np.array([[1.0, 2.0], [3.0, 0.5], [4.0, 4.0]])
TERM3 = np.array([False, True, False])


def _random_batch(seed: int, B: int = 7, A: int = 3):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=B), rng.normal(scale=3.0, size=(B, A)), rng.random(B) < 0.3,
            rng.normal(scale=3.0, size=(B, A)))


# --------------------------------------------------------------------------- dqn_targets
@check(MODULE, "dqn_targets", "y = r + gamma * (1 - terminated) * max over the actions (last axis) of next_q_target")
def check_targets_by_hand(f):
    # a square batch (2 transitions, 2 actions): the row maxima are 2 and 3, the column maxima 3 and 2
    expect_close(f(R3[:2], NEXT3[:2], np.array([False, False]), 0.5), [2.0, 1.5],
                 "dqn_targets, 2 transitions x 2 actions, none terminal, gamma = 0.5 (max per row)")
    # row 0: 1 + 0.9 * 2 = 2.8; row 1 is terminal: 0; row 2: -1 + 0.9 * 4 = 2.6
    expect_close(f(R3, NEXT3, TERM3, 0.9), [2.8, 0.0, 2.6], "dqn_targets on the 3-transition batch, gamma = 0.9")
    expect_close(f(R3, NEXT3, TERM3, 0.0), R3, "dqn_targets with gamma = 0 (the rewards alone)")


@check(MODULE, "dqn_targets", "same as rlcore.core.returns.td_target(r, next_q.max(axis=1), gamma, terminated)")
def check_targets_match_td_target(f):
    for seed, (B, A) in enumerate(((7, 3), (64, 2), (5, 6))):
        r, next_q, term, _ = _random_batch(seed, B, A)
        for gamma in (0.99, 0.5):
            got = f(r, next_q, term, gamma)
            expect_close(got, td_target(r, next_q.max(axis=1), gamma, term),
                         f"dqn_targets on a random batch of {B} transitions, {A} actions, gamma = {gamma}")


@check(MODULE, "dqn_targets", "a truncated step is stored with terminated = False: it bootstraps like any other")
def check_targets_truncation_bootstraps(f):
    # CartPole's last step before the 500-step cap: reward 1, not terminated, max Q_target(s') = 60
    y = f(np.array([1.0]), np.array([[58.0, 60.0]]), np.array([False]), 0.99)
    expect_close(y, [1.0 + 0.99 * 60.0], "dqn_targets of a truncated CartPole step (terminated = False)")
    y = f(np.array([1.0]), np.array([[58.0, 60.0]]), np.array([True]), 0.99)
    expect_close(y, [1.0], "dqn_targets of a terminal step (the pole fell): Q(s', .) counts as 0")


# --------------------------------------------------------------------------- huber
@check(MODULE, "huber", "x**2 / 2 where |x| <= delta, delta * (|x| - delta / 2) beyond")
def check_huber_by_hand(f):
    x = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
    expect_close(f(x), [2.5, 0.5, 0.125, 0.0, 0.125, 0.5, 1.5], "huber(x) with delta = 1")
    # delta = 2: 3 -> 2 * (3 - 1) = 4; 1 -> 1 / 2; -2 -> 2 (both branches agree at the joint)
    expect_close(f(np.array([3.0, 1.0, -2.0]), 2.0), [4.0, 0.5, 2.0], "huber([3, 1, -2], delta = 2)")
    expect_close(f(np.array([0.3, -0.2]), 0.1), [0.1 * 0.25, 0.1 * 0.15], "huber([0.3, -0.2], delta = 0.1)")


@check(MODULE, "huber", "with delta = 1 it is torch's smooth_l1_loss; for any delta torch's huber_loss (no mean)")
def check_huber_matches_torch(f):
    x = np.random.default_rng(2).normal(scale=3.0, size=(4, 25))
    zero = torch.zeros(x.shape, dtype=torch.float64)
    ref = F.smooth_l1_loss(torch.from_numpy(x), zero, reduction="none").numpy()
    got = f(x)
    expect_close(got, ref, "huber(x) against torch.nn.functional.smooth_l1_loss(x, 0, reduction='none')", atol=1e-12)
    for delta in (0.5, 2.0, 5.0):
        ref = F.huber_loss(torch.from_numpy(x), zero, reduction="none", delta=delta).numpy()
        expect_close(f(x, delta), ref, f"huber(x, delta={delta}) against torch's huber_loss", atol=1e-12)


@check(MODULE, "huber", "the slope is clip(x, -delta, delta): the quadratic and linear parts must join smoothly")
def check_huber_slope(f):
    x = np.linspace(-4.0, 4.0, 81) + 0.013  # off the joints, where the slope is defined by both sides
    h = 1e-6
    for delta in (1.0, 2.5):
        slope = (np.asarray(f(x + h, delta), dtype=float) - np.asarray(f(x - h, delta), dtype=float)) / (2 * h)
        expect_close(slope, np.clip(x, -delta, delta), f"the finite-difference slope of huber(., delta={delta})",
                     atol=1e-5)


# --------------------------------------------------------------------------- dqn_loss
@check(MODULE, "dqn_loss", "mean over the batch of huber(q_values[i, actions[i]] - targets[i]), delta = 1")
def check_loss_by_hand(f):
    q = np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 3.5]])
    # taken: 2.0, 0.5, 3.0; errors against y = (1.5, 3.5, 3.0): 0.5, -3, 0 -> 0.125, 2.5, 0 -> mean 0.875
    got = f(q, np.array([1, 0, 0]), np.array([1.5, 3.5, 3.0]))
    expect_close(got, 0.875, "dqn_loss on a 3-transition batch (actions 1, 0, 0)")
    expect(np.ndim(got) == 0, f"expected one number (the mean), got shape {np.shape(got)}")
    expect_close(f(q, np.array([0, 1, 1]), np.array([1.0, -1.0, 3.5])), 0.0, "dqn_loss when every target is met")


@check(MODULE, "dqn_loss", "equals rlcore.approx.dqn.dqn_loss on a network and a replay batch, given the same y")
def check_loss_matches_rlcore(f):
    rng = np.random.default_rng(4)
    buf = ReplayBuffer(50, (4,))
    buf.add(rng.normal(size=(50, 4)), rng.integers(0, 2, 50), rng.normal(size=50), rng.normal(size=(50, 4)),
            rng.random(50) < 0.2)
    q_net = mlp([4, 16, 2], "relu", seed=1).double()
    target_net = mlp([4, 16, 2], "relu", seed=2).double()
    for n in (8, 32):
        batch = buf.sample(n, rng)
        batch = type(batch)(batch.obs.astype(np.float64), batch.actions, batch.rewards.astype(np.float64),
                            batch.next_obs.astype(np.float64), batch.terminated)
        ref = float(rl_dqn_loss(q_net, target_net, batch, 0.9)[0].detach())
        with torch.no_grad():
            q = q_net(torch.from_numpy(batch.obs)).numpy()
            next_q = target_net(torch.from_numpy(batch.next_obs)).numpy()
        y = td_target(batch.rewards, next_q.max(axis=1), 0.9, batch.terminated)
        expect_close(f(q, batch.actions, y), ref, f"dqn_loss on a replay batch of {n} (rlcore's dqn_loss)",
                     atol=1e-9)


# --------------------------------------------------------------------------- double_dqn_targets
@check(MODULE, "double_dqn_targets", "a* = argmax of next_q_online per row; y = r + gamma (1 - terminated) "
                                     "next_q_target[i, a*_i]")
def check_double_by_hand(f):
    online = np.array([[5.0, 1.0], [0.0, 2.0], [1.0, 9.0]])
    target = np.array([[1.0, 4.0], [3.0, 0.5], [2.0, 7.0]])
    # a* = 0, 1, 1 -> target values 1.0, 0.5, 7.0; row 2 terminal
    got = f(np.array([0.5, 1.0, 2.0]), online, target, np.array([False, False, True]), 0.5)
    expect_close(got, [0.5 + 0.5 * 1.0, 1.0 + 0.5 * 0.5, 2.0], "double_dqn_targets on a 3-transition batch")
    # plain DQN would give 0.5 + 0.5 * 4 = 2.5 and 1 + 0.5 * 3 = 2.5 for the first two rows


@check(MODULE, "double_dqn_targets", "with the same values in both networks it is plain DQN; otherwise it "
                                     "never exceeds the plain DQN target")
def check_double_against_plain(f):
    for seed, (B, A) in enumerate(((7, 3), (40, 2), (6, 5))):
        r, next_q, term, online = _random_batch(10 + seed, B, A)
        plain = td_target(r, next_q.max(axis=1), 0.99, term)
        expect_close(f(r, next_q, next_q, term, 0.99), plain,
                     f"double_dqn_targets with online = target ({B} transitions, {A} actions)")
        got = np.asarray(f(r, online, next_q, term, 0.99), dtype=float)
        expect(got.shape == (B,), f"expected shape ({B},), got {got.shape}")
        expect(bool(np.all(got <= plain + 1e-12)), "double_dqn_targets exceeds max_a Q_target(s', a) somewhere")
        # a row-by-row loop as the independent reference
        loop = [r[i] + (0.0 if term[i] else 0.99 * next_q[i, int(np.argmax(online[i]))]) for i in range(B)]
        expect_close(got, loop, f"double_dqn_targets against a loop over {B} transitions")


def mutants(sol):
    """Plausible wrong answers (each must be caught by at least one check of its function)."""

    def wrong_axis(r, nq, te, g):
        return np.asarray(r) + g * (1 - np.asarray(te, float)) * np.asarray(nq).max(axis=0)

    def take_max(q, a, y):
        return float(np.mean(sol.huber(np.asarray(q).max(axis=1) - y)))

    def take_first_column(q, a, y):
        return float(np.mean(sol.huber(np.asarray(q)[np.arange(len(a)), 0] - y)))

    def swapped_branches(x, delta=1.0):
        a = np.abs(np.asarray(x, float))
        return np.where(a > delta, 0.5 * a**2, delta * (a - 0.5 * delta))

    return {
        "ex06_dqn.dqn_targets": [
            ("terminal mask dropped", lambda r, nq, te, g: sol.dqn_targets(r, nq, np.zeros_like(te), g)),
            ("max over the batch axis", wrong_axis),
            ("mean over actions instead of max", lambda r, nq, te, g: np.asarray(r) + g * (
                1 - np.asarray(te, float)) * np.asarray(nq).mean(axis=1)),
            ("mask inverted", lambda r, nq, te, g: sol.dqn_targets(r, nq, ~np.asarray(te), g))],
        "ex06_dqn.huber": [
            ("squared loss everywhere", lambda x, delta=1.0: 0.5 * np.asarray(x, float) ** 2),
            ("linear part without -delta/2", lambda x, delta=1.0: np.where(
                np.abs(x) <= delta, 0.5 * np.asarray(x, float) ** 2, delta * np.abs(x))),
            ("branches swapped", swapped_branches),
            ("smooth_l1 with beta = delta", lambda x, delta=1.0: sol.huber(x, delta) / delta),
            ("no 1/2 on the square", lambda x, delta=1.0: np.where(
                np.abs(x) <= delta, np.asarray(x, float) ** 2, delta * (np.abs(x) - 0.5 * delta)))],
        "ex06_dqn.dqn_loss": [
            ("max of the row instead of the taken action", take_max),
            ("always action 0", take_first_column),
            ("squared error", lambda q, a, y: float(np.mean(
                0.5 * (np.asarray(q)[np.arange(len(a)), a] - y) ** 2))),
            ("sum instead of mean", lambda q, a, y: sol.dqn_loss(q, a, y) * len(a))],
        "ex06_dqn.double_dqn_targets": [
            ("online net also evaluates", lambda r, qo, qt, te, g: sol.dqn_targets(r, qo, te, g)),
            ("target net also chooses (plain DQN)", lambda r, qo, qt, te, g: sol.dqn_targets(r, qt, te, g)),
            ("terminal mask dropped", lambda r, qo, qt, te, g: sol.double_dqn_targets(
                r, qo, qt, np.zeros_like(te), g)),
            ("argmin instead of argmax", lambda r, qo, qt, te, g: sol.double_dqn_targets(
                r, -np.asarray(qo), qt, te, g))],
    }
