"""Figures for the healthcare case study. They draw results; they never run algorithms.

Every function takes a result dataclass from [`rlcore.health.safety`][] or
[`rlcore.health.offline`][] and returns a ``matplotlib.figure.Figure`` (never calling
``plt.show()``). Teaching models, not clinical tools: titles say so where space allows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rlcore.core.validation import check_array, check_instance, check_real
from rlcore.envs.treatment import TreatmentModel
from rlcore.health.constraints import ConstrainedResult, LagrangianSweep, ParetoFront
from rlcore.health.ope import OPEEstimate
from rlcore.health.ope_study import OPEConvergence, TrapResult
from rlcore.health.safety import SubgroupReport
from rlcore.plots.tabular import new_axes

__all__ = ["plot_subgroups", "plot_tradeoff", "plot_pareto", "plot_ope_convergence", "plot_ope_estimates",
           "plot_trap", "plot_chronic_policy"]


def _result(obj: Any, name: str, cls: type, fields: tuple[str, ...], n: int | None = None) -> int:
    """``obj`` is a ``cls`` whose ``fields`` are finite 1-d arrays of one non-empty length (``n`` if given)."""
    check_instance(obj, name, cls)
    for f in fields:
        arr = check_array(getattr(obj, f), f"{name}.{f}", ndim=1, shape=None if n is None else (n,))
        n = len(arr)
    return n


def _numbers(obj: Any, name: str, fields: tuple[str, ...], nan: bool = False) -> None:
    """Each field a finite number (or NaN, with ``nan``: an estimate without support)."""
    for f in fields:
        v = getattr(obj, f)
        if not (nan and isinstance(v, (float, np.floating)) and np.isnan(v)):
            check_real(v, f"{name}.{f}", low=-math.inf, open_low=True)


def plot_subgroups(report: SubgroupReport, *, ax=None, title: str | None = None) -> Figure:
    """Grouped bars: each subgroup's optimal value beside the value of the pooled policy, regret annotated."""
    _result(report, "report", SubgroupReport, ("weights", "optimal_value", "pooled_value", "regret"),
            len(report.subgroups) if isinstance(report, SubgroupReport) else None)
    fig, ax = new_axes(ax, (6, 3.5))
    x = np.arange(len(report.subgroups))
    ax.bar(x - 0.2, report.optimal_value, 0.4, label="own optimal policy", color="tab:blue")
    ax.bar(x + 0.2, report.pooled_value, 0.4, label="one pooled policy", color="tab:orange")
    for i in x:
        top = max(report.optimal_value[i], report.pooled_value[i])
        ax.annotate(f"regret {report.regret[i]:.3g}", (i, top), ha="center", va="bottom", fontsize=8,
                    xytext=(0, 3), textcoords="offset points")
    ax.set_xticks(x, [f"{g}\n({w:.0%})" for g, w in zip(report.subgroups, report.weights)])
    ax.set_ylabel("exact value from admission")
    ax.axhline(0, color="grey", lw=0.5)
    ax.legend(fontsize=8)
    ax.set_title(title or "What one policy for everybody costs each subgroup")
    return fig


def plot_tradeoff(sweep: LagrangianSweep, constrained: ConstrainedResult | None = None, *, ax=None,
                  cost_label: str = "expected adverse events (discounted)", title: str | None = None) -> Figure:
    """Value versus expected adverse events of the Lagrangian policies, with the budget and the mixture."""
    _result(sweep, "sweep", LagrangianSweep, ("costs", "values"))
    if constrained is not None:
        check_instance(constrained, "constrained", ConstrainedResult, "a ConstrainedResult or None")
    fig, ax = new_axes(ax, (6, 4))
    order = np.argsort(sweep.costs)
    ax.plot(sweep.costs[order], sweep.values[order], "o-", color="tab:blue", ms=4,
            label=r"deterministic $\pi_\lambda$")
    if constrained is not None:
        ax.axvline(constrained.budget, color="tab:red", ls="--", lw=1, label="budget")
        ax.plot([constrained.cost_b, constrained.cost_a], [constrained.value_b, constrained.value_a], ":",
                color="tab:green")
        ax.plot(constrained.cost, constrained.value, "*", color="tab:green", ms=14,
                label=f"mixture ({constrained.mix:.2f} / {1 - constrained.mix:.2f})")
    ax.set_xlabel(cost_label)
    ax.set_ylabel("expected reward (exact)")
    ax.legend(fontsize=8)
    ax.set_title(title or "Safety constraint: reward against adverse events")
    return fig


