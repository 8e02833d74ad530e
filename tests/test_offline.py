"""Learning from records: logs, off-policy evaluation against exact values, offline learning (rlcore.health.offline)."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from rlcore import TabularMDP  # noqa: E402
from rlcore.envs import healthcare as hc  # noqa: E402
from rlcore.health.offline import (  # noqa: E402
    behaviour_cloning,
    collect_logs,
    doubly_robust,
    evaluate_offline,
    finite_horizon_values,
    fitted_q_evaluation,
    fitted_q_iteration,
    importance_sampling,
    soften_policy,
    true_value,
)
from rlcore.health.ope_study import find_wis_trap, ope_convergence  # noqa: E402
from rlcore.health.safety import mask_violations  # noqa: E402
from rlcore.plots.health import plot_ope_convergence, plot_ope_estimates, plot_trap  # noqa: E402
from rlcore.tabular import dp  # noqa: E402


@pytest.fixture(scope="module")
def sepsis_setup():
    """Sepsis model, its optimal policy and a clinician policy: optimal w.p. 0.9, the other allowed
    actions share 0.1."""
    m = hc.sepsis_model()
    opt = dp.value_iteration(m.mdp, mask=m.mask).policy
    b = soften_policy(opt, m.n_actions, 0.1, m.mask)
    return m, opt, b


@pytest.fixture(scope="module")
def chronic_setup():
    m = hc.chronic_disease_model()
    opt = dp.value_iteration(m.mdp, mask=m.mask).policy
    b = soften_policy(opt, m.n_actions, 0.2, m.mask)
    return m, opt, b


# ---------------------------------------------------------------------- logs
def test_soften_policy(chronic_setup):
    m, opt, b = chronic_setup
    np.testing.assert_allclose(b.sum(axis=1), 1.0)
    assert (b[~m.mask] == 0).all()
    assert np.allclose(b[np.arange(m.n_states), opt], 0.8)
    with pytest.raises(ValueError, match="epsilon must lie in"):
        soften_policy(opt, m.n_actions, 1.5)
    with pytest.raises(ValueError, match="takes masked action"):
        soften_policy(np.full(m.n_states, 4), m.n_actions, 0.1, m.mask)


def test_collect_logs_reproducible_and_consistent(sepsis_setup):
    m, opt, b = sepsis_setup
    a1 = collect_logs(m.mdp, b, 300, horizon=m.horizon, seed=5)
    a2 = collect_logs(m.mdp, b, 300, horizon=m.horizon, seed=5)
    a3 = collect_logs(m.mdp, b, 300, horizon=m.horizon, seed=6)
    np.testing.assert_array_equal(a1.states, a2.states)
    np.testing.assert_array_equal(a1.rewards, a2.rewards)
    assert not np.array_equal(a1.states, a3.states)
    assert a1.states.shape == (300, 20) and a1.horizon == 20
    # Episodes stop at the first terminating transition and never act in a terminal state.
    v = a1.valid
    assert (v[:, 0]).all() and not (v[:, 1:] & ~v[:, :-1]).any()
    assert (a1.terminated.sum(axis=1) <= 1).all()
    assert not m.mdp.terminal[a1.states[v]].any()
    np.testing.assert_allclose(a1.behaviour_probs[v], b[a1.states[v], a1.actions[v]])
    assert m.mask[a1.states[v], a1.actions[v]].all()


def test_true_value_matches_monte_carlo(sepsis_setup):
    """Mean logged return -> v(b): tolerance 4 standard errors of the mean (fails w.p. < 1e-4)."""
    m, opt, b = sepsis_setup
    log = collect_logs(m.mdp, b, 20_000, horizon=m.horizon, seed=0)
    G = log.returns
    assert abs(G.mean() - true_value(m.mdp, b, 20)) < 4 * G.std() / np.sqrt(len(G))


def test_finite_horizon_tends_to_infinite_horizon(chronic_setup):
    m, opt, b = chronic_setup
    V = finite_horizon_values(m.mdp, b, 2000)
    np.testing.assert_allclose(V[-1], dp.policy_evaluation(m.mdp, b).V, atol=1e-8)
    assert true_value(m.mdp, b) == pytest.approx(m.mdp.initial @ V[-1], abs=1e-8)


# ------------------------------------------------------------ estimators
def test_on_policy_weights_are_one(sepsis_setup):
    m, opt, b = sepsis_setup
    log = collect_logs(m.mdp, b, 400, horizon=m.horizon, seed=1)
    for method in ("is", "wis", "pdis"):
        est = importance_sampling(log, b, method, n_bootstrap=0)
        assert est.value == pytest.approx(log.returns.mean())
        assert est.ess == pytest.approx(400)


@pytest.mark.parametrize("name", ["sepsis", "chronic"])
def test_ope_converges_to_exact_value(name, sepsis_setup, chronic_setup):
    """RMSE over 20 logs (nested sizes) must shrink at least 3-fold from 100 to 6,400 episodes
    (1/sqrt(n) predicts 8-fold) and end below 0.1 of the value range; bias at the largest size
    must be under 3 standard errors (std / sqrt(20)) plus 0.01."""
    m, opt, b = sepsis_setup if name == "sepsis" else chronic_setup
    H = 20 if name == "sepsis" else 8
    conv = ope_convergence(m.mdp, b, opt, sizes=(100, 1600, 6400), n_repeats=20, horizon=H, seed=0)
    assert conv.true_value == pytest.approx(true_value(m.mdp, opt, H))
    scale = 1.0 if name == "sepsis" else 1.0 * H   # rewards in [-1, 1] versus about 1 per quarter
    for i, method in enumerate(conv.methods):
        assert conv.rmse[i, -1] * 3 < conv.rmse[i, 0], method
        assert conv.rmse[i, -1] < 0.1 * scale, method
        assert abs(conv.bias[i, -1]) < 3 * conv.std[i, -1] / np.sqrt(20) + 0.01 * scale, method
    assert isinstance(plot_ope_convergence(conv), Figure)


@pytest.mark.parametrize("name", ["sepsis", "chronic"])
def test_doubly_robust_beats_importance_sampling(name, sepsis_setup, chronic_setup):
    """At equal data, RMSE over 30 seeded logs: DR below plain IS averaged over the sizes and at the
    smallest size. (In the sepsis model most of the variance is the randomness of the transitions,
    which no control variate removes, so at 1,600 episodes DR and IS are within a few percent; in the
    chronic model DR wins at every size.)"""
    m, opt, b = sepsis_setup if name == "sepsis" else chronic_setup
    H = 20 if name == "sepsis" else 8
    conv = ope_convergence(m.mdp, b, opt, sizes=(100, 400, 1600), n_repeats=30, horizon=H, seed=11,
                           methods=("is", "dr", "wdr"))
    for k in (1, 2):
        assert conv.rmse[k].mean() < conv.rmse[0].mean() and conv.rmse[k, 0] < conv.rmse[0, 0], conv.rmse
    if name == "chronic":
        assert (conv.rmse[1] < conv.rmse[0]).all(), conv.rmse


def test_bootstrap_intervals_and_ess(sepsis_setup):
    """On one log of 2,000 episodes (seed 3), every 95% interval covers the exact value."""
    m, opt, b = sepsis_setup
    log = collect_logs(m.mdp, b, 2000, horizon=m.horizon, seed=3)
    truth = true_value(m.mdp, opt, 20)
    res = evaluate_offline(log, opt, n_bootstrap=100, seed=0)
    for k, e in res.items():
        assert e.ci_low <= truth <= e.ci_high, (k, e)
        assert e.ci_low <= e.value <= e.ci_high or k == "is"
        assert 0 < e.ess <= log.n_episodes
        assert len(e.bootstrap) == 100
    assert res["fqe"].ess == log.n_episodes and res["wis"].ess < log.n_episodes
    again = evaluate_offline(log, opt, n_bootstrap=100, seed=0)
    assert all(again[k].ci_low == res[k].ci_low for k in res)   # reproducible from the seed
    assert isinstance(plot_ope_estimates(res, truth), Figure)


def test_fqe_is_exact_with_the_true_model_in_the_limit(chronic_setup):
    """FQE evaluates pi in the log's maximum-likelihood model: with a big log it is close to the truth."""
    m, opt, b = chronic_setup
    log = collect_logs(m.mdp, b, 20_000, horizon=8, seed=2)
    est = fitted_q_evaluation(log, opt, n_bootstrap=0)
    assert est.value == pytest.approx(true_value(m.mdp, opt, 8), abs=0.02)
    dr = doubly_robust(log, opt, n_bootstrap=0)
    assert dr.value == pytest.approx(true_value(m.mdp, opt, 8), abs=0.03)


