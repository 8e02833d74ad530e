"""Data parallelism on torch.distributed, run for real: ``torchrun`` with two gloo processes on the CPU.

Two processes with one micro-batch each must take exactly the steps of one process that
accumulates the same two micro-batches (same global batch, same random streams): the
gradients are averaged by DDP's all-reduce in one case and by accumulation in the other,
and with two addends the sum is the same in any order, so the parameters agree bit for bit.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from rlcore.lm import CharLM, pretrain, save

ENV = dict(os.environ, OMP_NUM_THREADS="1", TORCH_CPP_LOG_LEVEL="ERROR")


@pytest.fixture(scope="module")
def init(tmp_path_factory):
    path = tmp_path_factory.mktemp("dist") / "init.safetensors"
    model = CharLM(seed=0, embed_dim=16, hidden_dim=32)
    pretrain(model, steps=30, seed=0)
    save(model, path)
    return path


def _train(trainer: str, init, out, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "rlcore.cli", "train", trainer, "--iterations", "3", "--batch-size", "16",
           "--init", str(init), "--out", str(out), "--no-progress", *extra]
    return subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("trainer", ["ppo", "grpo", "dpo"])
def test_two_processes_take_the_steps_of_one_accumulating_process(trainer, init, tmp_path):
    two = _train(trainer, init, tmp_path / "two.safetensors", "--nproc-per-node", "2")
    assert two.returncode == 0, two.stderr[-2000:]
    assert "2 process(es) x 1 micro-batch(es)" in two.stdout
    one = _train(trainer, init, tmp_path / "one.safetensors", "--gradient-accumulation-steps", "2")
    assert one.returncode == 0, one.stderr[-2000:]
    a, b, start = (load_file(tmp_path / "two.safetensors"), load_file(tmp_path / "one.safetensors"),
                   load_file(init))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), f"{trainer}: {k} differs by {(a[k] - b[k]).abs().max():.3g}"
    # the steps were real: the policy moved (the value head may stay put under GRPO and DPO)
    assert any(not torch.equal(a[k], start[k]) for k in a if k.startswith("head"))


def test_a_failing_rank_ends_the_whole_job_quickly():
    script = os.path.join(os.path.dirname(__file__), "distributed_failure.py")
    start = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                          script], env=ENV, capture_output=True, text=True, timeout=90)
    assert res.returncode != 0
    assert "injected failure on rank 1" in res.stderr
    assert time.perf_counter() - start < 60


def test_the_launcher_reports_a_bad_configuration_in_one_line(init, tmp_path):
    # 12 completions (3 groups of 4) cannot be cut into 2 micro-batches of whole groups: every rank refuses
    res = _train("grpo", init, tmp_path / "x.safetensors", "--nproc-per-node", "2", "--batch-size", "12")
    assert res.returncode == 1
    assert "must split into 2 micro-batches" in res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith("rlcore train: error: rank ")
    assert "Traceback" not in res.stderr
