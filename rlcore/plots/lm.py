"""Figures for the language-model chapters: sampling settings and policy-gradient training curves.

Like [`rlcore.plots.tabular`][], these functions only draw results computed elsewhere
([`rlcore.lm.sweep.sampling_sweep`][], [`rlcore.lm.training.PGResult`][]) and return a
``matplotlib.figure.Figure`` without showing it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from rlcore.core.validation import check_array, check_choice, check_positive_int
from rlcore.plots.tabular import _labelled, smooth

__all__ = ["plot_sampling_sweep", "plot_pg_history"]


def plot_sampling_sweep(sweep: Mapping[str, np.ndarray], *, diversity: str = "distinct",
                        title: str = "Sampling: reward versus diversity") -> Figure:
    """Reward (left) and diversity (right) against the temperature, one line per ``top_p``.

    ``sweep`` is the dict returned by [`rlcore.lm.sweep.sampling_sweep`][];
    ``diversity`` is ``"distinct"`` or ``"entropy_bits"``.
    """
    check_choice(diversity, "diversity", ("distinct", "entropy_bits"))
    sweep = _labelled(sweep, "sweep")
    missing = {"temperatures", "top_ps", "reward", diversity} - set(sweep)
    if missing:
        raise ValueError(f"sweep must be what sampling_sweep returns; it lacks {sorted(missing)}")
    shape = (len(check_array(sweep["temperatures"], "sweep['temperatures']", ndim=1)),
             len(check_array(sweep["top_ps"], "sweep['top_ps']", ndim=1)))
    for k in ("reward", diversity):
        check_array(sweep[k], f"sweep[{k!r}]", shape=shape)
    fig, axes = plt.subplots(1, 2, figsize=(9.0, 3.5), layout="constrained")
    taus = sweep["temperatures"]
    for j, p in enumerate(sweep["top_ps"]):
        axes[0].plot(taus, sweep["reward"][:, j], marker="o", label=f"top-p = {p:g}")
        axes[1].plot(taus, sweep[diversity][:, j], marker="o", label=f"top-p = {p:g}")
    axes[0].set_ylabel("mean reward $R(x)$")
    axes[1].set_ylabel("fraction of distinct texts" if diversity == "distinct" else "text entropy (bits)")
    for ax in axes:
        ax.set_xlabel(r"temperature $\tau$")
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    return fig


def plot_pg_history(histories: Mapping[str, Mapping[str, np.ndarray]],
                    keys: Sequence[str] = ("reward", "kl_ref", "entropy"), *, window: int = 5,
                    x: str = "iteration") -> Figure:
    """One panel per statistic in ``keys``, one line per run (e.g. ``{"PPO": res.history, ...}``).

    ``x`` is ``"iteration"`` or ``"time"`` (wall-clock seconds, from ``history["time"]``).
    Curves are smoothed with a ``window``-iteration moving average; keys a run lacks are skipped.
    Up to three panels sit in one row; more fill rows of two, so that the figure
    keeps a page's width and is not a strip (``fig.axes`` follows ``keys``).
    """
    check_choice(x, "x", ("iteration", "time"))
    if isinstance(keys, (str, bytes)) or not hasattr(keys, "__len__") or not keys:
        raise ValueError(f"keys must be a non-empty sequence of statistic names, got {keys!r}")
    window = check_positive_int(window, "window")
    for label, hist in _labelled(histories, "histories").items():
        if not isinstance(hist, Mapping):
            raise TypeError(f"histories[{label!r}] must be a mapping statistic -> values, got {type(hist).__name__}")
        if x == "time" and "time" not in hist:
            raise ValueError(f"histories[{label!r}] has no 'time' entry, which x='time' needs")
    n_cols = len(keys) if len(keys) <= 3 else 2
    n_rows = -(-len(keys) // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(3.6 * n_cols, 3.2 if n_rows == 1 else 2.6 * n_rows),
                             layout="constrained", squeeze=False)
    for ax in axes.flat[len(keys):]:
        fig.delaxes(ax)
    for ax, key in zip(axes.flat, keys):
        for label, hist in histories.items():
            if key not in hist:
                continue
            y = smooth(np.atleast_2d(np.asarray(hist[key], dtype=float)), window)[0]
            xs = np.arange(1, len(y) + 1) if x == "iteration" else np.asarray(hist["time"])[-len(y):]
            ax.plot(xs, y, label=label)
        ax.set_title(key)
        ax.set_xlabel("iteration" if x == "iteration" else "seconds")
        ax.grid(True, alpha=0.3)
    axes[0][0].legend()
    return fig
