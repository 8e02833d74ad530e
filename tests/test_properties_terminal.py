"""Property tests at gamma = 1, with action masks and terminal states (issue 9, item 4).

Every MDP here is drawn as raw successor arrays and every expected number is computed from those
raw arrays by a plain loop written in this file (a linear solve on the transient states, brute-force
enumeration of deterministic policies, per-step sums over episodes), never by another rlcore function.

* ``proper_models``: random MDPs (S <= 6, A <= 3) with at least one terminal state and, from every
  non-terminal state under every action, a probability of at least ``eps`` of ending the episode
  (a transition into a terminal state or a transition flagged ``done``); so every policy is proper
  and ``gamma = 1`` is allowed. Terminal states get random (junk) rows, which the MDP must ignore.
* ``trap_models``: one action always terminates, the others are closed cycles inside a set ``C`` of
  states with no way out, so some policies are improper at ``gamma = 1``.

No MDP here has a ``horizon``.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, replace

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlcore import TabularMDP, policy_evaluation, policy_iteration, true_value, value_iteration
from rlcore.core.returns import discounted_returns, gae, td_target
from rlcore.health.constraints import lagrangian_front
from rlcore.tabular.common import ConvergenceWarning
from rlcore.tabular.occupancy import occupancy
from rlcore.tabular.soft import soft_value_iteration

PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ONE = st.just(1.0)
gammas = ONE | st.sampled_from([0.0, 0.5]) | st.floats(0.0, 1.0)


# ------------------------------------------------------------------ the raw model and its generators
@dataclass(frozen=True)
class Raw:
    """The arrays handed to ``TabularMDP`` (before it normalises anything), and the start distribution."""

    next_state: np.ndarray  # [S, A, K]
    prob: np.ndarray
    reward: np.ndarray
    done: np.ndarray
    terminal: np.ndarray  # [S] bool
    gamma: float
    initial: np.ndarray | None  # None: the MDP's default

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.prob.shape

    def mdp(self) -> TabularMDP:
        return TabularMDP(self.next_state, self.prob, self.reward, self.done, gamma=self.gamma,
                          terminal=np.flatnonzero(self.terminal), initial=self.initial)

    def mu(self) -> np.ndarray:
        """The start distribution: the given one, else uniform over non-terminal states (the documented default)."""
        if self.initial is not None:
            return self.initial
        return (~self.terminal) / (~self.terminal).sum()


def _random_row(rng, K, S, n_zero):
    p = rng.dirichlet(np.ones(K))
    if n_zero:
        p[rng.choice(K, size=min(n_zero, K - 1), replace=False)] = 0.0
        p /= p.sum()
    return rng.integers(0, S, size=K), p


@st.composite
def proper_models(draw, gamma=gammas, min_actions=1):
    """Random MDPs where every action terminates with probability >= eps from every non-terminal state."""
    S = draw(st.integers(2, 6))
    A = draw(st.integers(min_actions, 3))
    K = draw(st.integers(1, 4))
    n_terminal = draw(st.integers(1, S - 1))
    eps = draw(st.sampled_from([0.02, 0.1, 0.3, 1.0]))
    g = draw(gamma)
    integer_rewards = draw(st.booleans())  # small integers make ties between actions common
    explicit_initial = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    terminal = np.zeros(S, dtype=bool)
    terminal[rng.choice(S, size=n_terminal, replace=False)] = True
    term_states, all_states = np.flatnonzero(terminal), np.arange(S)
    next_state = np.zeros((S, A, K), dtype=np.int64)
    prob = np.zeros((S, A, K))
    done = np.zeros((S, A, K), dtype=bool)
    for s in range(S):
        for a in range(A):
            if terminal[s]:  # junk: the MDP must make terminal rows inert
                next_state[s, a], prob[s, a] = _random_row(rng, K, S, 0)
                done[s, a] = rng.random(K) < 0.3
                continue
            p_end = 1.0 if K == 1 else rng.uniform(eps, 1.0)
            rest = rng.dirichlet(np.ones(K - 1)) if K > 1 else np.zeros(0)
            if K > 2 and rng.random() < 0.5:
                rest[rng.integers(K - 1)] = 0.0  # a zero-probability padding slot
                rest = rest / rest.sum()
            row_p = np.concatenate([[p_end], (1.0 - p_end) * rest])
            row_s = rng.choice(all_states, size=K)
            row_d = rng.random(K) < 0.2
            if rng.random() < 0.5:  # the guaranteed ending: into a terminal state ...
                row_s[0] = rng.choice(term_states)
            else:  # ... or a transition flagged done, to any state (its value must not be read)
                row_d[0] = True
            order = rng.permutation(K)
            next_state[s, a], prob[s, a], done[s, a] = row_s[order], row_p[order], row_d[order]
    reward = rng.integers(-2, 3, size=(S, A, K)).astype(float) if integer_rewards else rng.normal(size=(S, A, K))
    initial = None
    if explicit_initial:
        initial = np.where(terminal, 0.0, rng.random(S) + 0.05)
        initial /= initial.sum()
    return Raw(next_state, prob, reward, done, terminal, g, initial)


@st.composite
def masks(draw, S, A):
    """A random ``[S, A]`` bool mask (True = allowed) with at least one allowed action in every state."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    m = rng.random((S, A)) < draw(st.sampled_from([0.3, 0.6]))
    m[np.arange(S), rng.integers(0, A, size=S)] = True
    return m


