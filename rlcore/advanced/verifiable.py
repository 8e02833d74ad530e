"""A verifiable reward in miniature: arithmetic prompts, a checker that computes the answer, and exact pass@k.

Book: *Case studies*, "Code Generation with RL" (a program, not a person, grades the answer;
pass@k measures it) and *RLHF*, "Group relative policy optimisation" (the trainer).

A prompt is an expression over single digits with ``+`` and ``*`` followed by ``=``, such as
``"1+2*3="``; the completion must be the value in decimal (``"7"``) and then ``EOS``. The
checker ([`check_answer`][], in [`rlcore.advanced.verifiable_checker`][]) parses the expression
with its own recursive-descent parser (``*`` binds tighter than ``+``; Python's ``eval`` is
never called) and pays

    R(x, y) = [y == str(value(x))]          (1 for an exact answer, else 0).

Exactly one completion of each prompt passes, so the chance that a sample passes is the
model's probability of that completion, ``p_x = pi(answer(x) EOS | x)``, read off with
[`rlcore.lm.sequence_logprob`][]. From it,

    exact pass@k     = (1/|X|) sum_x [1 - (1 - p_x)^k]
    estimated pass@k = (1/|X|) sum_x [1 - C(n - c_x, k) / C(n, k)]

for ``c_x`` passes among ``n`` samples of prompt ``x`` (the unbiased estimator,
[`rlcore.lm.metrics.pass_at_k`][]).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from rlcore.advanced.verifiable_checker import (  # noqa: F401 (re-exported)
    DIGITS,
    OPERATORS,
    check_answer,
    evaluate_expression,
)
from rlcore.core.validation import (
    check_array,
    check_instance,
    check_nonnegative_int,
    check_positive_int,
    check_real,
    check_unit_interval,
)
from rlcore.envs.language import CharLanguageEnv
from rlcore.envs.rewards import TextReward, from_function
from rlcore.lm.metrics import pass_at_k
from rlcore.lm.model import CharLM
from rlcore.lm.pretrain import pretrain
from rlcore.lm.rollout import rollout_from_texts, sample, sequence_logprob

__all__ = ["DIGITS", "OPERATORS", "evaluate_expression", "check_answer", "ArithmeticTask", "arithmetic_task",
           "supervised_lines", "supervised_start", "pass_probabilities", "exact_pass_at_k", "pass_counts",
           "mean_pass_at_k", "PassAtK", "evaluate_pass_at_k"]


# ------------------------------------------------------------------ the task
@dataclass(frozen=True)
class ArithmeticTask:
    """Prompts, their answers, the checker and the language MDP that pays it at the end.

    Unpacks as ``prompts, answers, checker, env = arithmetic_task()``. ``env.max_len`` leaves
    room for the longest answer and its ``EOS``, so every correct completion ends by ``EOS``.
    """

    prompts: tuple[str, ...]
    """the expressions, each ending with ``=``"""
    answers: tuple[str, ...]
    """``answers[i]`` = the value of ``prompts[i]`` in decimal"""
    checker: TextReward
    """[`check_answer`][] as a batched reward on full texts (prompt + completion)"""
    env: CharLanguageEnv
    """the language MDP over ``DIGITS + operators + '='`` with the checker as its delayed reward"""

    def __iter__(self) -> Iterator:
        return iter((self.prompts, self.answers, self.checker, self.env))

    @property
    def max_len(self) -> int:
        """The env's length limit in characters (prompt included)."""
        return self.env.max_len

    def __repr__(self) -> str:
        widths = sorted({len(a) for a in self.answers})
        return (f"ArithmeticTask({len(self.prompts)} prompts such as {self.prompts[0]!r}, answers of "
                f"{widths[0]}-{widths[-1]} digits, max_len {self.max_len})")


