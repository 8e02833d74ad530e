"""The rlcore command line: the demo runs, errors are one line."""

from __future__ import annotations

import subprocess
import sys

from rlcore.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "rlcore.cli", *args], capture_output=True, text=True)


def test_demo_writes_figures_and_a_table(tmp_path, capsys):
    assert main(["demo", "--episodes", "40", "--seeds", "2", "--out", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "value iteration" in out and "Cliff walking" in out and "max |V_VI - V_PI|" in out
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == ["cliff_learning.png", "gridworld_convergence.png", "gridworld_learning.png",
                    "gridworld_values.png"]
    assert all((tmp_path / p).stat().st_size > 5_000 for p in pngs)


def test_help_explains_itself():
    top = run("--help")
    assert top.returncode == 0 and "demo" in top.stdout and "bench" in top.stdout
    demo = run("demo", "--help")
    assert demo.returncode == 0 and "--episodes" in demo.stdout and "--out" in demo.stdout


def test_bad_arguments_get_one_line_errors():
    for args, needle in ((("demo", "--episodes", "x"), "expected a positive integer, got 'x'"),
                         (("demo", "--seeds", "0"), "expected a positive integer, got 0"),
                         (("solve", "--gamma", "2"), "gamma must lie in [0, 1], got 2.0"),
                         (("solve", "--layout", "nope"), "invalid choice"),
                         (("frobnicate",), "invalid choice")):
        proc = run(*args)
        assert proc.returncode == 2
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0] and "Traceback" not in proc.stderr


def test_solve_prints_the_policy(capsys):
    assert main(["solve", "--layout", "cliff", "--gamma", "1.0"]) == 0
    out = capsys.readouterr().out
    assert "CCCCCCCCCCG" in out and "converged=True" in out
