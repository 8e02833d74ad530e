"""Tests written to kill the mutants mutmut left alive in ``rlcore/core/exploration.py``.

References: the distributions written out action by action, the schedules' closed forms,
and the per-step samplers driven by a generator whose uniforms are known in advance
(so the chosen action follows from inverting the distribution by hand).
"""

import math

import numpy as np
import pytest

from rlcore.core.exploration import (
    UCB,
    Boltzmann,
    EpsilonGreedy,
    Exploration,
    boltzmann_probs,
    checked_schedule,
    constant,
    epsilon_greedy_probs,
    exponential_decay,
    greedy_policy,
    linear_decay,
    make_exploration,
)


class FixedUniforms:
    """Stands in for ``np.random.Generator``: ``random(n)`` hands out the given uniforms, then 0.5."""

    def __init__(self, values):
        self.values = list(values)

    def random(self, n):
        out = (self.values + [0.5] * n)[:n]
        self.values = self.values[n:]
        return np.array(out)


def bound(strategy, n_states, n_actions, uniforms):
    strategy.bind(n_states, n_actions, FixedUniforms(uniforms))
    return strategy


def eps_greedy_by_hand(q, eps, allowed=None):
    A = len(q)
    allowed = [True] * A if allowed is None else list(allowed)
    best = max(v for v, ok in zip(q, allowed) if ok)
    ties = [a for a in range(A) if allowed[a] and q[a] == best]
    n_ok = sum(allowed)
    return [(eps / n_ok if allowed[a] else 0.0) + ((1 - eps) / len(ties) if a in ties else 0.0) for a in range(A)]


# ------------------------------------------------------------ schedules
def test_constant_schedule():
    s = constant(0.25)
    assert [s(e) for e in (0, 1, 10**6)] == [0.25, 0.25, 0.25]


def test_linear_decay_closed_form():
    s = linear_decay(1.0, 0.2, 8)
    for e in range(0, 12):
        assert s(e) == pytest.approx(1.0 + min(e / 8, 1.0) * (0.2 - 1.0), abs=1e-15)
    s1 = linear_decay(0.5, 0.1, 1)              # n_episodes = 1 is allowed
    assert s1(0) == 0.5 and s1(1) == pytest.approx(0.1) and s1(7) == pytest.approx(0.1)


def test_exponential_decay_closed_form():
    s = exponential_decay(0.8, 0.1, 0.5)
    assert [s(e) for e in range(5)] == pytest.approx([0.8, 0.4, 0.2, 0.1, 0.1])
    s1 = exponential_decay(0.8, 0.1, 1.0)       # rate = 1 is allowed: constant
    assert s1(0) == 0.8 and s1(50) == 0.8


@pytest.mark.parametrize("rate", [0.0, -0.5, 1.0001])
def test_exponential_decay_rate_outside_zero_one(rate):
    with pytest.raises(ValueError, match=r"^rate must lie in \(0, 1\]"):
        exponential_decay(1.0, 0.1, rate)


def test_linear_decay_needs_one_episode():
    with pytest.raises(ValueError, match=r"^n_episodes must be >= 1, got 0"):
        linear_decay(1.0, 0.1, 0)


def test_checked_schedule_checks_every_value_and_names_the_episode():
    sch = checked_schedule(lambda e: 1.0 - 0.3 * e, "epsilon", 0.0, 1.0, "[0, 1]")
    assert sch(0) == 1.0 and sch(3) == pytest.approx(0.1)
    assert isinstance(sch(1), float)
    with pytest.raises(ValueError, match=r"^epsilon must lie in \[0, 1\], got -0\.\d+ \(the schedule's value at "
                                         r"episode 4\)$"):
        sch(4)
    # bounds are inclusive
    edge = checked_schedule(lambda e: [0.0, 1.0][e], "epsilon", 0.0, 1.0, "[0, 1]")
    assert edge(0) == 0.0 and edge(1) == 1.0
    # a number is a constant schedule; its error has no episode suffix
    assert checked_schedule(0.3, "epsilon", 0.0, 1.0, "[0, 1]")(99) == 0.3
    with pytest.raises(ValueError, match=r"^epsilon must lie in \[0, 1\], got 1.5$"):
        checked_schedule(1.5, "epsilon", 0.0, 1.0, "[0, 1]")
    with pytest.raises(ValueError, match=r"^epsilon must be a number in \[0, 1\] or a schedule episode -> epsilon, "
                                         r"got 'x'$"):
        checked_schedule("x", "epsilon", 0.0, 1.0, "[0, 1]")
    with pytest.raises(ValueError, match=r"^epsilon must be a number"):
        checked_schedule(True, "epsilon", 0.0, 1.0, "[0, 1]")
    bad_type = checked_schedule(lambda e: 0.5 if e == 0 else True, "epsilon", 0.0, 1.0, "[0, 1]")
    with pytest.raises(ValueError, match=r"^epsilon must lie in"):
        bad_type(1)
    with pytest.raises(ValueError, match=r"^epsilon must lie in"):
        checked_schedule(lambda e: 2.0, "epsilon", 0.0, 1.0, "[0, 1]")      # episode 0 is checked at once


