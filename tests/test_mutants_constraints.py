"""Tests written to kill the mutants mutmut left alive in ``rlcore/health/constraints.py``.

A hand-made three-state treatment model (one terminal state, one contraindication) is small
enough to enumerate every deterministic policy: each one's discounted value and cost come
from a linear solve written here, the Lagrangian optima from the enumeration, and the
constrained optimum from the upper concave envelope of the (cost, value) points (the optimum
of a constrained MDP mixes at most two deterministic policies; Altman, 1999).
"""

import itertools

import numpy as np
import pytest

from rlcore.core.mdp import TabularMDP
from rlcore.envs.treatment import TreatmentModel
from rlcore.health.constraints import (
    constrained_lp,
    constrained_policy,
    lagrangian_front,
    lagrangian_sweep,
    pareto_sweep,
)

GAMMA = 0.9
MASK = np.array([[True, True, True], [True, True, False], [True, True, True]])


def build():
    rng = np.random.default_rng(5)
    S, A = 3, 3
    ns = np.tile(np.arange(S), (S, A, 1))
    prob = rng.dirichlet(np.ones(S), size=(S, A))
    outcome = rng.uniform(-1, 2, (S, A, S))
    burden = rng.uniform(0, 1, (S, A, S))
    adverse = rng.uniform(0, 1, (S, A, S)) * np.array([0.1, 0.6, 1.2])[None, :, None]   # stronger = riskier
    outcome[:, 2] += 1.0                                                                 # ... and better
    ns[2], prob[2] = 2, [1.0, 0.0, 0.0]                                                  # terminal row
    outcome[2] = burden[2] = adverse[2] = 0.0
    mdp = TabularMDP(ns, prob, outcome - burden, gamma=GAMMA, terminal=[2], initial=[0.6, 0.4, 0.0])
    return TreatmentModel("toy", "adult", mdp, outcome, burden, adverse, MASK.copy())


def exact(model, policy, per_transition):
    """Discounted total of ``per_transition`` under a deterministic ``policy``: (I - gamma P) v = r."""
    mdp = model.mdp
    S = mdp.n_states
    P, r = np.zeros((S, S)), np.zeros(S)
    for s in range(S):
        a = policy[s]
        for k in range(mdp.prob.shape[2]):
            p = mdp.prob[s, a, k]
            r[s] += p * per_transition[s, a, k]
            if not mdp.done[s, a, k]:
                P[s, mdp.next_state[s, a, k]] += GAMMA * p
    return float(mdp.initial @ np.linalg.solve(np.eye(S) - P, r))


def stochastic_exact(model, pi, per_transition):
    mdp = model.mdp
    S = mdp.n_states
    P, r = np.zeros((S, S)), np.zeros(S)
    for s in range(S):
        for a in range(mdp.n_actions):
            for k in range(mdp.prob.shape[2]):
                p = pi[s, a] * mdp.prob[s, a, k]
                r[s] += p * per_transition[s, a, k]
                if not mdp.done[s, a, k]:
                    P[s, mdp.next_state[s, a, k]] += GAMMA * p
    return float(mdp.initial @ np.linalg.solve(np.eye(S) - P, r))


def all_policies(model):
    allowed = [np.flatnonzero(model.mask[s]) for s in range(model.n_states)]
    pols = [np.array(p) for p in itertools.product(*allowed)]
    return [(p, exact(model, p, model.mdp.reward), exact(model, p, model.adverse)) for p in pols]


def constrained_optimum(points, budget):
    best = max((v for _, v, c in points if c <= budget + 1e-12), default=-np.inf)
    for (_, v1, c1), (_, v2, c2) in itertools.product(points, points):
        if c1 < budget < c2:
            m = (budget - c1) / (c2 - c1)
            best = max(best, (1 - m) * v1 + m * v2)
    return best


@pytest.fixture(scope="module")
def model():
    return build()


@pytest.fixture(scope="module")
def points(model):
    return all_policies(model)


def test_the_toy_has_a_real_trade_off(points):
    costs = [c for _, _, c in points]
    best_value = max(points, key=lambda x: x[1])
    assert best_value[2] > min(costs) + 0.1


def test_lagrangian_front_matches_enumeration(model, points):
    lambdas = [0.0, 0.3, 1.0, 3.0, 10.0]
    front = lagrangian_front(model.mdp, model.adverse, lambdas, mask=model.mask)
    assert front.lambdas.tolist() == lambdas
    for lam, pol, v, c in zip(lambdas, front.policies, front.values, front.costs):
        assert v == pytest.approx(exact(model, pol, model.mdp.reward), rel=1e-9, abs=1e-12)
        assert c == pytest.approx(exact(model, pol, model.adverse), rel=1e-9, abs=1e-12)
        assert v - lam * c == pytest.approx(max(pv - lam * pc for _, pv, pc in points), rel=1e-9, abs=1e-12)
        assert all(model.mask[s, a] for s, a in enumerate(pol))
    sweep = lagrangian_sweep(model, lambdas)
    np.testing.assert_allclose(sweep.values, front.values)
    np.testing.assert_allclose(sweep.costs, front.costs)


def test_lagrangian_front_with_a_state_action_cost_and_the_default_grid(model, points):
    C_sa = np.einsum("sak,sak->sa", model.mdp.prob, model.adverse)
    front = lagrangian_front(model.mdp, C_sa, mask=model.mask)
    assert front.lambdas.tolist() == [0.0] + np.logspace(-2, 2, 24).tolist()
    for lam, v, c in zip(front.lambdas, front.values, front.costs):
        assert v - lam * c == pytest.approx(max(pv - lam * pc for _, pv, pc in points), rel=1e-9, abs=1e-12)
    with pytest.raises(ValueError, match=r"^cost"):
        lagrangian_front(model.mdp, np.zeros((3, 2)), [0.0])
    for bad in ([-1.0], [np.nan], [[0.0, 1.0]]):
        with pytest.raises(ValueError, match=r"^lambdas"):
            lagrangian_front(model.mdp, model.adverse, bad)


