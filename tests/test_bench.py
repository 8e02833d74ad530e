"""The benchmark harness (marked: outside the default run; `pytest -m benchmark`)."""

from __future__ import annotations

import math

import pytest

from rlcore.bench.tabular import format_table, run_all


@pytest.mark.benchmark
def test_benchmarks_meet_their_targets():
    results = run_all()
    print("\n" + format_table(results))
    for r in results:
        assert r.ok is not False, f"{r.name}: {r.detail} (ratio {r.ratio}, target {r.target})"


def test_quick_benchmark_smoke():
    results = run_all(quick=True)
    table = format_table(results)
    assert len(results) == 4 and "VI" in table
    for r in results:
        assert math.isfinite(r.ours_s) or r.ok is None


@pytest.mark.benchmark
def test_rlhf_benchmarks_meet_their_targets():
    from rlcore.bench.rlhf import run_rlhf

    results = run_rlhf()
    print("\n" + format_table(results))
    assert len(results) == 4
    for r in results:
        assert r.ok is not False, f"{r.name}: {r.detail} (target {r.target})"
    trl = results[-1]
    assert trl.ratio is not None and trl.ratio > 0, trl.detail  # both steps were measured


@pytest.mark.benchmark
def test_scaling_benchmark_measures_both_jobs():
    from rlcore.bench.scale import run_scale

    results = run_scale()
    print("\n" + format_table(results))
    assert [r.name.split(",")[0] for r in results] == ["PPO", "PPO", "DPO", "DPO"]
    for r in results:
        assert r.ours_s > 0 and r.other_s > 0 and "samples/s" in r.detail


def test_scaling_row_reads_the_two_jobs():
    from rlcore.bench.scale import scaling_row

    one = {"samples_per_second": 100.0, "seconds": 4.0, "peak_rss_mb_max": 300.0, "batch_size": 64,
           "iterations": 4, "parameters": 21_000}
    two = dict(one, samples_per_second=150.0, seconds=2.0 + 2 / 3, peak_rss_mb_max=310.0)
    row = scaling_row("ppo", one, two)
    assert row.ratio == pytest.approx(1.5) and row.ok
    assert "efficiency 75%" in row.detail and "310 MB (2)" in row.detail and "21,000 parameters" in row.name
    assert not scaling_row("dpo", two, one).ok


@pytest.mark.benchmark
def test_approx_benchmark_runs_both_libraries_on_the_same_seeds():
    pytest.importorskip("stable_baselines3")
    from rlcore.bench.approx import run_approx

    results = run_approx()
    print("\n" + format_table(results))
    assert [r.name.split()[0] for r in results] == ["DQN", "A2C"]
    for r in results:
        assert r.detail.count("seed ") == 3 and r.detail.count("greedy ") == 6, r.detail
        assert r.ok is not False, f"{r.name}: {r.detail}"