@st.composite
def models_with_masks(draw, gamma=gammas):
    raw = draw(proper_models(gamma=gamma, min_actions=2))
    return raw, draw(masks(raw.shape[0], raw.shape[1]))


def random_policy(rng, S, A, allowed=None):
    """A stochastic ``[S, A]`` table (some exact zeros), supported on ``allowed`` if given."""
    pi = rng.dirichlet(np.ones(A), size=S)
    pi[rng.random((S, A)) < 0.3] = 0.0
    if allowed is not None:
        pi[~allowed] = 0.0
    empty = pi.sum(axis=1) == 0
    pi[empty] = allowed[empty] if allowed is not None else 1.0
    return pi / pi.sum(axis=1, keepdims=True)


# ------------------------------------------------------------------ independent references (plain loops)
def ref_pairs(raw, reward=None):
    """``r[s, a]`` and the bootstrapping part ``C[s, a, s'] = gamma P(s'|s,a)`` of each pair, by a loop.

    Terminal states have no reward and no successors; a transition that is ``done`` or that enters a
    terminal state contributes its reward but never the successor's value.
    """
    reward = raw.reward if reward is None else reward
    S, A, K = raw.shape
    r = np.zeros((S, A))
    C = np.zeros((S, A, S))
    for s in range(S):
        if raw.terminal[s]:
            continue
        for a in range(A):
            for k in range(K):
                p, s2 = raw.prob[s, a, k], int(raw.next_state[s, a, k])
                r[s, a] += p * reward[s, a, k]
                if not raw.done[s, a, k] and not raw.terminal[s2]:
                    C[s, a, s2] += raw.gamma * p
    return r, C


def ref_solve(raw, pi, r=None, C=None, extra=None):
    """``V^pi`` from the linear system on the transient states ``(I - C_pi) V = r_pi`` (0 on terminal states)."""
    if r is None:
        r, C = ref_pairs(raw)
    live = np.flatnonzero(~raw.terminal)
    r_pi = np.zeros(len(live))
    M = np.eye(len(live))
    for i, s in enumerate(live):
        for a in range(raw.shape[1]):
            if pi[s, a] == 0:
                continue
            r_pi[i] += pi[s, a] * r[s, a]
            for j, s2 in enumerate(live):
                M[i, j] -= pi[s, a] * C[s, a, s2]
        if extra is not None:
            r_pi[i] += extra[s]
    V = np.zeros(raw.shape[0])
    V[live] = np.linalg.solve(M, r_pi)
    return V


def ref_q(raw, V, r=None, C=None):
    """One backup ``Q(s, a) = r(s, a) + sum_s' C[s, a, s'] V(s')`` (terminal rows 0)."""
    if r is None:
        r, C = ref_pairs(raw)
    S, A = r.shape
    Q = np.zeros((S, A))
    for s in range(S):
        for a in range(A):
            Q[s, a] = r[s, a] + sum(C[s, a, s2] * V[s2] for s2 in range(S))
    return Q