@pytest.mark.parametrize("frac", [0.0, 0.15, 0.4, 0.7, 0.95])
def test_constrained_policy_and_lp_reach_the_enumerated_optimum(model, points, frac):
    costs = [c for _, _, c in points]
    c_lo, c_hi = min(costs), max(p[2] for p in points if p[1] == max(q[1] for q in points))
    budget = c_lo + frac * (c_hi - c_lo)
    opt = constrained_optimum(points, budget)
    res = constrained_policy(model, budget)
    assert res.value == pytest.approx(opt, rel=1e-7, abs=1e-9)
    assert res.cost <= budget + 1e-9
    assert res.binding
    assert res.cost == pytest.approx(budget, rel=1e-7, abs=1e-9)
    assert res.value == pytest.approx(res.mix * res.value_a + (1 - res.mix) * res.value_b, rel=1e-12)
    assert res.value_a == pytest.approx(exact(model, res.policy_a, model.mdp.reward), rel=1e-9)
    assert res.cost_b == pytest.approx(exact(model, res.policy_b, model.adverse), rel=1e-9)
    assert res.cost_b <= budget + 1e-9 <= res.cost_a + 2e-9
    value, cost, pi = constrained_lp(model, budget)
    assert value == pytest.approx(opt, rel=1e-7, abs=1e-9)
    assert cost <= budget + 1e-7
    np.testing.assert_allclose(pi.sum(axis=1), 1.0)
    assert (pi[~model.mask] == 0).all()
    assert stochastic_exact(model, pi, model.mdp.reward) == pytest.approx(value, rel=1e-6, abs=1e-9)
    assert stochastic_exact(model, pi, model.adverse) == pytest.approx(cost, rel=1e-6, abs=1e-9)
    np.testing.assert_allclose(pi[2], MASK[2] / MASK[2].sum())      # never reached: uniform over allowed


def test_a_slack_budget_gives_the_unconstrained_optimum(model, points):
    best = max(points, key=lambda x: x[1])
    res = constrained_policy(model, best[2] + 1.0)
    assert not res.binding and res.lam == 0.0 and res.mix == 1.0 and res.iterations == 0
    assert res.value == pytest.approx(best[1], rel=1e-9)
    assert np.array_equal(res.policy_a, res.policy_b)
    value, cost, _ = constrained_lp(model, best[2] + 1.0)
    assert value == pytest.approx(best[1], rel=1e-7)


def test_an_impossible_budget_is_refused(model, points):
    c_min = min(c for _, _, c in points)
    with pytest.raises(ValueError, match=r"^budget .* is below the smallest achievable"):
        constrained_policy(model, c_min - 0.05)
    with pytest.raises(ValueError, match=r"constrained LP has no solution"):
        constrained_lp(model, c_min - 0.05)
    res = constrained_policy(model, c_min)      # exactly the minimum is feasible
    assert res.cost == pytest.approx(c_min, rel=1e-7)


def test_sample_policy_draws_policy_a_with_probability_mix(model, points):
    costs = [c for _, _, c in points]
    res = constrained_policy(model, min(costs) + 0.5 * (max(costs) - min(costs)))
    rng = np.random.default_rng(0)
    n = 4000
    hits = sum(np.array_equal(res.sample_policy(rng), res.policy_a) for _ in range(n))
    if not np.array_equal(res.policy_a, res.policy_b):
        assert abs(hits / n - res.mix) < 5 * np.sqrt(res.mix * (1 - res.mix) / n) + 1e-9
    assert np.array_equal(res.sample_policy(3), res.policy_a if np.random.default_rng(3).random() < res.mix
                          else res.policy_b)


def test_pareto_sweep_matches_enumeration(model):
    allowed = [np.flatnonzero(model.mask[s]) for s in range(3)]
    pols = [np.array(p) for p in itertools.product(*allowed)]
    outs = [exact(model, p, model.outcome) for p in pols]
    burs = [exact(model, p, model.burden) for p in pols]
    weights = [0.0, 0.25, 0.5, 0.75, 1.0]
    front = pareto_sweep(model, weights)
    for w, o, b in zip(weights, front.outcome, front.burden):
        assert (1 - w) * o - w * b == pytest.approx(max((1 - w) * x - w * y for x, y in zip(outs, burs)),
                                                    rel=1e-8, abs=1e-10)
    for i in range(len(weights)):
        dominated = any(front.outcome[j] >= front.outcome[i] - 1e-12 and front.burden[j] <= front.burden[i] + 1e-12
                        and (front.outcome[j] > front.outcome[i] + 1e-9 or front.burden[j] < front.burden[i] - 1e-9)
                        for j in range(len(weights)))
        assert front.pareto[i] == (not dominated)
    assert len(pareto_sweep(model).weights) == 21
    with pytest.raises(ValueError, match=r"weights must be"):
        pareto_sweep(model, [0.5, 1.5])


def test_a_horizon_is_refused(model):
    windowed = TreatmentModel("toy", "adult", model.mdp.with_horizon(5), model.outcome, model.burden,
                              model.adverse, model.mask)
    for fn in (lambda: constrained_lp(windowed, 0.5), lambda: constrained_policy(windowed, 0.5),
               lambda: lagrangian_sweep(windowed), lambda: pareto_sweep(windowed)):
        with pytest.raises(ValueError, match=r"horizon 5"):
            fn()