# ------------------------------------------------------------- bad inputs
def test_support_violation_is_reported(sepsis_setup):
    m, opt, b = sepsis_setup
    greedy_b = soften_policy(opt, m.n_actions, 0.0, m.mask)   # clinicians who never deviate
    log = collect_logs(m.mdp, greedy_b, 50, horizon=m.horizon, seed=0)
    other = (opt + 1) % m.n_actions
    other = np.where(m.mask[np.arange(m.n_states), other], other, opt)
    for fn in (lambda: importance_sampling(log, other, "wis"), lambda: doubly_robust(log, other)):
        with pytest.raises(ValueError, match="behaviour policy gives zero probability to action"):
            fn()


def test_shape_errors(sepsis_setup):
    m, opt, b = sepsis_setup
    log = collect_logs(m.mdp, b, 20, horizon=m.horizon, seed=0)
    with pytest.raises(ValueError, match=r"pi must be an \[S, A\] = \(1442, 8\)"):
        importance_sampling(log, np.zeros((10, 8)))
    with pytest.raises(ValueError, match=r"behaviour must be an \[S, A\]"):
        collect_logs(m.mdp, b[:, :3], 10, horizon=m.horizon, seed=0)
    with pytest.raises(ValueError, match="horizon must be a positive integer"):
        collect_logs(TabularMDP.from_dense(
            np.ones((2, 1, 2)) / 2, np.zeros((2, 1)), gamma=0.9), np.zeros(2, dtype=int), 5, seed=0)
    with pytest.raises(ValueError, match="unknown OPE method"):
        evaluate_offline(log, opt, ("magic",), n_bootstrap=0)
    with pytest.raises(ValueError, match="mask must have shape"):
        fitted_q_iteration(log, mask=np.ones((3, 3), dtype=bool))


