"""Tests for rlcore.advanced.matrix_games: exact game quantities against plain loops, and independent learners.

Expected values are worked out by hand or by the loops in this file; the learning-dynamics margins were
chosen after measuring the dynamics at the stated seeds (numbers in the comments), never copied as targets.
"""

from __future__ import annotations

import numpy as np
import pytest

from rlcore.advanced.matrix_games import (
    action_values,
    best_response_switches,
    demand_game,
    distance_to_nash,
    expected_payoffs,
    exploitability,
    independent_pg,
    matching_pennies,
    nash_2x2,
    pure_nash,
)


def loop_payoffs(A, B, x, y):
    u1 = u2 = 0.0
    for i in range(len(x)):
        for j in range(len(y)):
            u1 += x[i] * y[j] * A[i][j]
            u2 += x[i] * y[j] * B[i][j]
    return u1, u2


def random_strategy(rng, n):
    p = rng.random(n) + 0.05
    return p / p.sum()


def test_expected_payoffs_match_a_double_loop():
    rng = np.random.default_rng(0)
    for n, m in ((2, 2), (3, 2), (4, 5)):
        A, B = rng.normal(size=(n, m)), rng.normal(size=(n, m))
        x, y = random_strategy(rng, n), random_strategy(rng, m)
        assert np.allclose(expected_payoffs(A, B, x, y), loop_payoffs(A, B, x, y), atol=1e-12)


def test_demand_game_table_by_hand():
    A, B = demand_game((1, 3), 4)
    # concede/concede: both get 1; one greedy: 1 and 3; both greedy: 6 > 4, no deal.
    assert A.tolist() == [[1, 1], [3, 0]] and B.tolist() == [[1, 3], [1, 0]]
    assert sorted(pure_nash(A, B)) == [(0, 1), (1, 0)]  # one side concedes
    assert pure_nash(*matching_pennies()) == []
    A3, B3 = demand_game((1, 2, 3), 4)
    assert A3[1, 1] == 2 and B3[2, 0] == 1 and A3[2, 1] == 0  # 2 + 2 fits, 3 + 2 does not


def indifference_gaps(A, B, x, y):
    """Each player's payoff of its two pure actions against the other's mix, by loops."""
    row = [sum(A[i][j] * y[j] for j in range(2)) for i in range(2)]
    col = [sum(B[i][j] * x[i] for i in range(2)) for j in range(2)]
    return row[0] - row[1], col[0] - col[1]


def test_nash_2x2_satisfies_the_indifference_conditions():
    rng = np.random.default_rng(1)
    games = [matching_pennies(), demand_game()]
    while len(games) < 12:  # random 2x2 games that have a fully mixed equilibrium
        A, B = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
        try:
            nash_2x2(A, B)
        except ValueError:
            continue
        games.append((A, B))
    for A, B in games:
        x, y = nash_2x2(A, B)
        assert np.all((x > 0) & (x < 1) & (y > 0) & (y < 1)) and np.isclose(x.sum(), 1) and np.isclose(y.sum(), 1)
        assert np.allclose(indifference_gaps(A, B, x, y), 0, atol=1e-12)
    assert np.allclose(nash_2x2(*matching_pennies()), 0.5)
    assert np.allclose(nash_2x2(*demand_game())[0], [1 / 3, 2 / 3])  # 1 = 3 P(other concedes)


def test_nash_2x2_refuses_games_without_a_mixed_equilibrium():
    A = np.array([[3.0, 0.0], [5.0, 1.0]])  # prisoner's dilemma: defect dominates
    with pytest.raises(ValueError, match="fully mixed"):
        nash_2x2(A, A.T)
    with pytest.raises(ValueError, match="2x2"):
        nash_2x2(np.zeros((3, 3)), np.zeros((3, 3)))


def test_exploitability_is_zero_at_equilibria_and_positive_elsewhere():
    rng = np.random.default_rng(2)
    for A, B in (matching_pennies(), demand_game()):
        x, y = nash_2x2(A, B)
        assert abs(exploitability(A, B, x, y)) < 1e-12
        for _ in range(20):
            assert exploitability(A, B, random_strategy(rng, 2), random_strategy(rng, 2)) > 1e-6
    A, B = demand_game()
    for i, j in pure_nash(A, B):
        assert exploitability(A, B, np.eye(2)[i], np.eye(2)[j]) == 0
    # matching pennies at heads/heads: the row player wins (gain 0), the column player would gain 1 - (-1) = 2
    assert exploitability(*matching_pennies(), [1, 0], [1, 0]) == pytest.approx(2.0)


