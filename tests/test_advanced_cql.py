"""Tabular CQL(H): the exact per-state minimiser, the fixed point on a log, and its pessimism on the sepsis model.

References written here: the objective minimised numerically by scipy (bounded L-BFGS-B), the
empirical Bellman target as a plain loop over logged transitions, and the true action values
of the learned policy by solving the model's linear system.
"""

import numpy as np
import pytest
from reference_loops import deterministic_policy_q
from scipy.optimize import minimize
from scipy.special import logsumexp

from rlcore.advanced.cql import cql, cql_update, default_q_min
from rlcore.envs.sepsis import sepsis_model
from rlcore.health.logs import collect_logs, soften_policy, true_value
from rlcore.health.offline import fitted_q_iteration
from rlcore.tabular.dp import value_iteration


def objective_minimiser(y, n, allowed, alpha, q_min, push_up):
    """argmin over Q >= q_min of alpha [N(s) lse(Q) - push_up * sum N_a Q_a] + 1/2 sum N_a (Q_a - y_a)^2."""
    idx = np.flatnonzero(allowed)
    n_s = n[idx].sum()

    def f(q):
        value = alpha * (n_s * logsumexp(q) - push_up * (n[idx] @ q)) + 0.5 * n[idx] @ (q - y[idx]) ** 2
        softmax = np.exp(q - logsumexp(q))
        grad = alpha * (n_s * softmax - push_up * n[idx]) + n[idx] * (q - y[idx])
        return value, grad

    start = np.where(n[idx] > 0, y[idx], q_min)
    res = minimize(f, start, jac=True, method="L-BFGS-B", bounds=[(q_min, None)] * len(idx),
                   options={"ftol": 1e-15, "gtol": 1e-11, "maxiter": 10_000})
    out = np.full(len(y), -np.inf)
    out[idx] = res.x
    return out


@pytest.mark.parametrize("push_up", [True, False])
@pytest.mark.parametrize("alpha", [0.05, 0.7, 4.0])
def test_update_is_the_minimiser_of_the_cql_objective(alpha, push_up):
    rng = np.random.default_rng(int(alpha * 100) + push_up)
    S, A = 12, 4
    Y = rng.normal(size=(S, A)) * 2
    counts = rng.integers(0, 5, size=(S, A)).astype(float)
    counts[0] = 0  # a state with no data
    counts[1] = [7, 0, 0, 0]  # one logged action among four
    mask = rng.random((S, A)) < 0.8
    mask[:, 0] = True
    q_min = -6.0
    Q, Z = cql_update(Y, counts, alpha_cql=alpha, q_min=q_min, mask=mask, push_up=push_up)
    for s in range(S):
        n = np.where(mask[s], counts[s], 0.0)
        if n.sum() == 0:
            assert np.array_equal(Q[s], np.where(mask[s], q_min, -np.inf))
            continue
        ref = objective_minimiser(Y[s], n, mask[s], alpha, q_min, push_up)
        np.testing.assert_allclose(Q[s][mask[s]], ref[mask[s]], atol=2e-6)
        assert np.all(np.isneginf(Q[s][~mask[s]]))
        assert Z[s] == pytest.approx(logsumexp(Q[s][mask[s]]), abs=1e-10)
    # the penalty only pulls down without the push-up term, and never below the floor
    if not push_up:
        seen = mask & (counts > 0)
        assert np.all(Q[seen] <= Y[seen] + 1e-12)
    assert np.all(Q[mask] >= q_min - 1e-12)


def test_update_without_penalty_returns_the_targets():
    Y = np.array([[1.0, 2.0], [3.0, -1.0]])
    counts = np.array([[1.0, 0.0], [2.0, 5.0]])
    Q, _ = cql_update(Y, counts, alpha_cql=0.0, q_min=-10.0)
    assert np.array_equal(Q, [[1.0, -10.0], [3.0, -1.0]])


