"""The scaling benchmark: PPO and DPO on one process and on two, same global batch (``rlcore bench --suite scale``).

Each run is a fresh ``rlcore train`` job (two processes under torchrun's launcher,
gloo on the CPU) that times its own training loop, after pretraining, and
reports samples per second and its peak resident memory. Every process gets one
torch thread (``OMP_NUM_THREADS=1``), so the two-process job uses twice the cores
of the one-process job and the scaling efficiency is ``speedup / 2``; a third
run gives the single process every core as torch threads, the usual alternative
on one machine. Nothing is stored: every figure comes from this machine, now.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from rlcore.bench.tabular import BenchResult
from rlcore.core.validation import check_choice, check_flag, check_nonnegative_int, check_positive_int, check_real

__all__ = ["train_job", "scaling_row", "run_scale"]


def train_job(trainer: str, nproc: int, iterations: int, batch_size: int, threads: int | None = 1,
              hidden_dim: int = 64, pretrain_steps: int = 50, seed: int = 0, timeout: float = 600) -> dict[str, Any]:
    """Run ``rlcore train`` as a separate job and return its JSON summary (``samples_per_second``, ``seconds``,
    ``peak_rss_mb_max`` ...); ``threads=None`` leaves torch's thread count alone."""
    check_choice(trainer, "trainer", ("ppo", "grpo", "dpo"))
    for name, v in (("nproc", nproc), ("iterations", iterations), ("batch_size", batch_size),
                    ("hidden_dim", hidden_dim)):
        check_positive_int(v, name)
    check_positive_int(threads, "threads", none=True)
    check_nonnegative_int(pretrain_steps, "pretrain_steps")
    check_nonnegative_int(seed, "seed")
    check_real(timeout, "timeout", open_low=True)
    env = dict(os.environ, TORCH_CPP_LOG_LEVEL="ERROR")
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    else:
        env.pop("OMP_NUM_THREADS", None)
    cmd = [sys.executable, "-m", "rlcore.cli", "train", trainer, "--nproc-per-node", str(nproc), "--iterations",
           str(iterations), "--batch-size", str(batch_size), "--hidden-dim", str(hidden_dim), "--pretrain-steps",
           str(pretrain_steps), "--seed", str(seed), "--json", "--no-progress"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({res.returncode}): {res.stderr.strip()[-500:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def scaling_row(trainer: str, one: dict[str, Any], two: dict[str, Any], threaded: dict[str, Any] | None = None
                ) -> BenchResult:
    """One table row: the two-process job against the one-process job, with efficiency and memory."""
    if not isinstance(trainer, str):
        raise TypeError(f"trainer must be a trainer name such as 'ppo', got {type(trainer).__name__}")
    for name, job in (("one", one), ("two", two), ("threaded", threaded)):
        if job is None and name == "threaded":
            continue
        if not isinstance(job, dict):
            raise TypeError(f"{name} must be the JSON summary train_job returns (a dict), got {type(job).__name__}")
        for key in ("samples_per_second", "seconds", "peak_rss_mb_max", "batch_size", "iterations", "parameters"):
            if name == "threaded" and key != "samples_per_second":
                continue
            if key not in job:
                raise ValueError(f"{name} lacks {key!r}: pass the summary train_job returns")
            check_real(job[key], f"{name}[{key!r}]", open_low=key in ("samples_per_second", "seconds"))
    speedup = two["samples_per_second"] / one["samples_per_second"]
    detail = (f"{one['samples_per_second']:.0f} -> {two['samples_per_second']:.0f} samples/s, efficiency "
              f"{speedup / 2:.0%}; peak memory per process {one['peak_rss_mb_max']:.0f} MB (1) / "
              f"{two['peak_rss_mb_max']:.0f} MB (2); batch {one['batch_size']} x {one['iterations']}")
    if threaded is not None:
        detail += f"; 1 process with every core as threads {threaded['samples_per_second']:.0f} samples/s"
    return BenchResult(f"{trainer.upper()}, {one['parameters']:,} parameters, 2 processes vs 1", two["seconds"],
                       one["seconds"], one["seconds"] / two["seconds"], "> 1x (DDP pays off)", speedup > 1, detail)


def run_scale(quick: bool = False) -> list[BenchResult]:
    """PPO and DPO, one process and two, the same global batch, on the package's default LM (about 20k
    parameters, where sampling is latency-bound and the all-reduce is not hidden) and on a wide one (GRU width
    512, about 0.8M parameters, where the arithmetic dominates); one row each."""
    check_flag(quick, "quick")
    runs = [("ppo", 64, 2, 64), ("dpo", 64, 2, 64)] if quick else [
        ("ppo", 64, 6, 256), ("ppo", 512, 4, 256), ("dpo", 64, 6, 256), ("dpo", 512, 4, 256)]
    rows = []
    for trainer, hidden, iterations, batch in runs:
        kw = dict(hidden_dim=hidden, pretrain_steps=10 if hidden > 64 else 50)
        one = train_job(trainer, 1, iterations, batch, **kw)
        two = train_job(trainer, 2, iterations, batch, **kw)
        threaded = train_job(trainer, 1, iterations, batch, threads=None, **kw)
        rows.append(scaling_row(trainer, one, two, threaded))
    return rows
