"""Figures for chapter 4: the reward-KL frontier and over-optimisation curves (figures only, no algorithms)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rlcore.core.validation import check_instance
from rlcore.plots.tabular import _labelled, new_axes
from rlcore.rlhf.frontier import Frontier

__all__ = ["plot_frontier", "plot_overoptimisation"]

_MARKERS = {"pi* (gold, exact)": ("k", "-", ""), "PPO (gold)": ("C0", "", "o"), "PPO (reward model)": ("C1", "", "s"),
            "DPO": ("C2", "", "^")}


def plot_frontier(frontier, ax: plt.Axes | None = None) -> Figure:
    """Gold reward against exact KL to the reference, one series per method (the exact optimum as a line)."""
    check_instance(frontier, "frontier", Frontier)
    if not frontier.points:
        raise ValueError("frontier must hold at least one point, got none")
    fig, ax = new_axes(ax, (6.4, 4.0))
    for method, pts in frontier.by_method().items():
        kl = np.array([p.kl for p in pts])
        gold = np.array([p.gold for p in pts])
        order = np.argsort(kl)
        color, line, marker = _MARKERS.get(method, ("C3", ":", "x"))
        ax.plot(kl[order], gold[order], color=color, ls=line or ":", marker=marker or None, label=method)
    trained = [p.kl for p in frontier.points if not p.method.startswith("pi*")]
    if trained:  # the exact curve can run far beyond the trained points; show where they are
        ax.set_xlim(-0.02 * max(trained), 1.25 * max(trained))
        shown = [p.gold for p in frontier.points if p.kl <= 1.25 * max(trained)]
        pad = 0.05 * (max(shown) - min(shown) + 1e-12)
        ax.set_ylim(min(shown) - pad, max(shown) + pad)
    ax.set_xlabel(r"exact $\mathrm{KL}(\pi \,\|\, \pi_{\mathrm{ref}})$ (nats)")
    ax.set_ylabel("expected gold reward (exact)")
    ax.set_title("Reward against KL: each method beside the exact frontier")
    ax.legend(fontsize=8)
    return fig


def plot_overoptimisation(curves: Mapping[str, Sequence[Mapping[str, float]]], fits: Mapping[str, object] | None = None,
                          ax: plt.Axes | None = None) -> Figure:
    """Gold (solid) and proxy (dashed) gain over the reference against ``d = sqrt(KL)``, with fitted forms (dotted).

    ``curves[name]`` is a list of [`evaluate`][rlcore.rlhf.overoptimisation.ToyEvaluator.evaluate]
    results, the first at the reference; ``fits[name]`` a [`GaoFit`][rlcore.rlhf.overoptimisation.GaoFit].
    """
    for name, pts in _labelled(curves, "curves").items():
        if isinstance(pts, (str, bytes)) or not hasattr(pts, "__len__") or not pts or not all(
                isinstance(p, Mapping) and {"d", "gold", "proxy"} <= set(p) for p in pts):
            raise ValueError(f"curves[{name!r}] must be a non-empty list of evaluations with 'd', 'gold' and 'proxy'")
    check_instance(fits, "fits", (Mapping, type(None)), "a mapping name -> fitted curve, or None")
    for name, fit in (fits or {}).items():
        if not callable(fit):
            raise TypeError(f"fits[{name!r}] must be a fitted curve (callable d -> gain), got {type(fit).__name__}")
    fig, ax = new_axes(ax, (6.4, 4.0))
    for i, (name, pts) in enumerate(curves.items()):
        d = np.array([p["d"] for p in pts])
        gold = np.array([p["gold"] for p in pts]) - pts[0]["gold"]
        proxy = np.array([p["proxy"] for p in pts]) - pts[0]["proxy"]
        ax.plot(d, gold, color=f"C{i}", marker=".", label=f"{name}: gold")
        ax.plot(d, proxy, color=f"C{i}", ls="--", alpha=0.7, label=f"{name}: proxy")
        if fits and name in fits:
            grid = np.linspace(0, d.max(), 200)
            ax.plot(grid, fits[name](grid), color=f"C{i}", ls=":", lw=1)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel(r"$d = \sqrt{\mathrm{KL}(\pi \,\|\, \pi_{\mathrm{ref}})}$")
    ax.set_ylabel("reward gain over the reference")
    ax.legend(fontsize=7, ncol=2)
    return fig