@pytest.mark.parametrize("kwargs, match", [
    ({"counts": -np.ones((2, 2))}, "counts"), ({"counts": np.ones(3)}, "counts"),
    ({"Y": np.ones((3, 2))}, "Y must have the shape"), ({"Y": np.full((2, 2), np.nan)}, "Y must be finite"),
    ({"alpha_cql": np.nan}, "alpha_cql"), ({"alpha_cql": "1"}, "alpha_cql"), ({"q_min": np.nan}, "q_min"),
    ({"mask": np.ones((2, 3), dtype=bool)}, "mask"),
])
def test_update_rejects_bad_input(kwargs, match):
    args = {"Y": np.zeros((2, 2)), "counts": np.ones((2, 2)), "alpha_cql": 1.0, "q_min": -1.0, **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        cql_update(args.pop("Y"), args.pop("counts"), **args)


# ------------------------------------------------------------------ on a log of the sepsis model
@pytest.fixture(scope="module")
def sepsis_log():
    sepsis = sepsis_model()
    opt = value_iteration(sepsis.mdp, mask=sepsis.mask, tol=1e-10)
    clinicians = soften_policy(opt.policy, sepsis.n_actions, 0.1, sepsis.mask)
    return sepsis, opt, clinicians, collect_logs(sepsis.mdp, clinicians, 2000, horizon=sepsis.horizon, seed=2)


def empirical_targets(log, V):
    """(T V)(s, a) by a loop over every logged step: mean of r + gamma (1 - terminated) V(s')."""
    total = np.zeros((log.n_states, log.n_actions))
    count = np.zeros((log.n_states, log.n_actions))
    for i in range(log.n_episodes):
        for t in range(log.horizon):
            if not log.valid[i, t]:
                break
            s, a, s2 = log.states[i, t], log.actions[i, t], log.next_states[i, t]
            total[s, a] += log.rewards[i, t] + log.gamma * (not log.terminated[i, t]) * V[s2]
            count[s, a] += 1
    return total / np.maximum(count, 1), count


@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_fixed_point_satisfies_the_cql_equation_on_the_log(sepsis_log, alpha):
    sepsis, _, _, log = sepsis_log
    res = cql(log, alpha_cql=alpha, mask=sepsis.mask, tol=1e-11)
    assert res.converged
    V = np.where(sepsis.mask, res.Q, -np.inf).max(axis=1)
    y, count = empirical_targets(log, V)
    assert np.array_equal(res.counts, count)
    seen = count > 0
    q = np.where(sepsis.mask, res.Q, -np.inf)
    pi_q = np.exp(q - logsumexp(q, axis=1, keepdims=True))
    beta = count / np.maximum(count.sum(axis=1, keepdims=True), 1)
    expected = y - alpha * (pi_q / np.where(seen, beta, 1.0) - 1)
    np.testing.assert_allclose(res.Q[seen], expected[seen], atol=1e-8)
    floor = default_q_min(log)
    assert floor == pytest.approx(min(0.0, log.rewards[log.valid].min()) / (1 - log.gamma))
    unseen = sepsis.mask & ~seen
    assert np.all(res.Q[unseen] == floor) and np.all(np.isneginf(res.Q[~sepsis.mask]))
    np.testing.assert_allclose(res.soft_pi, pi_q, atol=1e-12)
    assert np.all(sepsis.mask[np.arange(log.n_states), res.policy])


def test_cql_lower_bounds_the_true_q_of_its_policy(sepsis_log):
    """Without the push-up term and with alpha = 3, every allowed Q(s, a) sits below Q^pi(s, a) of the
    learned policy, computed exactly in the true model; the push-up version keeps the floor on
    every action the log never took, while naive fitted-Q iteration (alpha = 0) overestimates most pairs."""
    sepsis, _, _, log = sepsis_log
    mdp = sepsis.mdp
    decide = sepsis.mask & ~mdp.terminal[:, None]

    def true_q(policy):
        return deterministic_policy_q(mdp, policy)[1]

    low = cql(log, alpha_cql=3.0, mask=sepsis.mask, push_up=False)
    assert np.all(low.Q[decide] <= true_q(low.policy)[decide] + 1e-9)
    full = cql(log, alpha_cql=0.3, mask=sepsis.mask)
    unseen = decide & (full.counts == 0)
    assert unseen.any() and np.all(full.Q[unseen] <= true_q(full.policy)[unseen])
    naive = cql(log, alpha_cql=0.0, mask=sepsis.mask)
    seen = decide & (naive.counts > 0)
    assert (naive.Q[seen] > true_q(naive.policy)[seen]).mean() > 0.5


def test_cql_beats_fitted_q_iteration_and_the_clinicians(sepsis_log):
    """The chapter's headline on this log: exact value of each greedy policy over the 20-step horizon."""
    sepsis, opt, clinicians, log = sepsis_log
    H = sepsis.horizon
    v_opt, v_clin = true_value(sepsis.mdp, opt.policy, H), true_value(sepsis.mdp, clinicians, H)
    v_fqi = true_value(sepsis.mdp, fitted_q_iteration(log, mask=sepsis.mask).policy, H)
    v_cql = true_value(sepsis.mdp, cql(log, alpha_cql=0.1, mask=sepsis.mask).policy, H)
    assert v_fqi < v_clin < v_cql <= v_opt + 1e-12
    assert v_opt - v_cql < 0.5 * (v_opt - v_clin)


def test_alpha_zero_is_pessimistic_fitted_q_iteration(sepsis_log):
    sepsis, _, _, log = sepsis_log
    a = cql(log, alpha_cql=0.0, mask=sepsis.mask, tol=1e-12)
    b = fitted_q_iteration(log, mask=sepsis.mask, tol=1e-12)
    np.testing.assert_allclose(a.Q[sepsis.mask], b.Q[sepsis.mask], atol=1e-9)
    assert np.array_equal(a.policy, b.policy)


def test_cql_reports_its_budget_and_rejects_bad_input(sepsis_log):
    sepsis, _, _, log = sepsis_log
    with pytest.warns(Warning, match="CQL"):
        res = cql(log, alpha_cql=0.1, mask=sepsis.mask, max_iterations=3)
    assert not res.converged and res.iterations == 3 and len(res.history["residual"]) == 3
    assert "CQLResult(alpha_cql=0.1" in repr(res) and len(repr(res)) < 200
    for kwargs, match in [({"alpha_cql": -1.0}, "alpha_cql"), ({"alpha_cql": np.inf}, "alpha_cql"),
                          ({"alpha_cql": 1.0, "gamma": 1.5}, "gamma"), ({"alpha_cql": 1.0, "tol": 0.0}, "tol"),
                          ({"alpha_cql": 1.0, "max_iterations": 0}, "max_iterations"),
                          ({"alpha_cql": 1.0, "q_min": np.nan}, "q_min"),
                          ({"alpha_cql": 1.0, "progress": "yes"}, "progress")]:
        with pytest.raises((ValueError, TypeError), match=match):
            cql(log, **kwargs)
    with pytest.raises(TypeError, match="LoggedData"):
        cql({"states": []}, alpha_cql=1.0)
