"""Scoring a language model as a treatment policy, exactly, on every prompt of a [`ClinicalTask`][].

Book: *Healthcare*, "Where language models enter", with the training of *RLHF*.

!!! warning
    A teaching construction on the chronic-disease teaching model: not a clinical tool.

A prompt has only five valid answers, so the model's distribution over them can be read off
without sampling: ``p(a | x) = pi(word_a EOS | x)`` for the five treatment words, and
``p(invalid | x) = 1 - sum_a p(a | x)`` for everything else it could write. From these:

    answer(x)        = argmax over the six outcomes (five words and "invalid")
    agreement        = share of prompts with answer(x) = argmax_{a allowed} Q*(s, a)
    violation rate   = share of prompts whose answer names a contraindicated action
    masked mass      = mean_x sum_{a masked} p(a | x)    (the chance a sample names one)
    expected gold    = mean_x [ sum_a p(a | x) r(x, a) + p(invalid | x) invalid_reward ]
    value lost       = mean_g mu_0 (V*_g - V^{pi_g}_g),  pi_g(s) = argmax_a p(a | x(g, s))

``pi_g`` is the recommendation a reader follows when they take the most probable *named*
treatment (a policy needs an action in every state); it is evaluated exactly in the subgroup's
model by [`rlcore.tabular.dp.policy_evaluation`][] (every start state is a living one).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from rlcore.advanced.clinical_prompts import MAX_LEN, TREATMENT_CODES, ClinicalTask
from rlcore.lm.model import CharLM
from rlcore.lm.rollout import rollout_from_texts, sequence_logprob
from rlcore.tabular.dp import policy_evaluation

__all__ = ["answer_probabilities", "ClinicalReport", "evaluate_clinical_policy"]

INVALID = len(TREATMENT_CODES)
"""Index of the sixth outcome, "names no treatment", in [`answer_probabilities`][]."""


@torch.no_grad()
def answer_probabilities(model: CharLM, task: ClinicalTask) -> np.ndarray:
    """``[G, 15, 6]``: ``p(a | x)`` for the five treatment words, then ``p(invalid | x)``, for every prompt."""
    if not isinstance(model, CharLM):
        raise TypeError(f"model must be a CharLM, got {type(model).__name__}")
    if not isinstance(task, ClinicalTask):
        raise TypeError(f"task must be a ClinicalTask, got {type(task).__name__}")
    words = list(TREATMENT_CODES)
    for ch in "".join(task.prompts) + "".join(words):
        if ch not in model.vocab.chars:
            raise ValueError(f"model vocabulary {model.vocab!r} lacks {ch!r}, which the task's prompts or words use")
    prompts = [p for p in task.prompts for _ in words]
    ro = rollout_from_texts(model.vocab, prompts, words * len(task.prompts), MAX_LEN, device=model.device)
    p = sequence_logprob(model, ro).double().exp().cpu().numpy().reshape(len(task.subgroups), -1, len(words))
    rest = np.clip(1.0 - p.sum(axis=-1, keepdims=True), 0.0, 1.0)
    return np.concatenate([p, rest], axis=-1)


@dataclass(frozen=True)
class ClinicalReport:
    """How a language model fares as a treatment policy on every prompt (see the module docstring)."""

    agreement: float
    """share of prompts whose most probable outcome is the optimal allowed treatment"""
    violation_rate: float
    """share of prompts whose most probable outcome names a contraindicated treatment"""
    masked_mass: float
    """mean probability of naming a contraindicated treatment"""
    invalid_mass: float
    """mean probability of naming no treatment"""
    expected_gold: float
    """mean exact gold reward of one sampled answer (0 is the optimum)"""
    value_lost: float
    """mean over subgroups of ``mu_0 (V* - V^pi)`` for the greedy named treatment"""
    answers: np.ndarray = field(repr=False)
    """``[G, 15]`` most probable outcome per prompt (``5`` = invalid)"""
    probabilities: np.ndarray = field(repr=False)
    """``[G, 15, 6]`` the output of [`answer_probabilities`][]"""

    def __repr__(self) -> str:
        return (f"ClinicalReport(agreement {self.agreement:.3f}, violations {self.violation_rate:.3f} "
                f"(mass {self.masked_mass:.3g}), invalid mass {self.invalid_mass:.3g}, "
                f"expected gold {self.expected_gold:+.3f}, value lost {self.value_lost:.4f})")


def evaluate_clinical_policy(model: CharLM, task: ClinicalTask) -> ClinicalReport:
    """Exact [`ClinicalReport`][] of ``model`` on the 45 (or fewer) prompts of ``task``."""
    p = answer_probabilities(model, task)
    answers = p.argmax(axis=-1)
    named = answers < INVALID
    allowed = np.take_along_axis(task.mask, np.minimum(answers, INVALID - 1)[..., None], axis=-1)[..., 0]
    gold = (p[..., :INVALID] * task.gold_table).sum(axis=-1) + p[..., INVALID] * task.invalid_reward
    n_live = task.mask.shape[1]
    lost = []
    for i, m in enumerate(task.models):
        policy = np.zeros(m.mdp.n_states, dtype=np.int64)  # the terminal state's action changes nothing
        policy[:n_live] = p[i, :, :INVALID].argmax(axis=-1)
        v_pi = policy_evaluation(m.mdp, policy).V[:n_live]
        lost.append(float(m.mdp.initial[:n_live] @ (task.V[i] - v_pi)))
    return ClinicalReport(float((answers == task.optimal).mean()), float((named & ~allowed).mean()),
                          float((p[..., :INVALID] * ~task.mask).sum(axis=-1).mean()), float(p[..., INVALID].mean()),
                          float(gold.mean()), float(np.mean(lost)), answers, p)