# ------------------------------------------------------ vectorised probs
def test_greedy_policy_lowest_index_on_ties():
    assert greedy_policy(np.array([[0.0, 2.0, 2.0], [5.0, 1.0, 5.0]])).tolist() == [1, 0]


@pytest.mark.parametrize("eps", [0.0, 0.3, 1.0])
def test_epsilon_greedy_probs_by_hand(eps):
    Q = [[1.0, 3.0, 3.0, 0.0], [2.0, -1.0, 0.5, 1.9], [0.0, 0.0, 0.0, 0.0]]
    got = epsilon_greedy_probs(np.array(Q), eps)
    np.testing.assert_allclose(got, [eps_greedy_by_hand(q, eps) for q in Q], rtol=0, atol=1e-15)
    np.testing.assert_allclose(epsilon_greedy_probs(np.array(Q[0]), eps), eps_greedy_by_hand(Q[0], eps), atol=1e-15)


@pytest.mark.parametrize("eps", [0.0, 0.3, 1.0])
def test_masked_epsilon_greedy_probs_by_hand(eps):
    Q = [[9.0, 3.0, 3.0, 0.0], [2.0, -1.0, 0.5, 1.9]]
    M = [[False, True, True, True], [False, True, False, True]]
    got = epsilon_greedy_probs(np.array(Q), eps, np.array(M))
    np.testing.assert_allclose(got, [eps_greedy_by_hand(q, eps, m) for q, m in zip(Q, M)], rtol=0, atol=1e-15)


@pytest.mark.parametrize("eps", [-0.01, 1.01])
def test_epsilon_greedy_probs_refuses_epsilon_outside_unit_interval(eps):
    with pytest.raises(ValueError, match=r"^epsilon must lie in \[0, 1\]"):
        epsilon_greedy_probs(np.zeros(3), eps)


@pytest.mark.parametrize("tau", [0.5, 1.0, 3.0])
def test_boltzmann_probs_by_hand(tau):
    Q = [[1.0, 2.0, -0.5], [700.0, 701.0, 699.0]]   # the second row overflows exp() without the max shift
    for row, got in zip(Q, boltzmann_probs(np.array(Q), tau)):
        m = max(row)
        w = [math.exp((v - m) / tau) for v in row]
        assert got.tolist() == pytest.approx([x / sum(w) for x in w], rel=1e-12)


@pytest.mark.parametrize("tau", [0.0, -1.0])
def test_boltzmann_probs_refuses_non_positive_temperature(tau):
    with pytest.raises(ValueError, match=r"^temperature must be > 0"):
        boltzmann_probs(np.zeros(2), tau)


# -------------------------------------------------------- per-step samplers
def test_uniform_buffer_hands_out_the_generators_draws_in_order():
    ex = Exploration()
    ex.bind(1, 2, np.random.default_rng(3))
    got = [ex.uniform() for _ in range(2 * Exploration._BUFFER + 5)]
    # the first buffer is the first 4096 draws of a fresh generator, the second the next 4096
    rng = np.random.default_rng(3)
    first, second = rng.random(Exploration._BUFFER).tolist(), rng.random(Exploration._BUFFER).tolist()
    assert got[:Exploration._BUFFER] == first
    assert got[Exploration._BUFFER:2 * Exploration._BUFFER] == second


