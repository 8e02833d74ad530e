"""Treatment MDPs, masks, subgroups, constraints and trade-offs (envs.healthcare, health.safety)."""

from __future__ import annotations

import gymnasium as gym
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from rlcore.core.mdp import TabularMDP  # noqa: E402
from rlcore.core.policies import UCB, Boltzmann, check_mask, epsilon_greedy_probs  # noqa: E402
from rlcore.envs import healthcare as hc  # noqa: E402
from rlcore.health.safety import (  # noqa: E402
    constrained_lp,
    constrained_policy,
    lagrangian_sweep,
    mask_violations,
    occupancy,
    pareto_sweep,
    policy_component_values,
    subgroup_analysis,
    treatment_table,
)
from rlcore.plots.health import plot_chronic_policy, plot_pareto, plot_subgroups, plot_tradeoff  # noqa: E402
from rlcore.tabular import dp, td  # noqa: E402


@pytest.fixture(scope="module")
def chronic():
    return hc.chronic_disease_model()


@pytest.fixture(scope="module")
def sepsis():
    return hc.sepsis_model()


# ----------------------------------------------------------------- the models
def test_models_say_they_are_teaching_models():
    for fn in (hc.chronic_disease_model, hc.sepsis_model):
        assert "not a clinical tool" in fn.__doc__
    assert "not clinical tools" in hc.__doc__
    assert "Sick-Sicker" in hc.__doc__


@pytest.mark.parametrize("subgroup", list(hc.CHRONIC_SUBGROUPS))
def test_chronic_structure(subgroup):
    m = hc.chronic_disease_model(subgroup)
    assert (m.n_states, m.n_actions) == (16, 5)
    assert m.state_names[-1] == "dead" and m.mdp.terminal[-1] and m.mdp.terminal.sum() == 1
    assert m.action_names == hc.CHRONIC_ACTIONS
    np.testing.assert_allclose(m.mdp.prob.sum(axis=2), 1.0)
    np.testing.assert_allclose(m.mdp.reward, m.outcome - m.burden_weight * m.burden)
    assert m.outcome.shape == m.burden.shape == m.adverse.shape == m.mdp.prob.shape
    assert m.mask.shape == (16, 5) and m.mask.any(axis=1).all()
    assert abs(m.mdp.initial.sum() - 1) < 1e-12
    # Intensive insulin is contraindicated right after a hypoglycaemic event, in every subgroup.
    assert not m.mask[:3, hc.CHRONIC_ACTIONS.index("intensive insulin")].any()
    # Hypoglycaemia risk rises with treatment intensity (at target, no complications).
    s = 3  # at target, no complications
    assert np.all(np.diff(m.expected("adverse")[s]) >= 0)


def test_chronic_subgroups_differ():
    base, older, ckd = (hc.chronic_disease_model(g) for g in ("adult", "older", "ckd"))
    assert (older.expected("adverse") >= base.expected("adverse") - 1e-12).all()
    assert not ckd.mask[:15, hc.CHRONIC_ACTIONS.index("metformin")].any()
    assert base.mask[3:15].all()


def test_sepsis_structure(sepsis):
    m = sepsis
    assert (m.n_states, m.n_actions) == (1442, 8)
    assert m.state_names[1440:] == ("death", "discharge") and m.mdp.terminal[1440:].all()
    assert m.mdp.terminal.sum() == 2
    assert m.horizon == 20 and m.mdp.horizon is None  # a cut-off of the simulation, not of the task
    assert m.action_names[0] == "none" and m.action_names[7] == "antibiotics+vasopressors+ventilation"
    np.testing.assert_allclose(m.mdp.prob.sum(axis=2), 1.0)
    # Rewards: -1 exactly into death, +1 exactly into discharge, 0 otherwise.
    live = (m.mdp.prob > 0) & ~m.mdp.terminal[:, None, None]   # terminal rows are inert self-loops
    into = m.mdp.next_state
    assert np.all(m.mdp.reward[live & (into == 1440)] == -1)
    assert np.all(m.mdp.reward[live & (into == 1441)] == 1)
    assert np.all(m.mdp.reward[live & (into < 1440)] == 0)
    # Discharge only when no treatment is chosen.
    assert not (live & (into == 1441))[:, 1:].any()
    # Start: no treatment on, 1-2 abnormal vitals, never terminal.
    assert m.mdp.initial[1440:].sum() == 0
    assert all(m.state_names[s].endswith("on none") for s in np.flatnonzero(m.mdp.initial))