def arithmetic_task(digits: str = "0123", operators: str = OPERATORS, n_operators: int | Sequence[int] = (1, 2),
                    n_prompts: int | None = None, seed: int = 0) -> ArithmeticTask:
    """Every expression of single ``digits`` joined by ``n_operators`` of ``operators``, as an [`ArithmeticTask`][].

    ``n_prompts`` keeps a random subset of that size (drawn with ``seed``, in the listing's order);
    ``None`` keeps them all. With the defaults there are 32 one-operator and 256 two-operator
    prompts, with answers from 0 to 27.
    """
    if not isinstance(digits, str) or not digits or any(d not in DIGITS for d in digits) \
            or len(set(digits)) != len(digits):
        raise ValueError(f"digits must be a non-empty string of distinct decimal digits, got {digits!r}")
    if not isinstance(operators, str) or not operators or any(o not in OPERATORS for o in operators) \
            or len(set(operators)) != len(operators):
        raise ValueError(f"operators must be a non-empty string of distinct characters from {OPERATORS!r}, "
                         f"got {operators!r}")
    many = isinstance(n_operators, (Sequence, np.ndarray)) and not isinstance(n_operators, str)
    counts = list(n_operators) if many else [n_operators]
    if not counts or len(set(counts)) != len(counts):
        raise ValueError(f"n_operators must be an integer or distinct integers >= 1, got {n_operators!r}")
    for m in counts:
        check_positive_int(m, "n_operators")
    check_nonnegative_int(seed, "seed")
    prompts = []
    for m in counts:
        for ds in itertools.product(digits, repeat=m + 1):
            for ops in itertools.product(operators, repeat=m):
                prompts.append("".join(d + o for d, o in zip(ds, ops)) + ds[-1] + "=")
    if n_prompts is not None:
        check_positive_int(n_prompts, "n_prompts")
        if n_prompts > len(prompts):
            raise ValueError(f"n_prompts must be at most the {len(prompts)} expressions of the grammar, "
                             f"got {n_prompts}")
        keep = np.sort(np.random.default_rng(seed).choice(len(prompts), n_prompts, replace=False))
        prompts = [prompts[i] for i in keep]
    answers = tuple(str(evaluate_expression(p[:-1])) for p in prompts)
    max_len = max(len(p) for p in prompts) + max(len(a) for a in answers) + 1
    checker = from_function(check_answer, "checker")
    env = CharLanguageEnv(DIGITS + operators + "=", max_len, delayed_reward=checker, prompts=prompts)
    return ArithmeticTask(tuple(prompts), answers, checker, env)


# ------------------------------------------------------------------ a weak supervised start
def supervised_lines(task: ArithmeticTask, n_per_prompt: int = 6, correct_fraction: float = 0.25,
                     seed: int = 0) -> list[str]:
    """Supervised data that teaches the format but little arithmetic: ``n_per_prompt`` lines per prompt.

    Each line is ``prompt + answer``; the answer is the correct one with probability
    ``correct_fraction`` and otherwise a wrong value drawn uniformly from the task's other answers.
    """
    check_instance(task, "task", ArithmeticTask)
    n = check_positive_int(n_per_prompt, "n_per_prompt")
    q = check_unit_interval(correct_fraction, "correct_fraction")
    check_nonnegative_int(seed, "seed")
    values = sorted(set(task.answers), key=int)
    if len(values) < 2 and q < 1:
        raise ValueError("the task has a single answer value, so no wrong answers can be drawn; "
                         "use correct_fraction=1 or more prompts")
    rng = np.random.default_rng(seed)
    lines = []
    for prompt, answer in zip(task.prompts, task.answers):
        wrong = [v for v in values if v != answer]
        for _ in range(n):
            lines.append(prompt + (answer if rng.random() < q else wrong[int(rng.integers(len(wrong)))]))
    return lines


def supervised_start(task: ArithmeticTask, n_per_prompt: int = 6, correct_fraction: float = 0.25,
                     steps: int = 200, embed_dim: int = 16, hidden_dim: int = 32, seed: int = 0,
                     learning_rate: float = 1e-2, dtype: torch.dtype = torch.float64,
                     device: torch.device | str | None = None) -> CharLM:
    """A tiny [`CharLM`][] pretrained by maximum likelihood on [`supervised_lines`][]: the SFT policy."""
    check_instance(task, "task", ArithmeticTask)
    check_real(learning_rate, "learning_rate", open_low=True)
    model = CharLM(task.env.vocab, embed_dim=embed_dim, hidden_dim=hidden_dim, seed=seed, device=device,
                   dtype=dtype)
    lines = supervised_lines(task, n_per_prompt, correct_fraction, seed)
    pretrain(model, lines, steps=steps, seed=seed, lr=learning_rate, max_len=task.max_len)
    return model


# ------------------------------------------------------------------ pass@k, exact and estimated
def _check_ks(k: int | Sequence[int]) -> np.ndarray:
    ks = np.atleast_1d(np.asarray(k))
    if ks.size == 0 or ks.ndim != 1 or not np.issubdtype(ks.dtype, np.integer) or ks.min() < 1:
        raise ValueError(f"k must be an integer >= 1 or a sequence of them, got {k!r}")
    return ks


def _check_model_task(model: CharLM, task: ArithmeticTask) -> None:
    check_instance(model, "model", CharLM)
    check_instance(task, "task", ArithmeticTask)
    if model.vocab != task.env.vocab:
        raise ValueError(f"model vocabulary {model.vocab!r} differs from the task's {task.env.vocab!r}")


