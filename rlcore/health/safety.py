"""Safe and fair treatment policies: readable tables, subgroups, constraints and trade-offs.

Book: *RL for large language models* companion, "Healthcare".

Works on any :class:`~rlcore.envs.healthcare.TreatmentModel` (teaching models,
not clinical tools). Every number is computed exactly from the model:

* :func:`treatment_table` -- state name -> recommended action, probability and value ``V^pi(s)``;
* :func:`subgroup_analysis` -- per-subgroup optimal policy and value versus one policy fitted
  to the pooled population: what one-size-fits-all costs each subgroup;
* :func:`constrained_policy` -- maximise ``v_r(pi)`` subject to ``v_c(pi) <= budget`` (expected
  discounted adverse events) by a Lagrangian bisection and an episode-level mixture of two
  deterministic policies; :func:`constrained_lp` solves the same problem as a linear
  programme over occupancy measures, for cross-checking;
* :func:`pareto_sweep` -- the outcome/burden Pareto front traced by scalarised rewards.

Throughout, ``v_x(pi) = sum_s mu_0(s) V_x^pi(s)`` with ``V_x^pi`` the discounted value of reward
component ``x`` (``outcome``, ``burden``, ``adverse``) under the model's ``gamma``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rlcore.core.mdp import TabularMDP
from rlcore.envs.healthcare import TreatmentModel, pooled_model
from rlcore.tabular.dp import as_policy_table, policy_evaluation, value_iteration

__all__ = [
    "TreatmentRow", "TreatmentTable", "treatment_table", "occupancy", "policy_component_values",
    "SubgroupReport", "subgroup_analysis", "LagrangianSweep", "lagrangian_sweep", "ConstrainedResult",
    "constrained_policy", "constrained_lp", "ParetoFront", "pareto_sweep", "mask_violations",
]


# ----------------------------------------------------------------------- basics
def occupancy(mdp: TabularMDP, pi: Any, initial: Any = None) -> np.ndarray:
    """Discounted state-action occupancy ``d(s, a) = sum_t gamma^t P(s_t = s, a_t = a)``, ``[S, A]``.

    Solves ``d_S = mu_0 + gamma (P^pi)^T d_S`` (with terminating transitions removed) and sets
    ``d(s, a) = d_S(s) pi(a|s)``; then ``v(pi) = sum_{s,a} d(s, a) R(s, a)`` for any reward.
    """
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    table = as_policy_table(mdp, pi)
    mu = mdp.initial if initial is None else np.asarray(initial, dtype=float)
    M = mdp.policy_matrix(table)
    d_s = spla.spsolve((sp.identity(mdp.n_states, format="csc") - M.T).tocsc(), mu)
    return np.atleast_1d(d_s)[:, None] * table


def policy_component_values(model: TreatmentModel, pi: Any) -> dict[str, float]:
    """``{"reward", "outcome", "burden", "adverse"}``: exact discounted totals of ``pi`` from ``mu_0``."""
    d = occupancy(model.mdp, pi)
    out = {"reward": float((d * model.mdp.R).sum())}
    for comp in ("outcome", "burden", "adverse"):
        out[comp] = float((d * model.expected(comp)).sum())
    return out


def mask_violations(policy: Any, mask: np.ndarray, terminal: np.ndarray | None = None) -> int:
    """Number of (non-terminal) states in which ``policy`` puts probability on a masked action."""
    mask = np.asarray(mask, dtype=bool)
    policy = np.asarray(policy)
    if policy.ndim == 1:
        bad = ~mask[np.arange(mask.shape[0]), policy]
    else:
        bad = ((policy > 0) & ~mask).any(axis=1)
    if terminal is not None:
        bad &= ~np.asarray(terminal, dtype=bool)
    return int(bad.sum())


# -------------------------------------------------------------- treatment table
@dataclass(frozen=True)
class TreatmentRow:
    """One line of a treatment table."""

    state: int
    state_name: str
    action: int
    action_name: str
    probability: float
    value: float


@dataclass(frozen=True)
class TreatmentTable:
    """A policy as a clinician would read it: ``state -> recommended action (probability), value``.

    ``str(table)`` gives aligned text; :meth:`to_markdown` a Markdown table.
    """

    rows: tuple[TreatmentRow, ...]
    title: str = ""
    value_label: str = "expected value"

    def to_markdown(self) -> str:
        lines = [f"| state | recommended action | probability | {self.value_label} |", "|---|---|---:|---:|"]
        lines += [f"| {r.state_name} | {r.action_name} | {r.probability:.2f} | {r.value:.3f} |" for r in self.rows]
        return "\n".join(lines)

    def __str__(self) -> str:
        w1 = max([len("state")] + [len(r.state_name) for r in self.rows])
        w2 = max([len("recommended action")] + [len(r.action_name) for r in self.rows])
        head = f"{'state':<{w1}}  {'recommended action':<{w2}}  {'prob':>5}  {self.value_label}"
        lines = ([self.title] if self.title else []) + [head, "-" * len(head)]
        lines += [f"{r.state_name:<{w1}}  {r.action_name:<{w2}}  {r.probability:5.2f}  {r.value:.3f}"
                  for r in self.rows]
        return "\n".join(lines)

    def __len__(self) -> int:
        return len(self.rows)


def treatment_table(model: TreatmentModel | TabularMDP, pi: Any, *, states: Any = None, V: Any = None,
                    sort_by: str = "index", limit: int | None = None, title: str = "") -> TreatmentTable:
    """Readable table of a policy: for each state its most likely action, that action's probability
    and the exact value ``V^pi(s)`` (solved by :func:`rlcore.tabular.dp.policy_evaluation` unless ``V`` is given).

    ``states``: indices to list (default: every non-terminal state). ``sort_by``: ``"index"``,
    ``"initial"`` (most common admission states first) or ``"value"`` (worst first).
    """
    mdp = model.mdp if isinstance(model, TreatmentModel) else model
    table = as_policy_table(mdp, pi)
    V = policy_evaluation(mdp, table).V if V is None else np.asarray(V, dtype=float)
    if V.shape != (mdp.n_states,):
        raise ValueError(f"V must have shape ({mdp.n_states},), got {V.shape}")
    idx = np.flatnonzero(~mdp.terminal) if states is None else np.asarray(states, dtype=int).ravel()
    if sort_by == "initial":
        idx = idx[np.argsort(-mdp.initial[idx], kind="stable")]
    elif sort_by == "value":
        idx = idx[np.argsort(V[idx], kind="stable")]
    elif sort_by != "index":
        raise ValueError(f"sort_by must be 'index', 'initial' or 'value', got {sort_by!r}")
    if limit is not None:
        idx = idx[:limit]
    act = table.argmax(axis=1)
    rows = tuple(TreatmentRow(int(s), mdp.state_names[s], int(act[s]), mdp.action_names[act[s]],
                              float(table[s, act[s]]), float(V[s])) for s in idx)
    return TreatmentTable(rows, title)


# ------------------------------------------------------------------- subgroups
@dataclass(frozen=True)
class SubgroupReport:
    """What a single pooled policy costs each subgroup (all values exact, discounted, from ``mu_0^g``).

    Attributes
    ----------
    subgroups : names; weights : population shares ``w_g``.
    optimal_value : ``v_g(pi_g*)``, each subgroup's own optimal policy (its own mask).
    pooled_value : ``v_g(pi_pool)``, the policy optimal for the pooled model.
    regret : ``optimal_value - pooled_value >= 0``; relative_regret : regret / |optimal_value|.
    agreement : occupancy-weighted fraction of decisions where ``pi_pool`` and ``pi_g*`` agree.
    optimal_policies : ``[G, S]``; pooled_policy : ``[S]``.
    pooled_mask_fallback : states where no action was safe for every subgroup (pooled mask relaxed).
    """

    subgroups: tuple[str, ...]
    weights: np.ndarray
    optimal_value: np.ndarray
    pooled_value: np.ndarray
    regret: np.ndarray
    relative_regret: np.ndarray
    agreement: np.ndarray
    optimal_policies: np.ndarray = field(repr=False)
    pooled_policy: np.ndarray = field(repr=False)
    pooled_mask_fallback: int = 0

    @property
    def population_regret(self) -> float:
        """``sum_g w_g regret_g``: the average cost of one-size-fits-all."""
        return float(self.weights @ self.regret)

    def __str__(self) -> str:
        head = f"{'subgroup':<12} {'share':>6} {'optimal':>9} {'pooled':>9} {'regret':>8} {'rel.':>6} {'agree':>6}"
        lines = [head, "-" * len(head)]
        for i, g in enumerate(self.subgroups):
            lines.append(f"{g:<12} {self.weights[i]:6.2f} {self.optimal_value[i]:9.3f} {self.pooled_value[i]:9.3f} "
                         f"{self.regret[i]:8.3f} {self.relative_regret[i]:6.1%} {self.agreement[i]:6.1%}")
        return "\n".join(lines)


def subgroup_analysis(models: list[TreatmentModel], weights: Any = None) -> SubgroupReport:
    """Per-subgroup optimal policies versus one policy for the pooled population.

    ``pi_g* = argmax v_g`` (value iteration in subgroup ``g`` with its mask); ``pi_pool`` is
    optimal in :func:`~rlcore.envs.healthcare.pooled_model` (mixture dynamics, intersected
    masks). The regret ``v_g(pi_g*) - v_g(pi_pool)`` is each subgroup's price of a single policy.
    """
    pooled = pooled_model(models, weights)
    w = np.full(len(models), 1 / len(models)) if weights is None else np.asarray(weights, dtype=float)
    pool_pi = value_iteration(pooled.mdp, mask=pooled.mask, tol=1e-10).policy
    fallback = int((~np.logical_and.reduce([m.mask for m in models]).any(axis=1)).sum())
    opt_v, pool_v, agree, pols = [], [], [], []
    for m in models:
        res = value_iteration(m.mdp, mask=m.mask, tol=1e-10)
        d = occupancy(m.mdp, res.policy).sum(axis=1)
        d = d * ~m.mdp.terminal
        opt_v.append(float(m.mdp.initial @ policy_evaluation(m.mdp, res.policy).V))
        pool_v.append(float(m.mdp.initial @ policy_evaluation(m.mdp, pool_pi).V))
        agree.append(float(d @ (res.policy == pool_pi) / d.sum()))
        pols.append(res.policy)
    opt_v, pool_v = np.array(opt_v), np.array(pool_v)
    regret = opt_v - pool_v
    return SubgroupReport(tuple(m.subgroup for m in models), w, opt_v, pool_v, regret,
                          regret / np.maximum(np.abs(opt_v), 1e-12), np.array(agree), np.array(pols),
                          pool_pi, fallback)


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
    mdp = model.reward_mdp(w_adverse=lam)
    pol = value_iteration(mdp, mask=model.mask, tol=1e-11).policy
    d = occupancy(model.mdp, pol)
    return pol, float((d * model.mdp.R).sum()), float((d * model.expected("adverse")).sum())


def lagrangian_sweep(model: TreatmentModel, lambdas: Any = None) -> LagrangianSweep:
    """Solve ``max_pi v_r(pi) - lambda v_c(pi)`` for each ``lambda`` (reward ``r - lambda c`` in value iteration).

    ``v_c`` is non-increasing and ``v_r`` non-increasing in ``lambda``: the sweep traces the
    upper-left boundary of achievable (cost, value) pairs. Default grid: 0 and 24 log-spaced values.
    """
    lambdas = np.concatenate([[0.0], np.logspace(-2, 2, 24)]) if lambdas is None else np.asarray(lambdas, float)
    if (lambdas < 0).any():
        raise ValueError("lambdas must be >= 0")
    out = [_lagrangian_policy(model, float(lam)) for lam in lambdas]
    return LagrangianSweep(lambdas, np.array([o[1] for o in out]), np.array([o[2] for o in out]),
                           np.array([o[0] for o in out]))


@dataclass(frozen=True)
class ConstrainedResult:
    """Solution of ``max_pi v_r(pi)  s.t.  v_c(pi) <= budget`` (``v_c`` = expected discounted adverse events).

    The optimal policy is an *episode-level* mixture: at admission pick ``policy_a`` with
    probability ``mix`` and ``policy_b`` otherwise, then follow it throughout. Values and costs
    are then linear in ``mix``: ``v = mix v(a) + (1 - mix) v(b)``.

    Attributes
    ----------
    budget, lam : the bound and the Lagrange multiplier ``lambda*`` found.
    policy_a, policy_b : ``[S]`` deterministic policies (``a`` costs more than the budget, ``b`` not).
    mix : probability of ``policy_a``.
    value, cost : exact ``v_r`` and ``v_c`` of the mixture (``cost == budget`` when the bound binds).
    value_a, value_b, cost_a, cost_b : the two policies' exact values and costs.
    binding : whether the constraint is active (otherwise ``policy_a == policy_b`` is unconstrained optimal).
    iterations : breakpoint-search steps after the bracket was found.
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
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
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
    optimal for the constrained problem (Altman, 1999; cross-check with :func:`constrained_lp`).

    Raises ``ValueError`` if no policy can meet the budget (it is below the minimum achievable
    ``v_c``).
    """
    budget = float(budget)
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
    import scipy.sparse as sp
    from scipy.optimize import linprog

    mdp = model.mdp
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
    weights = np.linspace(0.0, 1.0, 21) if weights is None else np.asarray(weights, dtype=float)
    if weights.ndim != 1 or ((weights < 0) | (weights > 1)).any():
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
