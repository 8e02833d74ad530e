"""Generate every figure of the book from the rlcore package.

Usage (from the repository root)::

    python book/figures/make_figures.py                      # all figures
    python book/figures/make_figures.py ch02_vi_residual     # only the ones named

Each figure is one function below. Its name is the figure's file name, except
that names starting with a digit get a ``fig`` prefix (``fig06_sweep_cost``
writes ``06_sweep_cost.png``). Every function returns a matplotlib ``Figure``;
``main`` saves it next to this script as a PNG at 120 dpi and closes it.

All randomness is seeded, so every figure is reproducible, with one deliberate
exception: ``06_sweep_cost`` shows wall-clock timings of the machine that ran
the script. The whole script runs in well under three minutes on two cores.
"""

from __future__ import annotations

import functools
import math
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from scipy.special import expit, rel_entr

from rlcore import (
    GridWorld,
    TabularMDP,
    expected_sarsa,
    policy_evaluation,
    policy_iteration,
    q_learning,
    sarsa,
    value_iteration,
)
from rlcore.core.policies import boltzmann_probs, epsilon_greedy_probs, greedy_policy
from rlcore.core.random_mdp import random_mdp
from rlcore.health.constraints import lagrangian_front
from rlcore.lm.metrics import pass_at_k
from rlcore.plots.tabular import plot_convergence, plot_grid, plot_learning_curves, smooth
from rlcore.tabular.soft import soft_value_iteration

OUT_DIR = Path(__file__).resolve().parent
DPI = 120
C = plt.get_cmap("tab10").colors  # colour-blind-friendly default cycle
STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 8.5,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
}
plt.rcParams.update(STYLE)

FIGURES: dict[str, Callable[[], Figure]] = {}


def figure(fn: Callable[[], Figure]) -> Callable[[], Figure]:
    """Register ``fn`` as the generator of ``<name>.png`` (a leading ``fig`` is dropped from the name)."""
    name = fn.__name__.removeprefix("fig")
    FIGURES[name] = fn
    return fn


# ----------------------------------------------------------------- helpers
def _subplots(ncols: int = 1, width: float = 5.5, height: float = 3.6, **kwargs):
    return plt.subplots(1, ncols, figsize=(width, height), layout="constrained", **kwargs)


def _vi_errors(mdp: TabularMDP, V_star: np.ndarray, n_sweeps: int, floor: float = 0.0) -> np.ndarray:
    """``||V_k - V*||_inf`` for ``k = 0, 1, ...`` of value iteration from ``V_0 = 0`` (stops below ``floor``).

    One sweep is the Bellman optimality backup ``V_{k+1}(s) = max_a Q_k(s, a)`` with
    ``Q_k = mdp.q_from_v(V_k)``, exactly what :func:`rlcore.value_iteration` iterates.
    """
    V = np.zeros(mdp.n_states)
    errors = [np.abs(V - V_star).max()]
    for _ in range(n_sweeps):
        V = mdp.q_from_v(V).max(axis=1)
        errors.append(np.abs(V - V_star).max())
        if errors[-1] <= floor:
            break
    return np.asarray(errors)


def _one_hot(policy: np.ndarray, n_actions: int) -> np.ndarray:
    return np.eye(n_actions)[policy]


CLIFF_SEEDS = 20
CLIFF_EPISODES = 500


@functools.cache
def _cliff_runs(method: str) -> tuple:
    """TD control on gymnasium's CliffWalking-v1 (alpha 0.5, epsilon 0.1, gamma 1), seeds 0..19, cached."""
    learner = {"q_learning": q_learning, "sarsa": sarsa, "expected_sarsa": expected_sarsa}[method]
    env = gym.make("CliffWalking-v1")
    return tuple(learner(env, CLIFF_EPISODES, alpha=0.5, epsilon=0.1, gamma=1.0, seed=seed)
                 for seed in range(CLIFF_SEEDS))


def _cliff_returns(method: str, n_seeds: int) -> np.ndarray:
    """Returns per episode ``[n_seeds, n_episodes]`` of the first ``n_seeds`` cached runs."""
    return np.stack([r.episode_returns for r in _cliff_runs(method)[:n_seeds]])


# ============================================================== chapter 1
@figure
def ch01_gridworld_policy() -> Figure:
    """V* and a greedy policy on Sutton & Barto's 4x4 gridworld (Example 4.1).

    Every step costs -1 and the two shaded corners end the episode, so with
    gamma = 1 the optimal value of a cell is minus its distance to the nearest
    exit. Computed by value iteration, drawn by rlcore.plots.plot_grid.
    """
    env = GridWorld("sutton_4x4", step_reward=-1, goal_reward=-1, gamma=1)
    res = value_iteration(env.mdp, tol=1e-10)
    fig, ax = _subplots(width=4.4, height=3.8)
    plot_grid(env, res.V, res.policy, ax=ax, title=r"4x4 gridworld: $V^*$ and a greedy $\pi^*$ ($\gamma=1$)")
    for text in ax.texts:  # plot_grid's labels are sized for big grids; enlarge them for four cells a row
        text.set_fontsize(text.get_fontsize() + 3)
    return fig


@figure
def ch01_compounding_error() -> Figure:
    """Probability (1 - eps)^T that a T-token generation never makes an off-distribution error.

    Lines: the closed form for three per-token error rates eps. Markers: a seeded
    Monte Carlo check with 10,000 simulated generations, each token an
    independent Bernoulli(eps) "slip".
    """
    T = np.arange(1, 501)
    n_traj = 10_000
    rng = np.random.default_rng(0)
    fig, ax = _subplots(width=5.8, height=3.6)
    for color, eps in zip(C, (0.001, 0.01, 0.05)):
        ax.plot(T, (1 - eps) ** T, color=color, lw=2, label=rf"$\epsilon = {eps}$")
        slips = rng.random((n_traj, T[-1])) < eps
        clean = (np.cumsum(slips, axis=1) == 0).mean(axis=0)  # fraction with no slip up to T
        marks = np.arange(24, T[-1], 25)
        ax.plot(T[marks], clean[marks], "o", ms=4, mfc="white", color=color)
    ax.plot([], [], "o", ms=4, mfc="white", color="grey", label="Monte Carlo (10,000 runs)")
    p = 0.99**200
    ax.plot(200, p, "o", color="black", ms=6, zorder=5)
    ax.annotate(rf"$T = 200,\ \epsilon = 0.01$: $0.99^{{200}} \approx {p:.3f}$", xy=(200, p), xytext=(235, 0.42),
                arrowprops=dict(arrowstyle="->", color="black"))
    ax.set_xlabel("sequence length $T$ (tokens)")
    ax.set_ylabel(r"$P(\text{no error in } T \text{ steps}) = (1-\epsilon)^T$")
    ax.set_title("Errors compound over long generations")
    ax.set_xlim(0, 500)
    ax.set_ylim(0, 1.02)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right")
    return fig


