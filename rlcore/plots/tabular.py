"""Figures for the book and the notebooks. They draw results; they never run algorithms.

Every function returns a ``matplotlib.figure.Figure`` (and never calls
``plt.show()``): notebooks display it, the CLI saves it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Colormap
from matplotlib.figure import Figure

from rlcore.core.validation import (
    check_array,
    check_choice,
    check_flag,
    check_instance,
    check_nonnegative_int,
    check_positive_int,
    check_real,
)
from rlcore.envs.gridworld import GridWorld

__all__ = ["plot_grid", "plot_convergence", "plot_learning_curves", "figure_to_array", "smooth", "new_axes",
           "check_figsize"]

_ARROW_DX = np.array([0.0, 1.0, 0.0, -1.0])
_ARROW_DY = np.array([-1.0, 0.0, 1.0, 0.0])  # row deltas: imshow puts row 0 at the top


def new_axes(ax, figsize):
    """``(fig, ax)``: a new constrained-layout figure of ``figsize``, or the figure that owns ``ax``."""
    if ax is None:
        fig, ax = plt.subplots(figsize=check_figsize(figsize), layout="constrained")
    else:
        fig = check_instance(ax, "ax", Axes, "a matplotlib Axes or None").figure
    return fig, ax


def check_figsize(figsize: Any, name: str = "figsize") -> tuple[float, float]:
    """``(width, height)`` in inches, both finite and positive."""
    size = check_array(figsize, name, shape=(2,))
    if (size <= 0).any():
        raise ValueError(f"{name} must be two positive sizes in inches, got {tuple(size)}")
    return float(size[0]), float(size[1])


def _series(x: Any, name: str, ndim: int | tuple[int, ...] = 1) -> np.ndarray:
    """A non-empty, finite numeric array of ``ndim`` dimensions (one of them, for a tuple)."""
    arr = check_array(x, name)
    if arr.ndim not in ((ndim,) if isinstance(ndim, int) else ndim):
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    return arr


def _labelled(data: Any, name: str) -> Mapping:
    """A non-empty mapping label -> data."""
    if not isinstance(data, Mapping) or not data:
        raise TypeError(f"{name} must be a non-empty mapping label -> data, got {type(data).__name__}"
                        f"{' (empty)' if isinstance(data, Mapping) else ''}")
    return data


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
    S = check_instance(env, "env", GridWorld, "a GridWorld").mdp.n_states
    if V is not None:
        V = check_array(V, "V", shape=(S,), finite=False)
    if policy is not None:
        policy = check_array(policy, "policy", shape=(S,), integer=True)
        if ((policy < 0) | (policy >= len(_ARROW_DX))).any():
            raise ValueError(f"policy must hold actions in [0, {len(_ARROW_DX)}), got {sorted(set(policy.tolist()))}")
    if check_nonnegative_int(agent, "agent", none=True) is not None and agent >= S:
        raise ValueError(f"agent must be a state index in [0, {S}), got {agent}")
    if annotate is not None:
        check_flag(annotate, "annotate")
    if not isinstance(cmap, Colormap) and not (isinstance(cmap, str) and cmap in matplotlib.colormaps):
        raise ValueError(f"cmap must be a matplotlib Colormap or the name of one, such as 'viridis', got {cmap!r}")
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
    if isinstance(window, (int, np.integer)) and not isinstance(window, bool) and window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    window = check_positive_int(window, "window")
    x = check_array(x, "x", allow_empty=True)
    if x.ndim == 0:
        raise ValueError("x must have at least one dimension (a series along the last axis), got a scalar")
    if window == 1 or x.shape[-1] < window:
        return x
    c = np.cumsum(np.insert(x, 0, 0.0, axis=-1), axis=-1)
    out = (c[..., window:] - c[..., :-window]) / window
    head = c[..., 1:window] / np.arange(1, window)
    return np.concatenate([head, out], axis=-1)


def plot_convergence(histories: Mapping[str, np.ndarray] | np.ndarray, *, ax=None,
                     title: str = "Convergence", ylabel: str = r"$\max_s |V_{k+1}(s) - V_k(s)|$") -> Figure:
    """Residual per sweep on a log scale, one line per labelled history."""
    histories = _labelled(histories if isinstance(histories, Mapping) else {"residual": histories}, "histories")
    hs = {label: _series(h, f"histories[{label!r}]") for label, h in histories.items()}
    if any((h < 0).any() for h in hs.values()):
        raise ValueError("histories must hold residuals >= 0 (sizes of changes), found a negative value")
    fig, ax = new_axes(ax, (5.5, 3.5))
    for label, h in hs.items():
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
    check_choice(band, "band", ("std", "sem"))
    window = check_positive_int(window, "window")
    data = {label: np.atleast_2d(_series(r, f"curves[{label!r}]", (1, 2))) for label, r in _labelled(curves,
                                                                                                     "curves").items()}
    if ylim is not None:
        if isinstance(ylim, (str, bytes)) or not hasattr(ylim, "__len__") or len(ylim) != 2:
            raise ValueError(f"ylim must be a pair (bottom, top), got {ylim!r}")
        for v in ylim:
            check_real(v, "ylim", low=-math.inf, open_low=True, none=True)
    fig, ax = new_axes(ax, (6.0, 3.8))
    for label, runs in data.items():
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
    check_instance(fig, "fig", Figure, "a matplotlib Figure")
    fig.canvas.draw()
    arr = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return arr