def test_sepsis_known_transition(sepsis):
    """From all-normal vitals, off treatment, choosing no treatment, each vital independently leaves
    normal w.p. q = (0.1, 0.1, 0.05, 0.1) for (hr, bp, o2, glucose) -- O2 has no 'high' level, so
    only its downward half of the drift applies. Discharge = all stay; death = 3 or more leave."""
    s = hc.sepsis_state()
    assert sepsis.state_names[s] == "HR normal, BP normal, O2 normal, glucose normal, non-diabetic, on none"
    P = sepsis.mdp.prob[s, 0]
    nxt = sepsis.mdp.next_state[s, 0]
    q = np.array([0.1, 0.1, 0.05, 0.1])
    p_death = np.prod(q) + sum(np.prod(np.where(np.arange(4) == i, 1 - q, q)) for i in range(4))
    assert abs(P[nxt == 1441].sum() - np.prod(1 - q)) < 1e-12
    assert abs(P[nxt == 1440].sum() - p_death) < 1e-12
    # Vasopressors are masked when blood pressure is high.
    s_hi = hc.sepsis_state(bp="high")
    assert not sepsis.mask[s_hi, [2, 3, 6, 7]].any() and sepsis.mask[s_hi, [0, 1, 4, 5]].all()
    with pytest.raises(ValueError, match="hr must be one of"):
        hc.sepsis_state(hr="racing")


def test_env_view_runs_and_truncates(sepsis, chronic):
    for m in (sepsis, chronic):
        env = m.env()
        assert isinstance(env, gym.Env) and env.observation_space.n == m.n_states
        s, _ = env.reset(seed=0)
        steps = 0
        while True:
            s, r, term, trunc, _ = env.step(int(np.flatnonzero(m.mask[s])[0]))
            steps += 1
            if term or trunc:
                break
        assert steps <= m.horizon


def test_bad_subgroup():
    with pytest.raises(ValueError, match="subgroup must be one of"):
        hc.chronic_disease_model("teenager")
    with pytest.raises(ValueError, match="subgroup must be one of"):
        hc.sepsis_model("child")


# ------------------------------------------------------------------ planners
@pytest.mark.parametrize("name", ["chronic", "sepsis"])
def test_value_and_policy_iteration_agree_with_mask(name, chronic, sepsis):
    m = chronic if name == "chronic" else sepsis
    vi = dp.value_iteration(m.mdp, mask=m.mask, tol=1e-10)
    pi = dp.policy_iteration(m.mdp, mask=m.mask)
    np.testing.assert_allclose(vi.V, pi.V, atol=1e-6)
    assert mask_violations(vi.policy, m.mask) == 0 and mask_violations(pi.policy, m.mask) == 0
    assert np.isneginf(vi.Q[~m.mask]).all() and np.isneginf(pi.Q[~m.mask]).all()
    # Unmasked optimum is at least as good.
    free = dp.value_iteration(m.mdp, tol=1e-10)
    assert (free.V >= vi.V - 1e-8).all()


def _redirect_masked(mdp: TabularMDP, mask: np.ndarray) -> TabularMDP:
    """An MDP in which every masked action behaves exactly like the state's first allowed action."""
    first = mask.argmax(axis=1)
    S, A = mask.shape
    src = np.where(mask, np.arange(A)[None, :], first[:, None])
    rows = np.arange(S)[:, None]
    return TabularMDP(mdp.next_state[rows, src], mdp.prob[rows, src], mdp.reward[rows, src], mdp.done[rows, src],
                      gamma=mdp.gamma, terminal=mdp.terminal, initial=mdp.initial)