def plot_pareto(front: ParetoFront, *, ax=None, title: str | None = None) -> Figure:
    """Outcome against burden of the scalarised optima; Pareto-optimal points joined, labelled by weight."""
    _result(front, "front", ParetoFront, ("weights", "outcome", "burden"))
    if np.asarray(front.pareto).dtype != bool or np.shape(front.pareto) != np.shape(front.weights):
        raise TypeError(f"front.pareto must be a bool mask with one entry per point, got "
                        f"{np.asarray(front.pareto).dtype} of shape {np.shape(front.pareto)}")
    fig, ax = new_axes(ax, (6, 4))
    p = front.pareto
    ax.scatter(front.burden[~p], front.outcome[~p], color="lightgrey", s=20, label="dominated")
    order = np.argsort(front.burden[p])
    ax.plot(front.burden[p][order], front.outcome[p][order], "o-", color="tab:purple", ms=5, label="Pareto front")
    # Label points by weight, skipping any too close to one already labelled.
    span_b = max(np.ptp(front.burden), 1e-12)
    span_o = max(np.ptp(front.outcome), 1e-12)
    placed: list[tuple[float, float]] = []
    for w, b, o in zip(front.weights, front.burden, front.outcome):
        if all(abs(b - pb) / span_b > 0.06 or abs(o - po) / span_o > 0.06 for pb, po in placed):
            placed.append((b, o))
            ax.annotate(f"w={w:.2f}", (b, o), fontsize=7, xytext=(3, -8), textcoords="offset points")
    ax.set_xlabel("side-effect / treatment burden (discounted total)")
    ax.set_ylabel("outcome (discounted total)")
    ax.legend(fontsize=8)
    ax.set_title(title or "Outcome versus burden: reward weight sweep")
    return fig


