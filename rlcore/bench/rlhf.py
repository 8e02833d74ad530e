"""The miniature RLHF pipeline, end to end, and its benchmark: ``rlcore rlhf`` and ``rlcore bench --suite rlhf``.

Pretrain an SFT model on the bundled corpus; let a simulated labeller compare
pairs of its completions under a hidden gold reward; fit a reward model; train
PPO against the reward model and DPO on the same pairs; judge all three models
with the gold reward. Every step calls the library; nothing here is an algorithm.
"""

from __future__ import annotations

import copy
import math
import time
from typing import Any

import torch

from rlcore.bench.language import peak_rss_mb
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
from rlcore.envs.rewards import contains_word, length_constraint, lexicon_score, weighted_sum
from rlcore.lm import DEFAULT_CHARS, CharLM, PPOConfig, load_corpus, ppo, pretrain, sample, score
from rlcore.lm.kl import kl_to_reference
from rlcore.lm.metrics import win_rate
from rlcore.rlhf import (
    DPOConfig,
    Labeller,
    RewardConfig,
    dpo,
    exact_optimum,
    simulate_preferences,
    train_reward_model,
)

__all__ = ["PROMPTS", "gold_reward", "evaluate", "run_pipeline", "toy_time_to_optimum", "run_rlhf", "summary_table"]

PROMPTS = ("the ", "a ", "my ", "one ")
"""The prompts of the pipeline."""
MAX_LEN = 16


def gold_reward():
    """The hidden judge: ``0.5 [dog in x] + 0.3 lexicon_score(x) + 0.2 length_constraint(10, 12)(x)``."""
    lexicon = {w for line in load_corpus() for w in line.split()}
    return weighted_sum([(0.5, contains_word("dog")), (0.3, lexicon_score(lexicon)),
                         (0.2, length_constraint(10, 12))])


@torch.no_grad()
def evaluate(model: CharLM, sft: CharLM, gold: Any, n: int = 256, seed: int = 0) -> dict[str, float]:
    """Gold reward, k1 KL to the SFT model and win rate against the SFT model's own samples (ties count 1/2)."""
    check_instance(model, "model", CharLM)
    check_instance(sft, "sft", CharLM)
    if sft.vocab.stoi != model.vocab.stoi:
        raise ValueError("sft must share model's vocabulary (the KL compares their token probabilities)")
    if not callable(gold):
        raise TypeError(f"gold must be a reward function texts -> rewards, got {type(gold).__name__}")
    check_positive_int(n, "n")
    check_nonnegative_int(seed, "seed")
    g = torch.Generator().manual_seed(seed)
    ro = sample(model, PROMPTS, n, MAX_LEN, generator=g, max_len=MAX_LEN)
    base = sample(sft, PROMPTS, n, MAX_LEN, generator=torch.Generator().manual_seed(seed + 1), max_len=MAX_LEN)
    r, r0 = gold(ro.full_texts), gold(base.full_texts)
    kl = kl_to_reference(score(model, ro)[0], score(sft, ro)[0], ro.mask)
    return {"gold": float(r.mean()), "kl": float(kl.mean()), "win_rate": win_rate(r, r0)}


def run_pipeline(seed: int = 0, pretrain_steps: int = 400, n_pairs: int = 300, ppo_iterations: int = 40,
                 progress: bool = False, num_threads: int | None = 1) -> dict[str, Any]:
    """Run the whole pipeline once; returns the numbers and the histories.

    ``num_threads`` sets ``torch.set_num_threads`` for the run (restored after): one
    thread is as fast for models this small, and makes the numbers repeat exactly.
    """
    check_nonnegative_int(seed, "seed")
    check_nonnegative_int(pretrain_steps, "pretrain_steps")
    if check_positive_int(n_pairs, "n_pairs") < 2:
        raise ValueError(f"n_pairs must be at least 2 (one to train on, one held out), got {n_pairs}")
    check_positive_int(ppo_iterations, "ppo_iterations")
    check_flag(progress, "progress")
    check_positive_int(num_threads, "num_threads", none=True)
    old = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        return _pipeline(seed, pretrain_steps, n_pairs, ppo_iterations, progress)
    finally:
        torch.set_num_threads(old)


def _pipeline(seed: int, pretrain_steps: int, n_pairs: int, ppo_iterations: int, progress: bool) -> dict[str, Any]:
    torch.manual_seed(seed)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    sft = CharLM(seed=seed)
    pretrain(sft, steps=pretrain_steps, seed=seed, progress=progress)
    timings["pretrain"] = time.perf_counter() - t
    gold = gold_reward()

    t = time.perf_counter()
    data = simulate_preferences(sft, PROMPTS, gold, n_pairs, MAX_LEN, Labeller(temperature=0.02), seed=seed)
    train, held = data.split(0.2, seed=seed)
    rm = train_reward_model(train, RewardConfig(num_train_epochs=15, learning_rate=1e-2, seed=seed), init=sft,
                            held_out=held, progress=progress)
    refs = sample(sft, PROMPTS, 64, MAX_LEN, generator=torch.Generator().manual_seed(seed + 7), max_len=MAX_LEN)
    rm.model.normalize(refs.full_texts)
    timings["preferences + reward model"] = time.perf_counter() - t

    t = time.perf_counter()
    env = CharLanguageEnv(DEFAULT_CHARS, MAX_LEN, delayed_reward=rm.model, prompts=PROMPTS)
    policy = copy.deepcopy(sft)
    ppo_res = ppo(policy, env, PPOConfig(n_iterations=ppo_iterations, batch_size=64, num_generations=4, kl_coef=0.05,
                                         learning_rate=2e-3, seed=seed), ref_model=sft, progress=progress)
    timings["PPO"] = time.perf_counter() - t

    t = time.perf_counter()
    direct = copy.deepcopy(sft)
    dpo_res = dpo(direct, train, DPOConfig(beta=0.1, num_train_epochs=4, learning_rate=2e-3, seed=seed),
                  ref_model=sft, progress=progress)
    timings["DPO"] = time.perf_counter() - t

    t = time.perf_counter()
    scores = {name: evaluate(m, sft, gold, seed=seed + 11) for name, m in (("SFT", sft), ("PPO + RM", policy),
                                                                         ("DPO", direct))}
    timings["evaluation"] = time.perf_counter() - t
    return {"scores": scores, "timings": timings, "n_pairs": len(data),
            "rm_accuracy": rm.held_out_accuracy, "rm_ece": rm.held_out_ece,
            "ppo_history": ppo_res.history, "dpo_history": dpo_res.history, "rm_history": rm.history,
            "samples": {"PPO + RM": ppo_res.samples[:4]}, "peak_rss_mb": peak_rss_mb()}


def toy_time_to_optimum(method: str, threshold: float = 0.05, budget: float = 60.0, seed: int = 0) -> dict[str, Any]:
    """Seconds until ``KL(pi || pi*) <= threshold`` on the toy (beta = 0.5), for ``"dpo"`` or ``"ppo"``."""
    from rlcore.envs.rewards import from_function

    check_choice(method, "method", ("dpo", "ppo"))
    check_real(threshold, "threshold", open_low=True)
    check_real(budget, "budget", open_low=True)
    check_nonnegative_int(seed, "seed")
    gold = from_function(lambda text: float(text[1:].count("b")) - 0.3 * len(text), "toy gold")
    ref = CharLM("ab", embed_dim=16, hidden_dim=32, seed=seed)
    pretrain(ref, ["ab", "aab", "ba", "abba", "b", "aa"], steps=100, seed=seed, max_len=5)
    best = exact_optimum(ref, gold, 0.5, 5, ("a", "b"))
    model = copy.deepcopy(ref)
    start = time.perf_counter()
    if method == "dpo":
        pairs = simulate_preferences(ref, ("a", "b"), gold, 2000, 5, Labeller(temperature=1.0), seed=seed + 1)
        step = lambda: dpo(model, pairs, DPOConfig(beta=0.5, num_train_epochs=5, learning_rate=3e-3,  # noqa: E731
                                                   batch_size=256, seed=seed), ref_model=ref)
    elif method == "ppo":
        env = CharLanguageEnv("ab", 5, delayed_reward=gold, prompts=("a", "b"))
        counter = iter(range(10**6))
        step = lambda: ppo(model, env, PPOConfig(n_iterations=10, batch_size=256, num_generations=8,  # noqa: E731
                                                 kl_coef=0.5, learning_rate=3e-3, seed=seed + next(counter)),
                           ref_model=ref)
    else:
        raise ValueError(f"method must be 'dpo' or 'ppo', got {method!r}")
    kl = best.kl(model)
    while kl > threshold and time.perf_counter() - start < budget:
        step()
        kl = best.kl(model)
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed if kl <= threshold else None, "kl": kl, "start_kl": best.kl(ref)}


def run_rlhf(quick: bool = False, seed: int = 0) -> list[BenchResult]:
    """The rows of ``rlcore bench --suite rlhf``: the pipeline's time and memory, and the toy's times to pi*."""
    check_flag(quick, "quick")
    check_nonnegative_int(seed, "seed")
    t = time.perf_counter()
    out = run_pipeline(seed=seed, pretrain_steps=150 if quick else 400, n_pairs=40 if quick else 300,
                       ppo_iterations=5 if quick else 40)
    total = time.perf_counter() - t
    s = out["scores"]
    rows = [BenchResult("Whole RLHF pipeline (pretrain, preferences, RM, PPO, DPO, evaluation)", total, None, None,
                        "< 90 s and < 1 GB", total < 90 and out["peak_rss_mb"] < 1024,
                        f"gold reward SFT {s['SFT']['gold']:.3f}, PPO+RM {s['PPO + RM']['gold']:.3f}, "
                        f"DPO {s['DPO']['gold']:.3f}; RM held-out accuracy {out['rm_accuracy']:.3f}; "
                        f"peak RSS {out['peak_rss_mb']:.0f} MB")]
    for method in ("dpo", "ppo"):
        r = toy_time_to_optimum(method, budget=20.0 if quick else 60.0, seed=seed)
        secs = r["seconds"]
        rows.append(BenchResult(f"Toy: {method.upper()} to KL(pi || pi*) <= 0.05 at beta = 0.5",
                                secs if secs is not None else math.nan, None, None, "< 60 s",
                                secs is not None and secs < 60,
                                f"KL from {r['start_kl']:.3f} to {r['kl']:.4f} nats"))
    rows.append(_trl_row(seed, quick))
    return rows


def _trl_row(seed: int, quick: bool) -> BenchResult:
    """rlcore's DPO step against TRL's ``DPOTrainer`` step, when the ``trl`` extra is installed."""
    name = "DPO step: TRL DPOTrainer (tiny GPT-2) / rlcore dpo (GRU), equal parameter count"
    try:
        from rlcore.bench.trl_peer import dpo_step_ratio
    except ImportError:  # pragma: no cover - the extra is missing
        return BenchResult(name, math.nan, None, None, "measured", None, "trl not installed: pip install -e '.[trl]'")
    ref = CharLM("ab", embed_dim=16, hidden_dim=32, seed=seed)
    pairs = simulate_preferences(ref, ("a", "b"), lambda t: float(t.count("b")), 256, 5, Labeller(), seed=seed)
    r = dpo_step_ratio(pairs, batch_size=64, steps=5 if quick else 20, seed=seed)
    return BenchResult(name, r["rlcore_s_per_step"], r["trl_s_per_step"], r["ratio"], "measured", None,
                       f"{r['ratio']:.2f}x: TRL {1e3 * r['trl_s_per_step']:.1f} ms, rlcore "
                       f"{1e3 * r['rlcore_s_per_step']:.1f} ms per step of {r['batch_size']} pairs; "
                       f"{r['trl_params']} vs {r['rlcore_params']} parameters")


def summary_table(out: dict[str, Any]) -> list[tuple[str, ...]]:
    """Rows ``(model, gold reward, KL to SFT, win rate vs SFT)`` for printing."""
    rows = [("model", "gold reward", "KL to SFT (nats)", "win rate vs SFT")]
    scores = out.get("scores") if isinstance(out, dict) else None
    if not isinstance(scores, dict) or not all(isinstance(v, dict) and all(
            isinstance(v.get(k), (int, float)) and not isinstance(v.get(k), bool) for k in ("gold", "kl", "win_rate"))
            for v in scores.values()):
        raise ValueError("out must be what run_pipeline returns: out['scores'] maps each model to its numbers "
                         "'gold', 'kl' and 'win_rate'")
    for name, v in scores.items():
        rows.append((name, f"{v['gold']:.3f}", f"{v['kl']:.2f}", f"{v['win_rate']:.3f}"))
    return rows