def one_hot(policy, A):
    pi = np.zeros((len(policy), A))
    pi[np.arange(len(policy)), policy] = 1.0
    return pi


def ref_optimum(raw, allowed=None, reward=None, proper_only=False):
    """``V*`` by enumerating every deterministic policy (over ``allowed`` actions): the state-wise maximum.

    Also checks the theorem the reference relies on: one policy attains the maximum in every state.
    With ``proper_only`` policies that cannot end from some state are skipped (their value is not finite).
    """
    r, C = ref_pairs(raw, reward)
    S, A, _ = raw.shape
    live = np.flatnonzero(~raw.terminal)
    choices = [np.flatnonzero(allowed[s]) if allowed is not None else range(A) for s in live]
    values = []
    for combo in itertools.product(*choices):
        policy = np.zeros(S, dtype=np.int64)
        policy[live] = combo
        if proper_only and not ref_is_proper(raw, one_hot(policy, A)):
            continue
        values.append(ref_solve(raw, one_hot(policy, A), r, C))
    values = np.array(values)
    best = values.max(axis=0)
    assert np.any(np.all(values >= best - 1e-9 * (1 + np.abs(best)), axis=1)), "no uniformly optimal policy?"
    return best


def ref_is_proper(raw, pi):
    """Whether ``pi`` ends the episode with probability one from every state: every state reaches an ending."""
    S, A, K = raw.shape
    ends = raw.terminal.copy()
    changed = True
    while changed:
        changed = False
        for s in range(S):
            if ends[s]:
                continue
            for a in range(A):
                for k in range(K):
                    if pi[s, a] > 0 and raw.prob[s, a, k] > 0 and (raw.done[s, a, k] or ends[raw.next_state[s, a, k]]):
                        ends[s] = changed = True
    return bool(ends.all())


def contraction(raw):
    """``rho = max_{s,a} sum_s' C[s, a, s']``: the sup-norm contraction factor of every Bellman operator here."""
    return float(ref_pairs(raw)[1].sum(axis=2).max())


def vi_error(raw, tol):
    """Distance to the fixed point once successive sweeps differ by less than ``tol``: ``tol rho / (1 - rho)``."""
    rho = contraction(raw)
    assert rho < 1  # the generator guarantees an ending with probability >= eps
    return tol * rho / (1 - rho)


def close(actual, expected, atol):
    np.testing.assert_allclose(actual, expected, rtol=0, atol=atol * (1 + np.abs(expected).max()))


# ================================================================== 1. gamma = 1 with proper policies
@PROPERTY
@given(proper_models(gamma=st.just(1.0) | gammas), st.integers(0, 2**32 - 1))
def test_policy_evaluation_matches_the_linear_solve_on_transient_states(raw, seed):
    mdp = raw.mdp()
    S, A, _ = raw.shape
    rng = np.random.default_rng(seed)
    pi = random_policy(rng, S, A)
    V_ref = ref_solve(raw, pi)
    Q_ref = ref_q(raw, V_ref)
    exact = policy_evaluation(mdp, pi, method="exact")
    close(exact.V, V_ref, 1e-9)
    close(exact.Q, Q_ref, 1e-9)
    iterative = policy_evaluation(mdp, pi, method="iterative", tol=1e-11)
    assert iterative.converged
    close(iterative.V, V_ref, vi_error(raw, 1e-11) + 1e-9)
    close(iterative.Q, Q_ref, vi_error(raw, 1e-11) + 1e-9)
    # a deterministic policy given as [S] actions
    policy = rng.integers(0, A, size=S)
    V_det = ref_solve(raw, one_hot(policy, A))
    for method in ("exact", "iterative"):
        close(policy_evaluation(mdp, policy, method=method, tol=1e-11).V, V_det, vi_error(raw, 1e-11) + 1e-9)
    # the start-state value and the occupancy view of the same number
    mu = raw.mu()
    assert true_value(mdp, pi) == pytest.approx(float(mu @ V_ref), abs=1e-9 * (1 + np.abs(V_ref).max()))
    r, _ = ref_pairs(raw)
    assert float((occupancy(mdp, pi) * r).sum()) == pytest.approx(float(mu @ V_ref),
                                                                   abs=1e-9 * (1 + np.abs(V_ref).max()))


