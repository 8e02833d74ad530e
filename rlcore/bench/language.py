"""The language-model benchmark: PPO beside REINFORCE from the same pretrained LM, on the same seeds.

Run with ``rlcore bench --suite language``. Every number is measured on the
machine it runs on, in one run: the two trainers get the same pretrained
model, the same seed and the same wall-clock budget, and the table reports
the time each needs to reach 90% of the task's maximum reward.

Two tasks ([`TASKS`][]): ``"easy"`` (the word *dog* in fluent words: both
trainers solve it in about a second) and ``"hard"`` (three given words in one
short text), which takes seconds and tells the trainers apart: PPO needs fewer
samples (it takes ``num_ppo_epochs * num_mini_batches`` steps per batch), while
REINFORCE's steps are cheaper, which on a model this small can win on the clock.
Both are reported: time and samples to 90%.
"""

from __future__ import annotations

import copy
import math
import resource
import time
from dataclasses import asdict
from typing import Any

import numpy as np
import torch

from rlcore.bench.tabular import BenchResult
from rlcore.core.validation import (
    check_choice,
    check_flag,
    check_instance,
    check_nonnegative_int,
    check_positive_int,
    check_real,
)
from rlcore.envs.language import CharLanguageEnv
from rlcore.envs.rewards import contains_word, lexicon_score, weighted_sum
from rlcore.lm import (
    DEFAULT_CHARS,
    CharLM,
    PPOConfig,
    ReinforceConfig,
    baseline_variance_ratio,
    load_corpus,
    ppo,
    pretrain,
    reinforce,
    rollout_rewards,
    sample,
)

__all__ = ["TASKS", "benchmark_env", "peak_rss_mb", "sampling_speedup", "run_benchmark", "run_language"]

TASKS = {"easy": "write the word 'dog' in fluent words (16 characters)",
         "hard": "write the three words 'cat', 'dog' and 'sun' in one text (24 characters)"}
"""The benchmark tasks of [`benchmark_env`][]."""


def benchmark_env(task: str = "easy") -> CharLanguageEnv:
    """The benchmark tasks, each paid once at the end of the text (maximum reward 1).

    ``"easy"``: ``R(x) = 0.5 [dog in x] + 0.5 lexicon_score(x)`` within 16 characters,
    the lexicon being the bundled corpus's words (``"the dog sat"`` earns 1).
    ``"hard"``: ``R(x) = (1/3) ([cat in x] + [dog in x] + [sun in x])`` within 24
    characters: the pretrained LM rarely writes all three in one sentence
    (``"a cat saw a dog in the sun"`` is too long; ``"cat dog sun"`` is not a sentence).
    """
    check_choice(task, "task", tuple(TASKS))
    if task == "easy":
        lexicon = {w for line in load_corpus() for w in line.split()}
        reward = weighted_sum([(0.5, contains_word("dog")), (0.5, lexicon_score(lexicon))])
        return CharLanguageEnv(DEFAULT_CHARS, 16, delayed_reward=reward)
    reward = weighted_sum([(1 / 3, contains_word(w)) for w in ("cat", "dog", "sun")])
    return CharLanguageEnv(DEFAULT_CHARS, 24, delayed_reward=reward)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def sampling_speedup(model: CharLM, max_len: int = 16, batch_size: int = 256, n_single: int = 64,
                     seed: int = 0, repeat: int = 3) -> dict[str, float]:
    """Seconds per generated token: one batched call of ``batch_size`` texts versus ``n_single`` calls of one.

    Each is timed ``repeat`` times and the fastest kept (robust to a busy machine).
    """
    check_instance(model, "model", CharLM)
    for name, v in (("max_len", max_len), ("batch_size", batch_size), ("n_single", n_single), ("repeat", repeat)):
        check_positive_int(v, name)
    check_nonnegative_int(seed, "seed")
    g = torch.Generator().manual_seed(seed)
    sample(model, "", 8, max_len, generator=g)  # warm-up
    batched = single = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        ro = sample(model, "", batch_size, max_len, generator=g)
        batched = min(batched, (time.perf_counter() - t) / int(ro.mask.sum()))
        t, n_tok = time.perf_counter(), 0
        for _ in range(n_single):
            n_tok += int(sample(model, "", 1, max_len, generator=g).mask.sum())
        single = min(single, (time.perf_counter() - t) / n_tok)
    return {"batched_s_per_token": batched, "single_s_per_token": single, "speedup": single / batched}


