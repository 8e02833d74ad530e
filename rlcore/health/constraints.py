"""Treatment under a budget: Lagrangian relaxation, constrained policies, and the Pareto front.

Book: *Healthcare*, "Safety constraints" and "Multiple objectives".

* [`lagrangian_front`][] -- on any MDP with a reward ``R`` and a cost ``C``, the deterministic
  optima of ``R - lambda C`` over a grid of multipliers, each evaluated exactly;
  [`lagrangian_sweep`][] is the same for a treatment model's adverse events;
* [`constrained_policy`][] -- maximise ``v_r(pi)`` subject to ``v_c(pi) <= budget`` by a Lagrangian
  bisection and an episode-level mixture of two deterministic policies; [`constrained_lp`][]
  solves the same problem as a linear programme over occupancy measures, for cross-checking;
* [`pareto_sweep`][] -- the outcome/burden front traced by scalarised rewards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rlcore.core.mdp import TabularMDP
from rlcore.core.validation import (
    check_array,
    check_instance,
    check_mask,
    check_nonnegative_int,
    check_positive_int,
    check_real,
)
from rlcore.envs.healthcare import TreatmentModel
from rlcore.tabular.dp import value_iteration
from rlcore.tabular.occupancy import occupancy

__all__ = ["LagrangianSweep", "lagrangian_front", "lagrangian_sweep", "ConstrainedResult", "constrained_policy",
           "constrained_lp", "ParetoFront", "pareto_sweep"]


# ----------------------------------------------------------------- constraints
@dataclass(frozen=True)
class LagrangianSweep:
    """Deterministic policies ``pi_lambda = argmax_pi v_r(pi) - lambda v_c(pi)`` over a grid of ``lambda``.

    ``values[i] = v_r(pi_{lambdas[i]})``, ``costs[i] = v_c(pi_{lambdas[i]})`` (exact), ``policies`` ``[n, S]``.
    """

    lambdas: np.ndarray
    values: np.ndarray
    costs: np.ndarray
    policies: np.ndarray = field(repr=False)


def _lagrangian_policy(model: TreatmentModel, lam: float) -> tuple[np.ndarray, float, float]:
    front = lagrangian_front(model.mdp, model.adverse, [lam], mask=model.mask)
    return front.policies[0], float(front.values[0]), float(front.costs[0])


def _infinite_horizon(mdp: TabularMDP, fn: str) -> None:
    """Refuse an MDP with a task horizon: the optima below are stationary, which a finite horizon breaks."""
    if mdp.horizon is not None:
        raise ValueError(f"{fn} solves the discounted task without a horizon over stationary policies; this MDP "
                         f"has horizon {mdp.horizon}, whose constrained optimum may depend on the step (pass "
                         f"mdp.with_horizon(None) to solve the infinite-horizon task)")


def _check_lambdas(lambdas: Any) -> np.ndarray:
    if lambdas is None:
        return np.concatenate([[0.0], np.logspace(-2, 2, 24)])
    lambdas = check_array(lambdas, "lambdas", ndim=1)
    if (lambdas < 0).any():
        raise ValueError(f"lambdas must be a 1-D array of finite numbers >= 0, got {lambdas}")
    return lambdas


def lagrangian_front(mdp: TabularMDP, cost: Any, lambdas: Any = None, *, mask: Any = None,
                     tol: float = 1e-11) -> LagrangianSweep:
    """Deterministic optima of ``R - lambda C`` for each ``lambda``, with their exact ``v_R`` and ``v_C``.

    ``mdp.reward`` is the benefit ``R``; ``cost`` is ``C`` per transition (``[S, A, K]``,
    aligned with ``mdp.prob``) or per state-action (``[S, A]``). Each ``pi_lambda`` comes
    from value iteration on ``R - lambda C`` (restricted to ``mask``); then
    ``v_x(pi) = sum_{s,a} d^pi(s, a) x(s, a)`` with the discounted occupancy ``d^pi``
    from ``mdp.initial``. Default grid: 0 and 24 log-spaced values in ``[0.01, 100]``.
    """
    _infinite_horizon(check_instance(mdp, "mdp", TabularMDP), "lagrangian_front")
    lambdas = _check_lambdas(lambdas)
    check_real(tol, "tol", open_low=True)
    check_mask(mask, mdp.n_states, mdp.n_actions)
    C = check_array(cost, "cost")
    if C.shape == (mdp.n_states, mdp.n_actions):
        C = np.broadcast_to(C[:, :, None], mdp.prob.shape)
    if C.shape != mdp.prob.shape:
        raise ValueError(f"cost must have shape [S, A] = {mdp.prob.shape[:2]} or [S, A, K] = {mdp.prob.shape}, "
                         f"got {C.shape}")
    C_sa = np.einsum("sak,sak->sa", mdp.prob, C)
    out = []
    for lam in lambdas:
        pol = value_iteration(mdp.with_reward(mdp.reward - lam * C), mask=mask, tol=tol).policy
        d = occupancy(mdp, pol)
        out.append((pol, float((d * mdp.R).sum()), float((d * C_sa).sum())))
    return LagrangianSweep(lambdas, np.array([o[1] for o in out]), np.array([o[2] for o in out]),
                           np.array([o[0] for o in out]))


def lagrangian_sweep(model: TreatmentModel, lambdas: Any = None) -> LagrangianSweep:
    """[`lagrangian_front`][] for a treatment model: ``R`` its reward, ``C`` its adverse events, masked.

    ``v_c`` and ``v_r`` are non-increasing in ``lambda``: the sweep traces the
    upper-left boundary of achievable (cost, value) pairs.
    """
    check_instance(model, "model", TreatmentModel)
    return lagrangian_front(model.mdp, model.adverse, lambdas, mask=model.mask)


@dataclass(frozen=True)
class ConstrainedResult:
    """Solution of ``max_pi v_r(pi)  s.t.  v_c(pi) <= budget`` (``v_c`` = expected discounted adverse events).

    The optimal policy is an *episode-level* mixture: at admission pick ``policy_a`` with
    probability ``mix`` and ``policy_b`` otherwise, then follow it throughout. Values and costs
    are then linear in ``mix``: ``v = mix v(a) + (1 - mix) v(b)``.

    Attributes
    ----------
    budget
        The bound.
    lam
        The Lagrange multiplier ``lambda*`` found.
    policy_a, policy_b
        ``[S]`` deterministic policies (``a`` costs more than the budget, ``b`` not).
    mix
        Probability of ``policy_a``.
    value, cost
        Exact ``v_r`` and ``v_c`` of the mixture (``cost == budget`` when the bound binds).
    value_a, value_b, cost_a, cost_b
        The two policies' exact values and costs.
    binding
        Whether the constraint is active (otherwise ``policy_a == policy_b`` is unconstrained optimal).
    iterations
        Breakpoint-search steps after the bracket was found.
    """

    budget: float
    lam: float
    policy_a: np.ndarray
    policy_b: np.ndarray
    mix: float
    value: float
    cost: float
    value_a: float
    value_b: float
    cost_a: float
    cost_b: float
    binding: bool
    iterations: int

    def sample_policy(self, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """Draw the deterministic policy one patient (episode) follows: ``policy_a`` w.p. ``mix``."""
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(
            check_nonnegative_int(rng, "rng", none=True))
        return self.policy_a if rng.random() < self.mix else self.policy_b


def constrained_policy(model: TreatmentModel, budget: float, *, lam_max: float = 1e6,
                       rel_tol: float = 1e-9, max_iterations: int = 100) -> ConstrainedResult:
    """Best policy whose expected discounted adverse events stay within ``budget``.

    Lagrangian relaxation: ``pi_lambda = argmax v_r - lambda v_c`` (value iteration on reward
    ``r - lambda c``). ``v_c(pi_lambda)`` falls as ``lambda`` grows; bisection brackets the
    multiplier ``lambda*`` where it crosses the budget, between ``pi_a`` (``lambda`` just below,
    ``v_c > budget``) and ``pi_b`` (just above, ``v_c <= budget``); the bracket is narrowed at
    the ``lambda`` where the two policies' Lagrangians ``v_r - lambda v_c`` are equal, until no
    policy beats them there. Both are then optimal for the Lagrangian at ``lambda*``, and the
    mixture with
    ``mix = (budget - v_c(pi_b)) / (v_c(pi_a) - v_c(pi_b))`` meets the bound exactly and is
    optimal for the constrained problem (Altman, 1999; cross-check with [`constrained_lp`][]).

    Raises ``ValueError`` if no policy can meet the budget (it is below the minimum achievable
    ``v_c``).
    """
    _infinite_horizon(check_instance(model, "model", TreatmentModel).mdp, "constrained_policy")
    budget = check_real(budget, "budget", low=-np.inf)
    check_real(lam_max, "lam_max", open_low=True)
    check_real(rel_tol, "rel_tol", open_low=True)
    max_iterations = check_positive_int(max_iterations, "max_iterations")
    pol0, v0, c0 = _lagrangian_policy(model, 0.0)
    if c0 <= budget:
        return ConstrainedResult(budget, 0.0, pol0, pol0, 1.0, v0, c0, v0, v0, c0, c0, False, 0)
    # Lowest achievable cost (lexicographic: among the least-harmful, the best outcome).
    least_harm = model.reward_mdp(w_outcome=0.0, w_burden=0.0, w_adverse=1.0)   # reward = -adverse
    c_min = -float(model.mdp.initial @ value_iteration(least_harm, mask=model.mask, tol=1e-12).V)
    if budget < c_min - 1e-9:
        raise ValueError(f"budget {budget:.6g} is below the smallest achievable expected discounted number of "
                         f"{model.adverse_name}s, {c_min:.6g}: raise the budget to at least that")
    lo, hi = 0.0, 1.0
    pol_lo, v_lo, c_lo = pol0, v0, c0
    while True:
        pol_hi, v_hi, c_hi = _lagrangian_policy(model, hi)
        if c_hi <= budget + 1e-12:
            break
        lo, pol_lo, v_lo, c_lo = hi, pol_hi, v_hi, c_hi
        hi *= 4
        if hi > lam_max:
            raise ValueError(f"no lambda <= lam_max = {lam_max:g} meets budget {budget:.6g} (the budget is within "
                             f"{abs(budget - c_min):.2g} of the minimum {c_min:.6g}); raise lam_max or the budget")
    # Breakpoint search: the Lagrangian lines of pi_lo and pi_hi, L(lambda) = v - lambda c, cross at
    # lambda_x = (v_lo - v_hi) / (c_lo - c_hi). If nothing beats them there, both are optimal at
    # lambda* = lambda_x; otherwise the better policy replaces the bracket end on its side of the budget.
    it = 0
    lam = hi
    for it in range(1, max_iterations + 1):  # noqa: B007
        lam = (v_lo - v_hi) / (c_lo - c_hi) if c_lo > c_hi else hi
        lam = float(np.clip(lam, lo, hi))
        pol, v, c = _lagrangian_policy(model, lam)
        best = max(v_lo - lam * c_lo, v_hi - lam * c_hi)
        if v - lam * c <= best + rel_tol * max(1.0, abs(best)) or hi - lo <= rel_tol * max(1.0, hi):
            break
        if c > budget:
            lo, pol_lo, v_lo, c_lo = lam, pol, v, c
        else:
            hi, pol_hi, v_hi, c_hi = lam, pol, v, c
    mix = (budget - c_hi) / (c_lo - c_hi) if c_lo > c_hi else 0.0
    mix = float(np.clip(mix, 0.0, 1.0))
    return ConstrainedResult(budget, lam, pol_lo, pol_hi, mix, mix * v_lo + (1 - mix) * v_hi,
                             mix * c_lo + (1 - mix) * c_hi, v_lo, v_hi, c_lo, c_hi, True, it)


def constrained_lp(model: TreatmentModel, budget: float) -> tuple[float, float, np.ndarray]:
    """The constrained MDP as a linear programme over discounted occupancies (Altman, 1999).

    ``max_d sum_{s,a} d(s,a) R(s,a)`` s.t. ``sum_a d(s',a) - gamma sum_{s,a} P(s'|s,a)(1 - done) d(s,a)
    = mu_0(s')`` for all ``s'``, ``sum_{s,a} d(s,a) c(s,a) <= budget``, ``d >= 0``, ``d = 0`` on masked
    pairs. Returns ``(value, cost, pi)`` with the stationary stochastic policy
    ``pi(a|s) = d(s,a) / sum_a' d(s,a')`` (uniform over allowed actions where ``d(s) = 0``).
    """
    mdp = check_instance(model, "model", TreatmentModel).mdp
    budget = check_real(budget, "budget", low=-np.inf)
    import scipy.sparse as sp
    from scipy.optimize import linprog

    _infinite_horizon(mdp, "constrained_lp")
    S, A, K = mdp.prob.shape
    cont = mdp.gamma * mdp.prob * ~mdp.done
    cols = np.repeat(np.arange(S * A), K)
    C = sp.csr_matrix((cont.ravel(), (cols, mdp.next_state.ravel())), shape=(S * A, S))
    E = sp.csr_matrix((np.ones(S * A), (np.repeat(np.arange(S), A), np.arange(S * A))), shape=(S, S * A))
    A_eq = (E - C.T).tocsr()
    c_sa = model.expected("adverse").ravel()
    allowed = model.mask.ravel()
    bounds = np.where(allowed[:, None], [0.0, np.inf], [0.0, 0.0])
    res = linprog(-mdp.R.ravel(), A_ub=c_sa[None, :], b_ub=[budget], A_eq=A_eq, b_eq=mdp.initial,
                  bounds=bounds, method="highs")
    if res.status != 0:
        raise ValueError(f"the constrained LP has no solution for budget {budget:.6g}: {res.message}")
    d = np.maximum(res.x, 0.0).reshape(S, A)
    tot = d.sum(axis=1, keepdims=True)
    pi = np.where(tot > 1e-14, d / np.where(tot > 1e-14, tot, 1), model.mask / model.mask.sum(axis=1, keepdims=True))
    return float(-res.fun), float(c_sa @ d.ravel()), pi


# ------------------------------------------------------------- multi-objective
@dataclass(frozen=True)
class ParetoFront:
    """Policies optimal for ``r_w = (1 - w) outcome - w burden`` over a grid of weights ``w``.

    ``outcome[i]``, ``burden[i]``: exact discounted totals of ``policies[i]`` from ``mu_0``;
    ``pareto[i]``: not dominated by another point (no other has outcome >= and burden <=, one strictly).
    """

    weights: np.ndarray
    outcome: np.ndarray
    burden: np.ndarray
    policies: np.ndarray = field(repr=False)
    pareto: np.ndarray = field(repr=False)


def pareto_sweep(model: TreatmentModel, weights: Any = None) -> ParetoFront:
    """Trace the outcome/burden trade-off by linear scalarisation.

    For each ``w in [0, 1]`` solve ``max_pi v_{(1-w) outcome - w burden}(pi)`` by value iteration
    (masked), then evaluate the policy's outcome and burden separately. Scalarisation finds the
    supported (convex-hull) points of the front; mixtures of neighbouring policies fill the
    segments between them.
    """
    _infinite_horizon(check_instance(model, "model", TreatmentModel).mdp, "pareto_sweep")
    weights = np.linspace(0.0, 1.0, 21) if weights is None else check_array(weights, "weights", ndim=1)
    if ((weights < 0) | (weights > 1)).any():
        raise ValueError("weights must be a 1-D array of values in [0, 1]")
    outs, burs, pols = [], [], []
    E_out, E_bur = model.expected("outcome"), model.expected("burden")
    for w in weights:
        mdp = model.reward_mdp(w_outcome=1 - w, w_burden=w)
        pol = value_iteration(mdp, mask=model.mask, tol=1e-10).policy
        d = occupancy(model.mdp, pol)
        outs.append(float((d * E_out).sum()))
        burs.append(float((d * E_bur).sum()))
        pols.append(pol)
    o, b = np.array(outs), np.array(burs)
    dominated = ((o[None, :] >= o[:, None] - 1e-12) & (b[None, :] <= b[:, None] + 1e-12)
                 & ((o[None, :] > o[:, None] + 1e-9) | (b[None, :] < b[:, None] - 1e-9))).any(axis=1)
    return ParetoFront(weights, o, b, np.array(pols), ~dominated)
