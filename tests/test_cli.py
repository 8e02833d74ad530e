"""The rlcore command line: the demo runs, errors are one line."""

from __future__ import annotations

import subprocess
import sys
import time

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
    for args, needle in ((("demo", "--episodes", "x"), "expected a number of episodes from 1 to 1,000,000, got 'x'"),
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


def test_labels_follow_the_arguments(tmp_path, capsys):
    assert main(["demo", "--episodes", "20", "--seeds", "1", "--out", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "last 20 episodes" in out and "last 100 episodes" not in out
    assert ", 1 seed" in out and "1 seeds" not in out


def test_no_command_is_an_error():
    proc = run()
    assert proc.returncode == 2 and "COMMAND" in proc.stderr and proc.stdout == ""


def test_solve_explains_its_grid_and_prints_values(capsys):
    assert main(["solve", "--layout", "classic", "--gamma", "0.9"]) == 0
    out = capsys.readouterr().out
    assert "S start, G goal" in out and "V*(s) per cell" in out
    from rlcore import GridWorld, value_iteration

    env = GridWorld("classic", gamma=0.9)
    V = value_iteration(env.mdp).V
    r, c = env.positions[int(abs(V).argmax())]
    assert f"{V[int(abs(V).argmax())]:5.2f}" in out.splitlines()[r]  # the value sits on its grid row


def test_bench_table_says_which_way_is_better():
    from rlcore.bench.tabular import BenchResult, format_table

    table = format_table([BenchResult("a", 1.0, 3.0, 3.0, "-", None, ""),
                          BenchResult("b", 2.0, 1.0, 2.0, "-", None, "")])
    assert "rlcore 3.00x faster" in table and "rlcore 2.00x slower" in table


def test_generate_samples_a_checkpoint_reproducibly(tmp_path, capsys):
    from rlcore.lm import CharLM, save

    path = tmp_path / "tiny.safetensors"
    save(CharLM("ab", embed_dim=8, hidden_dim=16, seed=0), path)
    args = ["generate", "--checkpoint", str(path), "--prompt", "a", "--prompt", "b", "--n", "3", "--seed", "4",
            "--max-new-tokens", "5", "--top-k", "2"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    second = capsys.readouterr().out
    pairs = [ln for ln in first.splitlines() if " -> " in ln]
    assert len(pairs) == 6 and sum(ln.startswith("'a'") for ln in pairs) == 3
    assert "6 completions" in first and "tokens/s" in first
    assert pairs == [ln for ln in second.splitlines() if " -> " in ln]  # same seed, same texts
    bad = run("generate", "--checkpoint", str(tmp_path / "weights.pt"))
    assert bad.returncode == 2 and "must be a .safetensors file" in bad.stderr


def test_train_runs_on_one_process_and_saves_a_checkpoint(tmp_path, capsys):
    import json

    from rlcore.lm import CharLM, load, save

    init = tmp_path / "init.safetensors"
    save(CharLM(seed=0, embed_dim=8, hidden_dim=16), init)
    out = tmp_path / "trained.safetensors"
    assert main(["train", "ppo", "--iterations", "2", "--batch-size", "8", "--init", str(init), "--out", str(out),
                 "--json", "--no-progress"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["world_size"] == 1 and summary["samples"] == 16 and summary["samples_per_second"] > 0
    trained, start = load(out), load(init)
    assert any(not (a == b).all() for a, b in zip(trained.parameters(), start.parameters()))


def test_train_and_generate_refuse_devices_they_cannot_use():
    for args in (("train", "ppo", "--device", "banana"), ("train", "dpo", "--device", "cuda:0"),
                 ("generate", "--checkpoint", "x.safetensors", "--device", "meta")):
        res = run(*args)
        if "cuda" in args and "no CUDA device" not in res.stderr:  # pragma: no cover - a GPU machine
            continue
        assert res.returncode == 2 and "--device" in res.stderr and "Traceback" not in res.stderr
        assert len(res.stderr.strip().splitlines()) == 1
    res = run("train", "ppo", "--out", "model.pt")
    assert res.returncode == 2 and "--out must name a .safetensors file" in res.stderr


def test_no_traceback_for_huge_runs_bad_paths_closed_pipes_or_ctrl_c(tmp_path):
    """Issue 9: a huge --episodes used to die in numpy with a traceback; a file where a folder is needed, a
    reader that closes stdout and Ctrl-C get one line (or none) and a non-zero exit too."""
    huge = run("demo", "--episodes", str(10**11))
    assert huge.returncode == 2 and "from 1 to 1,000,000" in huge.stderr and "Traceback" not in huge.stderr
    (tmp_path / "a_file").write_text("x")
    taken = run("demo", "--episodes", "3", "--seeds", "1", "--out", str(tmp_path / "a_file" / "sub"))
    lines = taken.stderr.strip().splitlines()
    assert taken.returncode == 2 and len(lines) == 1 and "Not a directory" in lines[0]

    import signal

    cmd = [sys.executable, "-m", "rlcore.cli"]
    piped = subprocess.Popen([*cmd, "solve", "--layout", "cliff"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    piped.stdout.close()  # the reader goes away before rlcore writes
    _, err = piped.communicate(timeout=60)
    assert piped.returncode == 1 and b"Traceback" not in err
    busy = subprocess.Popen([*cmd, "demo", "--episodes", "200000", "--seeds", "3", "--no-progress", "--out",
                             str(tmp_path / "out")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(6)  # well into the first learner's episodes
    busy.send_signal(signal.SIGINT)
    _, err = busy.communicate(timeout=60)
    assert busy.returncode == 130 and err.strip().splitlines() == ["rlcore demo: interrupted"]