def plot_ope_convergence(conv: OPEConvergence, *, title: str | None = None) -> Figure:
    """Two panels against log size (log-log): RMSE to the exact value, and standard deviation over repeats."""
    n = _result(conv, "conv", OPEConvergence, ("sizes",))
    if (np.asarray(conv.sizes) <= 0).any():
        raise ValueError(f"conv.sizes must be positive log sizes (a log axis), got {np.asarray(conv.sizes).tolist()}")
    est = check_array(conv.estimates, "conv.estimates", finite=False)
    if est.ndim != 3 or est.shape[:2] != (len(conv.methods), n) or est.shape[2] < 1:
        raise ValueError(f"conv.estimates must have shape [methods, sizes, repeats] = ({len(conv.methods)}, {n}, "
                         f"R >= 1), got {est.shape}")
    _numbers(conv, "conv", ("true_value",))
    check_instance(title, "title", (str, type(None)), "a string or None")
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
    for i, m in enumerate(conv.methods):
        axes[0].plot(conv.sizes, conv.rmse[i], "o-", label=m)
        axes[1].plot(conv.sizes, conv.std[i], "o-", label=m)
    for ax, lab in zip(axes, ("RMSE vs exact value", "standard deviation")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("episodes in the log")
        ax.set_ylabel(lab)
    axes[0].legend(fontsize=8)
    fig.suptitle(title or f"Off-policy evaluation error (exact value {conv.true_value:.3f})")
    return fig


def plot_ope_estimates(estimates: Mapping[str, OPEEstimate], true_value: float | None = None, *, ax=None,
                       title: str | None = None) -> Figure:
    """Point estimates with bootstrap intervals, one row per estimator, ESS in the labels, truth as a line."""
    if not isinstance(estimates, Mapping) or not estimates:
        raise TypeError(f"estimates must be a non-empty mapping name -> OPEEstimate, got {type(estimates).__name__}")
    for k, e in estimates.items():
        check_instance(e, f"estimates[{k!r}]", OPEEstimate)
    check_real(true_value, "true_value", low=-math.inf, open_low=True, none=True)
    fig, ax = new_axes(ax, (6, 0.5 + 0.5 * len(estimates)))
    names = list(estimates)
    for i, k in enumerate(names):
        e = estimates[k]
        err = None
        if np.isfinite(e.ci_low) and np.isfinite(e.ci_high):
            err = [[max(e.value - e.ci_low, 0)], [max(e.ci_high - e.value, 0)]]
        ax.errorbar(e.value, i, xerr=err, fmt="o", capsize=3)
    ax.set_yticks(range(len(names)), [f"{k} (ESS {estimates[k].ess:.0f})" for k in names])
    if true_value is not None:
        ax.axvline(true_value, color="tab:red", ls="--", label="exact value")
        ax.legend(fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("estimated value")
    ax.set_title(title or "Off-policy estimates with bootstrap intervals")
    return fig


def plot_trap(trap: TrapResult, *, ax=None) -> Figure:
    """Bars: WIS estimate versus exact value, for the clinicians and the learned policy."""
    check_instance(trap, "trap", TrapResult)
    _numbers(trap, "trap", ("true_clinician", "true_learned"))
    _numbers(trap, "trap", ("wis_clinician", "wis_learned", "ess_learned"), nan=True)
    fig, ax = new_axes(ax, (5.5, 3.5))
    x = np.arange(2)
    ax.bar(x - 0.2, [trap.wis_clinician, trap.wis_learned], 0.4, label="WIS on the log", color="tab:gray")
    ax.bar(x + 0.2, [trap.true_clinician, trap.true_learned], 0.4, label="exact (model)", color="tab:blue")
    ax.set_xticks(x, ["clinicians", f"learned policy\n(ESS {trap.ess_learned:.1f})"])
    ax.axhline(0, color="grey", lw=0.5)
    ax.legend(fontsize=8)
    ax.set_title(f"WIS trap: {trap.n_episodes} episodes, seed {trap.seed} "
                 f"({trap.n_trap}/{trap.n_tried} seeds)")
    return fig


def plot_chronic_policy(model: TreatmentModel, policy: np.ndarray, V: np.ndarray | None = None, *,
                        ax=None, title: str | None = None) -> Figure:
    """Glucose band x complication grid of the chronic model, each cell naming the action (and value)."""
    check_instance(model, "model", TreatmentModel)
    if not {"glucose", "complications"} <= set(model.factors):
        raise ValueError(f"model must be the chronic-disease model (factors glucose and complications), got factors "
                         f"{sorted(model.factors)}")
    S, A = model.n_states, model.n_actions
    policy = check_array(policy, "policy", shape=(S,), integer=True)
    if ((policy < 0) | (policy >= A)).any():
        raise ValueError(f"policy must hold action indices in [0, {A}), got {sorted(set(policy.tolist()))}")
    if V is not None:
        V = check_array(V, "V", shape=(S,))
    fig, ax = new_axes(ax, (7.5, 3.8))
    g_names, c_names = model.factors["glucose"], model.factors["complications"]
    nG, nC = len(g_names), len(c_names)
    pol = policy[: nG * nC].reshape(nG, nC)
    ax.imshow(pol.T, cmap="Blues", vmin=-1, vmax=model.n_actions, aspect="auto")
    for gi in range(nG):
        for ci in range(nC):
            s = gi * nC + ci
            txt = model.action_names[pol[gi, ci]].replace(" + ", "+\n").replace(" insulin", "\ninsulin")
            if V is not None:
                txt += f"\nV={V[s]:.1f}"
            ax.text(gi, ci, txt, ha="center", va="center", fontsize=7)
    ax.set_xticks(range(nG), g_names, fontsize=8)
    ax.set_yticks(range(nC), [c.replace(" complications", "") for c in c_names], fontsize=8)
    ax.set_xlabel("glucose band")
    ax.set_ylabel("complications")
    ax.set_title(title or f"Treatment policy ({model.subgroup}); teaching model, not a clinical tool")
    return fig
