"""Figures: returned, never shown; arrows point where the policy goes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from rlcore import GridWorld, value_iteration
from rlcore.plots.tabular import plot_convergence, plot_grid, plot_learning_curves, smooth


def test_plot_functions_return_figures_without_showing(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("library code called plt.show()"))
    env = GridWorld("classic")
    res = value_iteration(env.mdp)
    figs = [plot_grid(env, res.V, res.policy), plot_convergence({"VI": res.history}),
            plot_learning_curves({"a": np.random.default_rng(0).normal(size=(3, 50))}, band="sem")]
    assert all(isinstance(f, Figure) for f in figs)
    for f in figs:
        plt.close(f)


def test_policy_arrows_follow_the_actions():
    env = GridWorld(["...", "...", "..."])
    policy = np.array([0, 1, 2, 3, 0, 1, 2, 3, 0])  # up, right, down, left, ...
    fig = plot_grid(env, policy=policy)
    q = next(c for c in fig.axes[0].collections if hasattr(c, "U"))
    # imshow puts row 0 on top: "up" is a move to a smaller row index.
    np.testing.assert_allclose(q.U[:4], [0, 1, 0, -1])
    np.testing.assert_allclose(q.V[:4], [-1, 0, 1, 0])
    plt.close(fig)


def test_smooth_is_a_trailing_mean():
    np.testing.assert_allclose(smooth(np.array([0.0, 2.0, 4.0, 6.0]), 2), [0.0, 1.0, 3.0, 5.0])
    with pytest.raises(ValueError, match="window must be >= 1"):
        smooth(np.zeros(3), 0)
