"""``rlcore train``: PPO, GRPO or DPO on the language MDP, on one process or data-parallel under ``torchrun``.

``rlcore train ppo --nproc-per-node 2`` starts ``torchrun`` (``python -m torch.distributed.run``)
with two copies of the same command; each copy joins the process group, trains
its share of every batch and all-reduces the gradients; rank 0 alone prints the
summary and writes the checkpoint. ``torchrun --nproc_per_node 2 -m rlcore.cli train ppo``
does the same by hand. The task is the language benchmark's easy one (the word
*dog* in fluent words, 16 characters); the starting policy is the bundled
corpus's pretrained LM (or ``--init``), identical on every rank.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

__all__ = ["TRAINERS", "train", "launch"]

TRAINERS = ("ppo", "grpo", "dpo")
"""The trainers ``rlcore train`` runs."""


def launch(argv: list[str], nproc: int) -> int:
    """Run ``rlcore <argv>`` under torchrun's elastic launcher with ``nproc`` processes on this machine.

    If a process fails, the launcher stops the others (no rank is left waiting in a
    collective) and this returns 1 after one line naming the first failed rank.
    """
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    os.environ.setdefault("OMP_NUM_THREADS", "1")  # what torchrun sets anyway, without its warning
    # DDP warns once per process that the value head (unused by GRPO and DPO) was declared unused
    os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")
    args = get_args_parser().parse_args(["--standalone", f"--nproc_per_node={nproc}", "-m", "rlcore.cli", *argv])
    try:
        run(args)
    except ChildFailedError as exc:
        rank, failure = exc.get_first_failure()
        print(f"rlcore {argv[0]}: error: rank {rank} of {nproc} failed (exit code {failure.exitcode}); the launcher "
              f"stopped the other processes", file=sys.stderr)
        return 1
    return 0


def _starting_model(init: Path | None, pretrain_steps: int, hidden_dim: int, seed: int, device: str):
    from rlcore.lm import load, pretrained

    if init is not None:
        model = load(init)
    else:
        model = pretrained(steps=pretrain_steps, seed=seed, hidden_dim=hidden_dim)
    return model.to(device)


def train(trainer: str, iterations: int, batch_size: int, accumulation: int, seed: int, pretrain_steps: int,
          hidden_dim: int, init: Path | None, out: Path | None, device: str, as_json: bool, progress: bool) -> int:
    """Train on this process's share (the whole batch outside ``torchrun``); rank 0 reports and saves."""
    import torch

    from rlcore.bench.language import benchmark_env, peak_rss_mb
    from rlcore.lm import PPOConfig, count_parameters, ppo, save
    from rlcore.lm.parallel import close_distributed, init_distributed, reduce_max, reduce_mean
    from rlcore.rlhf import DPOConfig, GRPOConfig, dpo, grpo, simulate_preferences

    if trainer not in TRAINERS:
        raise ValueError(f"trainer must be one of {TRAINERS}, got {trainer!r}")
    if out is not None and out.suffix != ".safetensors":
        raise ValueError(f"--out must name a .safetensors file, got {out}")
    w = init_distributed(device=device)
    try:
        env = benchmark_env("easy")
        model = _starting_model(init, pretrain_steps, hidden_dim, seed, device)
        common = dict(batch_size=batch_size, seed=seed, gradient_accumulation_steps=accumulation)
        start = time.perf_counter()
        if trainer == "ppo":
            res = ppo(model, env, PPOConfig(n_iterations=iterations, **common), progress=progress)
            samples, headline = iterations * batch_size, f"reward {res.history['reward'][-1]:.3f}"
        elif trainer == "grpo":
            res = grpo(model, env, GRPOConfig(n_iterations=iterations, num_generations=4, **common),
                       progress=progress)
            samples, headline = iterations * batch_size, f"reward {res.history['reward'][-1]:.3f}"
        else:
            data = simulate_preferences(model, "", env.delayed_reward, 4 * batch_size, env.max_len, seed=seed)
            res = dpo(model, data, DPOConfig(num_train_epochs=iterations, **common), progress=progress)
            samples = iterations * len(data)
            headline = f"loss {res.history['loss'][-1]:.4f}, accuracy {res.history['rewards/accuracies'][-1]:.3f}"
        seconds = reduce_mean([time.perf_counter() - start], device)[0]
        rss_mean, rss_max = reduce_mean([peak_rss_mb()], device)[0], reduce_max([peak_rss_mb()], device)[0]
        if w.is_main:
            if out is not None:
                out.parent.mkdir(parents=True, exist_ok=True)
                save(model, out)
            summary = {"trainer": trainer, "world_size": w.size, "gradient_accumulation_steps": accumulation,
                       "batch_size": batch_size, "iterations": iterations, "samples": samples,
                       "parameters": count_parameters(model),
                       "seconds": seconds, "samples_per_second": samples / seconds,
                       "peak_rss_mb_mean": rss_mean, "peak_rss_mb_max": rss_max, "torch": torch.__version__}
            if as_json:
                print(json.dumps(summary))
            else:
                print(f"{trainer}: {w.size} process(es) x {accumulation} micro-batch(es), {samples} samples in "
                      f"{seconds:.1f} s ({samples / seconds:.0f} samples/s), {headline}; peak memory "
                      f"{rss_max:.0f} MB per process" + (f"; checkpoint {out}" if out is not None else ""))
    finally:
        close_distributed()
    if w.size > 1:
        # The run is complete (rank 0 has saved and reported). Under torch 2.13 a gloo rank now and then
        # aborts in the interpreter's own teardown ("terminate called without an active exception",
        # exit -6, about one launch in 20 here), which would fail a finished run: leave without it.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0

