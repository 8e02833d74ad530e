"""Figures for the function-approximation learners (``rlcore.approx``): they draw results, never run learners.

Book: *Sequential decision making*, "From tables to networks". Every function
returns a ``matplotlib.figure.Figure`` and takes ``ax=`` to draw into an
existing axes. Results are [`ControlResult`][rlcore.approx.common.ControlResult]s;
where a label maps to a list of them, the list holds one run per seed and the
figure shows their mean and spread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rlcore.approx.common import ControlResult, moving_average
from rlcore.approx.linear import TiledQ
from rlcore.approx.tiles import TileCoder
from rlcore.core.validation import check_positive_int
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
    results = _mapping(results)
    fig, ax = new_axes(ax, (5.5, 3.5))
    for label, value in results.items():
        L = _stack([r.episode_lengths for r in _runs(label, value)])
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
    fig, ax = new_axes(ax, (5.5, 3.5))
    for label, points in sweep.items():
        points = _mapping(points, f"sweep[{label!r}]")
        xs, ys, es = [], [], []
        for x, value in sorted(points.items()):
            if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
                y = np.array([float(value)])
            else:
                runs = _runs(f"{label}][{x}", value)
                if any(len(r.episode_lengths) < first for r in runs):
                    raise ValueError(f"sweep[{label!r}][{x}] has a run with fewer than first={first} episodes")
                y = np.array([r.episode_lengths[:first].mean() for r in runs])
            xs.append(float(x))
            ys.append(y.mean())
            es.append(y.std(ddof=1) / np.sqrt(len(y)) if len(y) > 1 else 0.0)
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
        if not isinstance(coder, TileCoder):
            raise TypeError(f"coder must be a TileCoder or a TiledQ, got {type(coder).__name__}")
        w = np.asarray(w, dtype=float)
        if w.ndim != 2 or w.shape[1] != coder.n_features:
            raise ValueError(f"w must have shape [n_actions, {coder.n_features}], got {w.shape}")
        q = TiledQ(coder, w)
    if q.coder.d != 2:
        raise ValueError(f"the cost-to-go plot needs a 2-d state, got a coder of dimension {q.coder.d}")
    resolution = check_positive_int(resolution, "resolution")
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution}")
    low = q.coder.low if low is None else np.asarray(low, dtype=float)
    high = q.coder.high if high is None else np.asarray(high, dtype=float)
    if low.shape != (2,) or high.shape != (2,) or not (high > low).all():
        raise ValueError(f"low and high must be 2-vectors with high > low, got {low!r} and {high!r}")
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
    results = _mapping(results)
    if x not in ("episodes", "steps"):
        raise ValueError(f"x must be 'episodes' or 'steps', got {x!r}")
    if band not in ("minmax", "iqr"):
        raise ValueError(f"band must be 'minmax' or 'iqr', got {band!r}")
    window = check_positive_int(window, "window")
    fig, ax = new_axes(ax, (6.0, 3.8))
    for label, value in results.items():
        runs = _runs(label, value)
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