def test_input_validation_names_the_argument():
    A, B = matching_pennies()
    for kwargs, name in (({"n_steps": 0}, "n_steps"), ({"lr": 0.0}, "lr"), ({"seed": -1}, "seed"),
                         ({"gradient": "natural"}, "gradient"), ({"init_logits": ([0.0], [0.0])}, "init_logits"),
                         ({"progress": 1}, "progress")):
        with pytest.raises(ValueError, match=name):
            independent_pg(A, B, **kwargs)
    with pytest.raises(ValueError, match="x must"):
        expected_payoffs(A, B, [0.7, 0.7], [0.5, 0.5])
    with pytest.raises(ValueError, match="A and B"):
        expected_payoffs(A, np.zeros((2, 3)), [0.5, 0.5], [0.5, 0.5])
    with pytest.raises(ValueError, match="demands"):
        demand_game((1,), 4)


def test_learner_reproduces_bit_for_bit():
    A, B = demand_game()
    a, b = independent_pg(A, B, n_steps=500, seed=4), independent_pg(A, B, n_steps=500, seed=4)
    for key in ("x", "y", "actions", "payoffs"):
        assert np.array_equal(getattr(a, key), getattr(b, key)), key
    c = independent_pg(A, B, n_steps=500, seed=5)
    assert not np.array_equal(a.actions, c.actions)
    assert a.x.shape == (501, 2) and a.actions.shape == (500, 2) and "500 steps" in repr(a) and "\n" not in repr(a)
    # the payoffs recorded are the table's entries at the sampled actions
    assert np.array_equal(a.payoffs[:, 0], A[a.actions[:, 0], a.actions[:, 1]])


def test_exact_gradient_play_spirals_away_from_the_matching_pennies_equilibrium():
    A, B = matching_pennies()
    x_star, y_star = nash_2x2(A, B)
    at_nash = independent_pg(A, B, n_steps=200, lr=0.1, gradient="exact")
    assert np.allclose(at_nash.x, 0.5) and np.allclose(at_nash.y, 0.5)  # a fixed point of the dynamics
    h = independent_pg(A, B, n_steps=4000, lr=0.1, gradient="exact", init_logits=([0.3, 0.0], [0.0, 0.0]))
    d = distance_to_nash(h.x, h.y, x_star, y_star)
    # measured: d_0 = 0.105, the last 1000 steps average 0.75
    assert d[-1000:].mean() > 4 * d[0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_independent_pg_cycles_in_matching_pennies(seed):
    """Non-stationarity: the last iterate stays far from the equilibrium, the time average approaches it."""
    A, B = matching_pennies()
    x_star, y_star = nash_2x2(A, B)
    h = independent_pg(A, B, n_steps=4000, lr=0.05, seed=seed)
    last = distance_to_nash(h.x, h.y, x_star, y_star)[-1000:].mean()
    average = distance_to_nash(h.average_x[-1:], h.average_y[-1:], x_star, y_star)[0]
    # measured (seeds 0, 1, 2): last-iterate distance 0.50, 0.74, 0.74; time average 0.018, 0.069, 0.028
    assert last > 0.35 and average < 0.15 and average < last / 4, (last, average)
    # the row player's value of a fixed action swings with the partner's policy (it lies in [-1, 1])
    q = action_values(A, h.y)[:, 0]
    assert q.max() - q.min() > 1.2
    assert best_response_switches(A, h.y) >= 5  # measured 106, 26, 40


def test_the_negotiators_environment_moves_while_they_settle_on_a_deal():
    """In the demand game both learners reach a pure equilibrium, but on the way the row player's value of
    asking for the large share moves a lot: what is a good ask depends on what the partner has learnt."""
    A, B = demand_game()
    for seed in (0, 1, 2):
        h = independent_pg(A, B, n_steps=3000, lr=0.1, seed=seed)
        assert exploitability(A, B, h.x[-1], h.y[-1]) < 0.05  # measured below 0.004
        final = (int(h.x[-1].argmax()), int(h.y[-1].argmax()))
        assert final in pure_nash(A, B)
        greedy = action_values(A, h.y)[:, 1]
        assert greedy[0] == pytest.approx(1.5)  # 3 x P(partner concedes) = 3 / 2 at the uniform start
        assert greedy.max() - greedy.min() > 1.0  # measured 1.5, 2.0, 1.7
    with pytest.raises(ValueError, match="y must"):
        action_values(A, np.zeros((4, 3)))