@PROPERTY
@given(proper_models(gamma=st.just(1.0) | gammas))
def test_value_and_policy_iteration_find_the_brute_force_optimum(raw):
    mdp = raw.mdp()
    V_star = ref_optimum(raw)
    Q_star = ref_q(raw, V_star)
    tol = 1e-11
    vi = value_iteration(mdp, tol=tol)
    assert vi.converged
    err = vi_error(raw, tol) + 1e-9
    close(vi.V, V_star, err)
    close(vi.Q, Q_star, err)
    for evaluation in ("exact", "iterative"):
        pi = policy_iteration(mdp, evaluation=evaluation, tol=tol)
        assert pi.converged
        close(pi.V, V_star, err)
        close(pi.Q, Q_star, err)
        close(ref_solve(raw, one_hot(pi.policy, raw.shape[1])), V_star, 1e-8)
    # the greedy policy of value iteration is optimal when evaluated independently
    close(ref_solve(raw, one_hot(vi.policy, raw.shape[1])), V_star, 1e-7)


@st.composite
def trap_models(draw, gamma=ONE, negative=False):
    """Action 0 ends the episode w.p. >= 0.1 everywhere; actions 1.. move only inside a set ``C``
    (of non-terminal states) with no way out. Returns ``(raw, C)``."""
    S = draw(st.integers(2, 6))
    A = draw(st.integers(2, 3))
    K = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    g = draw(gamma)
    n_terminal = draw(st.integers(1, S - 1))
    terminal = np.zeros(S, dtype=bool)
    terminal[rng.choice(S, size=n_terminal, replace=False)] = True
    live = np.flatnonzero(~terminal)
    C = rng.choice(live, size=draw(st.integers(1, len(live))), replace=False)
    next_state = rng.integers(0, S, size=(S, A, K))
    prob = rng.dirichlet(np.ones(K), size=(S, A))
    done = np.zeros((S, A, K), dtype=bool)
    reward = rng.normal(size=(S, A, K))
    for s in live:
        for a in range(A):
            if a > 0 and s in C:
                next_state[s, a] = rng.choice(C, size=K)  # probabilities sum to 1 only within rounding
                if negative:
                    reward[s, a] = -rng.uniform(0.5, 2.0, size=K)
            else:
                if K > 1:
                    p_end = rng.uniform(0.1, 1.0)
                    prob[s, a] = np.concatenate([[p_end], (1 - p_end) * rng.dirichlet(np.ones(K - 1))])
                next_state[s, a, 0] = rng.choice(np.flatnonzero(terminal))  # ends w.p. >= 0.1
    return Raw(next_state, prob, reward, done, terminal, g, None), np.sort(C)


REFUSERS = {
    "policy_evaluation(exact)": lambda mdp, p: policy_evaluation(mdp, p, method="exact"),
    "true_value": true_value,
    "occupancy": occupancy,
    "policy_iteration(policy0)": lambda mdp, p: policy_iteration(mdp, policy0=p),
}


@pytest.mark.parametrize("name", list(REFUSERS))
@FEW
@given(trap_models(), st.integers(0, 2**32 - 1), st.booleans())
def test_an_improper_policy_at_gamma_1_is_refused_with_a_value_error(name, model, seed, stochastic):
    raw, C = model
    S, A, _ = raw.shape
    rng = np.random.default_rng(seed)
    if stochastic and name != "policy_iteration(policy0)":
        pi = random_policy(rng, S, A)
        pi[C] = random_policy(rng, len(C), A - 1) @ np.eye(A)[1:]  # inside C: only the trapping actions
    else:
        pi = rng.integers(0, A, size=S)
        pi[C] = rng.integers(1, A, size=len(C))
    assert not ref_is_proper(raw, pi if pi.ndim == 2 else one_hot(pi, A))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a singular-matrix warning is not a refusal
        # refusing at construction (the MDP admits an improper policy at gamma = 1) is fine too
        with pytest.raises(ValueError):
            REFUSERS[name](raw.mdp(), pi)


