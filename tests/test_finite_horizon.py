"""A horizon means one thing everywhere (issue 9): the task ends after H steps.

Dynamic programming solves such a task by backward induction, occupancy measures and
``true_value`` sum H steps, the env ends the episode there as terminated, and the planners that
only cover stationary infinite-horizon problems refuse it by name. The references are written
here: a recursive expectimax over (state, step) and a plain forward loop over the steps.
"""

from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlcore.core.mdp import TabularMDP
from rlcore.envs.healthcare import chronic_disease_model, sepsis_model
from rlcore.health.constraints import constrained_lp, constrained_policy, lagrangian_front, pareto_sweep
from rlcore.health.logs import true_value
from rlcore.health.safety import policy_component_values
from rlcore.tabular.dp import policy_evaluation, policy_iteration, value_iteration
from rlcore.tabular.occupancy import occupancy
from rlcore.tabular.soft import soft_value_iteration


def _random_task(seed, S, A, gamma, H, with_terminal):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(S, A))
    R = rng.normal(size=(S, A))
    return TabularMDP.from_dense(P, R, gamma=gamma, horizon=H, terminal=[S - 1] if with_terminal else None), P, R


def _expectimax(mdp, P, R, H, pi=None, mask=None):
    """V_t(s) by recursion over (s, t): max over allowed actions, or the average under ``pi``."""
    term = mdp.terminal

    @cache
    def v(s, t):
        if t == H or term[s]:
            return 0.0
        q = [R[s, a] + mdp.gamma * sum(P[s, a, s2] * v(s2, t + 1) for s2 in range(mdp.n_states))
             for a in range(mdp.n_actions)]
        if pi is not None:
            return sum(pi[s, a] * q[a] for a in range(mdp.n_actions))
        return max(q[a] for a in range(mdp.n_actions) if mask is None or mask[s, a])

    return np.array([[v(s, t) for s in range(mdp.n_states)] for t in range(H + 1)])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), S=st.integers(2, 5), A=st.integers(1, 3), H=st.integers(1, 6),
       gamma=st.sampled_from([0.0, 0.5, 0.9, 1.0]), with_terminal=st.booleans())
def test_backward_induction_matches_expectimax_at_every_step(seed, S, A, H, gamma, with_terminal):
    mdp, P, R = _random_task(seed, S, A, gamma, H, with_terminal)
    ref = _expectimax(mdp, P, R, H)
    for solver in (value_iteration, policy_iteration):
        res = solver(mdp)
        np.testing.assert_allclose(res.V_by_step, ref, atol=1e-10)
        np.testing.assert_allclose(res.V, ref[0], atol=1e-10)
        assert res.policy_by_step.shape == (H, S) and res.converged and res.iterations == H
    pi = np.random.default_rng(seed + 1).dirichlet(np.ones(A), size=S)
    ev = policy_evaluation(mdp, pi)
    ref_pi = _expectimax(mdp, P, R, H, pi=pi)
    np.testing.assert_allclose(ev.V_by_step, ref_pi, atol=1e-10)
    # one policy, one value: DP, true_value (default = the MDP's horizon) and the occupancy measure agree
    v = float(mdp.initial @ ref_pi[0])
    assert true_value(mdp, pi) == pytest.approx(v, abs=1e-10)
    assert float((occupancy(mdp, pi) * mdp.R).sum()) == pytest.approx(v, abs=1e-10)


def test_masked_backward_induction_never_takes_a_masked_action_and_matches_expectimax():
    mdp, P, R = _random_task(3, 4, 3, 0.95, 5, False)
    mask = np.ones((4, 3), dtype=bool)
    mask[:, 0] = False
    mask[2, 1] = False
    res = value_iteration(mdp, mask=mask)
    np.testing.assert_allclose(res.V_by_step, _expectimax(mdp, P, R, 5, mask=mask), atol=1e-10)
    assert mask[np.arange(4)[None, :], res.policy_by_step].all()


def test_the_optimal_finite_horizon_policy_can_depend_on_the_step():
    """Two states: 'work' pays 0 now and leads to 'rich', where staying pays 5 a step; 'cash in' pays 2 and
    stays poor. With one step left, cash in; with two or more, work. A stationary policy cannot do both."""
    P = np.zeros((2, 2, 2))
    P[0, 0, 1] = 1.0   # work: go to rich
    P[0, 1, 0] = 1.0   # cash in: stay poor
    P[1, :, 1] = 1.0   # rich stays rich
    R = np.array([[0.0, 2.0], [5.0, 5.0]])
    res = value_iteration(TabularMDP.from_dense(P, R, gamma=1.0, horizon=3))
    assert res.policy_by_step[:, 0].tolist() == [0, 0, 1]
    assert res.V_by_step[:, 0].tolist() == [10.0, 5.0, 2.0, 0.0]


