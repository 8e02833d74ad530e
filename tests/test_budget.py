"""The practical chapter's memory and compute arithmetic, against the book's example and real torch tensors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from exercises.harness import adam_bytes_torch_holds  # tests/exercises: the shared measurement

from rlcore.lm import CharLM
from rlcore.lm.budget import (
    activation_bytes,
    budget_table,
    generation_flops,
    rlhf_memory,
    training_flops,
    training_memory,
)

ROOT = Path(__file__).resolve().parents[1]


def test_the_books_seven_billion_parameter_example():
    budget = rlhf_memory(7e9)
    assert budget["policy"].gb() == pytest.approx(112) and budget["value"].gb() == pytest.approx(112)
    assert (budget["reference"].gb() + budget["reward"].gb()) == pytest.approx(28)
    assert budget["total"].gb() == pytest.approx(252)
    text = (ROOT / "book" / "chapters" / "06-practical.md").read_text(encoding="utf-8")
    assert "$= 112$ GB" in text and "another $112$ GB" in text and "$= 28$ GB" in text  # the numbers quoted
    assert re.search(r"about 250 GB", text)


def test_the_chapters_table_is_what_budget_table_computes():
    from rlcore.lm import count_parameters

    rows = budget_table({"rlcore CharLM": count_parameters(CharLM()), "125M": 1.25e8, "1.3B": 1.3e9, "7B": 7e9,
                         "70B": 7e10})
    text = (ROOT / "book" / "chapters" / "06-practical.md").read_text(encoding="utf-8")
    for row in rows:
        assert "| " + " | ".join(row) + " |" in text, row


def test_bytes_per_parameter():
    n = 1000
    assert training_memory(n).total == 16 * n  # bf16 Adam with fp32 master: 2 + 2 + 12
    assert training_memory(n, "fp32").total == 16 * n  # 4 + 4 + 8
    assert training_memory(n, "bf16", optimizer="sgd").total == 8 * n
    assert training_memory(n, "bf16", optimizer="sgd", master_weights=False).total == 4 * n
    assert training_memory(n, trained=False).total == 2 * n and training_memory(n, "fp32", trained=False).total == 4 * n
    assert training_memory(n, activations=123.0).total == 16 * n + 123
    assert rlhf_memory(n, n_value=0)["total"].total == 16 * n + 2 * 2 * n  # a value head on the policy's trunk


def test_fp32_adam_budget_matches_what_torch_allocates():
    n, held = adam_bytes_torch_holds(CharLM(seed=0))
    assert training_memory(n, "fp32").total == held


def test_flops_and_activations_by_hand():
    assert training_flops(1e9, 2e9) == 6 * 1e9 * 2e9
    assert generation_flops(7e9, 500) == 2 * 7e9 * 500
    s, b, h, L, a = 2048, 4, 4096, 32, 32
    assert activation_bytes(s, b, h, L, a) == L * s * b * h * (34 + 5 * a * s / h)
    rows = budget_table({"tiny": 2e4, "7B": 7e9, "70B": 7e10})
    assert rows[0][0] == "model" and [r[0] for r in rows[1:]] == ["tiny", "7B", "70B"]
    assert rows[2][3] == "252"


@pytest.mark.parametrize("call, match", [
    (lambda: training_memory(-1), "n_params"),
    (lambda: training_memory(1, "fp64"), "dtype"),
    (lambda: training_memory(1, optimizer="lion"), "optimizer"),
    (lambda: training_flops(float("nan"), 1), "n_params"),
    (lambda: activation_bytes(1, 1, 0, 1, 1), "hidden"),
])
def test_bad_inputs_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
