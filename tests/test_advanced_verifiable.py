"""The arithmetic case study: the checker, the task's grammar, exact and estimated pass@k, and GRPO on it.

References are written here: Python's own arithmetic on the parsed digits, a token-by-token
loop through the network for the pass probability, enumeration of k-subsets for the estimator.
"""

import copy
import itertools
import math

import numpy as np
import pytest
from reference_loops import token_by_token_logprob

from rlcore.advanced.verifiable import (
    ArithmeticTask,
    arithmetic_task,
    check_answer,
    evaluate_expression,
    evaluate_pass_at_k,
    exact_pass_at_k,
    mean_pass_at_k,
    pass_counts,
    pass_probabilities,
    supervised_lines,
    supervised_start,
)
from rlcore.lm.model import CharLM
from rlcore.rlhf.grpo import GRPOConfig, grpo


def reference_value(expression):
    """Sum of products, computed from the split on '+' then '*' (the grammar's precedence)."""
    return sum(math.prod(int(f) for f in term.split("*")) for term in expression.split("+"))


# ------------------------------------------------------------------ the checker
@pytest.mark.parametrize("expression", ["7", "1+2*3", "2*3+4", "0*9+9", "12+3*45", "9*9*9", "1+1+1+1",
                                        "3*0", "007+1"])
def test_expression_value_follows_precedence(expression):
    assert evaluate_expression(expression) == reference_value(expression)


def test_every_task_prompt_has_the_reference_answer():
    task = arithmetic_task(digits="0123456789", n_operators=(1, 2, 3), n_prompts=400, seed=3)
    for prompt, answer in zip(task.prompts, task.answers):
        assert prompt.endswith("=")
        assert answer == str(reference_value(prompt[:-1]))


@pytest.mark.parametrize("bad", ["", "+", "1+", "+1", "1++2", "1*+2", "1-2", "1 + 2", "(1)", "2*", "1=2"])
def test_malformed_expressions_raise_with_the_position(bad):
    with pytest.raises(ValueError, match="position"):
        evaluate_expression(bad)


def test_expression_must_be_a_string():
    with pytest.raises(TypeError, match="expression must be a str"):
        evaluate_expression(12)
    with pytest.raises(TypeError, match="text must be a str"):
        check_answer(None)


@pytest.mark.parametrize("text, expected", [
    ("1+2*3=7", 1.0), ("1+2*3=9", 0.0),            # precedence: 9 is (1+2)*3
    ("2*3+4=10", 1.0), ("2*3+4=14", 0.0),
    ("3*0=0", 1.0), ("3*0=00", 0.0),               # no leading zeros
    ("1+1=2 ", 0.0), ("1+1=2=", 0.0), ("1+1=", 0.0),  # nothing after, nothing missing
    ("1+1", 0.0), ("1++1=2", 0.0), ("", 0.0),      # no '=', malformed left side
    ("9*9=81", 1.0), ("9*9=18", 0.0),
])
def test_checker_pays_exact_answers_only(text, expected):
    assert check_answer(text) == expected


# ------------------------------------------------------------------ the task
def test_default_task_lists_every_expression_once():
    task = arithmetic_task()
    expected = {f"{a}{o}{b}=" for a, b in itertools.product("0123", repeat=2) for o in "+*"}
    expected |= {f"{a}{o}{b}{q}{c}=" for a, b, c in itertools.product("0123", repeat=3)
                 for o, q in itertools.product("+*", repeat=2)}
    assert len(task.prompts) == len(set(task.prompts)) == 32 + 256
    assert set(task.prompts) == expected
    assert max(int(a) for a in task.answers) == 27 and min(int(a) for a in task.answers) == 0
    # room for the longest prompt, the longest answer and EOS
    assert task.max_len == 6 + 2 + 1
    prompts, answers, checker, env = task
    assert env.prompts == list(prompts) or tuple(env.prompts) == prompts
    assert checker([p + a for p, a in zip(prompts, answers)]).tolist() == [1.0] * len(prompts)
    assert "288 prompts" in repr(task) and len(repr(task)) < 120


def test_subset_is_reproducible_and_of_the_asked_size():
    a, b = arithmetic_task(n_prompts=50, seed=1), arithmetic_task(n_prompts=50, seed=1)
    c = arithmetic_task(n_prompts=50, seed=2)
    assert a.prompts == b.prompts and len(a.prompts) == 50 and a.prompts != c.prompts


@pytest.mark.parametrize("kwargs, match", [
    ({"digits": ""}, "digits"), ({"digits": "1a"}, "digits"), ({"digits": "11"}, "digits"),
    ({"operators": "-"}, "operators"), ({"operators": "++"}, "operators"), ({"operators": ""}, "operators"),
    ({"n_operators": 0}, "n_operators"), ({"n_operators": ()}, "n_operators"), ({"n_operators": (1, 1)}, "n_operators"),
    ({"n_prompts": 0}, "n_prompts"), ({"n_prompts": 289}, "n_prompts"), ({"seed": -1}, "seed"),
])
def test_task_rejects_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        arithmetic_task(**kwargs)