# ============================================================== chapter 2
@figure
def ch02_vi_residual() -> Figure:
    """Value-iteration residual max_s |V_{k+1}(s) - V_k(s)| per sweep on a slippery 4x4 grid.

    Gymnasium's FrozenLake 4x4 (every move slips sideways with probability 2/3,
    holes end the episode, reward 1 at the goal), read into a TabularMDP with
    TabularMDP.from_gymnasium; tolerance 1e-10, three discount factors. Dashed
    lines are the gamma^k rates of the contraction argument: the residual falls
    at least that fast, and here almost exactly that fast.
    """
    lake = gym.make("FrozenLake-v1", map_name="4x4", is_slippery=True)
    histories = {}
    for gamma in (0.5, 0.9, 0.99):
        mdp = TabularMDP.from_gymnasium(lake, gamma=gamma)
        histories[gamma] = value_iteration(mdp, tol=1e-10).history
    fig, ax = _subplots(width=5.8, height=3.8)
    plot_convergence({rf"$\gamma = {g}$ ({len(h)} sweeps)": h for g, h in histories.items()}, ax=ax,
                     title=r"Value iteration on slippery FrozenLake 4x4 (tol $10^{-10}$)")
    for color, (gamma, h) in zip(C, histories.items()):
        k = np.arange(1, len(h) + 1)
        ax.semilogy(k, h[0] * gamma ** (k - 1), "--", color=color, lw=1, alpha=0.8)
    ax.plot([], [], "--", color="grey", lw=1, label=r"$\propto \gamma^k$")
    ax.legend()
    ax.set_ylim(1e-11, 2)
    return fig