def test_gamma_one_is_fine_with_a_horizon_and_v0_is_refused():
    mdp = TabularMDP.from_dense(np.ones((1, 1, 1)), np.ones((1, 1)), gamma=1.0, horizon=4)
    assert value_iteration(mdp).V[0] == 4.0 and policy_evaluation(mdp, np.zeros(1, dtype=int)).V[0] == 4.0
    with pytest.raises(ValueError, match="V0"):
        value_iteration(mdp, V0=np.zeros(1))
    assert value_iteration(mdp.with_horizon(10)).V[0] == 10.0
    with pytest.raises(ValueError, match="gamma = 1"):
        mdp.with_horizon(None)   # no way to end: refused, as on construction


def test_occupancy_with_a_horizon_is_the_sum_of_the_first_h_step_distributions():
    mdp, P, _ = _random_task(7, 4, 2, 0.8, 6, True)
    pi = np.full((4, 2), 0.5)
    mu, d = mdp.initial.copy(), np.zeros(4)
    for _ in range(6):                   # plain loop: mu_{t+1}(s') = gamma sum_s mu_t(s) P^pi(s'|s), live states
        d += mu
        nxt = np.zeros(4)
        for s in range(4):
            if mdp.terminal[s]:
                continue
            for a in range(2):
                for s2 in range(4):
                    if not mdp.terminal[s2]:
                        nxt[s2] += mdp.gamma * mu[s] * pi[s, a] * P[s, a, s2]
        mu = nxt
    np.testing.assert_allclose(occupancy(mdp, pi), d[:, None] * pi, atol=1e-12)


def test_healthcare_models_have_no_task_horizon_so_one_policy_has_one_value_per_stated_horizon():
    """The chronic optimum is worth the same from DP, true_value and the safety tables (no horizon), and
    over the 40-quarter window the same from true_value(horizon=40) and the model with that task horizon."""
    m = chronic_disease_model()
    assert m.mdp.horizon is None and m.horizon == 40
    pi = value_iteration(m.mdp, mask=m.mask, tol=1e-12).policy
    v_inf = float(m.mdp.initial @ policy_evaluation(m.mdp, pi).V)
    assert true_value(m.mdp, pi) == pytest.approx(v_inf, abs=1e-9)
    assert policy_component_values(m, pi)["reward"] == pytest.approx(v_inf, abs=1e-9)
    windowed = m.mdp.with_horizon(m.horizon)
    v_40 = true_value(m.mdp, pi, horizon=40)
    assert true_value(windowed, pi) == pytest.approx(v_40, abs=1e-9)
    assert float(windowed.initial @ policy_evaluation(windowed, pi).V) == pytest.approx(v_40, abs=1e-9)
    assert float((occupancy(windowed, pi) * windowed.R).sum()) == pytest.approx(v_40, abs=1e-9)
    assert v_40 < v_inf   # rewards are positive: a 40-quarter window sees less of them
    assert sepsis_model().mdp.horizon is None and sepsis_model().horizon == 20


def test_planners_for_stationary_infinite_horizon_problems_refuse_a_horizon_by_name():
    m = chronic_disease_model()
    windowed = type(m)(m.name, m.subgroup, m.mdp.with_horizon(40), m.outcome, m.burden, m.adverse, m.mask,
                       m.burden_weight, m.factors, m.adverse_name, horizon=40)
    for fn, call in (("constrained_lp", lambda: constrained_lp(windowed, 0.1)),
                     ("constrained_policy", lambda: constrained_policy(windowed, 0.1)),
                     ("pareto_sweep", lambda: pareto_sweep(windowed)),
                     ("lagrangian_front", lambda: lagrangian_front(windowed.mdp, m.adverse, [0.0])),
                     ("soft_value_iteration", lambda: soft_value_iteration(windowed.mdp, np.full((16, 5), 0.2), 1.0))):
        with pytest.raises(ValueError, match=f"{fn}.*horizon 40"):
            call()
