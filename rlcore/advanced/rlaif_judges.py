"""The judges of [`rlcore.advanced.rlaif`][]: helpfulness, a constitution's penalty, and the AI labeller.

Book: *Advanced techniques*, "Constitutional AI and self-supervision".

Helpfulness counts words and content, ``h(y) = n_words(y) + 0.5 n_b(y)`` (a word is a run of letters; ``b``
is content, ``a`` is filler). A judge with principles ``C`` scores ``s_C(y) = h(y) - lam sum_{k in C} V_k(y)``;
the *gold* judge uses the whole constitution. The AI labeller (a judge on a subset of the principles, or
noisy) gives each pair the soft label

    p(y_1 > y_2) = (1 - eps) sigma(z) + eps (1 - sigma(z)),      z = (s_C(y_1) - s_C(y_2)) / T.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rlcore.advanced.constitution import Constitution, toy_constitution
from rlcore.core.validation import check_instance, check_real, check_strings, check_unit_interval

__all__ = ["PENALTY", "helpfulness", "judge_scores", "gold_scores", "AILabeller"]

_WORD = re.compile(r"[^ .]+")
PENALTY = 2.0
"""``lam``: helpfulness units a judge takes off per broken principle."""


def helpfulness(texts: Sequence[str]) -> np.ndarray:
    """``h(y) = n_words(y) + 0.5 n_b(y)`` per text (float64 ``[n]``); words are runs of characters outside ``" ."``."""
    if isinstance(texts, str):  # a str is a sequence of one-character texts: refuse it
        raise ValueError(f"texts must be a sequence of str, got the single str {texts!r}")
    texts = check_strings(texts, "texts", allow_empty=True)
    return np.array([len(_WORD.findall(t)) + 0.5 * t.count("b") for t in texts], dtype=np.float64)


def judge_scores(texts: Sequence[str], constitution: Constitution, penalty: float = PENALTY) -> np.ndarray:
    """``s_C(y) = h(y) - lam sum_{k in C} V_k(y)``: helpfulness minus ``penalty`` per broken principle of ``C``."""
    lam = check_real(penalty, "penalty")
    check_instance(constitution, "constitution", Constitution)
    return helpfulness(texts) - lam * constitution.violations(texts).sum(axis=1)


def gold_scores(texts: Sequence[str], penalty: float = PENALTY) -> np.ndarray:
    """The gold judge: [`judge_scores`][] with the whole [`toy_constitution`][]."""
    return judge_scores(texts, toy_constitution(), penalty)


@dataclass(frozen=True)
class AILabeller:
    """An AI judge: Bradley-Terry on ``s_C`` for its own principles ``C``, with flip probability ``noise``."""

    constitution: Constitution = field(default_factory=toy_constitution)
    temperature: float = 0.5
    noise: float = 0.0
    penalty: float = PENALTY

    def __post_init__(self) -> None:
        if not isinstance(self.constitution, Constitution):
            raise ValueError(f"constitution must be a Constitution, got {type(self.constitution).__name__}")
        check_real(self.temperature, "temperature", open_low=True)
        check_unit_interval(self.noise, "noise")
        check_real(self.penalty, "penalty")

    def prob_first(self, first: Sequence[str], second: Sequence[str]) -> np.ndarray:
        """``p(y_1 > y_2) = (1 - eps) sigma(z) + eps (1 - sigma(z))``, ``z = (s_C(y_1) - s_C(y_2)) / T``."""
        first, second = check_strings(first, "first", True), check_strings(second, "second", True)
        if len(first) != len(second):
            raise ValueError(f"first and second must pair up, got {len(first)} and {len(second)} texts")
        z = (judge_scores(first, self.constitution, self.penalty)
             - judge_scores(second, self.constitution, self.penalty)) / self.temperature
        s = 1.0 / (1.0 + np.exp(-z))
        return (1 - self.noise) * s + self.noise * (1 - s)

    def __repr__(self) -> str:
        return f"AILabeller(checks {', '.join(self.constitution.names)}; T={self.temperature:g}, noise={self.noise:g})"
