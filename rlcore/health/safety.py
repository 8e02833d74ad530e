"""Safe and fair treatment policies: readable tables, subgroups, constraints and trade-offs.

Book: *RL for large language models* companion, "Healthcare".

Works on any [`TreatmentModel`][rlcore.envs.healthcare.TreatmentModel] (teaching models,
not clinical tools). Every number is computed exactly from the model:

* [`treatment_table`][] -- state name -> recommended action, probability and value ``V^pi(s)``;
* [`subgroup_analysis`][] -- per-subgroup optimal policy and value versus one policy fitted
  to the pooled population: what one-size-fits-all costs each subgroup;
* [`constrained_policy`][] -- maximise ``v_r(pi)`` subject to ``v_c(pi) <= budget`` (expected
  discounted adverse events) by a Lagrangian bisection and an episode-level mixture of two
  deterministic policies; [`constrained_lp`][] solves the same problem as a linear
  programme over occupancy measures, for cross-checking;
* [`pareto_sweep`][] -- the outcome/burden Pareto front traced by scalarised rewards.

Throughout, ``v_x(pi) = sum_s mu_0(s) V_x^pi(s)`` with ``V_x^pi`` the discounted value of reward
component ``x`` (``outcome``, ``burden``, ``adverse``) under the model's ``gamma``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rlcore.core.mdp import TabularMDP
from rlcore.core.validation import (
    check_array,
    check_choice,
    check_instance,
    check_mask,
    check_nonnegative_int,
    check_probability_vector,
)
from rlcore.envs.healthcare import TreatmentModel, pooled_model
from rlcore.health.constraints import (  # noqa: F401 (re-exported)
    ConstrainedResult,
    LagrangianSweep,
    ParetoFront,
    constrained_lp,
    constrained_policy,
    lagrangian_sweep,
    pareto_sweep,
)
from rlcore.tabular.dp import as_policy_table, policy_evaluation, value_iteration
from rlcore.tabular.occupancy import occupancy  # noqa: F401 (re-exported)

__all__ = [
    "TreatmentRow", "TreatmentTable", "treatment_table", "occupancy", "policy_component_values",
    "SubgroupReport", "subgroup_analysis", "LagrangianSweep", "lagrangian_sweep", "ConstrainedResult",
    "constrained_policy", "constrained_lp", "ParetoFront", "pareto_sweep", "mask_violations",
]


# ----------------------------------------------------------------------- basics
def policy_component_values(model: TreatmentModel, pi: Any) -> dict[str, float]:
    """``{"reward", "outcome", "burden", "adverse"}``: exact discounted totals of ``pi`` from ``mu_0``."""
    d = occupancy(check_instance(model, "model", TreatmentModel).mdp, pi)
    out = {"reward": float((d * model.mdp.R).sum())}
    for comp in ("outcome", "burden", "adverse"):
        out[comp] = float((d * model.expected(comp)).sum())
    return out


def mask_violations(policy: Any, mask: np.ndarray, terminal: np.ndarray | None = None) -> int:
    """Number of (non-terminal) states in which ``policy`` puts probability on a masked action."""
    S, A = check_array(mask, "mask", ndim=2).shape
    mask = check_mask(mask, S, A)
    if np.ndim(policy) == 1:
        policy = check_array(policy, "policy", shape=(S,), integer=True)
        if policy.min() < 0 or policy.max() >= A:
            raise ValueError(f"policy actions must lie in [0, {A - 1}], got values in [{policy.min()}, {policy.max()}]")
        bad = ~mask[np.arange(S), policy]
    else:
        bad = ((check_array(policy, "policy", shape=(S, A)) > 0) & ~mask).any(axis=1)
    if terminal is not None:
        bad &= ~check_array(terminal, "terminal", shape=(S,)).astype(bool)
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

    ``str(table)`` gives aligned text; [`to_markdown`][] a Markdown table.
    """

    rows: tuple[TreatmentRow, ...]
    title: str = ""
    value_label: str = "expected value"

    def to_markdown(self) -> str:
        """The same table in Markdown: one row per state, value column labelled ``value_label``."""
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
    and the exact value ``V^pi(s)`` (solved by [`rlcore.tabular.dp.policy_evaluation`][] unless ``V`` is given).

    ``states``: indices to list (default: every non-terminal state). ``sort_by``: ``"index"``,
    ``"initial"`` (most common admission states first) or ``"value"`` (worst first).
    """
    mdp = model.mdp if isinstance(model, TreatmentModel) else check_instance(
        model, "model", TabularMDP, "a TreatmentModel or a TabularMDP")
    check_choice(sort_by, "sort_by", ("index", "initial", "value"))
    limit = check_nonnegative_int(limit, "limit", none=True)
    check_instance(title, "title", str)
    table = as_policy_table(mdp, pi)
    V = policy_evaluation(mdp, table).V if V is None else check_array(V, "V", shape=(mdp.n_states,))
    if V.shape != (mdp.n_states,):
        raise ValueError(f"V must have shape ({mdp.n_states},), got {V.shape}")
    if states is None:
        idx = np.flatnonzero(~mdp.terminal)
    else:
        idx = check_array(states, "states", integer=True, allow_empty=True).ravel()
        if idx.size and (idx.min() < 0 or idx.max() >= mdp.n_states):
            raise ValueError(f"states must be indices in [0, {mdp.n_states}), got values in [{idx.min()}, {idx.max()}]")
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
    subgroups
        Names of the subgroups.
    weights
        Population shares ``w_g``.
    optimal_value
        ``v_g(pi_g*)``, each subgroup's own optimal policy (its own mask).
    pooled_value
        ``v_g(pi_pool)``, the policy optimal for the pooled model.
    regret
        ``optimal_value - pooled_value >= 0``.
    relative_regret
        ``regret / |optimal_value|``.
    agreement
        Occupancy-weighted fraction of decisions where ``pi_pool`` and ``pi_g*`` agree.
    optimal_policies
        ``[G, S]``, each subgroup's own optimal policy.
    pooled_policy
        ``[S]``, the pooled policy.
    pooled_mask_fallback
        States where no action was safe for every subgroup (pooled mask relaxed).
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
    optimal in [`pooled_model`][rlcore.envs.healthcare.pooled_model] (mixture dynamics, intersected
    masks). The regret ``v_g(pi_g*) - v_g(pi_pool)`` is each subgroup's price of a single policy.
    """
    check_instance(models, "models", (list, tuple), "a list of TreatmentModel")
    for m in models:
        check_instance(m, "models", TreatmentModel, "a list of TreatmentModel")
    if weights is not None:
        check_probability_vector(check_array(weights, "weights", ndim=1, finite=False), len(models), "weights")
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


