"""Baird's counterexample and TDC (rlcore.approx.baird, rlcore.approx.off_policy_td, rlcore.plots.approx_triad).

References written here, independent of the library: the features and ratios from the book's
description, plain per-step loops for every update rule (value of a state written out as
``2 w_i + w_8`` / ``w_7 + 2 w_8``), the VE/PBE closed forms summed state by state, and the
eigenvalues of the expected-update matrices built entry by entry.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt  # conftest selects the Agg backend
import numpy as np
import pytest

from rlcore.approx.baird import DASHED, SOLID, Baird, BairdResult, baird_features, projected_bellman_error, value_error
from rlcore.approx.off_policy_td import (
    expected_tdc,
    off_policy_semi_gradient_td,
    on_policy_semi_gradient_td,
    semi_gradient_dp,
    tdc,
)
from rlcore.plots.approx_triad import plot_baird_errors, plot_baird_weights, plot_triad

GAMMA = 0.99
W0 = [1.0, 1, 1, 1, 1, 1, 10, 1]
NORM0 = math.sqrt(6 + 100 + 1)


# ---------------------------------------------------------------- plain references
def v_ref(w, s):
    """Book: upper state i (0-based 0..5) is 2 w_i + w_8, the lower one w_7 + 2 w_8 (1-based names)."""
    return 2 * w[s] + w[7] if s < 6 else w[6] + 2 * w[7]


def x_ref(s):
    x = [0.0] * 8
    if s < 6:
        x[s], x[7] = 2.0, 1.0
    else:
        x[6], x[7] = 1.0, 2.0
    return x


def expected_matrix(gamma=GAMMA, p_solid_pi=1.0, mu=None):
    """M[j, k] of the mean update alpha * M w, entry by entry: sum_s mu(s) x_j(s) (gamma E_pi[x_k(S')] - x_k(s))."""
    mu = [1 / 7] * 7 if mu is None else mu
    nxt = [(1 - p_solid_pi) / 6] * 6 + [p_solid_pi]
    M = np.zeros((8, 8))
    for s in range(7):
        ex_next = [sum(nxt[s2] * x_ref(s2)[k] for s2 in range(7)) for k in range(8)]
        for j in range(8):
            for k in range(8):
                M[j, k] += mu[s] * x_ref(s)[j] * (gamma * ex_next[k] - x_ref(s)[k])
    return M


# ---------------------------------------------------------------- the problem itself
def test_features_and_problem_match_the_book():
    X = baird_features()
    assert X.shape == (7, 8)
    for s in range(7):
        assert X[s].tolist() == x_ref(s)
    assert np.linalg.matrix_rank(X) == 7  # w = 0 represents v_pi = 0: representation is not the problem
    p = Baird()
    assert p.gamma == GAMMA and p.w0.tolist() == W0
    assert (p.X @ p.w0).tolist() == [3, 3, 3, 3, 3, 3, 12]
    assert p.rho.tolist() == [0.0, 7.0] and DASHED == 0 and SOLID == 1
    np.testing.assert_allclose(p.mu, np.full(7, 1 / 7))  # b's next state is uniform over the seven
    np.testing.assert_array_equal(p.P_target, np.tile([0, 0, 0, 0, 0, 0, 1.0], (7, 1)))  # pi: always solid
    with pytest.raises(ValueError):
        p.X[0, 0] = 5.0  # read-only


@pytest.mark.parametrize("bad", [0, None, "rng", np.random.RandomState(0), 1.5])
def test_sample_bad_rng(bad):
    with pytest.raises(TypeError, match="rng"):
        Baird().sample(5, bad)


def test_general_ratios():
    p = Baird(b_solid=0.25, pi_solid=0.5)
    np.testing.assert_allclose(p.rho, [0.5 / 0.75, 0.5 / 0.25])
    np.testing.assert_allclose(p.mu, [0.75 / 6] * 6 + [0.25])


def test_sampling_follows_b():
    rng = np.random.default_rng(1)
    states, actions = Baird().sample(70_000, rng)
    assert states.shape == (70_001,) and actions.shape == (70_000,)
    n = len(actions)
    p = 1 / 7
    assert abs(actions.mean() - p) < 4 * math.sqrt(p * (1 - p) / n)
    assert (states[1:][actions == SOLID] == 6).all()
    upper = states[1:][actions == DASHED]
    assert upper.max() < 6
    counts = np.bincount(upper, minlength=6)
    assert np.abs(counts / len(upper) - 1 / 6).max() < 0.01
    np.testing.assert_allclose(np.bincount(states, minlength=7) / len(states), 1 / 7, atol=0.01)


# ---------------------------------------------------------------- measures against closed forms
def test_value_error_and_pbe_closed_forms():
    p = Baird()
    assert value_error(p.w0) == pytest.approx(math.sqrt((6 * 9 + 144) / 7))
    assert projected_bellman_error(p.w0) == pytest.approx(math.sqrt((6 * 8.88 ** 2 + 0.12 ** 2) / 7))
    assert value_error(np.zeros(8)) == 0.0 and projected_bellman_error(np.zeros(8)) == pytest.approx(0.0, abs=1e-12)
    rng = np.random.default_rng(0)
    W = rng.normal(size=(5, 8)) * 3
    for w, ve, pbe in zip(W, value_error(W), projected_bellman_error(W)):
        vals = [v_ref(w, s) for s in range(7)]
        assert ve == pytest.approx(math.sqrt(sum(v * v for v in vals) / 7))
        # the book's features span R^7, so the projection is the identity: PBE = Bellman error
        assert pbe == pytest.approx(math.sqrt(sum((GAMMA * vals[6] - v) ** 2 for v in vals) / 7))


def test_pbe_projects_with_dependent_features():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(7, 3))
    mu = [0.75 / 6] * 6 + [0.25]
    p = Baird(X=X, w0=np.ones(3), b_solid=0.25, pi_solid=0.5)
    nxt = [0.5 / 6] * 6 + [0.5]
    for w in rng.normal(size=(4, 3)):
        vals = [sum(X[s, k] * w[k] for k in range(3)) for s in range(7)]
        delta = [GAMMA * sum(nxt[s2] * vals[s2] for s2 in range(7)) - vals[s] for s in range(7)]
        # normal equations of min_theta sum_s mu(s) (x(s) theta - delta(s))^2, built by loops
        G = [[sum(mu[s] * X[s, i] * X[s, j] for s in range(7)) for j in range(3)] for i in range(3)]
        c = [sum(mu[s] * X[s, i] * delta[s] for s in range(7)) for i in range(3)]
        theta = np.linalg.solve(G, c)
        proj = [sum(X[s, k] * theta[k] for k in range(3)) for s in range(7)]
        ref = math.sqrt(sum(mu[s] * proj[s] ** 2 for s in range(7)))
        assert projected_bellman_error(w, p) == pytest.approx(ref, rel=1e-9)
        assert projected_bellman_error(w, p) < math.sqrt(sum(mu[s] * delta[s] ** 2 for s in range(7)))
        assert value_error(w, p) == pytest.approx(math.sqrt(sum(mu[s] * vals[s] ** 2 for s in range(7))))


# ---------------------------------------------------------------- update rules against plain loops
@pytest.mark.parametrize("b_solid, pi_solid", [(1 / 7, 1.0), (0.25, 0.5)])
def test_off_policy_td_matches_plain_loop(b_solid, pi_solid):
    r = off_policy_semi_gradient_td(60, alpha=0.01, seed=5, problem=Baird(b_solid=b_solid, pi_solid=pi_solid))
    assert r.w.shape == (61, 8)
    w = list(W0)
    for t in range(60):
        s, a, s2 = r.states[t], r.actions[t], r.states[t + 1]
        rho = pi_solid / b_solid if a == SOLID else (1 - pi_solid) / (1 - b_solid)
        delta = 0.0 + GAMMA * v_ref(w, s2) - v_ref(w, s)
        w = [w[k] + 0.01 * rho * delta * x_ref(s)[k] for k in range(8)]
        np.testing.assert_allclose(r.w[t + 1], w, rtol=1e-12, atol=1e-12)
    assert (r.actions == SOLID).any() and (r.actions == DASHED).any()


def test_on_policy_td_is_rho_one_on_the_same_transitions():
    off, on = off_policy_semi_gradient_td(80, seed=2), on_policy_semi_gradient_td(80, seed=2)
    np.testing.assert_array_equal(off.states, on.states)
    w = list(W0)
    for t in range(80):
        s, s2 = on.states[t], on.states[t + 1]
        delta = GAMMA * v_ref(w, s2) - v_ref(w, s)
        w = [w[k] + 0.01 * delta * x_ref(s)[k] for k in range(8)]
    np.testing.assert_allclose(on.w[-1], w, rtol=1e-12)


def test_semi_gradient_dp_matches_plain_loop():
    r = semi_gradient_dp(20, alpha=0.01)
    w = list(W0)
    for k in range(20):
        step = [0.0] * 8
        for s in range(7):  # pi goes to the lower state from everywhere; every state weighted 1/7
            delta = GAMMA * v_ref(w, 6) - v_ref(w, s)
            step = [step[j] + delta * x_ref(s)[j] / 7 for j in range(8)]
        w = [w[j] + 0.01 * step[j] for j in range(8)]
        np.testing.assert_allclose(r.w[k + 1], w, rtol=1e-12)


def test_tdc_matches_plain_loop():
    r = tdc(80, alpha=0.005, beta=0.05, seed=4)
    w, v = list(W0), [0.0] * 8
    for t in range(80):
        s, a, s2 = r.states[t], r.actions[t], r.states[t + 1]
        rho = 7.0 if a == SOLID else 0.0
        x, x2 = x_ref(s), x_ref(s2)
        delta = GAMMA * v_ref(w, s2) - v_ref(w, s)
        xv = sum(x[k] * v[k] for k in range(8))
        w, v = ([w[k] + 0.005 * rho * (delta * x[k] - GAMMA * x2[k] * xv) for k in range(8)],
                [v[k] + 0.05 * rho * (delta - xv) * x[k] for k in range(8)])
        np.testing.assert_allclose(r.w[t + 1], w, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(r.v[t + 1], v, rtol=1e-12, atol=1e-12)
    assert r.v.shape == (81, 8) and (r.v[0] == 0).all()


def test_expected_tdc_matches_plain_loop():
    r = expected_tdc(15, alpha=0.005, beta=0.05)
    w, v = list(W0), [0.0] * 8
    x6 = x_ref(6)
    for k in range(15):
        dw, dv = [0.0] * 8, [0.0] * 8
        for s in range(7):  # b: solid w.p. 1/7 with rho 7 (to state 6), dashed with rho 0
            x = x_ref(s)
            delta = GAMMA * v_ref(w, 6) - v_ref(w, s)
            xv = sum(x[j] * v[j] for j in range(8))
            for j in range(8):
                dw[j] += (1 / 7) * (1 / 7) * 7 * (delta * x[j] - GAMMA * x6[j] * xv)
                dv[j] += (1 / 7) * (1 / 7) * 7 * (delta - xv) * x[j]
        w = [w[j] + 0.005 * dw[j] for j in range(8)]
        v = [v[j] + 0.05 * dv[j] for j in range(8)]
        np.testing.assert_allclose(r.w[k + 1], w, rtol=1e-12)
        np.testing.assert_allclose(r.v[k + 1], v, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- the triad: divergence vs boundedness
def test_expected_off_policy_update_is_unstable_for_every_step_size():
    M = expected_matrix()
    lam = np.linalg.eigvals(M)
    assert lam.real.max() > 0.2  # |1 + alpha lambda| > 1 for every alpha > 0
    for alpha in (1e-4, 1e-3, 1e-2, 1e-1):
        assert np.abs(np.linalg.eigvals(np.eye(8) + alpha * M)).max() > 1


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_off_policy_td_diverges(seed):
    norms = off_policy_semi_gradient_td(3000, alpha=0.01, seed=seed).norms
    window_max = [norms[i * 1000 + 1:(i + 1) * 1000 + 1].max() for i in range(3)]
    assert norms[1000] > 10 * NORM0 and norms[-1] > 1000 * NORM0
    assert window_max[1] > 3 * window_max[0] and window_max[2] > 3 * window_max[1]


def test_semi_gradient_dp_diverges_and_on_policy_dp_does_not():
    norms = semi_gradient_dp(3000, alpha=0.01).norms
    assert norms[-1] > 300 * NORM0
    assert (np.diff(norms[1000:]) > 0).all()  # no noise left: it grows at every sweep
    # pi's own distribution (all mass on the lower state) and pi = b with b's distribution both stay bounded
    assert semi_gradient_dp(3000, mu=[0, 0, 0, 0, 0, 0, 1]).norms.max() <= NORM0 + 1e-9
    assert semi_gradient_dp(3000, problem=Baird(pi_solid=1 / 7)).norms.max() <= NORM0 + 1e-9


def test_on_policy_expected_update_is_non_expansive():
    # pi = b: ||I + alpha M_b||_2 <= 1, so the mean iterate never leaves the ball of radius ||w0||
    M = expected_matrix(p_solid_pi=1 / 7)
    assert np.linalg.norm(np.eye(8) + 0.01 * M, 2) <= 1 + 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_on_policy_td_and_tdc_stay_bounded(seed):
    # Bound: 1.1 ||w0||. The mean on-policy step is non-expansive (above) and the expected TDC
    # system has spectral radius 1 (below); the sampled runs only add noise that vanishes at v = 0.
    on = on_policy_semi_gradient_td(20_000, alpha=0.01, seed=seed)
    assert on.norms.max() < 1.1 * NORM0
    assert on.value_errors[-1] < 0.05 * on.value_errors[0]
    r = tdc(20_000, alpha=0.005, beta=0.05, seed=seed)
    assert r.norms.max() < 1.1 * NORM0
    pbe = r.projected_bellman_errors
    assert pbe[5000:].max() < 0.01 * pbe[0]
    assert pbe[-1] < pbe[1000]


def test_expected_tdc_is_stable_and_drives_pbe_down():
    p = Baird()
    X, D, P = p.X, np.diag(p.mu), p.P_target
    B = (GAMMA * P - np.eye(7)) @ X
    a, b = 0.005, 0.05
    J = np.block([[np.eye(8) + a * X.T @ D @ B, -a * GAMMA * X.T @ P.T @ D @ X],
                  [b * X.T @ D @ B, np.eye(8) - b * X.T @ D @ X]])
    assert np.abs(np.linalg.eigvals(J)).max() <= 1 + 1e-9
    r = expected_tdc(3000)
    pbe = r.projected_bellman_errors
    assert r.norms.max() < 1.01 * NORM0
    assert pbe[1000] < 2e-3 * pbe[0] and pbe[3000] <= pbe[1000]
    assert r.value_errors[-1] > 1.0  # the value error stays large: TDC is very slow on this problem


def test_rho_and_the_tdc_correction_matter():
    # the ratio matters: evaluating pi with rho = 7 is not evaluating b
    assert off_policy_semi_gradient_td(1000).norms[-1] > 10 * on_policy_semi_gradient_td(1000).norms[-1]
    # without the correction (v frozen at 0 by beta -> tiny) TDC reduces to semi-gradient TD and runs away
    assert tdc(3000, alpha=0.01, beta=1e-12, seed=0).norms[-1] > 100 * NORM0


# ---------------------------------------------------------------- reproducibility, result
def test_same_seed_same_result():
    for fn in (off_policy_semi_gradient_td, on_policy_semi_gradient_td, tdc):
        a, b, c = fn(300, seed=7), fn(300, seed=7), fn(300, seed=8)
        np.testing.assert_array_equal(a.w, b.w)
        np.testing.assert_array_equal(a.states, b.states)
        assert not np.array_equal(a.states, c.states)
    np.testing.assert_array_equal(semi_gradient_dp(50).w, semi_gradient_dp(50).w)


def test_result_repr_and_fields():
    r = tdc(200, seed=0, progress=True)
    text = repr(r)
    assert text.startswith("BairdResult(TDC, 200 steps") and "beta=0.05" in text and len(text) < 200
    assert "array" not in text and "\n" not in text
    assert isinstance(r, BairdResult) and r.actions.shape == (200,) and r.norms.shape == (201,)
    assert "sweeps" in repr(expected_tdc(10))
    with pytest.raises(AttributeError):
        r.alpha = 1.0


# ---------------------------------------------------------------- bad input
BAD_COUNT = [0, -1, 2.5, "10", True, None, float("nan")]
BAD_STEP = [0, -0.1, float("nan"), float("inf"), "0.01", None, True]


@pytest.mark.parametrize("fn", [off_policy_semi_gradient_td, on_policy_semi_gradient_td, tdc])
@pytest.mark.parametrize("bad", BAD_COUNT)
def test_bad_n_steps(fn, bad):
    with pytest.raises(ValueError, match="n_steps"):
        fn(bad)


@pytest.mark.parametrize("fn", [semi_gradient_dp, expected_tdc])
@pytest.mark.parametrize("bad", BAD_COUNT)
def test_bad_n_sweeps(fn, bad):
    with pytest.raises(ValueError, match="n_sweeps"):
        fn(bad)


@pytest.mark.parametrize("fn", [off_policy_semi_gradient_td, on_policy_semi_gradient_td, tdc, semi_gradient_dp,
                                expected_tdc])
@pytest.mark.parametrize("bad", BAD_STEP)
def test_bad_alpha(fn, bad):
    with pytest.raises(ValueError, match="alpha"):
        fn(10, alpha=bad)


@pytest.mark.parametrize("fn", [tdc, expected_tdc])
@pytest.mark.parametrize("bad", BAD_STEP)
def test_bad_beta(fn, bad):
    with pytest.raises(ValueError, match="beta"):
        fn(10, beta=bad)


@pytest.mark.parametrize("fn", [off_policy_semi_gradient_td, on_policy_semi_gradient_td, tdc])
@pytest.mark.parametrize("bad", [-1, 1.5, "x", True, [1]])
def test_bad_seed(fn, bad):
    with pytest.raises(ValueError, match="seed"):
        fn(10, seed=bad)


@pytest.mark.parametrize("fn", [off_policy_semi_gradient_td, on_policy_semi_gradient_td, tdc, semi_gradient_dp,
                                expected_tdc])
@pytest.mark.parametrize("bad", ["baird", 1, object(), {"gamma": 0.9}, np.zeros(3)])
def test_bad_problem(fn, bad):
    with pytest.raises(TypeError, match="problem"):
        fn(10, problem=bad)


@pytest.mark.parametrize("fn", [semi_gradient_dp, expected_tdc])
@pytest.mark.parametrize("bad", [[1 / 7] * 6, [0.5] * 7, [-0.1, 0.1, 0, 0, 0, 0, 1], [np.nan] * 7, np.eye(7)])
def test_bad_mu(fn, bad):
    with pytest.raises(ValueError, match="mu"):
        fn(10, mu=bad)


@pytest.mark.parametrize("kwargs, name", [
    (dict(gamma=1.0), "gamma"), (dict(gamma=-0.1), "gamma"), (dict(gamma="x"), "gamma"),
    (dict(b_solid=0.0), "b_solid"), (dict(b_solid=1.0), "b_solid"), (dict(b_solid=1.5), "b_solid"),
    (dict(pi_solid=-0.1), "pi_solid"), (dict(pi_solid=1.1), "pi_solid"),
    (dict(X=np.ones((8, 7))), "X"), (dict(X=np.full((7, 8), np.nan)), "X"), (dict(X=np.ones(7)), "X"),
    (dict(w0=np.ones(7)), "w0"), (dict(w0=[1, 1, 1, 1, 1, 1, np.inf, 1]), "w0"),
])
def test_bad_problem_fields(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Baird(**kwargs)


@pytest.mark.parametrize("fn", [value_error, projected_bellman_error])
@pytest.mark.parametrize("bad", [np.ones(7), 3.0, np.ones((4, 9)), np.ones((2, 0)), "w"])
def test_bad_weights(fn, bad):
    with pytest.raises((ValueError, TypeError), match="w must"):
        fn(bad)


@pytest.mark.parametrize("fn", [value_error, projected_bellman_error])
@pytest.mark.parametrize("bad", ["baird", 0, object(), [1], np.ones(8)])
def test_bad_measure_problem(fn, bad):
    with pytest.raises(TypeError, match="problem"):
        fn(np.ones(8), bad)


# ---------------------------------------------------------------- plots
def test_plots_draw_one_line_per_weight():
    runs = {"off-policy TD": off_policy_semi_gradient_td(200), "on-policy TD": on_policy_semi_gradient_td(200),
            "TDC": tdc(200)}
    fig = plot_baird_weights(runs["TDC"])
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()][:8] == [f"$w_{{{i}}}$" for i in range(1, 9)]
    np.testing.assert_array_equal(ax.get_lines()[6].get_ydata(), runs["TDC"].w[:, 6])
    assert ax.get_title() == "TDC" and ax.get_xlabel() == "steps"
    fig2 = plot_baird_weights(semi_gradient_dp(30).w, "DP", log=True)
    assert fig2.axes[0].get_yscale() == "symlog"
    fig3 = plot_triad(runs)
    assert len(fig3.axes) == 6 and [a.get_title() for a in fig3.axes[:3]] == list(runs)
    fig4 = plot_triad([semi_gradient_dp(30), expected_tdc(30)], errors=False)
    assert len(fig4.axes) == 2 and fig4.axes[0].get_xlabel() == "sweeps"
    fig5 = plot_baird_errors(runs["off-policy TD"])
    np.testing.assert_allclose(fig5.axes[0].get_lines()[0].get_ydata(), runs["off-policy TD"].value_errors)
    plt.close("all")


@pytest.mark.parametrize("bad, exc", [(np.ones(8), ValueError), (np.ones((2, 3, 4)), ValueError),
                                      (np.ones((0, 8)), ValueError), ("w", TypeError), (None, TypeError)])
def test_plot_weights_bad_history(bad, exc):
    with pytest.raises(exc, match="history"):
        plot_baird_weights(bad)


@pytest.mark.parametrize("bad", [1, ["t"], b"x", object(), 2.5])
def test_plot_weights_bad_title(bad):
    with pytest.raises(TypeError, match="title"):
        plot_baird_weights(np.ones((3, 8)), bad)


@pytest.mark.parametrize("bad, exc", [({}, ValueError), ([], ValueError), ("runs", TypeError),
                                      ([np.ones((3, 8))], TypeError), ({"a": 1}, TypeError), (5, TypeError)])
def test_plot_triad_bad_results(bad, exc):
    with pytest.raises(exc, match="results"):
        plot_triad(bad)


@pytest.mark.parametrize("bad", [np.ones((3, 8)), None, "r", 1, [tdc(5)]])
def test_plot_errors_bad_result(bad):
    with pytest.raises(TypeError, match="result"):
        plot_baird_errors(bad)