# ------------------------------------------------------------ offline learning
def test_offline_learning_pessimism_and_cloning(sepsis_setup):
    m, opt, b = sepsis_setup
    log = collect_logs(m.mdp, b, 5000, horizon=m.horizon, seed=4)
    v_opt, v_b = true_value(m.mdp, opt, 20), true_value(m.mdp, b, 20)
    naive = fitted_q_iteration(log, mask=m.mask, pessimistic=False)
    cautious = fitted_q_iteration(log, mask=m.mask, penalty=1.0)
    bc = behaviour_cloning(log, mask=m.mask)
    v_naive, v_cautious = true_value(m.mdp, naive.policy, 20), true_value(m.mdp, cautious.policy, 20)
    v_bc = true_value(m.mdp, bc.policy, 20)
    assert v_cautious > v_naive + 0.1             # pessimism fixes the optimizer's curse
    assert v_cautious > v_b                       # and beats the clinicians it learned from
    assert v_bc > v_b and v_bc <= v_opt + 1e-12   # the most common clinician action is the optimal one
    for res in (naive, cautious, bc):
        assert mask_violations(res.policy, m.mask, m.mdp.terminal) == 0
    # Never-logged actions are never recommended in logged states.
    visited = log.counts().sum(axis=1) > 0
    assert (log.counts()[visited, cautious.policy[visited]] > 0).all()


def test_wis_trap_is_genuine_and_reproducible(sepsis_setup):
    m, opt, _ = sepsis_setup
    b = soften_policy(opt, m.n_actions, 0.15, m.mask)
    trap = find_wis_trap(m.mdp, b, n_episodes=200, mask=m.mask, horizon=m.horizon, seeds=range(5))
    assert trap.found and trap.n_trap >= 1
    assert trap.wis_learned > trap.wis_clinician and trap.true_learned < trap.true_clinician
    # Recompute the trap seed's numbers from scratch.
    log = collect_logs(m.mdp, b, 200, horizon=m.horizon, seed=trap.seed)
    learned = fitted_q_iteration(log, mask=m.mask, pessimistic=False)
    np.testing.assert_array_equal(learned.policy, trap.learned_policy)
    assert importance_sampling(log, learned.policy, "wis", n_bootstrap=0).value == pytest.approx(trap.wis_learned)
    assert true_value(m.mdp, learned.policy, 20) == pytest.approx(trap.true_learned)
    again = find_wis_trap(m.mdp, b, n_episodes=200, mask=m.mask, horizon=m.horizon, seeds=range(5))
    assert again.wis_learned == trap.wis_learned
    assert isinstance(plot_trap(trap), Figure)