def test_supervised_lines_mix_right_and_wrong_answers_at_the_asked_rate():
    task = arithmetic_task()
    lines = supervised_lines(task, n_per_prompt=20, correct_fraction=0.25, seed=0)
    assert len(lines) == 20 * len(task.prompts)
    values = set(task.answers)
    right = 0
    for i, line in enumerate(lines):
        prompt = task.prompts[i // 20]
        assert line.startswith(prompt) and line[len(prompt):] in values
        right += check_answer(line)
    # 5760 Bernoulli(0.25) draws: 4 standard deviations is about 0.023
    assert abs(right / len(lines) - 0.25) < 0.023
    assert all(check_answer(x) == 1.0 for x in supervised_lines(task, 2, correct_fraction=1.0))
    assert not any(check_answer(x) for x in supervised_lines(task, 2, correct_fraction=0.0))
    with pytest.raises(ValueError, match="correct_fraction"):
        supervised_lines(task, correct_fraction=1.5)
    with pytest.raises(ValueError, match="n_per_prompt"):
        supervised_lines(task, n_per_prompt=0)


# ------------------------------------------------------------------ pass@k
@pytest.fixture(scope="module")
def small():
    task = arithmetic_task(n_operators=1)
    return task, supervised_start(task, steps=120, seed=0)


def test_pass_probability_equals_a_token_by_token_product(small):
    task, model = small
    p = pass_probabilities(model, task)
    for i in range(0, len(task.prompts), 5):
        logp = token_by_token_logprob(model, task.prompts[i], task.answers[i])
        assert p[i] == pytest.approx(math.exp(logp), rel=1e-9)


def test_exact_pass_at_k_matches_the_closed_form():
    p = np.array([0.0, 0.1, 0.5, 1.0])
    for k in (1, 2, 7):
        assert exact_pass_at_k(p, k)[0] == pytest.approx(np.mean([1 - (1 - q) ** k for q in p]))
    assert exact_pass_at_k(p, [1, 3]).shape == (2,)
    for bad in ([], [0.5, np.nan], [1.2], [[0.5]]):
        with pytest.raises(ValueError, match="p must be"):
            exact_pass_at_k(bad, 1)
    for bad_k in (0, [], [1.5], [[1]]):
        with pytest.raises(ValueError, match="k must be"):
            exact_pass_at_k(p, bad_k)


def test_mean_pass_at_k_equals_enumeration_of_k_subsets():
    n, counts = 7, np.array([0, 1, 3, 7, 2])
    for k in (1, 2, 4):
        per_prompt = []
        for c in counts:
            subsets = list(itertools.combinations(range(n), k))
            per_prompt.append(sum(min(s) < c for s in subsets) / len(subsets))
        assert mean_pass_at_k(counts, n, k)[0] == pytest.approx(np.mean(per_prompt), abs=1e-12)
    with pytest.raises(ValueError, match="counts"):
        mean_pass_at_k([0.5, 1.0], n, 1)


def test_sampled_pass_rate_agrees_with_the_exact_probability(small):
    task, model = small
    n = 400
    counts = pass_counts(model, task, n, seed=1)
    p = pass_probabilities(model, task)
    # per prompt, a binomial(n, p): five standard deviations plus a little slack
    sd = np.sqrt(n * p * (1 - p))
    assert np.all(np.abs(counts - n * p) <= 5 * sd + 1)
    assert np.array_equal(counts, pass_counts(model, task, n, seed=1))  # same seed, same counts


def test_evaluate_pass_at_k_reports_both_and_refuses_k_above_n(small):
    task, model = small
    res = evaluate_pass_at_k(model, task, k=(1, 5), n_samples=40, seed=0)
    assert res.exact.shape == res.estimated.shape == (2,)
    assert res.exact[0] == pytest.approx(res.p.mean())
    assert res.estimated[0] == pytest.approx(res.counts.mean() / 40)
    assert "PassAtK" in repr(res) and len(repr(res)) < 200
    with pytest.raises(ValueError, match="k must be at most n_samples"):
        evaluate_pass_at_k(model, task, k=(1, 50), n_samples=40)
    other = CharLM("ab", embed_dim=4, hidden_dim=4, seed=0)
    with pytest.raises(ValueError, match="vocabulary"):
        pass_probabilities(other, task)


def test_grpo_on_the_checker_raises_pass_at_1():
    """The case study's claim at a small scale: 40 GRPO iterations lift exact pass@1 by a clear margin."""
    task = arithmetic_task(n_operators=1)
    assert isinstance(task, ArithmeticTask)
    sft = supervised_start(task, steps=150, seed=0)
    before = exact_pass_at_k(pass_probabilities(sft, task), 1)[0]
    rl = copy.deepcopy(sft)
    grpo(rl, task.env, GRPOConfig(n_iterations=40, batch_size=128, num_generations=16, learning_rate=3e-3, seed=0))
    after = exact_pass_at_k(pass_probabilities(rl, task), 1)[0]
    assert after > before + 0.1, (before, after)
