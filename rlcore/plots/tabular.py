"""Figures for the book and the notebooks. They draw results; they never run algorithms.

Every function returns a ``matplotlib.figure.Figure`` (and never calls
``plt.show()``): notebooks display it, the CLI saves it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from rlcore.envs.gridworld import GridWorld

__all__ = ["plot_grid", "plot_convergence", "plot_learning_curves", "figure_to_array", "smooth", "new_axes"]

_ARROW_DX = np.array([0.0, 1.0, 0.0, -1.0])
_ARROW_DY = np.array([-1.0, 0.0, 1.0, 0.0])  # row deltas: imshow puts row 0 at the top


def new_axes(ax, figsize):
    """``(fig, ax)``: a new constrained-layout figure of ``figsize``, or the figure that owns ``ax``."""
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    else:
        fig = ax.figure
    return fig, ax


def plot_grid(
    env: GridWorld,
    V: np.ndarray | None = None,
    policy: np.ndarray | None = None,
    *,
    agent: int | None = None,
    title: str | None = None,
    ax=None,
    annotate: bool | None = None,
    cmap: str = "viridis",
) -> Figure:
    """Heatmap of state values ``V[s]`` on the grid, with policy arrows and cell markers.

    Walls are drawn dark grey; goals ``G``, traps ``T``, cliffs ``C`` and the start
    ``S`` are labelled. ``annotate`` writes the value in each cell (default: when
    the grid has at most 150 cells).
    """
    H, W = env.shape
    fig, ax = new_axes(ax, (max(3.0, 0.55 * W + 1.5), max(2.5, 0.55 * H + 0.6)))
    if V is not None:
        data = env.to_grid(V)
        data[env.grid == "G"] = np.nan  # terminal cells have no value worth colouring
        if env._params["traps_end"]:
            data[env.grid == "T"] = np.nan
        im = ax.imshow(np.ma.masked_invalid(data), cmap=cmap)
        fig.colorbar(im, ax=ax, shrink=0.8, label="$V(s)$")
    else:
        ax.imshow(np.zeros((H, W)), cmap="Greys", vmin=0, vmax=1)
    walls = np.ma.masked_where(env.grid != "#", np.ones((H, W)))
    ax.imshow(walls, cmap="Greys", vmin=0, vmax=1.3)
    special = np.isin(env.grid, ["G", "T", "C"])
    ax.imshow(np.ma.masked_where(~special, np.ones((H, W))), cmap="Greys", vmin=0, vmax=2.5)
    if annotate is None:
        annotate = H * W <= 150
    small = H * W <= 400
    if small:
        for (r, c) in env.positions:
            kind = env.grid[r, c]
            if kind in "GTCS":
                ax.text(c, r if kind != "S" else r - 0.3, kind, ha="center", va="center", fontsize=9,
                        color="black" if kind != "S" else "white", fontweight="bold")
            if annotate and V is not None and kind not in "GTC":
                ax.text(c, r + 0.32, f"{V[env.cell_state[r, c]]:.2f}", ha="center", va="center",
                        fontsize=6, color="white")
    if policy is not None:
        policy = np.asarray(policy)
        kinds = env.grid[env.positions[:, 0], env.positions[:, 1]]
        free = np.isin(kinds, [".", "S"])
        pos = env.positions[free]
        a = policy[free].astype(int)
        ax.quiver(pos[:, 1], pos[:, 0] - (0.08 if annotate else 0.0), _ARROW_DX[a], _ARROW_DY[a],
                  color="white", scale=3.2, scale_units="xy", angles="xy", width=0.006,
                  headwidth=4, pivot="middle")
    if agent is not None:
        r, c = env.positions[agent]
        ax.plot(c, r, "o", color="tab:red", markersize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return fig


def smooth(x: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average along the last axis (``window = 1`` is the identity)."""
    x = np.asarray(x, dtype=float)
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    if window == 1 or x.shape[-1] < window:
        return x
    c = np.cumsum(np.insert(x, 0, 0.0, axis=-1), axis=-1)
    out = (c[..., window:] - c[..., :-window]) / window
    head = c[..., 1:window] / np.arange(1, window)
    return np.concatenate([head, out], axis=-1)


def plot_convergence(histories: Mapping[str, np.ndarray] | np.ndarray, *, ax=None,
                     title: str = "Convergence", ylabel: str = r"$\max_s |V_{k+1}(s) - V_k(s)|$") -> Figure:
    """Residual per sweep on a log scale, one line per labelled history."""
    if not isinstance(histories, Mapping):
        histories = {"residual": histories}
    fig, ax = new_axes(ax, (5.5, 3.5))
    for label, h in histories.items():
        h = np.asarray(h, dtype=float)
        ax.semilogy(np.arange(1, len(h) + 1), np.maximum(h, 1e-300), label=label)
    ax.set_xlabel("sweep $k$")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig


def plot_learning_curves(curves: Mapping[str, np.ndarray], *, window: int = 10, ax=None,
                         band: str = "std", title: str = "Learning curves",
                         ylabel: str = "return per episode", ylim=None) -> Figure:
    """Mean return per episode over seeds with a shaded band.

    ``curves`` maps a label to an array ``[n_seeds, n_episodes]``; each seed's
    curve is smoothed with a ``window``-episode moving average first.
    ``band`` is ``"std"`` (one standard deviation) or ``"sem"`` (standard error).
    """
    if band not in ("std", "sem"):
        raise ValueError(f"band must be 'std' or 'sem', got {band!r}")
    fig, ax = new_axes(ax, (6.0, 3.8))
    for label, runs in curves.items():
        runs = np.atleast_2d(np.asarray(runs, dtype=float))
        sm = smooth(runs, window)
        mean = sm.mean(axis=0)
        spread = sm.std(axis=0)
        if band == "sem":
            spread = spread / np.sqrt(max(1, sm.shape[0]))
        x = np.arange(1, sm.shape[1] + 1)
        (line,) = ax.plot(x, mean, label=f"{label} ({sm.shape[0]} seeds)")
        ax.fill_between(x, mean - spread, mean + spread, color=line.get_color(), alpha=0.2)
    ax.set_xlabel("episode")
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig


def figure_to_array(fig: Figure) -> np.ndarray:
    """Render a figure to an ``[H, W, 3]`` uint8 RGB array and close it."""
    fig.canvas.draw()
    arr = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return arr