@torch.no_grad()
def pass_probabilities(model: CharLM, task: ArithmeticTask) -> np.ndarray:
    """``p_x = pi(answer(x) EOS | x)`` for every prompt, shape ``[n_prompts]``: the exact pass chance of one sample."""
    _check_model_task(model, task)
    ro = rollout_from_texts(model.vocab, task.prompts, task.answers, task.max_len, device=model.device)
    return sequence_logprob(model, ro).exp().cpu().numpy().astype(np.float64)


def exact_pass_at_k(p: Sequence[float] | np.ndarray, k: int | Sequence[int]) -> np.ndarray:
    """``(1/|X|) sum_x [1 - (1 - p_x)^k]`` for each ``k``: pass@k of ``k`` independent samples, shape ``[len(k)]``."""
    p = check_array(p, "p", allow_empty=True)
    if p.ndim != 1 or p.size == 0 or (p < 0).any() or (p > 1).any():
        raise ValueError(f"p must be a non-empty 1-d array of probabilities in [0, 1], got {p!r}")
    ks = _check_ks(k)
    return (1.0 - (1.0 - p[None, :]) ** ks[:, None].astype(np.float64)).mean(1)


@torch.no_grad()
def pass_counts(model: CharLM, task: ArithmeticTask, n_samples: int, seed: int = 0,
                temperature: float = 1.0) -> np.ndarray:
    """``c_x``: how many of ``n_samples`` sampled completions of prompt ``x`` the checker passes, ``[n_prompts]``."""
    _check_model_task(model, task)
    n = check_positive_int(n_samples, "n_samples")
    check_nonnegative_int(seed, "seed")
    gen = torch.Generator(device=model.device).manual_seed(seed)
    ro = sample(model, task.prompts, n, task.max_len, temperature=temperature, generator=gen, max_len=task.max_len)
    passed = task.checker(ro.full_texts).reshape(len(task.prompts), n)
    return passed.sum(1).astype(np.int64)


def mean_pass_at_k(counts: Sequence[int] | np.ndarray, n_samples: int, k: int | Sequence[int]) -> np.ndarray:
    """``(1/|X|) sum_x pass_at_k(n, c_x, k)`` for each ``k`` (the unbiased estimator per prompt), shape ``[len(k)]``."""
    counts = np.asarray(counts)
    if counts.ndim != 1 or counts.size == 0 or not np.issubdtype(counts.dtype, np.integer):
        raise ValueError(f"counts must be a non-empty 1-d array of integers, got {counts!r}")
    n = check_positive_int(n_samples, "n_samples")
    if counts.min() < 0 or counts.max() > n:
        raise ValueError(f"counts must lie in [0, n_samples] = [0, {n}], got values in [{counts.min()}, "
                         f"{counts.max()}]")
    ks = _check_ks(k)
    return np.mean([np.atleast_1d(pass_at_k(n, int(c), ks)) for c in counts], axis=0)


@dataclass(frozen=True)
class PassAtK:
    """pass@k of one model on one task: exact from ``p_x`` and estimated from ``n_samples`` checked samples."""

    ks: np.ndarray
    """the attempt counts ``k``"""
    exact: np.ndarray
    """``exact[i]`` = exact pass@``ks[i]``"""
    estimated: np.ndarray
    """``estimated[i]`` = the unbiased estimate of pass@``ks[i]``"""
    p: np.ndarray
    """``p[x]`` = exact pass probability of one sample of prompt ``x``"""
    counts: np.ndarray
    """``counts[x]`` = passes among the ``n_samples`` samples of prompt ``x``"""
    n_samples: int

    def __repr__(self) -> str:
        pairs = ", ".join(f"@{k} {e:.3f}/{s:.3f}" for k, e, s in zip(self.ks, self.exact, self.estimated))
        return f"PassAtK(exact/estimated from {self.n_samples} samples per prompt: {pairs})"


def evaluate_pass_at_k(model: CharLM, task: ArithmeticTask, k: int | Sequence[int] = (1, 5, 10, 50),
                       n_samples: int = 100, seed: int = 0) -> PassAtK:
    """[`exact_pass_at_k`][] of [`pass_probabilities`][] and [`mean_pass_at_k`][] of [`pass_counts`][], side by side."""
    _check_model_task(model, task)
    ks = _check_ks(k)
    n = check_positive_int(n_samples, "n_samples")
    if ks.max() > n:
        raise ValueError(f"k must be at most n_samples={n} for the estimate, got {k!r}")
    p = pass_probabilities(model, task)
    counts = pass_counts(model, task, n, seed)
    return PassAtK(ks, exact_pass_at_k(p, ks), mean_pass_at_k(counts, n, ks), p, counts, n)
