"""Benchmarks of the tabular core, measured side by side in one run.

Run with ``rlcore bench`` (needs ``pip install -e '.[bench]'`` for the
pymdptoolbox comparison). Every figure is measured on the machine it runs on;
nothing here is a stored number. Each timing is the best of ``repeat`` runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from rlcore.core.validation import check_flag, check_instance, check_positive_int, check_real
from rlcore.envs.gridworld import GridWorld
from rlcore.tabular.dp import value_iteration

__all__ = ["BenchResult", "run_all", "format_table", "as_json", "bench_vs_mdptoolbox",
           "bench_vs_numpy_floor", "bench_million", "bench_cliff_td"]


@dataclass
class BenchResult:
    """One row of a benchmark table: our time, the peer's, and whether the stated target was met.

    Attributes
    ----------
    name
        What was measured (problem and size).
    ours_s
        Best wall time of rlcore in seconds (NaN when the benchmark was skipped).
    other_s
        Best wall time of the peer or floor, if there is one.
    ratio
        The number ``target`` is stated in (a speed-up or a multiple of the floor).
    target
        The goal, in words, e.g. ``">= 20x faster"``.
    ok
        Whether the target was met (None: no target or skipped).
    detail
        Accuracy check or sizes behind the timing.
    """

    name: str
    ours_s: float
    other_s: float | None
    ratio: float | None
    target: str
    ok: bool | None
    detail: str

    def __post_init__(self) -> None:
        for f in ("name", "target", "detail"):
            check_instance(getattr(self, f), f, str)
        for f, none in (("ours_s", False), ("other_s", True), ("ratio", True)):
            v = getattr(self, f)
            if not (isinstance(v, (float, np.floating)) and np.isnan(v)):  # NaN: not measured
                check_real(v, f, none=none)
        if self.ok is not None and not isinstance(self.ok, (bool, np.bool_)):
            raise TypeError(f"ok must be True, False or None, got {self.ok!r}")
        if self.ok is not None:
            self.ok = bool(self.ok)


def _sizes(**sizes: tuple[object, int]) -> None:
    """Each ``name=(value, minimum)``: an integer ``>= minimum`` (checked before any timing starts)."""
    for name, (value, low) in sizes.items():
        if check_positive_int(value, name) < low:
            raise ValueError(f"{name} must be at least {low}, got {value}")


def _results(results: object) -> list[BenchResult]:
    if not isinstance(results, (list, tuple)) or not all(isinstance(r, BenchResult) for r in results):
        raise TypeError(f"results must be a list of BenchResult, got {type(results).__name__}")
    return list(results)


def _best(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def bench_vs_mdptoolbox(size: int = 50, repeat: int = 3) -> BenchResult:
    """Value iteration on an open ``size x size`` grid (slip 0.1, gamma 0.95) against pymdptoolbox."""
    _sizes(size=(size, 2), repeat=(repeat, 1))
    try:
        import mdptoolbox.mdp
        import scipy.sparse as sp
    except ImportError:
        return BenchResult("VI vs pymdptoolbox", np.nan, None, None, ">= 20x faster", None,
                           "skipped: pip install -e '.[bench]' for pymdptoolbox")
    mdp = GridWorld.open(size, size, step_reward=-1.0, goal_reward=0.0, slip=0.1, gamma=0.95).mdp
    tol = 1e-6
    P = mdp.P
    # pymdptoolbox has no notion of termination: the goal is an absorbing zero-reward state,
    # exactly how TabularMDP normalises terminal states, so both solve the same problem.
    transitions = [sp.csr_matrix(P[:, a, :]) for a in range(mdp.n_actions)]
    R = mdp.R

    def theirs():
        vi = mdptoolbox.mdp.ValueIteration(transitions, R, mdp.gamma, epsilon=tol, max_iter=100_000)
        vi.run()
        return np.asarray(vi.V)

    t_ours, ours = _best(lambda: value_iteration(mdp, tol=tol * (1 - mdp.gamma) / mdp.gamma), repeat)
    t_theirs, V_theirs = _best(theirs, repeat)
    err = float(np.abs(ours.V - V_theirs).max())
    ratio = t_theirs / t_ours
    return BenchResult(f"VI {size}x{size} vs pymdptoolbox", t_ours, t_theirs, ratio, ">= 20x faster",
                       ratio >= 20 and err <= 1e-3, f"max |V_ours - V_theirs| = {err:.2e}")


def bench_vs_numpy_floor(size: int = 300, repeat: int = 3) -> BenchResult:
    """rlcore value iteration against a bare numpy sweep loop on the same successor arrays."""
    _sizes(size=(size, 2), repeat=(repeat, 1))
    mdp = GridWorld.open(size, size, step_reward=-1.0, goal_reward=0.0, slip=0.1, gamma=0.95).mdp
    tol = 1e-6
    R, cont, nxt = mdp.R, mdp.gamma * mdp.prob * ~mdp.done, mdp.next_state

    def bare():
        V = np.zeros(mdp.n_states)
        while True:
            V_new = (R + (cont * V[nxt]).sum(axis=2)).max(axis=1)
            if np.abs(V_new - V).max() < tol:
                return V_new
            V = V_new

    t_ours, ours = _best(lambda: value_iteration(mdp, tol=tol), repeat)
    t_bare, V_bare = _best(bare, repeat)
    ratio = t_ours / t_bare
    err = float(np.abs(ours.V - V_bare).max())
    return BenchResult(f"VI {size}x{size} vs bare numpy loop", t_ours, t_bare, ratio,
                       "<= 1.5x the floor", ratio <= 1.5,
                       f"{ours.iterations} sweeps, max |dV| = {err:.1e}")


_MILLION = """
import json, resource, time
from rlcore import GridWorld, value_iteration
t = time.perf_counter()
env = GridWorld.open({n}, {n}, step_reward=-1.0, goal_reward=0.0, gamma=0.95)
t_build = time.perf_counter() - t
r = value_iteration(env.mdp, tol=1e-6)
total = time.perf_counter() - t
print(json.dumps(dict(build=t_build, total=total, sweeps=r.iterations, converged=r.converged,
                      states=env.mdp.n_states,
                      peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""


def bench_million(n: int = 1000) -> BenchResult:
    """Build and solve an ``n x n`` open GridWorld in a fresh process; report time and peak RSS."""
    _sizes(n=(n, 2))
    out = subprocess.run([sys.executable, "-c", _MILLION.format(n=n)], capture_output=True, text=True,
                         check=True)
    m = json.loads(out.stdout.strip().splitlines()[-1])
    ok = m["total"] < 60 and m["peak_mb"] < 4096 and m["converged"]
    return BenchResult(f"GridWorld {n}x{n} build + VI", m["total"], None, None, "< 60 s and < 4 GB", ok,
                       f"{m['states']:,} states, build {m['build']:.1f} s, {m['sweeps']} sweeps, "
                       f"peak RSS {m['peak_mb']:.0f} MB")


def bench_cliff_td(n_episodes: int = 500, n_seeds: int = 20) -> BenchResult:
    """SARSA + Q-learning on CliffWalking-v1 against the same number of bare ``env.step`` calls."""
    import gymnasium as gym

    from rlcore.tabular.td import q_learning, sarsa

    _sizes(n_episodes=(n_episodes, 1), n_seeds=(n_seeds, 1))

    env = gym.make("CliffWalking-v1")
    t = time.perf_counter()
    steps = 0
    for seed in range(n_seeds):
        for learner in (sarsa, q_learning):
            r = learner(env, n_episodes=n_episodes, alpha=0.5, epsilon=0.1, gamma=1.0, seed=seed)
            steps += int(r.episode_lengths.sum())
    t_ours = time.perf_counter() - t

    rng = np.random.default_rng(0)
    actions = rng.integers(0, 4, size=steps).tolist()
    env.reset(seed=0)
    step, reset = env.step, env.reset
    t = time.perf_counter()
    for a in actions:
        _, _, terminated, truncated, _ = step(a)
        if terminated or truncated:
            reset()
    t_env = time.perf_counter() - t
    ratio = t_ours / t_env
    return BenchResult(f"CliffWalking TD, {n_episodes} ep x {n_seeds} seeds x 2", t_ours, t_env, ratio,
                       "<= 1.5x bare env.step", ratio <= 1.5, f"{steps:,} steps")


def run_all(quick: bool = False) -> list[BenchResult]:
    """Run every benchmark (``quick`` shrinks them for a smoke test)."""
    check_flag(quick, "quick")
    if quick:
        return [bench_vs_mdptoolbox(20, 1), bench_vs_numpy_floor(60, 1), bench_million(100),
                bench_cliff_td(50, 2)]
    return [bench_vs_mdptoolbox(), bench_vs_numpy_floor(), bench_million(), bench_cliff_td()]


def _versus(ours: float, other: float | None) -> str:
    """``rlcore 3.3x faster`` or ``rlcore 1.2x slower``: the ratio with its direction spelled out."""
    if other is None or not (np.isfinite(ours) and np.isfinite(other)) or ours <= 0 or other <= 0:
        return "-"
    return f"rlcore {other / ours:.2f}x faster" if other >= ours else f"rlcore {ours / other:.2f}x slower"


def format_table(results: list[BenchResult]) -> str:
    """The results as an aligned plain-text table, one row per benchmark."""
    rows = [("benchmark", "rlcore", "other", "rlcore vs other", "target", "met", "detail")]
    for r in _results(results):
        ours = "-" if np.isnan(r.ours_s) else f"{r.ours_s:.3f} s"
        rows.append((r.name, ours, "-" if r.other_s is None else f"{r.other_s:.3f} s", _versus(r.ours_s, r.other_s),
                     r.target, {True: "yes", False: "NO", None: "-"}[r.ok], r.detail))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def as_json(results: list[BenchResult]) -> str:
    """The results as a JSON list of objects, one per benchmark, with the fields of [`BenchResult`][]."""
    return json.dumps([asdict(r) for r in _results(results)], indent=2)


if __name__ == "__main__":  # pragma: no cover
    print(format_table(run_all()))