def test_argmax_breaks_ties_by_the_next_uniform():
    q = [1.0, 4.0, 0.0, 4.0, 4.0]       # ties at 1, 3, 4: u in [j/3, (j+1)/3) picks the j-th
    for u, a in [(0.0, 1), (0.32, 1), (0.34, 3), (0.66, 3), (0.67, 4), (0.999, 4)]:
        ex = bound(Exploration(), 1, 5, [u])
        assert ex.argmax(q) == a
    ex = bound(Exploration(), 1, 3, [0.9])
    assert ex.argmax([0.0, 2.0, 1.0]) == 1 and ex.uniform() == 0.9    # a unique maximum draws nothing


def test_epsilon_greedy_select_inverts_the_uniform():
    q = [0.0, 1.0, 5.0, 2.0]
    # u < eps: action int(u / eps * |A|); u >= eps: the greedy action
    for u, a in [(0.0, 0), (0.09, 0), (0.11, 1), (0.24, 2), (0.31, 3), (0.39, 3), (0.4, 2), (0.9, 2)]:
        ex = bound(EpsilonGreedy(0.4), 1, 4, [u])
        assert ex.select(q, 0) == a, u


def test_masked_epsilon_greedy_select_picks_among_allowed_only():
    ex = bound(EpsilonGreedy(0.5), 2, 4, [0.0, 0.2, 0.3, 0.49])
    ex.set_mask(np.array([[True, True, True, True], [False, True, False, True]]))
    # state 1 allows [1, 3]: index int(u / 0.5 * 2)
    assert [ex.select([0.0, 0.0, 9.0, 0.0], 1) for _ in range(4)] == [1, 1, 3, 3]
    p = ex.probs([0.0, 2.0, 9.0, 1.0], 1)
    np.testing.assert_allclose(p, eps_greedy_by_hand([0.0, 2.0, 9.0, 1.0], 0.5, [False, True, False, True]))


def test_epsilon_greedy_follows_its_schedule():
    ex = bound(EpsilonGreedy(linear_decay(1.0, 0.0, 4)), 1, 2, [])
    assert ex.epsilon == 1.0
    ex.begin_episode(2)
    assert ex.epsilon == pytest.approx(0.5)
    np.testing.assert_allclose(ex.probs([0.0, 1.0], 0), [0.25, 0.75])
    ex.begin_episode(4)
    assert ex.epsilon == 0.0


def test_boltzmann_select_inverts_the_cumulative_weights():
    q = [0.0, math.log(2.0), math.log(3.0)]   # weights 1:2:3 at tau = 1 -> cut points 1/6, 1/2
    for u, a in [(0.0, 0), (0.16, 0), (0.17, 1), (0.49, 1), (0.51, 2), (0.999, 2)]:
        ex = bound(Boltzmann(1.0), 1, 3, [u])
        assert ex.select(q, 0) == a, u
    q2 = [0.0, 2 * math.log(2.0)]             # tau = 2: weights 1:2, cut point 1/3
    for u, a in [(0.32, 0), (0.34, 1)]:
        ex = bound(Boltzmann(2.0), 1, 2, [u])
        assert ex.select(q2, 0) == a, u


def test_boltzmann_schedule_and_masked_probs():
    ex = bound(Boltzmann(lambda e: 1.0 / (e + 1)), 2, 3, [])
    assert ex.temperature == 1.0
    ex.begin_episode(1)
    assert ex.temperature == 0.5
    q = [0.0, 1.0, 2.0]
    w = [math.exp(v / 0.5) for v in q]
    np.testing.assert_allclose(ex.probs(q, 0), [x / sum(w) for x in w], rtol=1e-12)
    ex.set_mask(np.array([[True, True, True], [True, False, True]]))
    np.testing.assert_allclose(ex.probs(q, 1), [w[0] / sum(w), 0.0, w[2] / sum(w)], rtol=1e-12)
    with pytest.raises(ValueError, match=r"^temperature must lie in \(0, inf\)"):
        Boltzmann(0.0)
    assert Boltzmann(1e-12).temperature == 1e-12