def test_episodes_that_start_in_a_terminal_state_are_worth_zero_to_every_estimator():
    """Half the episodes start in the terminal state 1; the other half earn 1 in one step: the value is 0.5."""
    P = np.zeros((2, 1, 2))
    P[:, 0, 1] = 1.0
    mdp = TabularMDP.from_dense(P, np.array([[1.0], [0.0]]), gamma=0.9, terminal=[False, True],
                                initial=[0.5, 0.5], horizon=3)
    log = collect_logs(mdp, np.zeros(2, dtype=int), 4000, seed=0)
    share = log.valid[:, 0].mean()
    assert 0.45 < share < 0.55
    for method, est in evaluate_offline(log, np.zeros(2, dtype=int), n_bootstrap=0).items():
        assert est.value == pytest.approx(share, abs=1e-12), method  # exactly the share that started alive


def test_no_support_is_said_loudly():
    from rlcore.health.ope import NoSupportWarning

    P = np.zeros((2, 2, 2))
    P[:, :, 1] = 1.0
    mdp = TabularMDP.from_dense(P, np.array([[1.0, 2.0], [0.0, 0.0]]), gamma=0.9, terminal=[False, True],
                                initial=[1.0, 0.0], horizon=2)
    b = np.array([[0.999, 0.001], [0.5, 0.5]])  # b can take action 1, but hardly ever does
    log = collect_logs(mdp, b, 50, seed=0)
    assert not (log.actions[log.valid] == 1).any()  # and in this log it never did
    with pytest.warns(NoSupportWarning, match="no logged episode has positive weight"):
        est = importance_sampling(log, np.ones(2, dtype=int), "wis", n_bootstrap=0)  # pi always takes 1
    assert np.isnan(est.value)
    with pytest.warns(NoSupportWarning):
        assert importance_sampling(log, np.ones(2, dtype=int), "is", n_bootstrap=0).value == 0.0


def test_nonsense_is_refused_not_computed(sepsis_setup):
    m, opt, b = sepsis_setup
    log = collect_logs(m.mdp, b, 50, horizon=m.horizon, seed=0)
    for kw, match in ((dict(penalty=float("nan")), "penalty"), (dict(penalty=-1.0), "penalty"),
                      (dict(tol=0.0), "tol"), (dict(tol=float("nan")), "tol"),
                      (dict(max_iterations=0), "max_iterations"), (dict(max_iterations=2.5), "max_iterations"),
                      (dict(unseen_q=float("-inf")), "unseen_q")):
        with pytest.raises(ValueError, match=match):
            fitted_q_iteration(log, mask=m.mask, **kw)
    for smoothing in (float("nan"), -0.5, float("inf")):
        with pytest.raises(ValueError, match="smoothing"):
            behaviour_cloning(log, mask=m.mask, smoothing=smoothing)
    S = m.mdp.n_states
    with pytest.raises(ValueError, match="initial must be a probability vector"):
        true_value(m.mdp, opt, 20, initial=np.full(S, 5 / 16))  # does not sum to 1: it used to give a number
    with pytest.raises(ValueError, match="initial must be a probability vector"):
        true_value(m.mdp, opt, 20, initial=np.full(S, np.nan))
    bad = np.zeros(S, dtype=int)
    bad[3] = -1  # would wrap round to the last action
    with pytest.raises(ValueError, match=r"policy actions must lie in \[0, 7\], got -1 in state 3"):
        soften_policy(bad, 8, 0.1)
    with pytest.raises(ValueError, match="epsilon"):
        soften_policy(np.zeros(S, dtype=int), 8, float("nan"))


def test_results_print_a_short_summary(sepsis_setup):
    from rlcore import GridWorld, q_learning, value_iteration

    m, opt, b = sepsis_setup
    log = collect_logs(m.mdp, b, 30, horizon=m.horizon, seed=0)
    env = GridWorld("classic")
    objects = [value_iteration(env.mdp), q_learning(env, n_episodes=3, seed=0, max_steps=50), log,
               fitted_q_iteration(log, mask=m.mask), evaluate_offline(log, opt, ("wis",), n_bootstrap=5)["wis"]]
    for obj in objects:
        text = repr(obj)
        assert len(text) < 160 and "array(" not in text and "\n" not in text, text
    assert "converged=True" in repr(objects[0]) and "30 episodes" in repr(objects[2])
    assert "bootstrap interval [" in repr(objects[4])