def test_masked_value_iteration_equals_restricted_model(chronic):
    """Masking is the same as making masked actions copies of an allowed one."""
    m = hc.chronic_disease_model("ckd")
    masked = dp.value_iteration(m.mdp, mask=m.mask, tol=1e-11)
    restricted = dp.value_iteration(_redirect_masked(m.mdp, m.mask), tol=1e-11)
    np.testing.assert_allclose(masked.V, restricted.V, atol=1e-8)


# ------------------------------------------------------------------ learners
class _Recorder(gym.Wrapper):
    def __init__(self, env):
        super().__init__(env)
        self.pairs = []
        self._s = None

    def reset(self, **kw):
        s, info = self.env.reset(**kw)
        self._s = s
        return s, info

    def step(self, a):
        self.pairs.append((self._s, int(a)))
        out = self.env.step(a)
        self._s = out[0]
        return out


@pytest.mark.parametrize("learner", [td.q_learning, td.sarsa, td.expected_sarsa])
@pytest.mark.parametrize("exploration", [None, "boltzmann", "ucb"])
def test_learners_never_take_masked_actions(learner, exploration):
    m = hc.chronic_disease_model("ckd")
    env = _Recorder(m.env(max_episode_steps=30))
    eps = {"epsilon": 0.5} if exploration is None else {}  # epsilon belongs to epsilon-greedy only
    res = learner(env, n_episodes=60, gamma=m.mdp.gamma, seed=3, mask=m.mask, exploration=exploration, **eps)
    pairs = np.array(env.pairs)
    assert len(pairs) > 500
    assert m.mask[pairs[:, 0], pairs[:, 1]].all(), "a masked action was taken"
    assert mask_violations(res.policy, m.mask) == 0
    assert np.isneginf(res.Q[~m.mask]).all() and np.isfinite(res.Q[m.mask]).all()


def test_learners_with_mask_are_reproducible_and_learn():
    m = hc.chronic_disease_model("ckd")
    a = td.q_learning(m.env(), n_episodes=300, alpha=0.2, epsilon=0.3, gamma=m.mdp.gamma, seed=7, mask=m.mask)
    b = td.q_learning(m.env(), n_episodes=300, alpha=0.2, epsilon=0.3, gamma=m.mdp.gamma, seed=7, mask=m.mask)
    np.testing.assert_array_equal(a.Q, b.Q)
    v_learned = m.mdp.initial @ dp.policy_evaluation(m.mdp, a.policy).V
    v_lifestyle = m.mdp.initial @ dp.policy_evaluation(m.mdp, np.zeros(m.n_states, dtype=int)).V
    assert v_learned > v_lifestyle  # learning beats lifestyle advice alone


def test_masked_probability_helpers():
    Q = np.array([[1.0, 5.0, 2.0]])
    mask = np.array([[True, False, True]])
    p = epsilon_greedy_probs(Q, 0.3, mask)
    np.testing.assert_allclose(p, [[0.15, 0.0, 0.85]])
    for strat in (Boltzmann(1.0), UCB(1.0)):
        strat.bind(1, 3, np.random.default_rng(0))
        strat.set_mask(mask)
        for _ in range(50):
            a = strat.select([1.0, -np.inf, 2.0], 0)
            assert a != 1
            strat.observe(0, a)