@FEW
@given(trap_models(negative=True), st.integers(0, 2**32 - 1))
def test_iterative_evaluation_of_an_improper_policy_never_claims_convergence(model, seed):
    """Inside the trap every reward is <= -0.5, so V^pi = -infinity there: no finite answer may pass as converged."""
    raw, C = model
    S, A, _ = raw.shape
    pi = random_policy(np.random.default_rng(seed), S, A)
    pi[C] = np.eye(A)[1]
    try:
        mdp = raw.mdp()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = policy_evaluation(mdp, pi, method="iterative", max_iterations=300)
    except ValueError:
        return
    assert not result.converged
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught)
    assert np.all(result.V[C] <= -0.5 * 299)  # at least 0.5 lost per step for 300 steps


@FEW
@given(trap_models(negative=True))
def test_gamma_1_planners_with_improper_traps_find_the_best_proper_policy(model):
    """Stochastic shortest path: improper policies cost -infinity, so the optimum is the best proper policy."""
    raw, _ = model
    try:
        mdp = raw.mdp()
    except ValueError:  # an MDP that refuses improper policies at gamma = 1 up front is fine too
        return
    V_star = ref_optimum(raw, proper_only=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        vi = value_iteration(mdp, tol=1e-11)
        pi = policy_iteration(mdp)
    close(vi.V, V_star, 1e-7)
    close(pi.V, V_star, 1e-8)
    assert ref_is_proper(raw, one_hot(pi.policy, raw.shape[1]))
    close(ref_solve(raw, one_hot(pi.policy, raw.shape[1])), V_star, 1e-8)


# ================================================================== 2. masks
@PROPERTY
@given(models_with_masks())
def test_masked_planners_match_enumeration_over_allowed_policies(model):
    raw, mask = model
    mdp = raw.mdp()
    S, A, _ = raw.shape
    V_star = ref_optimum(raw, allowed=mask)
    Q_star = ref_q(raw, V_star)
    tol = 1e-11
    err = vi_error(raw, tol) + 1e-9
    results = {"value_iteration": value_iteration(mdp, tol=tol, mask=mask)}
    for evaluation in ("exact", "iterative"):
        results[f"policy_iteration/{evaluation}"] = policy_iteration(mdp, mask=mask, evaluation=evaluation, tol=tol)
    for name, res in results.items():
        assert res.converged, name
        assert mask[np.arange(S), res.policy].all(), f"{name} picks a masked action"
        close(res.V, V_star, err)
        close(res.Q[mask], Q_star[mask], err)
        assert np.all(res.Q[~mask] == -np.inf), f"{name}: Q must be -inf at masked actions"
        close(ref_solve(raw, one_hot(res.policy, A)), V_star, 1e-7)
    # masking can only lose value
    assert np.all(V_star <= ref_optimum(raw) + 1e-9)


@FEW
@given(models_with_masks(), st.floats(0.1, 5.0), st.integers(0, 2**32 - 1))
def test_masked_lagrangian_front_is_the_masked_optimum_of_r_minus_lambda_c(model, lam, seed):
    raw, mask = model
    S, A, K = raw.shape
    cost = np.abs(np.random.default_rng(seed).normal(size=(S, A, K)))
    front = lagrangian_front(raw.mdp(), cost, [0.0, lam], mask=mask)
    mu = raw.mu()
    r_c, C = ref_pairs(raw, cost)
    r_r, _ = ref_pairs(raw)
    for i, lam_i in enumerate((0.0, lam)):
        policy = front.policies[i]
        assert mask[np.arange(S), policy].all()
        scalar = raw.reward - lam_i * cost
        best = mu @ ref_optimum(raw, allowed=mask, reward=scalar)
        r_s, _ = ref_pairs(raw, scalar)
        pi = one_hot(policy, A)
        assert mu @ ref_solve(raw, pi, r_s, C) == pytest.approx(best, abs=1e-7 * (1 + abs(best)))
        assert front.values[i] == pytest.approx(mu @ ref_solve(raw, pi, r_r, C), abs=1e-8)
        assert front.costs[i] == pytest.approx(mu @ ref_solve(raw, pi, r_c, C), abs=1e-8)


@PROPERTY
@given(models_with_masks(), st.floats(0.1, 5.0), st.integers(0, 2**32 - 1))
def test_soft_value_iteration_with_a_masked_reference(model, beta, seed):
    """pi_ref = 0 on masked actions works as a mask: pi is 0 there, and V is the KL-regularised optimum."""
    raw, mask = model
    S, A, _ = raw.shape
    rng = np.random.default_rng(seed)
    ref = rng.dirichlet(np.ones(A), size=S) * mask
    ref /= ref.sum(axis=1, keepdims=True)
    tol = 1e-11
    res = soft_value_iteration(raw.mdp(), ref, beta, tol=tol)
    assert res.converged
    err = vi_error(raw, tol) + 1e-9
    assert np.all(res.pi[~mask] == 0.0)
    np.testing.assert_allclose(res.pi.sum(axis=1), 1.0, atol=1e-12)
    # terminal states: Q is exactly 0; V = beta log sum_a pi_ref(a|s) is 0 up to the rounding of sum_a pi_ref
    assert np.all(res.Q[raw.terminal] == 0) and np.all(np.abs(res.V[raw.terminal]) <= 1e-12)
    r, C = ref_pairs(raw)
    Q = ref_q(raw, res.V, r, C)
    close(res.Q, Q, err)
    # the tilted reference, pi(a|s) proportional to pi_ref(a|s) exp(Q(s, a) / beta), on non-terminal states
    live = ~raw.terminal
    w = ref * np.exp((Q - Q.max(axis=1, keepdims=True)) / beta)
    np.testing.assert_allclose(res.pi[live], (w / w.sum(axis=1, keepdims=True))[live], atol=1e-6)

    def penalised(pi):  # V of pi for the reward r - beta KL(pi(.|s) || pi_ref(.|s)), by the linear solve
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.where(pi > 0, pi * np.log(pi / ref), 0.0).sum(axis=1)
        return ref_solve(raw, pi, r, C, extra=-beta * kl)

    close(res.V, penalised(res.pi), err + 1e-8)  # V is the penalised value of its own policy ...
    for other in (ref, random_policy(rng, S, A, allowed=mask)):  # ... and no policy in the support does better
        assert np.all(penalised(other) <= res.V + err + 1e-8 * (1 + np.abs(res.V).max()))
    assert np.all(res.V <= ref_optimum(raw, allowed=mask) + err + 1e-8)  # KL >= 0


# ================================================================== 3. terminal states and done transitions
@PROPERTY
@given(proper_models(), st.integers(0, 2**32 - 1))
def test_backup_reads_no_value_through_done_transitions_or_terminal_rows(raw, seed):
    mdp = raw.mdp()
    S, A, _ = raw.shape
    V = np.random.default_rng(seed).normal(size=S) * 1e3  # large values anywhere, terminal states included
    close(mdp.q_from_v(V), ref_q(raw, V), 1e-12)
    r, _ = ref_pairs(raw)
    close(mdp.R, r, 1e-12)
    assert np.all(mdp.R[raw.terminal] == 0)
    assert mdp.terminal[raw.terminal].all()
    # the one-step TD target of a terminated transition is its reward alone
    rew, nxt, term = np.random.default_rng(seed).normal(size=(3, 8))
    term = term > 0
    y = td_target(rew, nxt, raw.gamma, term)
    np.testing.assert_allclose(y, [rew[i] + (0.0 if term[i] else raw.gamma * nxt[i]) for i in range(8)], atol=1e-12)


@PROPERTY
@given(models_with_masks(), st.integers(0, 2**32 - 1))
def test_terminal_states_have_zero_value_in_every_solver(model, seed):
    raw, mask = model
    mdp = raw.mdp()
    S, A, _ = raw.shape
    pi = random_policy(np.random.default_rng(seed), S, A)
    T = raw.terminal
    results = [policy_evaluation(mdp, pi), policy_evaluation(mdp, pi, method="iterative"), value_iteration(mdp),
               policy_iteration(mdp), policy_iteration(mdp, evaluation="iterative")]
    for res in results:
        assert np.all(res.V[T] == 0) and np.all(res.Q[T] == 0)
    soft = soft_value_iteration(mdp, pi, 1.0)  # V = log sum_a pi(a|s) = 0 up to rounding on terminal states
    assert np.all(soft.Q[T] == 0) and np.all(np.abs(soft.V[T]) <= 1e-12)
    for res in (value_iteration(mdp, mask=mask), policy_iteration(mdp, mask=mask)):
        assert np.all(res.V[T] == 0)
        assert np.all(res.Q[T][mask[T]] == 0) and np.all(res.Q[T][~mask[T]] == -np.inf)


@PROPERTY
@given(proper_models(), st.integers(0, 2**32 - 1), st.booleans())
def test_occupancy_sums_to_the_expected_discounted_episode_length(raw, seed, pass_initial):
    """``sum_{s,a} d(s, a) = E[sum_{t < T} gamma^t]`` (at gamma = 1 the expected number of steps),
    from the expected-visits solve ``(I - C_pi^T) d = mu`` built by a loop."""
    mdp = raw.mdp()
    S, A, _ = raw.shape
    rng = np.random.default_rng(seed)
    pi = random_policy(rng, S, A)
    mu = raw.mu()
    if pass_initial:  # a different start distribution, given to occupancy directly
        mu = np.where(raw.terminal, 0.0, rng.random(S) + 0.01)
        mu /= mu.sum()
    d = occupancy(mdp, pi, initial=mu) if pass_initial else occupancy(mdp, pi)
    r, C = ref_pairs(raw)
    ones = np.ones((S, A))
    length = mu @ ref_solve(raw, pi, ones, C)  # L(s) = 1 + sum_s' C_pi(s, s') L(s')
    assert d.shape == (S, A)
    assert d.sum() == pytest.approx(length, rel=1e-9)
    # expected visits state by state, by iterating the flow mu, C_pi^T mu, ... to convergence
    visits, flow = np.zeros(S), mu.copy()
    for _ in range(100_000):
        visits += flow
        flow = np.einsum("s,sa,sat->t", flow, pi, C)  # C (built by the loop) is zero into terminal states
        if flow.sum() < 1e-13:
            break
    close(d, visits[:, None] * pi, 1e-9)


# ------------------------------------------------------------------ returns and GAE with episode ends
def ref_returns(r, gamma, done, trunc, next_v, boot):
    """``G_t`` as a forward sum over the rest of t's episode, plus the bootstrap it ends with."""
    T = len(r)
    G = np.zeros(T)
    for t in range(T):
        g, disc, j = 0.0, 1.0, t
        while True:
            g += disc * r[j]
            if done[j]:  # terminated: nothing after it (terminated wins over truncated)
                break
            if trunc[j]:  # truncated: the value of the state it was cut at
                g += disc * gamma * next_v[j]
                break
            if j == T - 1:  # the row ends inside an episode: bootstrap from V(s_T)
                g += disc * gamma * boot
                break
            disc *= gamma
            j += 1
        G[t] = g
    return G


def ref_gae(r, v, gamma, lam, done, trunc, next_v, last):
    """``A_t = sum_{j=t}^{end(t)} (gamma lam)^(j-t) delta_j`` with each ``delta_j`` read off its own episode."""
    T = len(r)
    delta = np.zeros(T)
    for j in range(T):
        if done[j]:
            after = 0.0
        elif trunc[j]:
            after = next_v[j]
        elif j == T - 1:
            after = last
        else:
            after = v[j + 1]
        delta[j] = r[j] + gamma * after - v[j]
    A = np.zeros(T)
    for t in range(T):
        total, w = 0.0, 1.0
        for j in range(t, T):
            total += w * delta[j]
            if done[j] or trunc[j]:
                break
            w *= gamma * lam
        A[t] = total
    return A


@st.composite
def batches(draw):
    B, T = draw(st.integers(1, 3)), draw(st.integers(1, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    p_done = draw(st.sampled_from([0.0, 0.2, 0.5]))
    out = dict(
        r=rng.normal(size=(B, T)), v=rng.normal(size=(B, T)), next_v=rng.normal(size=(B, T)),
        done=rng.random((B, T)) < p_done,
        trunc=(rng.random((B, T)) < 0.2) if draw(st.booleans()) else None,
        boot=rng.normal(size=B) if draw(st.booleans()) else None,
        gamma=draw(st.just(1.0) | st.just(0.0) | st.floats(0, 1)),
        lam=draw(st.just(1.0) | st.just(0.0) | st.floats(0, 1)),
        with_dones=draw(st.booleans()) or p_done > 0,
        backend=draw(st.sampled_from(["numpy", "torch"])),
    )
    if not out["with_dones"]:
        out["done"] = np.zeros((B, T), dtype=bool)
    return out


def _call(b):
    """Run rlcore's discounted_returns and gae on a batch (numpy or torch), results back as numpy."""
    conv = (lambda x: x) if b["backend"] == "numpy" else (lambda x: None if x is None else torch.as_tensor(x))
    kw = {}
    if b["trunc"] is not None:
        kw = dict(truncated=conv(b["trunc"]), next_values=conv(b["next_v"]))
    dones = conv(b["done"]) if b["with_dones"] else None
    G = discounted_returns(conv(b["r"]), b["gamma"], dones, conv(b["boot"]), **kw)
    adv, ret = gae(conv(b["r"]), conv(b["v"]), b["gamma"], b["lam"], dones, conv(b["boot"]), **kw)
    return tuple(np.asarray(x, dtype=float) for x in (G, adv, ret))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_returns_and_gae_with_episode_ends_match_per_step_loops(b):
    G, adv, ret = _call(b)
    B, T = b["r"].shape
    trunc = np.zeros((B, T), dtype=bool) if b["trunc"] is None else b["trunc"]
    boot = np.zeros(B) if b["boot"] is None else b["boot"]
    for i in range(B):
        G_ref = ref_returns(b["r"][i], b["gamma"], b["done"][i], trunc[i], b["next_v"][i], boot[i])
        A_ref = ref_gae(b["r"][i], b["v"][i], b["gamma"], b["lam"], b["done"][i], trunc[i], b["next_v"][i],
                        boot[i])
        np.testing.assert_allclose(G[i], G_ref, atol=1e-10)
        np.testing.assert_allclose(adv[i], A_ref, atol=1e-10)
        np.testing.assert_allclose(ret[i], A_ref + b["v"][i], atol=1e-10)
        if b["gamma"] == 1.0 and b["lam"] == 1.0:  # GAE(1, 1) is the Monte Carlo advantage
            np.testing.assert_allclose(adv[i], G_ref - b["v"][i], atol=1e-10)


def test_returns_at_gamma_1_restart_in_the_middle_of_a_batch():
    """A hand-worked row: two episodes, one terminated mid-row, one truncated, one left open (gamma = lam = 1)."""
    r = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
    v = np.array([[0.5, 0.5, 0.5, 0.5, 0.5, 0.5]])
    done = np.array([[False, True, False, False, False, False]])
    trunc = np.array([[False, False, False, True, False, False]])
    nv = np.array([[9.0, 9.0, 9.0, 10.0, 9.0, 9.0]])
    G = discounted_returns(r, 1.0, done, np.array([7.0]), truncated=trunc, next_values=nv)
    np.testing.assert_allclose(G, [[3.0, 2.0, 17.0, 14.0, 18.0, 13.0]])
    adv, _ = gae(r, v, 1.0, 1.0, done, np.array([7.0]), truncated=trunc, next_values=nv)
    np.testing.assert_allclose(adv, G - v)


# keep the reference generators honest: a drawn proper model really is proper for every policy
@FEW
@given(proper_models(), st.integers(0, 2**32 - 1))
def test_generator_draws_only_proper_models(raw, seed):
    S, A, _ = raw.shape
    assert contraction(replace(raw, gamma=1.0)) < 1
    assert ref_is_proper(raw, random_policy(np.random.default_rng(seed), S, A))
    assert np.allclose(raw.prob.sum(axis=2), 1.0)
