"""The ``rlcore`` command: the tour of the book's tabular core, from the terminal.

- ``rlcore demo``   solve and learn GridWorld and cliff walking, print a table, save figures
- ``rlcore solve``  plan on a named GridWorld layout and print the greedy policy
- ``rlcore rlhf``   the miniature RLHF pipeline: SFT, preferences, reward model, PPO and DPO, judged by a gold reward
- ``rlcore generate`` sample from a saved checkpoint (safetensors only), with latency and tokens per second
- ``rlcore train``  PPO, GRPO or DPO on the language MDP, on one process or data-parallel (``--nproc-per-node``)
- ``rlcore bench``  the benchmarks (see README)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rlcore.cli.commands import bench, demo, generate, rlhf, solve
from rlcore.cli.train import launch, train

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors instead of a usage dump."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _int_at_least(low: int, what: str, high: int | None = None):
    """An argparse type: an integer ``>= low`` (and ``<= high``), with a one-line error naming ``what``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return parse


def _device(text: str) -> str:
    """An argparse type: a torch device string that names a device this machine has."""
    import torch

    try:
        dev = torch.device(text)
    except (RuntimeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected a torch device such as 'cpu' or 'cuda:0', got {text!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError(f"device {text!r} asked for, but this machine has no CUDA device")
    if dev.type not in ("cpu", "cuda", "mps", "xpu"):
        raise argparse.ArgumentTypeError(f"expected a device to compute on (cpu, cuda, mps, xpu), got {text!r}")
    return text


_positive_int = _int_at_least(1, "a positive integer")
_MAX_EPISODES = 1_000_000  # the demo keeps every episode's return for every seed: more would not fit a laptop
_episodes = _int_at_least(1, f"a number of episodes from 1 to {_MAX_EPISODES:,}", _MAX_EPISODES)
_seed = _int_at_least(0, "a seed (an integer >= 0)")


def _without_nproc(argv: list[str]) -> list[str]:
    """``argv`` minus ``--nproc-per-node N`` (each process of the launched job runs the rest)."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--nproc-per-node":
            skip = True
        elif not a.startswith("--nproc-per-node="):
            out.append(a)
    return out


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``rlcore``: one subcommand per command above, each with its own ``--help``."""
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
    p.add_argument("--episodes", type=_episodes, default=500, help="episodes per run (default: %(default)s)")
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
    p.add_argument("--device", type=_device, default="cpu", help="torch device to sample on (default: %(default)s)")
    p = sub.add_parser("train", help="PPO, GRPO or DPO on one process, or data-parallel with torchrun",
                       description="Train from the pretrained LM on the easy language task; with --nproc-per-node N "
                                   "the command reruns itself under torchrun on N processes (DDP, gloo on CPU).")
    p.add_argument("trainer", choices=("ppo", "grpo", "dpo"), help="the trainer")
    p.add_argument("--nproc-per-node", type=_positive_int, default=1,
                   help="processes on this machine, each training its share of every batch (default: %(default)s)")
    p.add_argument("--iterations", type=_positive_int, default=20,
                   help="PPO/GRPO iterations, or DPO epochs (default: %(default)s)")
    p.add_argument("--batch-size", type=_positive_int, default=32,
                   help="global batch: completions (PPO, GRPO) or pairs (DPO) per step (default: %(default)s)")
    p.add_argument("--gradient-accumulation-steps", type=_positive_int, default=1,
                   help="micro-batches each process accumulates per step (default: %(default)s)")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the run (default: %(default)s)")
    p.add_argument("--pretrain-steps", type=_positive_int, default=200,
                   help="pretraining steps of the starting LM, when --init is not given (default: %(default)s)")
    p.add_argument("--hidden-dim", type=_positive_int, default=64,
                   help="GRU width of the pretrained starting LM (default: %(default)s, about 20k parameters)")
    p.add_argument("--init", type=Path, default=None, help="start from this .safetensors checkpoint instead")
    p.add_argument("--out", type=Path, default=None, help="write the trained model here (.safetensors; rank 0)")
    p.add_argument("--device", type=_device, default="cpu", help="torch device of every process (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p = sub.add_parser("bench", help="benchmarks: tabular, approx, language, RLHF, scale (rlcore beside its peers)",
                       description="Run the benchmarks and print measured times and ratios. "
                       "Needs pip install -e '.[bench]' for the pymdptoolbox and stable-baselines3 comparisons.")
    p.add_argument("--suite", choices=("tabular", "approx", "language", "rlhf", "scale", "all"), default="tabular",
                   help="which benchmarks: the tabular core, DQN and A2C beside stable-baselines3 on CartPole, "
                   "the language model (about 5 minutes), the RLHF "
                   "pipeline and toy, data-parallel scaling (1 vs 2 processes), or all (default: %(default)s)")
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``rlcore`` with ``argv`` (default: the command line); returns the process exit code.

    Bad input (``ValueError``, ``TypeError``, a path that is missing, unwritable or
    taken, running out of memory) is reported in one line on stderr with exit code 2,
    Ctrl-C in one line with exit code 130, a closed stdout with exit code 1; never a
    traceback.
    """
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
        if args.command == "train":
            if args.nproc_per_node > 1 and "LOCAL_RANK" not in os.environ:
                argv = sys.argv[1:] if argv is None else list(argv)
                return launch(_without_nproc(argv), args.nproc_per_node)
            return train(args.trainer, args.iterations, args.batch_size, args.gradient_accumulation_steps, args.seed,
                         args.pretrain_steps, args.hidden_dim, args.init, args.out, args.device, args.json,
                         progress=not args.no_progress)
        if args.command == "generate":
            return generate(args.checkpoint, args.prompt or [""], args.n, args.max_new_tokens, args.temperature,
                            args.top_k, args.top_p, args.seed, args.device)
        parser.print_help(sys.stderr)
        return 2
    except (ValueError, TypeError, OSError) as exc:  # OSError: a missing, unwritable or occupied path
        if isinstance(exc, BrokenPipeError):  # stdout closed by the reader (`rlcore demo | head -1`)
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the flush at exit
            return 1
        print(f"rlcore {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print(f"rlcore {args.command}: error: out of memory; ask for fewer episodes, seeds or iterations",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rlcore {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
