"""The ``rlcore`` command: the tour of the book's tabular core, from the terminal.

``rlcore demo``   solve and learn GridWorld and cliff walking, print a table, save figures
``rlcore solve``  plan on a named GridWorld layout and print the greedy policy
``rlcore rlhf``   the miniature RLHF pipeline: SFT, preferences, reward model, PPO and DPO, judged by a gold reward
``rlcore generate`` sample from a saved checkpoint (safetensors only), with latency and tokens per second
``rlcore bench``  the benchmarks (see README)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors instead of a usage dump."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _int_at_least(low: int, what: str):
    """An argparse type: an integer ``>= low``, with a one-line error naming ``what`` was expected."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1, "a positive integer")
_seed = _int_at_least(0, "a seed (an integer >= 0)")


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
             top_k: int | None, top_p: float, seed: int) -> int:
    """Sample ``n`` completions per prompt from a checkpoint in one batch; print them and the speed."""
    import torch

    from rlcore.lm.checkpoint import load
    from rlcore.lm.rollout import sample

    if checkpoint.suffix != ".safetensors":
        raise ValueError(f"checkpoint must be a .safetensors file written by rlcore.lm.save, got {checkpoint}")
    model = load(checkpoint)
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
    from rlcore.bench.tabular import as_json as to_json
    from rlcore.bench.tabular import format_table, run_all

    results = []
    if suite in ("tabular", "all"):
        results += run_all(quick=quick)
    if suite in ("language", "all"):
        from rlcore.bench.language import run_language

        results += run_language(time_budget=10.0 if quick else 60.0, pretrain_steps=200 if quick else 600)
    if suite in ("rlhf", "all"):
        from rlcore.bench.rlhf import run_rlhf

        results += run_rlhf(quick=quick)
    print(to_json(results) if as_json else format_table(results))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from rlcore import LAYOUTS, __version__

    parser = _Parser(prog="rlcore", description="The runnable companion to 'Reinforcement Learning for "
                     "Large Language Models'.")
    parser.add_argument("--version", action="version", version=f"rlcore {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    p = sub.add_parser("demo", help="the tabular tour: plan, learn, compare; prints a table and saves figures",
                       description="Solve a GridWorld with value and policy iteration, learn it with Q-learning "
                       "and SARSA, compare both on cliff walking; print a table and write PNG figures.")
    p.add_argument("--out", type=Path, default=Path("rlcore-demo"),
                   help="folder for the figures (default: %(default)s)")
    p.add_argument("--episodes", type=_positive_int, default=500, help="episodes per run (default: %(default)s)")
    p.add_argument("--seeds", type=_positive_int, default=10, help="seeds per learner (default: %(default)s)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p = sub.add_parser("solve", help="plan on a named GridWorld layout and print the greedy policy",
                       description="Plan on a GridWorld layout and print its greedy policy as arrows.")
    p.add_argument("--layout", choices=sorted(LAYOUTS), default="classic", help="layout (default: %(default)s)")
    p.add_argument("--gamma", type=float, default=0.99, help="discount factor in [0, 1] (default: %(default)s)")
    p.add_argument("--slip", type=float, default=0.0, help="slip probability in [0, 1] (default: %(default)s)")
    p.add_argument("--method", choices=("value", "policy"), default="value", help="planner (default: %(default)s)")
    p = sub.add_parser("rlhf", help="the miniature RLHF pipeline, end to end (about 10 s)",
                       description="Pretrain a character LM, simulate preferences under a hidden gold reward, "
                       "fit a reward model, train PPO against it and DPO on the pairs, and judge all three with "
                       "the gold reward. Prints a table and writes figures.")
    p.add_argument("--out", type=Path, default=Path("rlcore-rlhf"),
                   help="folder for the figures (default: %(default)s)")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the whole run (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print the numbers as JSON")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    p = sub.add_parser("generate", help="sample from a saved checkpoint, with latency and tokens per second",
                       description="Load a CharLM from a safetensors checkpoint (rlcore.lm.save) and sample "
                       "completions of the prompts in one batch.")
    p.add_argument("--checkpoint", type=Path, required=True, help="a .safetensors file written by rlcore.lm.save")
    p.add_argument("--prompt", action="append", default=None,
                   help="a prompt (repeat for several; default: the empty prompt)")
    p.add_argument("--n", type=_positive_int, default=4, help="completions per prompt (default: %(default)s)")
    p.add_argument("--max-new-tokens", type=_positive_int, default=24,
                   help="longest completion (default: %(default)s)")
    p.add_argument("--temperature", type=float, default=1.0, help="sampling temperature > 0 (default: %(default)s)")
    p.add_argument("--top-k", type=_positive_int, default=None, help="keep the k most likely tokens (default: all)")
    p.add_argument("--top-p", type=float, default=1.0, help="nucleus mass in (0, 1] (default: %(default)s)")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the sampler (default: %(default)s)")
    p = sub.add_parser("bench", help="benchmarks: tabular, language, RLHF (rlcore and its peers side by side)",
                       description="Run the benchmarks and print measured times and ratios. "
                       "Needs pip install -e '.[bench]' for the pymdptoolbox comparison.")
    p.add_argument("--suite", choices=("tabular", "language", "rlhf", "all"), default="tabular",
                   help="which benchmarks: the tabular core, the language model (about 5 minutes), the RLHF "
                   "pipeline and toy, or all (default: %(default)s)")
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            return demo(args.out, args.episodes, args.seeds, progress=not args.no_progress)
        if args.command == "solve":
            return solve(args.layout, args.gamma, args.slip, args.method)
        if args.command == "rlhf":
            return rlhf(args.out, args.seed, args.json, progress=not args.no_progress)
        if args.command == "bench":
            return bench(args.quick, args.json, args.suite)
        if args.command == "generate":
            return generate(args.checkpoint, args.prompt or [""], args.n, args.max_new_tokens, args.temperature,
                            args.top_k, args.top_p, args.seed)
        parser.print_help(sys.stderr)
        return 2
    except (ValueError, TypeError, FileNotFoundError) as exc:
        print(f"rlcore {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
