"""Figures for the deadly triad: Baird's weights over time (Sutton & Barto, Figures 11.2 and 11.5).

Book: *Sequential decision making*, "From tables to networks". They draw
[`BairdResult`][rlcore.approx.baird.BairdResult]s; they never run a learner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rlcore.approx.baird import BairdResult
from rlcore.core.validation import check_flag
from rlcore.plots.tabular import check_figsize, new_axes

__all__ = ["plot_baird_weights", "plot_baird_errors", "plot_triad"]


def _history(history: Any) -> tuple[np.ndarray, str]:
    """``(w [T + 1, d], x-axis label)`` from a result or a raw weight history."""
    if isinstance(history, BairdResult):
        return history.w, ("sweeps" if history.states is None else "steps")
    if isinstance(history, (str, bytes)) or history is None:
        raise TypeError(f"history must be a BairdResult or a [T + 1, d] array, got {type(history).__name__}")
    try:
        w = np.asarray(history, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"history must be a BairdResult or a [T + 1, d] array, got {type(history).__name__}") from None
    if w.ndim != 2 or w.shape[0] < 1 or w.shape[1] < 1:
        raise ValueError(f"history must have shape [T + 1, d] (one row per iterate), got {w.shape}")
    return w, "steps"


def _title(title: Any, name: str = "title") -> str | None:
    if title is not None and not isinstance(title, str):
        raise TypeError(f"{name} must be a string or None, got {type(title).__name__}")
    return title


def plot_baird_weights(history: BairdResult | np.ndarray, title: str | None = None, *, ax: plt.Axes | None = None,
                       log: bool = False) -> Figure:
    """One line per weight against the step (or sweep) count, labelled ``w_1 .. w_d`` as in the book.

    ``history`` is a [`BairdResult`][rlcore.approx.baird.BairdResult] or its ``w`` array
    ``[T + 1, d]``. ``log=True`` uses a symmetric-log y axis, which shows a divergent run's
    growth and a bounded run's detail on one scale.
    """
    w, unit = _history(history)
    title = _title(title)
    check_flag(log, "log")
    if title is None and isinstance(history, BairdResult):
        title = history.method
    fig, ax = new_axes(ax, (5.0, 3.4))
    t = np.arange(len(w))
    for i in range(w.shape[1]):
        ax.plot(t, w[:, i], lw=1.4, color=f"C{i}", label=f"$w_{{{i + 1}}}$")
    if log:
        ax.set_yscale("symlog", linthresh=1.0)
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_xlabel(unit)
    ax.set_ylabel("weight")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7, ncol=2, loc="best")
    return fig


def plot_baird_errors(result: BairdResult, *, ax: plt.Axes | None = None) -> Figure:
    """Root value error and root projected Bellman error of every iterate, on a log y axis."""
    if not isinstance(result, BairdResult):
        raise TypeError(f"result must be a BairdResult, got {type(result).__name__}")
    fig, ax = new_axes(ax, (5.0, 3.4))
    t = np.arange(len(result.w))
    ax.plot(t, result.value_errors, color="k", label=r"$\sqrt{\overline{\mathrm{VE}}}$")
    ax.plot(t, result.projected_bellman_errors, color="C3", ls="--", label=r"$\sqrt{\overline{\mathrm{PBE}}}$")
    ax.set_yscale("log")
    ax.set_xlabel("sweeps" if result.states is None else "steps")
    ax.set_ylabel("RMS error")
    ax.legend(fontsize=8)
    return fig


def plot_triad(results: Mapping[str, BairdResult] | Sequence[BairdResult], *, errors: bool = True,
               log: bool = False, figsize: tuple[float, float] | None = None) -> Figure:
    """Side-by-side panels, one column per run (e.g. off-policy TD, on-policy TD, TDC).

    Top row: the weights ([`plot_baird_weights`][rlcore.plots.approx_triad.plot_baird_weights]); with
    ``errors``, a bottom row of RMS VE and PBE curves
    ([`plot_baird_errors`][rlcore.plots.approx_triad.plot_baird_errors]). ``results`` maps a
    column title to a result, or is a sequence of results titled by their ``method``.
    """
    if isinstance(results, Mapping):
        items = list(results.items())
    elif isinstance(results, Sequence) and not isinstance(results, (str, bytes)):
        items = [(getattr(r, "method", None), r) for r in results]
    else:
        raise TypeError(f"results must be a mapping or a sequence of BairdResult, got {type(results).__name__}")
    if not items:
        raise ValueError("results must hold at least one BairdResult, got none")
    for name, r in items:
        if not isinstance(r, BairdResult):
            raise TypeError(f"results must hold BairdResult objects, got {type(r).__name__} for {name!r}")
        _title(name, "results' column titles")
    check_flag(errors, "errors")
    check_flag(log, "log")
    figsize = None if figsize is None else check_figsize(figsize)
    n_rows, n = (2 if errors else 1), len(items)
    fig, axes = plt.subplots(n_rows, n, figsize=figsize or (4.2 * n, 3.2 * n_rows), layout="constrained",
                             squeeze=False)
    for j, (name, r) in enumerate(items):
        plot_baird_weights(r, name, ax=axes[0, j], log=log)
        if errors:
            plot_baird_errors(r, ax=axes[1, j])
    return fig