def test_ucb_scores_by_hand():
    ucb = bound(UCB(2.0), 2, 3, [0.0] * 10)
    q = [1.0, 0.5, 0.2]
    assert ucb.select(q, 0) == 0                  # nothing counted yet: plain greedy on Q
    for a, n in [(0, 3), (1, 1), (2, 4)]:
        for _ in range(n):
            ucb.observe(0, a)
    assert ucb.counts[0].tolist() == [3, 1, 4] and ucb.counts[1].tolist() == [0, 0, 0]
    N = 8
    scores = [q[a] + 2.0 * math.sqrt(math.log(N) / n) for a, n in enumerate([3, 1, 4])]
    got = ucb._scores(q, 0)
    assert got == pytest.approx(scores, rel=1e-12)
    best = int(np.argmax(scores))
    assert ucb.select(q, 0) == best
    np.testing.assert_array_equal(ucb.probs(q, 0), np.eye(3)[best])


def test_ucb_untried_actions_first_and_masked_actions_never():
    ucb = bound(UCB(1.0), 1, 3, [0.0] * 10)
    ucb.observe(0, 0)
    assert ucb._scores([5.0, 0.0, 0.0], 0)[1:] == [math.inf, math.inf]
    np.testing.assert_allclose(ucb.probs([5.0, 0.0, 0.0], 0), [0, 0.5, 0.5])
    ucb.set_mask(np.array([[True, False, True]]))
    s = ucb._scores([5.0, 0.0, 0.0], 0)
    assert s[1] == -math.inf and s[2] == math.inf and s[0] == pytest.approx(5.0)   # ln 1 = 0: no bonus
    assert ucb.select([5.0, 0.0, 0.0], 0) == 2
    assert UCB(0.0).c == 0.0
    with pytest.raises(ValueError, match=r"^c must be >= 0"):
        UCB(-0.1)


def test_make_exploration_names():
    assert isinstance(make_exploration(None), EpsilonGreedy) and make_exploration(None).epsilon == 0.1
    assert make_exploration("epsilon", 0.3).epsilon == 0.3
    assert make_exploration("epsilon-greedy").epsilon == 0.1
    assert isinstance(make_exploration("boltzmann"), Boltzmann) and make_exploration("boltzmann").temperature == 1.0
    u = make_exploration("ucb")
    assert isinstance(u, UCB) and u.c == 1.0 and u.observes
    obj = Boltzmann(0.2)
    assert make_exploration(obj) is obj
    with pytest.raises(ValueError, match=r"^epsilon=0.2 only applies to epsilon-greedy exploration, "
                                         r"got exploration='ucb'"):
        make_exploration("ucb", 0.2)
    with pytest.raises(ValueError, match=r"got exploration=Boltzmann;"):
        make_exploration(obj, 0.2)
    with pytest.raises(ValueError, match=r"^exploration must be 'epsilon', 'boltzmann', 'ucb' or an Exploration, "
                                         r"got 'greedy'"):
        make_exploration("greedy")


def test_epsilon_greedy_default_epsilon_is_01():
    assert EpsilonGreedy().epsilon == 0.1


def test_boltzmann_select_at_an_exact_cut_point_and_for_large_values():
    # equal weights 1, 1: u = 0.5 * 2 = 1 lands exactly on the first cut; 1 - 1 = 0 is not < 0, so action 1
    assert bound(Boltzmann(1.0), 1, 2, [0.5]).select([0.0, 0.0], 0) == 1
    # large values: the weights are exp((q - max q) / tau), no overflow
    ex = bound(Boltzmann(1.0), 1, 2, [0.2, 0.9])
    assert [ex.select([800.0, 801.0], 0), ex.select([800.0, 801.0], 0)] == [0, 1]   # cut at 1 / (1 + e)


def test_boltzmann_select_falls_back_to_the_last_action_when_rounding_leaves_mass():
    # with u = 1 - 2**-53 the running subtraction ends at +2.2e-16, not below 0: the last action is taken
    q = [-0.5, 1.5, -0.5, -0.5]
    u = float(np.nextafter(1.0, 0.0))
    w = [math.exp(v - 1.5) for v in q]
    rest = u * sum(w)
    for x in w:
        rest -= x
    assert rest >= 0                                   # the premise, computed by hand
    assert bound(Boltzmann(1.0), 1, 4, [u]).select(q, 0) == 3