@figure
def ch02_state_count() -> Figure:
    """Number of token prefixes |S| = (|V|^T - 1) / (|V| - 1) against the length T, log scale.

    Exact integer counts for a binary alphabet, 5 symbols, 27 characters and a
    50,000-token vocabulary, against the size a table can hold and the number
    of atoms in the observable universe.
    """
    T = list(range(1, 61))  # Python integers, so that |V|^T is exact
    fig, ax = _subplots(width=5.8, height=3.8)
    for color, v in zip(C, (2, 5, 27, 50_000)):
        counts = [(v**t - 1) // (v - 1) for t in T]
        ax.semilogy(T, [float(c) for c in counts], color=color, lw=2, label=rf"$|\mathcal{{V}}| = {v:,}$")
    for level, text in ((1e6, "$10^{6}$: tabular\nfeasible"), (1e80, "$10^{80}$: atoms in\nthe universe")):
        ax.axhline(level, color="black", ls="--", lw=1)
        ax.annotate(text, xy=(1, level), xycoords=("axes fraction", "data"), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=9)
    t27 = next(t for t in T if (27**t - 1) // 26 > 10**80)
    ax.plot(t27, float((27**t27 - 1) // 26), "o", color=C[2])
    ax.annotate(f"27 characters pass $10^{{80}}$\nat $T = {t27}$", xy=(t27, 1e80), xytext=(42, 1e125),
                arrowprops=dict(arrowstyle="->"), fontsize=9)
    ax.set_xlabel("sequence length $T$ (tokens)")
    ax.set_ylabel(r"number of states $|\mathcal{S}|$")
    ax.set_title("Prefixes shorter than $T$: the state space explodes")
    ax.set_xlim(1, 60)
    ax.set_ylim(1, 1e300)
    ax.set_yticks([10.0**e for e in range(0, 301, 50)])
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left")
    return fig


# ============================================================== chapter 3
def _greedy_path(mdp: TabularMDP, policy: np.ndarray, start: int, max_steps: int = 60) -> list[int]:
    """States visited by the greedy policy from ``start`` in a deterministic MDP (stops at the end or a loop)."""
    path = [start]
    s = start
    for _ in range(max_steps):
        a = policy[s]
        done = mdp.done[s, a, 0]
        s = int(mdp.next_state[s, a, 0])
        path.append(s)
        if done or s in path[:-1]:
            break
    return path


@figure
def ch03_cliff_walking() -> Figure:
    """SARSA versus Q-learning on cliff walking (Sutton & Barto, Example 6.6).

    Left: return per episode (epsilon = 0.1, alpha = 0.5, gamma = 1), mean over
    20 seeds after a 10-episode moving average, with a one-standard-deviation
    band. Right: the greedy path of each method's final Q-table (seed 0): SARSA
    keeps away from the cliff, Q-learning walks its edge.
    """
    fig, (ax_l, ax_r) = plt.subplots(1, 2, figsize=(11.5, 3.6), layout="constrained",
                                     gridspec_kw={"width_ratios": [1, 1.25]})
    curves = {"SARSA": _cliff_returns("sarsa", CLIFF_SEEDS), "Q-learning": _cliff_returns("q_learning", CLIFF_SEEDS)}
    plot_learning_curves(curves, window=10, ax=ax_l, ylim=(-100, 0), ylabel="sum of rewards per episode",
                         title=r"Online performance ($\epsilon = 0.1$)")
    grid = GridWorld("cliff")  # same 4x12 layout and state numbering as CliffWalking-v1, used for drawing
    plot_grid(grid, ax=ax_r, title="Greedy path of the final $Q$ (seed 0)")
    model = TabularMDP.from_gymnasium(gym.make("CliffWalking-v1"), gamma=1.0)
    start = grid.state_of(3, 0)
    H, W = grid.shape
    ax_r.set_xticks(np.arange(-0.5, W), minor=True)
    ax_r.set_yticks(np.arange(-0.5, H), minor=True)
    ax_r.grid(which="minor", color="0.8", lw=0.8)
    ax_r.tick_params(which="minor", length=0)
    for text in ax_r.texts:  # plot_grid writes the start label in white, meant for a coloured heatmap
        if text.get_text() == "S":
            text.set_color("black")
            text.set_position((0, 3.3))
    for color, (label, method), d in ((C[0], ("SARSA", "sarsa"), -0.1), (C[1], ("Q-learning", "q_learning"), 0.1)):
        policy = _cliff_runs(method)[0].policy
        rc = grid.positions[_greedy_path(model, policy, start)]
        ax_r.plot(rc[:, 1] + d, rc[:, 0] + d, "-o", color=color, lw=2.5, ms=3, label=label)
    ax_r.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=2, frameon=False)
    return fig


@figure
def ch03_temperature_topp() -> Figure:
    """Decoding controls applied to one fixed set of ten next-token logits.

    Left: the softmax (Boltzmann) distribution at three temperatures, from
    rlcore.core.policies.boltzmann_probs, with its entropy. Right: at tau = 1, the
    full distribution and the renormalised distributions after top-k (k = 3)
    and nucleus top-p (p = 0.9) filtering, from rlcore.core.policies.filter_logits.
    """
    import torch

    from rlcore.core.policies import filter_logits

    logits = np.array([3, 2.5, 2, 1, 0.5, 0, -0.5, -1, -2, -3], dtype=float)
    tokens = np.arange(1, len(logits) + 1)
    fig, (ax_l, ax_r) = _subplots(2, width=11, height=3.6, sharey=True)
    width = 0.27
    for i, tau in enumerate((0.5, 1.0, 2.0)):
        p = boltzmann_probs(logits, tau)
        entropy = -(p * np.log(p)).sum()
        ax_l.bar(tokens + (i - 1) * width, p, width, color=C[i], label=rf"$\tau = {tau:g}$  ($H = {entropy:.2f}$ nats)")
    ax_l.set_title(r"Temperature: $\pi(a) \propto \exp(z_a / \tau)$")
    ax_l.set_ylabel("probability")

    z = torch.tensor(logits)
    variants = {"full ($\\tau = 1$)": {}, "top-$k$, $k = 3$": {"top_k": 3}, "top-$p$, $p = 0.9$": {"top_p": 0.9}}
    for i, (color, (label, kwargs)) in enumerate(zip((C[1], C[4], C[5]), variants.items())):  # tau = 1 as on the left
        p = torch.softmax(filter_logits(z, **kwargs), dim=-1).numpy()
        kept = int((p > 0).sum())
        ax_r.bar(tokens + (i - 1) * width, p, width, color=color, label=f"{label}: {kept} tokens kept")
    ax_r.set_title("Truncation at $\\tau = 1$, renormalised")
    for ax in (ax_l, ax_r):
        ax.set_xticks(tokens)
        ax.set_xticklabels([f"{t}\n({z_:g})" for t, z_ in zip(tokens, logits)], fontsize=8)
        ax.set_xlabel("token rank (logit $z_a$)")
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend()
    return fig


MC_SEEDS = (0, 1, 2)
MC_EPISODES = 500
MC_TILINGS = 8


@functools.cache
def _mountain_car_runs() -> tuple:
    """Episodic semi-gradient SARSA on MountainCar (Sutton & Barto, section 10.1), seeds 0..2, cached.

    8 tilings of 8 x 8 tiles over the position-velocity box, alpha = 0.5 / 8 per
    active weight, epsilon = 0 (the zero initial weights explore), gamma = 1, and a
    10,000-step limit instead of gymnasium's 200 so that early episodes can run long.
    """
    from rlcore.approx.linear import semi_gradient_sarsa
    from rlcore.approx.tiles import TileCoder

    runs = []
    for seed in MC_SEEDS:
        env = gym.make("MountainCar-v0", max_episode_steps=10_000)
        coder = TileCoder([-1.2, -0.07], [0.5, 0.07], tiles_per_dim=8, n_tilings=MC_TILINGS)
        runs.append(semi_gradient_sarsa(env, coder, MC_EPISODES, alpha=0.5 / MC_TILINGS, epsilon=0.0,
                                        gamma=1.0, seed=seed))
        env.close()
    return tuple(runs)


@figure
def ch03_mountain_car() -> Figure:
    """Semi-gradient SARSA with tile coding on MountainCar (Sutton & Barto, Figures 10.1 and 10.2).

    Left: steps per episode of each of three seeds (thin lines) and their mean
    (black), unsmoothed, on a log axis, from rlcore.plots.approx.plot_steps_per_episode.
    Right: the learned cost-to-go -max_a q(s, a, w) of seed 0 after the last
    episode, from rlcore.plots.approx.plot_cost_to_go.
    """
    from rlcore.plots.approx import plot_cost_to_go, plot_steps_per_episode

    runs = _mountain_car_runs()
    fig = plt.figure(figsize=(9, 3.5), layout="constrained")
    ax_l = fig.add_subplot(1, 2, 1)
    ax_r = fig.add_subplot(1, 2, 2, projection="3d")
    curves = {f"seed {s}": r for s, r in zip(MC_SEEDS, runs)}
    curves["mean"] = list(runs)  # plot_steps_per_episode adds "(3 seeds)" to a list's label
    plot_steps_per_episode(curves, ax=ax_l, title=rf"Semi-gradient SARSA, {MC_TILINGS} tilings of 8$\times$8")
    lines = ax_l.get_lines()
    for line in lines[:-1]:
        line.set_linewidth(0.7)
        line.set_alpha(0.6)
    lines[-1].set_color("black")
    lines[-1].set_linewidth(1.6)
    ax_l.legend(fontsize=8)
    plot_cost_to_go(runs[0].model, ax=ax_r, title=f"Cost-to-go after {MC_EPISODES} episodes (seed 0)")
    ax_r.view_init(elev=30, azim=-130)
    ax_r.tick_params(labelsize=7)
    ax_r.set_zlabel(r"$-\max_a \hat q(s, a, w)$", fontsize=8, labelpad=2)
    ax_r.zaxis.set_rotate_label(False)
    ax_r.zaxis.label.set_rotation(90)
    return fig


@figure
def ch03_baird() -> Figure:
    """Baird's counterexample (Sutton & Barto, Example 11.1, Figures 11.2 and 11.5): the deadly triad.

    The eight weights over 1,000 steps of one behaviour trajectory (seed 0) for
    off-policy semi-gradient TD (alpha = 0.01), which diverges; the same learner
    evaluating the behaviour policy itself, on-policy (alpha = 0.01), which stays
    bounded; and TDC (alpha = 0.005, beta = 0.05), which stays bounded off-policy.
    Learners from rlcore.approx.off_policy_td, drawn by rlcore.plots.approx_triad.plot_triad.
    """
    from rlcore.approx.off_policy_td import off_policy_semi_gradient_td, on_policy_semi_gradient_td, tdc
    from rlcore.plots.approx_triad import plot_triad

    results = {
        r"off-policy semi-gradient TD ($\alpha = 0.01$)": off_policy_semi_gradient_td(1000, alpha=0.01, seed=0),
        r"on-policy semi-gradient TD ($\alpha = 0.01$)": on_policy_semi_gradient_td(1000, alpha=0.01, seed=0),
        r"TDC, off-policy ($\alpha = 0.005$, $\beta = 0.05$)": tdc(1000, alpha=0.005, beta=0.05, seed=0),
    }
    fig = plot_triad(results, errors=False, figsize=(9, 3.5))
    for ax in fig.axes:
        ax.title.set_size(8.5)
        ax.grid(True, alpha=0.3)
    return fig


# ============================================================== chapter 4
@figure
def ch04_bradley_terry() -> Figure:
    """The Bradley-Terry model: preference probability, loss and gradient against the score gap.

    Left: P(y_w > y_l) = sigma(Delta), Delta = r(x, y_w) - r(x, y_l), with the
    gaps 2 and 4 marked. Right: the reward-model loss -log sigma(Delta) and the
    size of its gradient 1 - sigma(Delta): pairs already ranked correctly by a
    wide margin stop contributing.
    """
    delta = np.linspace(-6, 6, 601)
    fig, (ax_l, ax_r) = _subplots(2, width=10.5, height=3.6)
    ax_l.plot(delta, expit(delta), color=C[0], lw=2)
    for d in (2, 4):
        p = expit(d)
        ax_l.plot([d, d, -6], [0, p, p], ":", color="grey", lw=1)
        ax_l.plot(d, p, "o", color=C[1])
        ax_l.annotate(rf"$\sigma({d}) = {p:.3f}$", xy=(d, p), xytext=(d + 0.4, p - 0.25),
                      arrowprops=dict(arrowstyle="->"), fontsize=9)
    ax_l.axhline(0.5, color="grey", lw=0.8)
    ax_l.set_xlabel(r"score difference $\Delta = r(x, y_w) - r(x, y_l)$")
    ax_l.set_ylabel(r"$P(y_w \succ y_l) = \sigma(\Delta)$")
    ax_l.set_title("Preference probability")
    ax_l.set_ylim(0, 1.02)

    ax_r.plot(delta, np.logaddexp(0, -delta), color=C[0], lw=2, label=r"loss $-\log \sigma(\Delta)$")
    ax_r.plot(delta, 1 - expit(delta), color=C[1], lw=2, label=r"gradient size $|\partial \ell / \partial \Delta| "
              r"= 1 - \sigma(\Delta)$")
    ax_r.set_xlabel(r"score difference $\Delta$")
    ax_r.set_ylabel("loss / gradient magnitude")
    ax_r.set_title("Reward-model loss")
    ax_r.set_ylim(0, 6.5)
    ax_r.legend()
    for ax in (ax_l, ax_r):
        ax.set_xlim(-6, 6)
        ax.grid(True, alpha=0.3)
    return fig


@figure
def ch04_ppo_clip() -> Figure:
    """The PPO clipped surrogate min(rho A, clip(rho, 1 - eps, 1 + eps) A), eps = 0.2, against the ratio rho.

    Computed with rlcore.lm.losses.ppo_policy_loss (its negative is the surrogate) and
    differentiated with autograd: shaded regions are where the gradient is
    exactly zero, so the update cannot push the ratio further. Left A = +1,
    right A = -1; the dashed line is the unclipped objective rho A.
    """
    import torch

    from rlcore.lm import ppo_policy_loss

    rho = np.linspace(0.005, 2.0, 400)
    fig, axes = _subplots(2, width=10.5, height=3.6, sharey=True)
    for ax, adv in zip(axes, (1.0, -1.0)):
        surrogate, grad = np.zeros_like(rho), np.zeros_like(rho)
        for i, r in enumerate(rho):
            logp = torch.tensor([[math.log(r)]], dtype=torch.float64, requires_grad=True)
            loss, _ = ppo_policy_loss(logp, torch.zeros_like(logp), torch.full_like(logp, adv),
                                      torch.ones_like(logp, dtype=torch.bool), cliprange=0.2)
            (g,) = torch.autograd.grad(loss, logp)
            surrogate[i], grad[i] = -loss.item(), g.item()
        flat = np.abs(grad) < 1e-12
        ax.fill_between(rho, 0, 1, where=flat, transform=ax.get_xaxis_transform(), color="grey", alpha=0.18,
                        label="zero gradient")
        ax.plot(rho, rho * adv, "--", color=C[7], lw=1.5, label=r"unclipped $\rho A$")
        ax.plot(rho, surrogate, color=C[0], lw=2.5, label=r"$\min(\rho A,\ \mathrm{clip}(\rho, 0.8, 1.2) A)$")
        ax.axvline(1.0, color="black", lw=0.8)
        for edge in (0.8, 1.2):
            ax.axvline(edge, color="grey", lw=0.8, ls=":")
        ax.set_xlabel(r"probability ratio $\rho = \pi_\theta(a|s) / \pi_{\theta_{\mathrm{old}}}(a|s)$")
        ax.set_title(f"advantage $A = {adv:+g}$")
        ax.set_xlim(0, 2)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left" if adv > 0 else "upper right")
    axes[0].set_ylabel("surrogate objective")
    return fig


# ============================================================== chapter 5
@figure
def ch05_kl_tilted_policy() -> Figure:
    """The KL-regularised optimum pi*(y) proportional to pi_ref(y) exp(r(y) / beta) over six responses.

    pi* is a Boltzmann policy at temperature beta over the logits
    r + beta log pi_ref (rlcore.core.policies.boltzmann_probs). Left: pi_ref and
    pi* for four betas. Right: expected reward and KL(pi* || pi_ref) as beta
    sweeps from 0.01 to 100.
    """
    pi_ref = np.array([0.35, 0.25, 0.15, 0.12, 0.08, 0.05])
    r = np.array([0, 0.5, 1, 1.5, 2, 3])

    def tilted(beta):
        return boltzmann_probs(r + beta * np.log(pi_ref), beta)

    fig, (ax_l, ax_r) = _subplots(2, width=11, height=3.7)
    x = np.arange(len(r))
    series = [(r"$\pi_{\mathrm{ref}}$", pi_ref)] + [(rf"$\pi^*$, $\beta = {b:g}$", tilted(b)) for b in (5, 1, 0.5, 0.1)]
    width = 0.16
    for i, (label, p) in enumerate(series):
        ax_l.bar(x + (i - 2) * width, p, width, color="black" if i == 0 else C[i - 1], label=label)
    ax_l.set_xticks(x)
    ax_l.set_xticklabels([f"$y_{i + 1}$\n$r = {v:g}$" for i, v in enumerate(r)])
    ax_l.set_ylabel(r"$\pi(y)$")
    ax_l.set_title(r"$\pi^*(y) \propto \pi_{\mathrm{ref}}(y)\, e^{r(y)/\beta}$")
    ax_l.grid(True, axis="y", alpha=0.3)
    ax_l.legend()

    betas = np.logspace(-2, 2, 200)
    pis = np.stack([tilted(b) for b in betas])
    ax_r.semilogx(betas, pis @ r, color=C[0], lw=2, label=r"$\mathbb{E}_{\pi^*}[r]$")
    ax_r.set_xlabel(r"KL coefficient $\beta$")
    ax_r.set_ylabel(r"expected reward $\mathbb{E}_{\pi^*}[r]$", color=C[0])
    ax_k = ax_r.twinx()
    ax_k.semilogx(betas, rel_entr(pis, pi_ref).sum(axis=1), color=C[1], lw=2)
    ax_k.set_ylabel(r"$\mathrm{KL}(\pi^* \,\|\, \pi_{\mathrm{ref}})$ (nats)", color=C[1])
    ax_r.axhline(pi_ref @ r, color=C[0], ls=":", lw=1)
    ax_r.text(0.012, pi_ref @ r + 0.05, r"$\mathbb{E}_{\pi_{\mathrm{ref}}}[r]$", color=C[0], fontsize=9)
    ax_r.set_title(r"Reward and KL as $\beta$ varies")
    ax_r.grid(True, alpha=0.3)
    return fig


@figure
def ch05_offline_overestimation() -> Figure:
    """Offline fitted-Q iteration: estimated value versus the true value of the learned greedy policy.

    4x4 gridworld (Sutton & Barto corners, step -1, gamma 0.9). Each dataset
    holds N single transitions: s uniform over non-terminal states, a from a
    behaviour policy that is optimal w.p. 0.7 and uniform otherwise
    (rlcore.health.offline.collect_logs with horizon 1). Naive FQI puts unseen
    (s, a) at 0; the pessimistic variant puts them at the lower bound
    r_min / (1 - gamma) and subtracts 1 / sqrt(N(s, a)) (rlcore.health.offline.
    fitted_q_iteration). Estimate = mean over states of max_a Q; truth = exact
    policy evaluation of the greedy policy. Mean +/- std over 10 datasets.
    """
    from rlcore.health.offline import collect_logs, fitted_q_iteration

    env = GridWorld("sutton_4x4", step_reward=-1, goal_reward=-1, gamma=0.9)
    mdp = env.mdp
    live = ~mdp.terminal
    opt = value_iteration(mdp, tol=1e-10)
    mu = epsilon_greedy_probs(_one_hot(opt.policy, mdp.n_actions), 0.3)
    sizes = np.array([25, 50, 100, 200, 400, 800, 1600])
    methods = {"naive FQI": dict(pessimistic=False), "pessimistic FQI": dict(pessimistic=True, penalty=1.0)}
    est = {m: np.zeros((len(sizes), 10)) for m in methods}
    true = {m: np.zeros((len(sizes), 10)) for m in methods}
    for j, n in enumerate(sizes):
        for seed in range(10):
            log = collect_logs(mdp, mu, int(n), horizon=1, seed=1000 * j + seed)
            for m, kwargs in methods.items():
                res = fitted_q_iteration(log, **kwargs)
                est[m][j, seed] = res.Q.max(axis=1)[live].mean()
                true[m][j, seed] = policy_evaluation(mdp, res.policy).V[live].mean()

    fig, ax = _subplots(width=6.2, height=4.0)
    for color, m in zip(C, methods):
        for data, style, what in ((est[m], "-o", "estimate"), (true[m], "--s", "true value of its policy")):
            mean, std = data.mean(axis=1), data.std(axis=1)
            ax.plot(sizes, mean, style, color=color, lw=2, ms=4, label=f"{m}: {what}")
            ax.fill_between(sizes, mean - std, mean + std, color=color, alpha=0.15)
    ax.axhline(opt.V[live].mean(), color="black", ls=":", lw=1.5, label=r"$V^*$ (mean over states)")
    ax.set_xscale("log")
    ax.set_xticks(sizes)
    ax.set_xticklabels([str(n) for n in sizes])
    ax.set_xlabel("transitions in the dataset $N$")
    ax.set_ylabel("mean value over non-terminal states")
    ax.set_title(r"Offline Q-learning on a 4x4 gridworld ($\gamma = 0.9$), 10 datasets per $N$")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig


# ============================================================== chapter 6
@figure
def fig06_sweep_cost() -> Figure:
    """Wall-clock time of one Bellman backup Q = R + gamma P V against the number of states.

    Random MDPs with A = 4 actions and K = 3 successors per pair. Dense: an
    einsum over the [S, A, S] tensor mdp.P (built only up to S = 1600, where it
    already takes 80 MB). Successor lists: TabularMDP.q_from_v, O(S A K).
    Best of three timeit repeats. Timings depend on the machine.
    """
    sizes = np.array([100, 200, 400, 800, 1600, 3200, 6400])
    dense_max = 1600

    def best_time(fn) -> float:
        timer = timeit.Timer(fn)
        number, _ = timer.autorange()
        return min(timer.repeat(repeat=3, number=number)) / number

    t_dense, t_list = [], []
    for S in sizes:
        mdp = random_mdp(int(S), 4, 3, gamma=0.9, seed=int(S))
        V = np.random.default_rng(0).random(S)
        t_list.append(best_time(lambda mdp=mdp, V=V: mdp.q_from_v(V)))
        if S <= dense_max:
            P, R = mdp.P, mdp.R
            t_dense.append(best_time(lambda P=P, R=R, V=V: R + 0.9 * np.einsum("sat,t->sa", P, V)))
    t_dense, t_list = np.array(t_dense), np.array(t_list)

    fig, ax = _subplots(width=5.8, height=4.0)
    small = sizes[sizes <= dense_max]
    ax.loglog(small, t_dense * 1e3, "o-", color=C[3], lw=2, label=r"dense $P[s, a, s']$ (einsum)")
    ax.loglog(sizes, t_list * 1e3, "s-", color=C[0], lw=2, label="successor lists (TabularMDP.q_from_v)")
    ax.loglog(sizes, t_list[-1] * 1e3 * sizes / sizes[-1], ":", color=C[0], lw=1.2, label=r"slope 1: $\propto S$")
    ax.loglog(small, t_dense[-1] * 1e3 * (small / small[-1]) ** 2, ":", color=C[3], lw=1.2,
              label=r"slope 2: $\propto S^2$")
    ax.set_xlabel(r"number of states $|\mathcal{S}|$")
    ax.set_ylabel("time per sweep (ms)")
    ax.set_title("One Bellman sweep ($A = 4$, $K = 3$)\nmeasured on the machine that built the book", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig


@figure
def fig06_seed_variance() -> Figure:
    """Ten seeds of the same Q-learning run on CliffWalking-v1 (alpha 0.5, epsilon 0.1, gamma 1).

    Thin lines: each seed's return per episode after a 10-episode moving
    average (rlcore.plots.smooth). Bold: their mean. Band: mean +/- one
    standard deviation across seeds.
    """
    runs = smooth(_cliff_returns("q_learning", 10), 10)
    episodes = np.arange(1, runs.shape[1] + 1)
    fig, ax = _subplots(width=6.2, height=3.8)
    for i, run in enumerate(runs):
        ax.plot(episodes, run, color=C[0], lw=0.7, alpha=0.45, label="individual seeds" if i == 0 else None)
    mean, std = runs.mean(axis=0), runs.std(axis=0)
    ax.fill_between(episodes, mean - std, mean + std, color=C[1], alpha=0.25, label=r"mean $\pm$ 1 std")
    ax.plot(episodes, mean, color=C[1], lw=2.5, label="mean of 10 seeds")
    ax.set_ylim(-150, 0)
    ax.set_xlim(1, runs.shape[1])
    ax.set_xlabel("episode")
    ax.set_ylabel("return per episode (10-episode average)")
    ax.set_title("Q-learning on cliff walking: seeds 0 to 9")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    return fig


# ============================================================== chapter 7
@figure
def fig07_kl_tradeoff() -> Figure:
    """Reward overoptimisation in miniature: proxy and true return against KL from the reference.

    5x5 open room (step -0.04, goal +1, gamma 0.95). The proxy reward adds +0.1
    to every transition into a "shiny" top-right cell, which is not the goal:
    bumping into the wall there collects it again and again, which the proxy
    values above reaching the goal.
    For 30 values of beta the KL-regularised optimum pi_beta of the proxy is
    found by soft value iteration (rlcore.tabular.soft) against a uniform reference; it is then
    evaluated exactly under both rewards (rlcore.policy_evaluation), and its
    discounted expected KL from the reference is itself a policy evaluation
    with reward KL(pi_beta(.|s) || pi_ref(.|s)).
    """
    env = GridWorld.open(5, 5, step_reward=-0.04, goal_reward=1.0, gamma=0.95)
    true_mdp = env.mdp
    shiny = env.state_of(0, 4)
    proxy_mdp = true_mdp.with_reward(true_mdp.reward + 0.1 * (true_mdp.next_state == shiny))
    pi_ref = np.full((true_mdp.n_states, true_mdp.n_actions), 1 / true_mdp.n_actions)
    start = true_mdp.initial

    betas = np.logspace(-3, 1, 30)
    kl, proxy, true = [], [], []
    for beta in betas:
        pi = soft_value_iteration(proxy_mdp, pi_ref, beta).pi
        kl_mdp = true_mdp.with_reward(rel_entr(pi, pi_ref).sum(axis=1)[:, None, None])
        kl.append(start @ policy_evaluation(kl_mdp, pi).V)
        proxy.append(start @ policy_evaluation(proxy_mdp, pi).V)
        true.append(start @ policy_evaluation(true_mdp, pi).V)
    kl, proxy, true = map(np.array, (kl, proxy, true))

    fig, ax = _subplots(width=6.4, height=4.0)
    ax.plot(kl, proxy, "o-", color=C[1], lw=2, ms=4, label="proxy return (what is optimised)")
    ax.plot(kl, true, "s-", color=C[0], lw=2, ms=4, label="true return")
    best = int(np.argmax(true))
    ax.plot(kl[best], true[best], "*", color="black", ms=14, zorder=5)
    ax.annotate(rf"best true return, $\beta \approx {betas[best]:.2g}$", xy=(kl[best], true[best]),
                xytext=(5, -100), textcoords="offset points", arrowprops=dict(arrowstyle="->"))
    ax.set_xlabel(r"discounted $\mathrm{KL}(\pi_\beta \,\|\, \pi_{\mathrm{ref}})$ from the start (nats)")
    ax.set_ylabel("expected discounted return from the start")
    ax.set_title(r"KL-regularised optimum of a flawed proxy ($\beta = 10^{-3} \ldots 10$)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left")
    return fig


@figure
def fig07_pass_at_k() -> Figure:
    """The unbiased pass@k estimator 1 - C(n-c, k) / C(n, k) from n = 200 samples with c correct.

    ``rlcore.lm.metrics.pass_at_k`` (the numerically stable product form of Chen et al., 2021),
    for per-sample success rates c/n of 1%, 5%, 20%, 50%.
    """
    n = 200
    k = np.arange(1, 101)
    fig, ax = _subplots(width=5.8, height=3.8)
    for color, c in zip(C, (2, 10, 40, 100)):
        pass_k = pass_at_k(n, c, k)
        ax.semilogx(k, pass_k, color=color, lw=2, label=f"$c = {c}$ ($c/n = {c / n:.0%}$)".replace("%", r"\%"))
    ax.set_xlabel("number of attempts $k$")
    ax.set_ylabel("pass@$k$")
    ax.set_title(f"pass@$k$ estimated from $n = {n}$ samples")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(1, 100)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
    return fig


# ============================================================== chapter 8
@figure
def fig08_vi_contraction() -> Figure:
    """Value iteration is a gamma-contraction: ||V_k - V*||_inf against the sweep k.

    Random MDP with 50 states, 4 actions and 5 successors per pair, rewards
    U(0, 1); V* from policy iteration. Solid: value iteration from V_0 = 0.
    Dashed: the bound gamma^k ||V_0 - V*||_inf.
    """
    base = random_mdp(50, 4, 5, gamma=0.9, seed=8)
    fig, ax = _subplots(width=6.0, height=3.9)
    for color, gamma in zip(C, (0.5, 0.9, 0.99)):
        mdp = TabularMDP(base.next_state, base.prob, base.reward, gamma=gamma)
        V_star = policy_iteration(mdp).V
        err = _vi_errors(mdp, V_star, n_sweeps=600, floor=1e-11)
        k = np.arange(len(err))
        ax.semilogy(k, err, color=color, lw=3.5, alpha=0.6, label=rf"$\gamma = {gamma}$")
        kk = np.arange(601)
        ax.semilogy(kk, err[0] * gamma**kk, "--", color="black", lw=1)  # on this MDP the bound is nearly tight
    ax.plot([], [], "--", color="black", lw=1, label=r"bound $\gamma^k \|V_0 - V^*\|_\infty$")
    ax.set_xlabel("sweep $k$")
    ax.set_ylabel(r"$\|V_k - V^*\|_\infty$")
    ax.set_title("Value iteration on a random MDP ($|S| = 50$, $|A| = 4$)")
    ax.set_xlim(0, 600)
    ax.set_ylim(1e-10, 300)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right")
    return fig


@figure
def fig08_q_learning_samples() -> Figure:
    """Synchronous Q-learning with a generative model: ||Q_t - Q*||_inf against samples per (s, a).

    Random MDP with 20 states, 3 actions, 4 successors. At every iteration t each
    pair (s, a) draws one s' ~ P(.|s, a) and takes the step
    alpha_t = 1 / (1 + (1 - gamma) t) towards r + gamma max_a' Q_t(s', a').
    Q* from value iteration. Lines: mean over 5 seeds; band: min to max.
    """
    base = random_mdp(20, 3, 4, gamma=0.9, seed=3)
    n_iter, n_seeds = 100_000, 5
    t_axis = np.arange(1, n_iter + 1)
    fig, ax = _subplots(width=6.0, height=3.9)
    for color, gamma in zip(C, (0.9, 0.99)):
        mdp = TabularMDP(base.next_state, base.prob, base.reward, gamma=gamma)
        Q_star = value_iteration(mdp, tol=1e-12).Q
        rng = np.random.default_rng(int(gamma * 100))
        cum = np.cumsum(mdp.prob, axis=2)
        s_idx, a_idx = np.indices(Q_star.shape)
        Q = np.zeros((n_seeds, *Q_star.shape))
        err = np.zeros((n_seeds, n_iter))
        seed_idx = np.arange(n_seeds)[:, None, None]
        for t in range(n_iter):
            u = rng.random(Q.shape)
            k = np.minimum((u[..., None] >= cum).sum(axis=-1), mdp.n_successors - 1)  # one sample per (s, a)
            s2, r = mdp.next_state[s_idx, a_idx, k], mdp.reward[s_idx, a_idx, k]
            alpha = 1.0 / (1.0 + (1.0 - gamma) * t)
            Q += alpha * (r + gamma * Q[seed_idx, s2].max(axis=-1) - Q)
            err[:, t] = np.abs(Q - Q_star).max(axis=(1, 2))
        ax.loglog(t_axis, err.mean(axis=0), color=color, lw=2, label=rf"$\gamma = {gamma}$")
        ax.fill_between(t_axis, err.min(axis=0), err.max(axis=0), color=color, alpha=0.2)
        if gamma == 0.9:
            ref = err.mean(axis=0)[99] * np.sqrt(100 / t_axis)
    ax.loglog(t_axis, ref, "--", color="black", lw=1.2, label=r"$\propto 1/\sqrt{t}$")
    ax.set_xlabel("samples per state-action pair $t$")
    ax.set_ylabel(r"$\|Q_t - Q^*\|_\infty$")
    ax.set_title("Synchronous Q-learning, generative model (5 seeds, range shaded)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig


# ============================================================== chapter 9
def _ope_problem(seed: int = 9):
    """Random MDP (10 states, 4 actions, 3 successors), a behaviour policy and an alternative policy.

    The behaviour ``mu`` is epsilon-greedy (epsilon = 0.3) around a random
    deterministic policy; ``alt`` is another random deterministic policy. Target
    policies mix them: ``pi_delta = (1 - delta) mu + delta alt``.
    """
    mdp = random_mdp(10, 4, 3, gamma=0.95, seed=seed)
    rng = np.random.default_rng(seed + 1)
    mu = epsilon_greedy_probs(_one_hot(rng.integers(0, 4, 10), 4), 0.3)
    alt = _one_hot(rng.integers(0, 4, 10), 4)
    return mdp, mu, alt


@figure
def fig09_ess_vs_horizon() -> Figure:
    """Effective sample size of trajectory importance weights, as a fraction of n, against the horizon.

    n = 2000 episodes logged by mu (rlcore.health.offline.collect_logs); ESS =
    (sum w)^2 / sum w^2 with w the product of pi/mu over the episode
    (rlcore.health.offline.importance_sampling). Targets pi_delta move away from mu as
    delta grows. Mean over 5 logs; error bars one standard deviation.
    """
    from rlcore.health.offline import collect_logs, importance_sampling

    mdp, mu, alt = _ope_problem()
    horizons = np.array([1, 2, 5, 10, 20, 50])
    deltas = (0.1, 0.25, 0.5, 0.9)
    n, n_seeds = 2000, 5
    ess = np.zeros((len(deltas), len(horizons), n_seeds))
    for j, H in enumerate(horizons):
        for seed in range(n_seeds):
            log = collect_logs(mdp, mu, n, horizon=int(H), seed=seed)
            for i, delta in enumerate(deltas):
                pi = (1 - delta) * mu + delta * alt
                ess[i, j, seed] = importance_sampling(log, pi, "is", n_bootstrap=0).ess / n
    fig, ax = _subplots(width=6.0, height=3.9)
    for color, delta, e in zip(C, deltas, ess):
        ax.errorbar(horizons, e.mean(axis=1), yerr=e.std(axis=1), fmt="o-", color=color, lw=2, ms=4, capsize=3,
                    label=rf"$\delta = {delta}$")
    ax.axhline(1 / n, color="black", ls=":", lw=1)
    ax.text(27, 1.3 / n, "ESS = 1 (one episode carries all the weight)", fontsize=8)
    ax.set_yscale("log")
    ax.set_xlabel("horizon $H$ (steps)")
    ax.set_ylabel(r"ESS$/n$")
    ax.set_title("Importance weights degenerate with the horizon\n"
                 r"($\pi_\delta = (1-\delta)\mu + \delta\pi_{\mathrm{alt}}$)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(title="distance from $\\mu$")
    return fig


@figure
def fig09_ope_estimators() -> Figure:
    """Five off-policy estimators over 100 simulated logs of 50, 200 and 1000 episodes.

    Same kind of random MDP as 09_ess_vs_horizon, horizon H = 10, gamma = 0.95,
    target pi_0.25. rlcore.health.ope_study.ope_convergence draws the logs and runs IS,
    WIS, per-decision IS, doubly robust and fitted-Q evaluation (pairs missing
    from a log get Q = 0); the exact value (backward induction,
    rlcore.health.offline.true_value) is the horizontal line. Boxes: quartiles and
    median; whiskers: 5th to 95th percentiles; white diamonds: means.
    """
    from rlcore.health.ope_study import ope_convergence

    mdp, mu, alt = _ope_problem()
    pi = 0.75 * mu + 0.25 * alt
    labels = {"is": "IS", "wis": "WIS", "pdis": "PDIS", "dr": "DR", "fqe": "FQE"}
    res = ope_convergence(mdp, mu, pi, sizes=(50, 200, 1000), n_repeats=100, methods=tuple(labels), horizon=10,
                          seed=0)
    fig, ax = _subplots(width=7.5, height=4.0)
    width = 0.15
    for i, method in enumerate(res.methods):
        pos = np.arange(len(res.sizes)) + (i - 2) * width
        box = ax.boxplot(res.estimates[i].T, positions=pos, widths=width * 0.85, whis=(5, 95), showfliers=False,
                         patch_artist=True, medianprops=dict(color="black"), showmeans=True,
                         meanprops=dict(marker="D", markerfacecolor="white", markeredgecolor="black", markersize=4))
        for patch in box["boxes"]:
            patch.set_facecolor(C[i])
            patch.set_alpha(0.75)
        ax.plot([], [], "s", color=C[i], ms=8, label=labels[method])
    ax.axhline(res.true_value, color="black", ls="--", lw=1.2, label=rf"true $v(\pi) = {res.true_value:.2f}$")
    ax.set_xticks(np.arange(len(res.sizes)))
    ax.set_xticklabels([f"$n = {n}$ episodes" for n in res.sizes])
    ax.set_ylabel(r"estimate of $v(\pi)$")
    ax.set_title(r"Off-policy estimates of $\pi_{0.25}$ over 100 logs ($H = 10$, $\gamma = 0.95$)")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(ncol=3, loc="upper right")
    return fig


@figure
def fig09_pareto_front() -> Figure:
    """Benefit-harm trade-off of a random treatment MDP via the Lagrangian reward R - lambda C.

    20 states, 4 actions (dose levels 0..3), 3 successors, gamma 0.95. Benefit
    R = U(0, 1) + 0.3 a/3, adverse-event cost C = 0.05 + 0.25 a/3 + U(0, 0.05).
    For each lambda in [0, 5], rlcore.health.constraints.lagrangian_front solves R - lambda C
    by value iteration and evaluates the greedy policy's V_R and V_C from the start states exactly.
    The star is the best policy within the budget d.
    """
    S, A, K, gamma = 20, 4, 3, 0.95
    rng = np.random.default_rng(2024)
    dose = np.arange(A) / (A - 1)
    benefit = rng.random((S, A)) + 0.3 * dose
    cost = 0.05 + 0.25 * dose + 0.05 * rng.random((S, A))
    base = random_mdp(S, A, K, gamma=gamma, seed=2025)
    lambdas = np.linspace(0, 5, 60)
    front = lagrangian_front(base.with_reward(benefit[:, :, None]), cost, lambdas, tol=1e-10)
    v_r, v_c = front.values, front.costs

    fig, ax = _subplots(width=6.2, height=4.0)
    order = np.argsort(v_c)
    ax.plot(v_c[order], v_r[order], "-", color="grey", lw=1, zorder=1, label="front (convex hull)")
    sc = ax.scatter(v_c, v_r, c=lambdas, cmap="viridis", s=28, zorder=2)
    fig.colorbar(sc, ax=ax, label=r"multiplier $\lambda$")
    d = 0.5 * (v_c.min() + v_c.max())
    ax.axvline(d, color="black", ls="--", lw=1.2, label=f"budget $d = {d:.2f}$")
    feasible = np.flatnonzero(v_c <= d)
    best = feasible[np.argmax(v_r[feasible])]
    ax.plot(v_c[best], v_r[best], "*", color=C[3], ms=16, zorder=3,
            label=rf"best feasible ($\lambda = {lambdas[best]:.2f}$)")
    ax.set_xlabel(r"expected discounted cost $V_C^{\pi_\lambda}$ (adverse events)")
    ax.set_ylabel(r"expected discounted benefit $V_R^{\pi_\lambda}$")
    ax.set_title(r"Pareto front from the Lagrangian $R - \lambda C$")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    return fig


# ============================================================== chapter 10
@figure
def fig10_gridworld_values() -> Figure:
    """V* and the greedy policy of the default "classic" GridWorld maze (step -0.04, goal +1, trap -1, gamma 0.99).

    value_iteration(env.mdp, tol=1e-10), drawn by rlcore.plots.plot_grid.
    """
    env = GridWorld("classic")
    res = value_iteration(env.mdp, tol=1e-10)
    fig, ax = _subplots(width=6.6, height=3.8)
    plot_grid(env, res.V, res.policy, ax=ax, title=rf"GridWorld('classic'): $V^*$ and greedy policy "
              rf"($\gamma = {env.mdp.gamma}$, {res.iterations} sweeps)")
    for text in ax.texts:
        text.set_fontsize(text.get_fontsize() + 1.5)
    return fig


@figure
def fig10_td_learning_curves() -> Figure:
    """Q-learning, SARSA and Expected SARSA on CliffWalking-v1 (alpha 0.5, epsilon 0.1, gamma 1, 500 episodes).

    Mean over 10 seeds of the return per episode after a 10-episode moving
    average, with a one-standard-deviation band (rlcore.plots.plot_learning_curves).
    """
    curves = {"Q-learning": _cliff_returns("q_learning", 10), "SARSA": _cliff_returns("sarsa", 10),
              "Expected SARSA": _cliff_returns("expected_sarsa", 10)}
    fig, ax = _subplots(width=6.4, height=3.9)
    plot_learning_curves(curves, window=10, band="std", ylim=(-150, 0), ax=ax,
                         title=r"TD control on cliff walking ($\alpha = 0.5$, $\epsilon = 0.1$)")
    ax.legend(loc="lower right")
    return fig


# ============================================================== chapter 11
@figure
def fig11_planning_vs_learning() -> Figure:
    """Planning with the model versus learning from samples, on the same slippery maze.

    GridWorld("classic", slip=0.1, gamma=0.95). Left: value iteration's error
    ||V_k - V*||_inf per sweep. Right: Q-learning (alpha 0.1, epsilon 0.1) run in
    chunks of 50 episodes, continued from the previous Q through Q0; after each
    chunk the greedy policy is evaluated exactly from the start state. The x
    position of a chunk is the mean (over 5 seeds) of cumulative environment
    steps; the line is the mean value over seeds and the band their range.
    The dips are chunks in which small errors in Q send the greedy policy round
    a loop (two cells pointing at each other); exact evaluation charges for it.
    """
    env = GridWorld("classic", slip=0.1, gamma=0.95)
    mdp = env.mdp
    opt = value_iteration(mdp, tol=1e-12)
    start = int(np.argmax(mdp.initial))
    fig, (ax_l, ax_r) = _subplots(2, width=11, height=3.8)

    err = _vi_errors(mdp, opt.V, n_sweeps=1000, floor=1e-10)
    ax_l.semilogy(np.arange(len(err)), err, "o-", color=C[0], lw=2, ms=3)
    ax_l.set_xlabel("value-iteration sweep $k$ (no samples needed)")
    ax_l.set_ylabel(r"$\|V_k - V^*\|_\infty$")
    ax_l.set_title("Planning: value iteration with the model")
    ax_l.grid(True, which="both", alpha=0.3)

    n_chunks, chunk, n_seeds, alpha = 40, 50, 5, 0.1
    values = np.zeros((n_seeds, n_chunks + 1))
    steps = np.zeros((n_seeds, n_chunks + 1))
    for seed in range(n_seeds):
        Q = np.zeros((mdp.n_states, mdp.n_actions))
        values[seed, 0] = policy_evaluation(mdp, greedy_policy(Q)).V[start]
        for c in range(1, n_chunks + 1):
            res = q_learning(env, chunk, alpha=alpha, epsilon=0.1, gamma=mdp.gamma, seed=1000 * seed + c, Q0=Q)
            Q = res.Q
            steps[seed, c] = steps[seed, c - 1] + res.episode_lengths.sum()
            values[seed, c] = policy_evaluation(mdp, res.policy).V[start]
    x = steps.mean(axis=0)
    ax_r.plot(x, values.mean(axis=0), "o-", color=C[1], lw=2, ms=3, label="greedy policy of Q-learning, mean")
    ax_r.fill_between(x, values.min(axis=0), values.max(axis=0), color=C[1], alpha=0.25,
                      label=f"range over {n_seeds} seeds")
    ax_r.axhline(opt.V[start], color="black", ls="--", lw=1.2, label=rf"$V^*(s_0) = {opt.V[start]:.3f}$")
    ax_r.set_xlabel("environment steps (cumulative)")
    ax_r.set_ylabel(r"exact $V^{\pi_{\mathrm{greedy}}}(s_0)$")
    ax_r.set_title(rf"Learning: Q-learning from samples ($\alpha = {alpha}$, $\epsilon = 0.1$)")
    ax_r.grid(True, alpha=0.3)
    ax_r.legend(loc="lower right")
    return fig


# ================================================================== main
def main(argv: list[str] | None = None) -> None:
    """Regenerate the named figures (all by default) as PNGs next to this script."""
    matplotlib.use("Agg")
    names = list(FIGURES) if not argv else [a.removeprefix("fig").removesuffix(".png") for a in argv]
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise SystemExit(f"unknown figure(s) {unknown}; choose from {list(FIGURES)}")
    total = time.perf_counter()
    for name in names:
        t0 = time.perf_counter()
        fig = FIGURES[name]()
        fig.savefig(OUT_DIR / f"{name}.png", dpi=DPI, bbox_inches="tight")
        plt.close(fig)
        print(f"{name + '.png':<36} {time.perf_counter() - t0:6.1f} s")
    print(f"{len(names)} figure(s) in {time.perf_counter() - total:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
