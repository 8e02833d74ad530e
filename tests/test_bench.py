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
