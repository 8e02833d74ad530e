"""The bodies of the ``rlcore`` commands (the parser and ``main`` are in [`rlcore.cli`][])."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

__all__ = ["demo", "solve", "rlhf", "generate", "bench"]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def demo(out: Path, episodes: int, seeds: int, progress: bool) -> int:
    """Run the tabular tour; returns a process exit code."""
    import gymnasium as gym
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from tqdm.auto import tqdm

    from rlcore import GridWorld, policy_evaluation, policy_iteration, q_learning, sarsa, value_iteration
    from rlcore.plots.tabular import plot_convergence, plot_grid, plot_learning_curves

    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    rows: list[tuple[str, ...]] = [("task", "method", "result", "time")]

    # 1. Planning on a slippery GridWorld: value iteration and policy iteration agree.
    env = GridWorld("classic", slip=0.1, gamma=0.95)
    t = time.perf_counter()
    vi = value_iteration(env.mdp, tol=1e-10)
    t_vi = time.perf_counter() - t
    t = time.perf_counter()
    pi = policy_iteration(env.mdp)
    t_pi = time.perf_counter() - t
    s0 = int(np.argmax(env.mdp.initial))
    rows.append(("GridWorld planning", "value iteration", f"V*(start) = {vi.V[s0]:.4f}, {vi.iterations} sweeps",
                 f"{t_vi * 1e3:.1f} ms"))
    rows.append(("", "policy iteration", f"V*(start) = {pi.V[s0]:.4f}, {pi.iterations} improvements",
                 f"{t_pi * 1e3:.1f} ms"))
    rows.append(("", "agreement", f"max |V_VI - V_PI| = {np.abs(vi.V - pi.V).max():.1e}", ""))
    figs = {"gridworld_values.png": plot_grid(env, vi.V, vi.policy, title="GridWorld: $V^*$ and greedy policy")}
    hist = {f"gamma = {g}": value_iteration(GridWorld("classic", slip=0.1, gamma=g).mdp, tol=1e-10).history
            for g in (0.5, 0.9, 0.99)}
    figs["gridworld_convergence.png"] = plot_convergence(hist, title="Value iteration: residual per sweep")

    # 2. Learning the same GridWorld from experience.
    curves = {}
    for name, learner in (("Q-learning", q_learning), ("SARSA", sarsa)):
        runs, values = [], []
        for seed in tqdm(range(seeds), desc=f"GridWorld {name}", disable=not progress, leave=False):
            t = time.perf_counter()
            res = learner(env, n_episodes=episodes, alpha=0.2, epsilon=0.1, gamma=0.95, seed=seed, max_steps=200)
            runs.append(res.episode_returns)
            values.append(policy_evaluation(env.mdp, res.policy).V[s0])
        curves[name] = np.array(runs)
        rows.append(("GridWorld learning", name,
                     f"greedy policy value {np.mean(values):.4f} (V* {vi.V[s0]:.4f}), {_plural(seeds, 'seed')}",
                     f"{time.perf_counter() - t:.2f} s/seed"))
    figs["gridworld_learning.png"] = plot_learning_curves(curves, window=20, title="GridWorld: learning curves")

    # 3. Cliff walking (gymnasium's CliffWalking-v1): SARSA walks safe, Q-learning walks the edge.
    cliff = gym.make("CliffWalking-v1")
    curves = {}
    for name, learner in (("SARSA", sarsa), ("Q-learning", q_learning)):
        t = time.perf_counter()
        runs = [learner(cliff, n_episodes=episodes, alpha=0.5, epsilon=0.1, gamma=1.0, seed=seed).episode_returns
                for seed in tqdm(range(seeds), desc=f"Cliff {name}", disable=not progress, leave=False)]
        curves[name] = np.array(runs)
        last = min(100, episodes)
        tail = curves[name][:, -last:].mean()
        rows.append(("Cliff walking", name, f"mean return, last {_plural(last, 'episode')}: {tail:.1f}",
                     f"{(time.perf_counter() - t) / seeds:.2f} s/seed"))
    figs["cliff_learning.png"] = plot_learning_curves(curves, window=10, ylim=(-120, 0),
                                                      title="Cliff walking: SARSA vs Q-learning (epsilon = 0.1)")
    for name, fig in figs.items():
        fig.savefig(out / name, dpi=120)
        plt.close(fig)

    print(_table(rows))
    print(f"\nFigures: {', '.join(str(out / n) for n in figs)}")
    print(f"Total time: {time.perf_counter() - start:.1f} s")
    return 0


def solve(layout: str, gamma: float, slip: float, method: str) -> int:
    """Plan on a named GridWorld layout by value or policy iteration; print the greedy policy beside ``V*``."""
    from rlcore import GridWorld, policy_iteration, value_iteration

    env = GridWorld(layout, gamma=gamma, slip=slip)
    result = value_iteration(env.mdp) if method == "value" else policy_iteration(env.mdp)
    arrows = env.ansi(result.policy).splitlines()
    values = np.full(env.grid.shape, np.nan)
    values[env.positions[:, 0], env.positions[:, 1]] = result.V
    for row, line in zip(values, arrows):
        cells = "  ".join("    ." if np.isnan(v) else f"{v:5.2f}" for v in row)
        print(f"{line}    {cells}")
    print("\narrows: greedy action; S start, G goal, T trap, C cliff, # wall; "
          "right: V*(s) per cell (. where there is no state)")
    steps = "sweeps" if method == "value" else "policy improvements"
    print(f"{method} iteration: {result.iterations} {steps}, converged={result.converged}")
    return 0


def rlhf(out: Path, seed: int, as_json: bool, progress: bool) -> int:
    """Run the RLHF pipeline once: print a table (or JSON) and write three figures to ``out``."""
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rlcore.bench.rlhf import run_pipeline, summary_table
    from rlcore.plots.lm import plot_pg_history

    start = time.perf_counter()
    res = run_pipeline(seed=seed, progress=progress)
    out.mkdir(parents=True, exist_ok=True)
    figures = {"rlhf_reward_model.png": plot_pg_history({"reward model": res["rm_history"]}, keys=("loss", "accuracy"),
                                                        window=1),
               "rlhf_ppo.png": plot_pg_history({"PPO + RM": res["ppo_history"]},
                                               keys=("reward", "objective/kl", "objective/rlhf_reward")),
               "rlhf_dpo.png": plot_pg_history({"DPO": res["dpo_history"]},
                                               keys=("loss", "rewards/margins", "logps/chosen"), window=1)}
    for name, fig in figures.items():
        fig.savefig(out / name, dpi=120)
        plt.close(fig)
    if as_json:
        keep = {k: res[k] for k in ("scores", "timings", "n_pairs", "rm_accuracy", "rm_ece", "peak_rss_mb", "samples")}
        print(json.dumps(keep, indent=2))
        return 0
    print(_table(summary_table(res)))
    print(f"\n{res['n_pairs']} preference pairs; reward model held-out accuracy {res['rm_accuracy']:.3f}, "
          f"ECE {res['rm_ece']:.3f}; PPO samples {res['samples']['PPO + RM']}")
    print("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in res["timings"].items())
          + f"; total {time.perf_counter() - start:.1f} s, peak memory {res['peak_rss_mb']:.0f} MB")
    print("Figures: " + ", ".join(str(out / n) for n in figures))
    return 0


def generate(checkpoint: Path, prompts: list[str], n: int, max_new_tokens: int, temperature: float,
             top_k: int | None, top_p: float, seed: int, device: str = "cpu") -> int:
    """Sample ``n`` completions per prompt from a checkpoint in one batch; print them and the speed."""
    import torch

    from rlcore.lm.checkpoint import load
    from rlcore.lm.rollout import sample

    if checkpoint.suffix != ".safetensors":
        raise ValueError(f"checkpoint must be a .safetensors file written by rlcore.lm.save, got {checkpoint}")
    model = load(checkpoint).to(device)
    g = torch.Generator(device=model.device).manual_seed(seed)
    start = time.perf_counter()
    ro = sample(model, prompts, n, max_new_tokens, temperature, top_k, top_p, generator=g)
    seconds = time.perf_counter() - start
    for prompt, text in zip(ro.prompts, ro.texts):
        print(f"{prompt!r} -> {text!r}")
    tokens = int(ro.mask.sum())
    print(f"\n{_plural(len(ro), 'completion')}, {_plural(tokens, 'token')} in {seconds * 1e3:.1f} ms "
          f"({tokens / max(seconds, 1e-9):,.0f} tokens/s, {seconds / len(ro) * 1e3:.2f} ms per completion, "
          f"one batch)")
    return 0


def bench(quick: bool, as_json: bool, suite: str) -> int:
    """Run one benchmark suite (or ``"all"``) and print its table, or JSON with ``as_json``."""
    from rlcore.bench.tabular import as_json as to_json
    from rlcore.bench.tabular import format_table, run_all

    results = []
    if suite in ("tabular", "all"):
        results += run_all(quick=quick)
    if suite in ("approx", "all"):
        from rlcore.bench.approx import run_approx

        results += run_approx(quick=quick)
    if suite in ("language", "all"):
        from rlcore.bench.language import run_language

        results += run_language(time_budget=10.0 if quick else 60.0, pretrain_steps=200 if quick else 600)
    if suite in ("rlhf", "all"):
        from rlcore.bench.rlhf import run_rlhf

        results += run_rlhf(quick=quick)
    if suite in ("scale", "all"):
        from rlcore.bench.scale import run_scale

        results += run_scale(quick=quick)
    print(to_json(results) if as_json else format_table(results))
    return 0