def _budget(time_budget: Any, pretrain_steps: Any, seed: Any) -> None:
    check_real(time_budget, "time_budget", open_low=True)
    check_nonnegative_int(pretrain_steps, "pretrain_steps")
    check_nonnegative_int(seed, "seed")


def _first(history: dict[str, np.ndarray], level: float) -> int | None:
    reached = np.flatnonzero(history["reward"] >= level)
    return int(reached[0]) if len(reached) else None


def _final_reward(model: CharLM, env: CharLanguageEnv, seed: int) -> float:
    with torch.no_grad():
        ro = sample(model, "", 512, env.max_len, generator=torch.Generator().manual_seed(seed), max_len=env.max_len)
        return float(rollout_rewards(env, ro).sum(1).mean())


def run_benchmark(time_budget: float = 60.0, pretrain_steps: int = 600, seed: int = 0, task: str = "hard",
                  progress: bool = False, ppo_config: PPOConfig | None = None,
                  reinforce_config: ReinforceConfig | None = None, num_threads: int | None = 1) -> dict[str, Any]:
    """PPO and REINFORCE from one pretrained LM on [`benchmark_env`][] ``(task)``, each for ``time_budget`` s.

    Returns a dict: ``{ppo,reinforce}_reward`` (mean reward of 512 fresh samples
    after training; max 1), ``{ppo,reinforce}_seconds_to_90pct`` (first
    iteration whose batch reward reached 0.9, or None), ``{ppo,reinforce}_samples_to_90pct``
    (completions sampled up to that iteration), ``baseline_variance_ratio``,
    the batched-sampling ``speedup`` and ``peak_rss_mb``. ``num_threads`` sets
    ``torch.set_num_threads`` for the run (restored after; ``None`` keeps it).
    """
    _budget(time_budget, pretrain_steps, seed)
    check_choice(task, "task", tuple(TASKS))
    check_flag(progress, "progress")
    check_instance(ppo_config, "ppo_config", (PPOConfig, type(None)), "a PPOConfig or None")
    check_instance(reinforce_config, "reinforce_config", (ReinforceConfig, type(None)), "a ReinforceConfig or None")
    check_positive_int(num_threads, "num_threads", none=True)
    old_threads = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        out = _run(time_budget, pretrain_steps, seed, task, progress, ppo_config, reinforce_config)
    finally:
        torch.set_num_threads(old_threads)
    out["num_threads"] = num_threads if num_threads is not None else old_threads
    return out


def _run(time_budget: float, pretrain_steps: int, seed: int, task: str, progress: bool,
         ppo_config: PPOConfig | None, reinforce_config: ReinforceConfig | None) -> dict[str, Any]:
    env = benchmark_env(task)
    t = time.perf_counter()
    base = CharLM(seed=seed)
    pre = pretrain(base, steps=pretrain_steps, seed=seed, progress=progress)
    out: dict[str, Any] = {"task": task, "pretrain_seconds": time.perf_counter() - t,
                           "pretrain_loss": pre.final_loss, "n_parameters": sum(p.numel() for p in base.parameters()),
                           "pretrained_reward": _final_reward(base, env, seed + 1), "max_reward": 1.0}
    pcfg = ppo_config or PPOConfig(n_iterations=10_000, batch_size=128, num_mini_batches=4, num_ppo_epochs=4,
                                   learning_rate=2e-3, kl_coef=0.01, seed=seed, time_limit=time_budget)
    rcfg = reinforce_config or ReinforceConfig(n_iterations=10_000, batch_size=128, learning_rate=2e-3,
                                               baseline="mean", kl_coef=0.01, seed=seed, time_limit=time_budget)
    for name, train, cfg in (("ppo", ppo, pcfg), ("reinforce", reinforce, rcfg)):
        model = copy.deepcopy(base)
        res = train(model, env, cfg, progress=progress)
        out[f"{name}_reward"] = _final_reward(model, env, seed + 2)
        out[f"{name}_iterations"] = len(res.history["reward"])
        out[f"{name}_seconds"] = res.elapsed
        first = _first(res.history, 0.9 * out["max_reward"])
        out[f"{name}_seconds_to_90pct"] = None if first is None else float(res.history["time"][first])
        out[f"{name}_samples_to_90pct"] = None if first is None else (first + 1) * cfg.batch_size
        out[f"{name}_kl_ref"] = float(res.history["kl_ref"][-1])
        out[f"{name}_samples"] = res.samples[:5]
    out["baseline_variance_ratio"] = baseline_variance_ratio(base, env, seed=seed)
    out.update(sampling_speedup(base, env.max_len, seed=seed))
    out["peak_rss_mb"] = peak_rss_mb()
    out["ppo_config"], out["reinforce_config"] = asdict(pcfg), asdict(rcfg)
    return out


def _when(seconds: float | None) -> str:
    return "never" if seconds is None else f"{seconds:.1f} s"


def run_language(time_budget: float = 60.0, pretrain_steps: int = 600, seed: int = 0,
                 tasks: tuple[str, ...] = ("easy", "hard")) -> list[BenchResult]:
    """The language-model rows of ``rlcore bench``: per task, PPO's and REINFORCE's time to 90% as a ratio."""
    _budget(time_budget, pretrain_steps, seed)
    if not isinstance(tasks, (tuple, list)) or not tasks:
        raise ValueError(f"tasks must be a non-empty tuple of task names from {sorted(TASKS)}, got {tasks!r}")
    for t in tasks:
        check_choice(t, "tasks[i]", tuple(TASKS))
    rows = []
    m: dict[str, Any] = {}
    for task in tasks:
        m = run_benchmark(time_budget=time_budget, pretrain_steps=pretrain_steps, seed=seed, task=task)
        t_ppo, t_rf = m["ppo_seconds_to_90pct"], m["reinforce_seconds_to_90pct"]
        n_ppo, n_rf = m["ppo_samples_to_90pct"], m["reinforce_samples_to_90pct"]
        rows.append(BenchResult(
            f"Time to 90% of max reward, {task} task: PPO (rlcore) vs REINFORCE (other)",
            t_ppo if t_ppo is not None else math.nan, t_rf, t_rf / t_ppo if t_ppo and t_rf else None,
            "PPO reaches 90% within the budget", t_ppo is not None and t_ppo <= time_budget,
            f"{TASKS[task]}; start {m['pretrained_reward']:.3f}; after {time_budget:g} s PPO {m['ppo_reward']:.3f}, "
            f"REINFORCE {m['reinforce_reward']:.3f}; samples to 90%: PPO {n_ppo or 'never'}, "
            f"REINFORCE {n_rf or 'never'}; KL to ref {m['ppo_kl_ref']:.1f} / {m['reinforce_kl_ref']:.1f} nats; "
            f"seed {seed}"))
    rows += [
        BenchResult("REINFORCE gradient variance, no baseline / baseline", math.nan, None,
                    m["baseline_variance_ratio"], "> 1 (reported)", m["baseline_variance_ratio"] > 1, ""),
        BenchResult("Sampling, one sequence at a time / batched, per token", math.nan, None,
                    m["speedup"], ">= 10x", m["speedup"] >= 10,
                    f"{m['batched_s_per_token'] * 1e6:.1f} us vs {m['single_s_per_token'] * 1e6:.1f} us per token"),
        BenchResult("Peak memory of the whole run (RSS)", math.nan, None, None, "< 1 GB", m["peak_rss_mb"] < 1024,
                    f"{m['peak_rss_mb']:.0f} MB, torch threads {m['num_threads']}"),
    ]
    return rows