# ------------------------------------------------------------- bad inputs
def test_mask_errors_are_clear(chronic):
    bad = chronic.mask.copy()
    bad[4] = False
    for call in (lambda: dp.value_iteration(chronic.mdp, mask=bad),
                 lambda: dp.policy_iteration(chronic.mdp, mask=bad),
                 lambda: td.q_learning(chronic.env(), n_episodes=1, mask=bad),
                 lambda: td.sarsa(chronic.env(), n_episodes=1, mask=bad)):
        with pytest.raises(ValueError, match=r"removes every action in state 4 .*allow at least one"):
            call()
    with pytest.raises(ValueError, match=r"mask must have shape \[S, A\] = \(16, 5\)"):
        dp.value_iteration(chronic.mdp, mask=np.ones((16, 4), dtype=bool))
    with pytest.raises(ValueError, match="mask must be boolean"):
        check_mask(np.full((16, 5), 2), 16, 5)
    with pytest.raises(ValueError, match="policy0 takes masked action"):
        dp.policy_iteration(chronic.mdp, mask=chronic.mask, policy0=np.full(16, 4))


# ------------------------------------------------------------------ subgroups
def test_subgroup_analysis_chronic():
    models = [hc.chronic_disease_model(g) for g in hc.CHRONIC_SUBGROUPS]
    rep = subgroup_analysis(models, [0.5, 0.3, 0.2])
    assert rep.subgroups == ("adult", "older", "ckd")
    assert (rep.regret >= -1e-9).all() and rep.regret.max() > 0.05
    assert rep.population_regret == pytest.approx(float(np.dot([0.5, 0.3, 0.2], rep.regret)))
    # The pooled policy respects every subgroup's contraindications.
    for m in models:
        assert mask_violations(rep.pooled_policy, m.mask) == 0
    assert "regret" in str(rep) and "ckd" in str(rep)
    assert isinstance(plot_subgroups(rep), Figure)


def test_pooled_model_is_a_mixture():
    a, b = hc.chronic_disease_model("adult"), hc.chronic_disease_model("older")
    pooled = hc.pooled_model([a, b], [0.25, 0.75])
    np.testing.assert_allclose(pooled.mdp.P, 0.25 * a.mdp.P + 0.75 * b.mdp.P, atol=1e-12)
    np.testing.assert_allclose(pooled.mdp.R, 0.25 * a.mdp.R + 0.75 * b.mdp.R, atol=1e-12)
    with pytest.raises(ValueError, match="weights must be 2 non-negative shares"):
        hc.pooled_model([a, b], [0.5, 0.6])


# --------------------------------------------------------------- constraints
@pytest.mark.parametrize("frac", [0.4, 0.8])
def test_constrained_policy_meets_bound_exactly(chronic, frac):
    free = policy_component_values(chronic, dp.value_iteration(chronic.mdp, mask=chronic.mask).policy)
    budget = frac * free["adverse"]
    res = constrained_policy(chronic, budget)
    assert res.binding
    # Recompute the mixture's cost and value independently, by policy evaluation of each component.
    adverse_mdp = chronic.component_mdp("adverse")
    mu = chronic.mdp.initial
    cost = res.mix * mu @ dp.policy_evaluation(adverse_mdp, res.policy_a).V + \
        (1 - res.mix) * mu @ dp.policy_evaluation(adverse_mdp, res.policy_b).V
    value = res.mix * mu @ dp.policy_evaluation(chronic.mdp, res.policy_a).V + \
        (1 - res.mix) * mu @ dp.policy_evaluation(chronic.mdp, res.policy_b).V
    assert abs(cost - budget) < 1e-9
    assert abs(value - res.value) < 1e-9
    assert res.cost_a > budget >= res.cost_b and 0 <= res.mix <= 1
    # Optimal: the linear programme over occupancy measures gives the same value.
    lp_value, lp_cost, lp_pi = constrained_lp(chronic, budget)
    assert abs(lp_value - res.value) < 1e-6 and lp_cost <= budget + 1e-7
    assert res.value <= free["reward"] + 1e-9
    assert mask_violations(res.policy_a, chronic.mask) == mask_violations(lp_pi, chronic.mask) == 0


