"""Figures for the function-approximation learners (``rlcore.approx``): they draw results, never run learners.

Book: *Sequential decision making*, "From tables to networks". Every function
returns a ``matplotlib.figure.Figure`` and takes ``ax=`` to draw into an
existing axes. Results are [`ControlResult`][rlcore.approx.common.ControlResult]s;
where a label maps to a list of them, the list holds one run per seed and the
figure shows their mean and spread.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rlcore.approx.common import ControlResult, moving_average
from rlcore.approx.linear import TiledQ
from rlcore.approx.tiles import TileCoder
from rlcore.core.validation import check_array, check_choice, check_flag, check_instance, check_positive_int, check_real
from rlcore.plots.tabular import new_axes

__all__ = ["plot_steps_per_episode", "plot_step_size_sweep", "plot_cost_to_go", "plot_learning_curves"]


def _runs(label: Any, value: Any) -> list[ControlResult]:
    """One label's runs as a non-empty list of ControlResults."""
    runs = [value] if isinstance(value, ControlResult) else list(value) if isinstance(value, Sequence) else None
    if not runs or not all(isinstance(r, ControlResult) for r in runs):
        raise TypeError(f"results[{label!r}] must be a ControlResult or a non-empty list of them (one per seed), "
                        f"got {type(value).__name__}")
    if any(len(r.episode_lengths) == 0 for r in runs):
        raise ValueError(f"results[{label!r}] holds a run with no finished episode")
    return runs


def _mapping(results: Any, name: str = "results") -> Mapping:
    if not isinstance(results, Mapping) or not results:
        raise TypeError(f"{name} must be a non-empty mapping label -> runs, got {type(results).__name__}")
    return results


def _stack(series: list[np.ndarray]) -> np.ndarray:
    """``[n_seeds, n]`` from per-seed series, cut to the shortest."""
    n = min(len(s) for s in series)
    return np.stack([np.asarray(s[:n], dtype=float) for s in series])


def plot_steps_per_episode(results: Mapping[str, Any], *, log: bool = True, ax=None,
                           title: str = "Steps per episode") -> Figure:
    """Episode length against episode, mean over seeds (Sutton & Barto Fig. 10.2), one line per label.

    ``results`` maps a label to a [`ControlResult`][rlcore.approx.common.ControlResult]
    or a list of them (seeds); seeds are averaged over the episodes all of them finished.
    """
    runs = {label: _runs(label, value) for label, value in _mapping(results).items()}
    check_flag(log, "log")
    fig, ax = new_axes(ax, (5.5, 3.5))
    for label, value in runs.items():
        L = _stack([r.episode_lengths for r in value])
        ax.plot(np.arange(1, L.shape[1] + 1), L.mean(axis=0), label=f"{label}" + (f" ({len(L)} seeds)" * (len(L) > 1)))
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("episode")
    ax.set_ylabel("steps per episode" + (" (log scale)" if log else ""))
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig


def plot_step_size_sweep(sweep: Mapping[str, Mapping[float, Any]], *, first: int = 50, ax=None,
                         xlabel: str = r"$\alpha \times$ number of tilings",
                         title: str = "Effect of the step size") -> Figure:
    """Mean steps per episode over the first ``first`` episodes against the step size (Sutton & Barto Fig. 10.4 style).

    ``sweep`` maps a line label (a setting, e.g. ``"8 tilings"``) to a mapping
    ``x -> runs``, where ``x`` is the step size as plotted (``alpha * n_tilings``)
    and ``runs`` a [`ControlResult`][rlcore.approx.common.ControlResult], a list of
    them (seeds: the point is their mean, the bar one standard error) or an
    already computed number. Callers run the learners; this only draws.
    """
    sweep = _mapping(sweep, "sweep")
    first = check_positive_int(first, "first")
    lines = {}
    for label, points in sweep.items():
        xs, ys, es = [], [], []
        for x, value in _mapping(points, f"sweep[{label!r}]").items():
            check_real(x, f"sweep[{label!r}] step size", low=-math.inf, open_low=True)
            if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
                y = np.array([check_real(value, f"sweep[{label!r}][{x}]", low=-math.inf, open_low=True)])
            else:
                runs = _runs(f"{label}][{x}", value)
                if any(len(r.episode_lengths) < first for r in runs):
                    raise ValueError(f"sweep[{label!r}][{x}] has a run with fewer than first={first} episodes")
                y = np.array([r.episode_lengths[:first].mean() for r in runs])
            xs.append(float(x))
            ys.append(y.mean())
            es.append(y.std(ddof=1) / np.sqrt(len(y)) if len(y) > 1 else 0.0)
        order = np.argsort(xs, kind="stable")
        lines[label] = [np.asarray(v)[order].tolist() for v in (xs, ys, es)]
    fig, ax = new_axes(ax, (5.5, 3.5))
    for label, (xs, ys, es) in lines.items():
        ax.errorbar(xs, ys, yerr=es, marker="o", capsize=3, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"steps per episode\n(mean over first {first} episodes)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig


def plot_cost_to_go(coder: TileCoder | TiledQ, w: np.ndarray | None = None, low: Any = None, high: Any = None,
                    resolution: int = 60, *, surface: bool = True, ax=None,
                    labels: tuple[str, str] = ("position", "velocity"), title: str | None = None) -> Figure:
    """The cost-to-go ``-max_a q(s, a, w)`` over a 2-d state box (Sutton & Barto Fig. 10.1).

    ``coder`` and ``w`` (``[A, n_features]``) define ``q``; a [`TiledQ`][rlcore.approx.linear.TiledQ]
    (``result.model``) may be passed alone. ``low``/``high`` default to the coder's box;
    ``surface=False`` draws a heat map instead of a 3-d surface.
    """
    q = coder if isinstance(coder, TiledQ) else None
    if q is None:
        check_instance(coder, "coder", TileCoder, "a TileCoder or a TiledQ")
        q = TiledQ(coder, check_array(w, "w", shape=(None, coder.n_features)))
    if q.coder.d != 2:
        raise ValueError(f"the cost-to-go plot needs a 2-d state, got a coder of dimension {q.coder.d}")
    resolution = check_positive_int(resolution, "resolution")
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution}")
    low = q.coder.low if low is None else check_array(low, "low", shape=(2,))
    high = q.coder.high if high is None else check_array(high, "high", shape=(2,))
    if not (high > low).all():
        raise ValueError(f"high must exceed low in both dimensions, got low={low.tolist()} and high={high.tolist()}")
    if isinstance(labels, (str, bytes)) or not hasattr(labels, "__len__") or len(labels) != 2:
        raise ValueError(f"labels must be two axis labels, got {labels!r}")
    check_flag(surface, "surface")
    if surface and ax is not None and getattr(ax, "name", None) != "3d":
        raise ValueError("ax must be a 3-d axes (projection='3d') for surface=True; pass surface=False for a 2-d one")
    gx, gy = np.meshgrid(np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution))
    cost = q.cost_to_go(np.stack([gx, gy], axis=-1))
    if surface:
        if ax is None:
            fig = plt.figure(figsize=(5.5, 4.2), layout="constrained")
            ax = fig.add_subplot(projection="3d")
        fig = ax.figure
        ax.plot_surface(gx, gy, cost, cmap="viridis", linewidth=0, antialiased=True)
        ax.set_zlabel(r"$-\max_a \hat q(s, a, w)$")
    else:
        fig, ax = new_axes(ax, (5.5, 4.0))
        im = ax.pcolormesh(gx, gy, cost, shading="auto", cmap="viridis")
        fig.colorbar(im, ax=ax, label=r"$-\max_a \hat q(s, a, w)$")
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_title(title or "Cost-to-go")
    return fig


def plot_learning_curves(results: Mapping[str, Any], *, x: str = "episodes", window: int = 100,
                         threshold: float | None = None, band: str = "minmax", ax=None,
                         title: str = "Learning curves", ylabel: str = "return (moving average)") -> Figure:
    """Moving-average return of each label's runs: mean over seeds with a min-max or interquartile band.

    Each seed's returns are first smoothed with [`moving_average`][rlcore.approx.common.moving_average]
    over ``window`` episodes. ``x="episodes"`` aligns seeds by episode (up to
    the fewest any seed finished); ``x="steps"`` plots against environment
    steps, interpolating every seed's curve (which changes only when an
    episode ends) onto a common grid up to the shortest run's last episode.
    ``threshold`` draws a dashed line (e.g. 475 for CartPole-v1).
    """
    all_runs = {label: _runs(label, value) for label, value in _mapping(results).items()}
    check_choice(x, "x", ("episodes", "steps"))
    check_choice(band, "band", ("minmax", "iqr"))
    window = check_positive_int(window, "window")
    check_real(threshold, "threshold", low=-math.inf, open_low=True, none=True)
    fig, ax = new_axes(ax, (6.0, 3.8))
    for label, runs in all_runs.items():
        curves = [moving_average(r.episode_returns, window) for r in runs]
        if x == "episodes":
            Y = _stack(curves)
            grid = np.arange(1, Y.shape[1] + 1)
        else:
            last = min(int(r.episode_end_steps[-1]) for r in runs)
            grid = np.linspace(min(int(r.episode_end_steps[0]) for r in runs), last, 400)
            Y = np.stack([np.interp(grid, r.episode_end_steps, c) for r, c in zip(runs, curves)])
        lo, hi = (Y.min(axis=0), Y.max(axis=0)) if band == "minmax" else np.percentile(Y, [25, 75], axis=0)
        (line,) = ax.plot(grid, Y.mean(axis=0), label=f"{label} ({len(runs)} seed{'s' * (len(runs) > 1)})")
        if len(runs) > 1:
            ax.fill_between(grid, lo, hi, color=line.get_color(), alpha=0.2)
    if threshold is not None:
        ax.axhline(float(threshold), color="grey", linestyle="--", linewidth=1, label=f"threshold {threshold:g}")
    ax.set_xlabel("episode" if x == "episodes" else "environment steps")
    ax.set_ylabel(f"{ylabel}, window {window}")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig
