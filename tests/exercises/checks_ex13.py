"""Checks for notebooks/exercises/ex13_practical.py (book chapter 6)."""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.stats import trim_mean

from rlcore.lm import CharLM

from .harness import adam_bytes_torch_holds, check, expect, expect_close

MODULE = "ex13_practical"
GB = 1e9


# --------------------------------------------------------------------------- adam_training_bytes
@check(MODULE, "adam_training_bytes", "16 bytes per parameter: 2 + 2 (weights, gradients) + 4 + 4 + 4 (master, m, v)")
def check_published_budgets(f):
    # The chapter's 7B policy (112 GB) and ZeRO's Figure 1 baseline, 16 x 7.5B = 120 GB.
    expect_close(f(7e9) / GB, 112.0, "adam_training_bytes(7e9) in GB", atol=1e-9)
    expect_close(f(7.5e9, 2) / GB, 120.0, "adam_training_bytes(7.5e9, weight_bytes=2) in GB", atol=1e-9)
    # fp32: 4 (weights) + 4 (gradients) + 8 (m, v) and no separate master copy
    expect_close(f(1000, 4), 16_000.0, "adam_training_bytes(1000, weight_bytes=4)")


@check(MODULE, "adam_training_bytes", "count what Adam keeps: a gradient per weight and two moment tensors")
def check_matches_what_torch_allocates(f):
    n, held = adam_bytes_torch_holds(CharLM(seed=0, dtype=torch.float32))
    expect_close(f(n, 4), float(held), f"fp32 Adam on a {n}-parameter CharLM (bytes torch holds)")


# --------------------------------------------------------------------------- zero_bytes_per_device
ZERO_FIGURE_1 = [120.0, 31.4, 16.6, 1.9]  # Rajbhandari et al. (2020), Figure 1: 7.5B parameters, 64 devices, K = 12


@check(MODULE, "zero_bytes_per_device", "stage 1 divides K P by D, stage 2 also the gradients, stage 3 everything")
def check_zero_paper_figure_1(f):
    got = [f(7.5e9, 64, stage) / GB for stage in range(4)]
    expect_close(np.round(got, 1), ZERO_FIGURE_1, "GB per device for stages 0-3 (7.5B parameters, 64 devices)",
                 atol=1e-9)


@check(MODULE, "zero_bytes_per_device", "on one device nothing can be sharded: every stage holds 16 P bytes")
def check_one_device_and_limits(f):
    p = 1e9
    expect_close([f(p, 1, s) / GB for s in range(4)], [16.0] * 4, "GB on a single device, stages 0-3", atol=1e-9)
    # By hand, 4 devices: 30 + 90/4 = 52.5, 15 + 105/4 = 41.25, 120/4 = 30 (GB, for 7.5B parameters).
    expect_close([f(7.5e9, 4, s) / GB for s in (1, 2, 3)], [52.5, 41.25, 30.0], "GB on 4 devices, stages 1-3",
                 atol=1e-9)
    many = [f(p, 10**6, s) / p for s in range(4)]
    expect_close(many, [16.0, 4.0, 2.0, 0.0], "bytes per parameter as D -> infinity, stages 0-3", atol=1e-4)


# --------------------------------------------------------------------------- micro_batch_weights
@check(MODULE, "micro_batch_weights", "a row must count the same in every micro-batch: w_m = n_m / B")
def check_weights_by_hand(f):
    expect_close(f([2, 6]), [0.25, 0.75], "micro_batch_weights([2, 6])")
    expect_close(f([32, 32]), [0.5, 0.5], "micro_batch_weights([32, 32])")
    expect_close(f([26, 25]), [26 / 51, 25 / 51], "micro_batch_weights([26, 25]) (DPO's last batch of 51)")


@check(MODULE, "micro_batch_weights", "sum_m w_m mean(l_m) must equal mean(l) over the whole batch")
def check_recovers_the_batch_mean(f):
    rng = np.random.default_rng(0)
    losses = rng.exponential(size=9)
    parts = np.split(losses, [5, 6])  # micro-batches of 5, 1 and 3 rows
    w = np.asarray(f([len(p) for p in parts]), dtype=float)
    expect(w.shape == (3,), f"expected 3 weights, got shape {w.shape}")
    accumulated = sum(wm * p.mean() for wm, p in zip(w, parts))
    expect_close(accumulated, losses.mean(), "weighted micro-batch means of sizes [5, 1, 3]")


# --------------------------------------------------------------------------- interquartile_mean
@check(MODULE, "interquartile_mean", "sort first, then drop floor(n/4) scores at each end and average the rest")
def check_iqm_by_hand(f):
    expect_close(f(np.arange(1.0, 9.0)), 4.5, "IQM of 1..8 (the mean of 3, 4, 5, 6)")
    expect_close(f([10.0, 0.0, 1.0, 2.0]), 1.5, "IQM of [10, 0, 1, 2] (the mean of 1 and 2)")
    expect_close(f([1.0, 2.0, 3.0, 4.0, 1000.0]), 3.0, "IQM of [1, 2, 3, 4, 1000] (an outlier seed)")
    expect_close(f([3.0, 1.0, 2.0]), 2.0, "IQM of three scores (nothing dropped)")


@check(MODULE, "interquartile_mean", "k = n // 4 scores at each end: scipy.stats.trim_mean(x, 0.25) does the same")
def check_iqm_matches_scipy(f):
    rng = np.random.default_rng(1)
    for n in (5, 6, 7, 10, 13, 20, 23):
        x = rng.normal(size=n) * 10
        expect_close(f(x), trim_mean(x, 0.25), f"IQM of {n} random scores (scipy's trim_mean)")


# --------------------------------------------------------------------------- bootstrap_ci
@check(MODULE, "bootstrap_ci", "resample n scores with replacement; quantiles (1 - c)/2 and (1 + c)/2")
def check_bootstrap_matches_normal_theory(f):
    # For the mean of n = 400 draws, the bootstrap interval is close to mean -/+ 1.96 s / sqrt(n).
    x = np.random.default_rng(2).normal(size=400)
    half = 1.959964 * x.std(ddof=1) / math.sqrt(len(x))
    got = f(x, np.mean, 4000, 0.95, 0)
    expect_close(np.asarray(got, dtype=float), [x.mean() - half, x.mean() + half],
                 "95% interval of the mean of 400 normal draws (normal theory)", atol=0.01)
    half50 = 0.674490 * x.std(ddof=1) / math.sqrt(len(x))
    expect_close(np.asarray(f(x, np.mean, 4000, 0.5, 0), dtype=float), [x.mean() - half50, x.mean() + half50],
                 "50% interval of the mean of 400 normal draws (normal theory)", atol=0.01)


@check(MODULE, "bootstrap_ci", "apply the given statistic to every resample, and draw the resamples with replacement")
def check_bootstrap_small_cases(f):
    expect_close(np.asarray(f(np.full(6, 3.0), np.mean), dtype=float), [3.0, 3.0], "interval for six equal scores")
    # Means of resamples of [0, 1] are 0, 1/2 or 1 with probabilities 1/4, 1/2, 1/4: the 95% interval is [0, 1].
    expect_close(np.asarray(f([0.0, 1.0], np.mean), dtype=float), [0.0, 1.0], "95% interval of the mean of [0, 1]")
    # The largest of ten resampled scores is 9 with probability 1 - 0.9**10 = 0.65, so the upper end is 9.
    low, high = f(np.arange(10.0), np.max)
    expect_close(high, 9.0, "upper end of the 95% interval of max(0..9)")
    expect(low < 9.0, f"lower end of the 95% interval of max(0..9) should be below 9, got {low}")


def mutants(sol):
    """Plausible wrong answers (each must be caught by at least one check of its function)."""

    def without_replacement(scores, statistic, n_boot=2000, confidence=0.95, seed=0):
        x = np.asarray(scores, dtype=float)
        rng = np.random.default_rng(seed)
        reps = [statistic(rng.permutation(x)) for _ in range(n_boot)]
        return tuple(float(q) for q in np.quantile(reps, [(1 - confidence) / 2, (1 + confidence) / 2]))

    def confidence_as_tail(scores, statistic, n_boot=2000, confidence=0.95, seed=0):
        x = np.asarray(scores, dtype=float)
        rng = np.random.default_rng(seed)
        reps = [statistic(x[rng.integers(0, len(x), len(x))]) for _ in range(n_boot)]
        return tuple(float(q) for q in np.quantile(reps, [confidence / 2, 1 - confidence / 2]))

    def unsorted_iqm(scores):
        x = np.asarray(scores, dtype=float)
        k = len(x) // 4
        return float(x[k:len(x) - k].mean())

    def ceil_iqm(scores):
        x = np.sort(np.asarray(scores, dtype=float))
        k = math.ceil(len(x) / 4) if len(x) >= 4 else 0
        return float(x[k:len(x) - k].mean())

    def zero_stage_off_by_one(n_params, n_devices, stage):
        return sol.zero_bytes_per_device(n_params, n_devices, min(stage + 1, 3))

    def zero_stage2_keeps_optimizer(n_params, n_devices, stage):
        if stage == 2:
            return 2 * n_params + 2 * n_params / n_devices + 12 * n_params
        return sol.zero_bytes_per_device(n_params, n_devices, stage)

    def zero_k16(n_params, n_devices, stage):
        sharded = {0: 0.0, 1: 16.0, 2: 18.0, 3: 20.0}[stage]
        return (20.0 - sharded) * n_params + sharded * n_params / n_devices

    return {
        "ex13_practical.adam_training_bytes": [
            ("forgot the optimizer states", lambda n, b=2: float(n) * (2 * b + (4 if b < 4 else 0))),
            ("forgot the master copy", lambda n, b=2: float(n) * (2 * b + 8)),
            ("master copy even in fp32", lambda n, b=2: float(n) * (2 * b + 12)),
            ("forgot the gradients", lambda n, b=2: float(n) * (b + 8 + (4 if b < 4 else 0)))],
        "ex13_practical.zero_bytes_per_device": [
            ("stages shifted by one", zero_stage_off_by_one),
            ("stage 2 shards only the gradients", zero_stage2_keeps_optimizer),
            ("K = 16 (gradients counted twice)", zero_k16)],
        "ex13_practical.micro_batch_weights": [
            ("plain average of micro-batch means", lambda sizes: np.full(len(sizes), 1 / len(sizes))),
            ("not normalised", lambda sizes: np.asarray(sizes, dtype=float)),
            ("inverse sizes", lambda sizes: (1 / np.asarray(sizes, float)) / (1 / np.asarray(sizes, float)).sum())],
        "ex13_practical.interquartile_mean": [
            ("median", lambda x: float(np.median(x))),
            ("plain mean", lambda x: float(np.mean(x))),
            ("forgot to sort", unsorted_iqm),
            ("drops ceil(n/4)", ceil_iqm)],
        "ex13_practical.bootstrap_ci": [
            ("resamples without replacement", without_replacement),
            ("confidence used as the tail", confidence_as_tail),
            ("ignores the statistic", lambda x, st, n_boot=2000, confidence=0.95, seed=0:
             sol.bootstrap_ci(x, np.mean, n_boot, confidence, seed))],
    }