def test_constrained_policy_sepsis_and_limits(sepsis):
    free = policy_component_values(sepsis, dp.value_iteration(sepsis.mdp, mask=sepsis.mask).policy)
    res = constrained_policy(sepsis, 0.6 * free["adverse"])
    assert abs(res.cost - 0.6 * free["adverse"]) < 1e-9
    d = occupancy(sepsis.mdp, res.policy_b)
    assert abs((d * sepsis.expected("adverse")).sum() - res.cost_b) < 1e-9
    loose = constrained_policy(sepsis, 10.0)
    assert not loose.binding and abs(loose.value - free["reward"]) < 1e-9
    with pytest.raises(ValueError, match="below the smallest achievable"):
        constrained_policy(sepsis, -0.1)


def test_tradeoff_and_pareto_plots(chronic):
    sweep = lagrangian_sweep(chronic, [0.0, 0.5, 1.0, 2.0, 5.0])
    assert np.all(np.diff(sweep.costs) <= 1e-9) and np.all(np.diff(sweep.values) <= 1e-9)
    res = constrained_policy(chronic, 0.5 * sweep.costs[0])
    assert isinstance(plot_tradeoff(sweep, res), Figure)
    front = pareto_sweep(chronic, np.linspace(0, 1, 11))
    assert front.pareto.any()
    assert front.outcome[0] == pytest.approx(front.outcome.max())   # w = 0: outcome only
    assert front.burden[-1] == pytest.approx(front.burden.min())    # w = 1: burden only
    o, b = front.outcome[front.pareto], front.burden[front.pareto]
    order = np.argsort(b)
    assert np.all(np.diff(o[order]) >= -1e-9)   # on the front, more burden buys more outcome
    assert isinstance(plot_pareto(front), Figure)


# ----------------------------------------------------------- interpretation
def test_treatment_table(chronic, sepsis):
    opt = dp.value_iteration(chronic.mdp, mask=chronic.mask)
    tab = treatment_table(chronic, opt.policy)
    assert len(tab) == 15
    row = tab.rows[0]
    assert row.state_name == "hypoglycaemia, no complications" and row.action_name in hc.CHRONIC_ACTIONS
    assert row.value == pytest.approx(opt.V[0], abs=1e-6)
    assert "recommended action" in str(tab) and tab.to_markdown().startswith("| state |")
    stoch = treatment_table(sepsis, np.full((1442, 8), 1 / 8), sort_by="initial", limit=5)
    assert len(stoch) == 5 and stoch.rows[0].probability == pytest.approx(1 / 8)
    assert isinstance(plot_chronic_policy(chronic, opt.policy, opt.V), Figure)


def test_learners_run_on_sepsis_with_mask(sepsis):
    env = _Recorder(sepsis.env())
    res = td.expected_sarsa(env, n_episodes=40, alpha=0.3, epsilon=0.3, gamma=sepsis.mdp.gamma, seed=0,
                            mask=sepsis.mask)
    pairs = np.array(env.pairs)
    assert sepsis.mask[pairs[:, 0], pairs[:, 1]].all()
    assert (res.episode_lengths <= 20).all()


def test_sarsa_bootstraps_a_fresh_action_on_truncation(chronic):
    """Regression: on a time-limit truncation SARSA draws a' in s' (it used a stale action, or
    failed with max_steps=1 because no a' existed yet)."""
    res = td.sarsa(chronic.env(), n_episodes=5, max_steps=1, gamma=0.9, seed=0, mask=chronic.mask)
    assert np.isfinite(res.Q[chronic.mask]).all() and (res.episode_lengths == 1).all()


def test_env_factories_work_with_gymnasium_registry():
    from gymnasium.envs.registration import register, registry

    if "rlcore-test/Sepsis-v0" not in registry:
        register(id="rlcore-test/Sepsis-v0", entry_point="rlcore.envs.healthcare:sepsis_env")
    env = gym.make("rlcore-test/Sepsis-v0", subgroup="older")
    s, _ = env.reset(seed=1)
    assert 0 <= s < 1440
    assert hc.chronic_disease_env("ckd").observation_space.n == 16
