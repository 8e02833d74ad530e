"""The plan-then-write task of [`rlcore.advanced.plan_write`][]: topics, their secret plans, the target texts.

Book: *Advanced techniques*, "Hierarchical RL for long-form generation".

The prompt is a topic ``t`` (a digit); the completion ``y`` has exactly ``L`` characters and is paid once,
after the last one, ``R(t, y) = [y == pattern(c*(t), L)]``, ``pattern(c, L)_i = letters[(j + i (j + 1)) mod n]``
for ``c = letters[j]`` ([`plan_pattern`][]), ``c*(t)`` the topic's secret plan. A [`PlanWriteTask`][] holds
the topics and plans, checked on construction, and builds the flat and the worker's language MDPs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from rlcore.core.validation import check_instance, check_nonnegative_int, check_positive_int, check_strings
from rlcore.envs.language import CharLanguageEnv
from rlcore.envs.rewards import from_function

__all__ = ["plan_pattern", "PlanWriteTask", "plan_write_task"]


def plan_pattern(plan: str, length: int, letters: str = "abcd") -> str:
    """``pattern(c, L)``: start at ``c = letters[j]`` and step ``j + 1`` places through ``letters``, cyclically."""
    if not isinstance(letters, str) or not letters or len(set(letters)) != len(letters):
        raise ValueError(f"letters must be a non-empty string of distinct characters, got {letters!r}")
    if not isinstance(plan, str) or len(plan) != 1 or plan not in letters:
        raise ValueError(f"plan must be one of the letters {letters!r}, got {plan!r}")
    n = check_positive_int(length, "length")
    j = letters.index(plan)
    return "".join(letters[(j + i * (j + 1)) % len(letters)] for i in range(n))


@dataclass(frozen=True)
class PlanWriteTask:
    """Topics, their plans and targets, and the two language MDPs (flat and worker)."""

    topics: tuple[str, ...]  # the prompts, one digit each
    letters: str  # the characters a text is written in; each is also a plan
    plan_of: tuple[str, ...]  # ``plan_of[i]`` = the plan letter ``c*`` of ``topics[i]``
    length: int  # ``L``, the completion's required length

    def __post_init__(self) -> None:
        topics, plans = check_strings(self.topics, "topics"), check_strings(self.plan_of, "plan_of", True)
        plan_pattern(self.letters[:1] if isinstance(self.letters, str) else "", 1, self.letters)  # validates letters
        if any(c.isdigit() for c in self.letters):
            raise ValueError(f"letters must not contain digits (the topics are digits), got {self.letters!r}")
        if len(set(topics)) != len(topics) or not all(len(t) == 1 and t.isdigit() for t in topics):
            raise ValueError(f"topics must be distinct single digits, got {topics!r}")
        if len(plans) != len(topics) or any(c not in self.letters for c in plans):
            raise ValueError(f"plan_of must give each topic one of the letters {self.letters!r}, got {plans!r}")
        if check_positive_int(self.length, "length") < 2:
            raise ValueError(f"length must be >= 2 (a plan and something to write under it), got {self.length}")

    @cached_property
    def env(self) -> CharLanguageEnv:
        """The flat MDP: prompt = topic, ``max_len = 1 + L`` (the text ends at the limit), delayed reward ``R``."""
        return CharLanguageEnv(self.letters + "".join(self.topics), 1 + self.length,
                               delayed_reward=from_function(self.task_reward, "plan_write"), prompts=self.topics)

    def worker_env(self, reward: str = "goal") -> CharLanguageEnv:
        """The worker's MDP: prompt = topic + plan (every pair), delayed reward [`goal_reward`][] or ``R``."""
        if reward not in ("goal", "task"):
            raise ValueError(f"reward must be 'goal' or 'task', got {reward!r}")
        fn = self.goal_reward if reward == "goal" else self.task_reward
        return CharLanguageEnv(self.env.vocab, self.env.max_len, delayed_reward=from_function(fn, reward),
                               prompts=[t + c for t in self.topics for c in self.letters])

    @property
    def targets(self) -> tuple[str, ...]:
        """``y*(t)``, the one completion of each topic that earns ``R = 1``."""
        return tuple(plan_pattern(c, self.length, self.letters) for c in self.plan_of)

    def task_reward(self, text: str) -> float:
        """``R``: 1.0 when ``text`` = topic + that topic's target, else 0.0."""
        check_instance(text, "text", str)
        topic, completion = text[:1], text[1:]
        return float(topic in self.topics and completion == self.targets[self.topics.index(topic)])

    def goal_reward(self, text: str) -> float:
        """1.0 when ``text`` = topic + ``pattern(c, L)`` for the letter ``c`` it starts with, whatever the topic."""
        y = check_instance(text, "text", str)[1:]
        return float(len(y) == self.length and y[:1] in self.letters
                     and y == plan_pattern(y[0], self.length, self.letters))

    def __repr__(self) -> str:
        pairs = ", ".join(f"{t}->{y}" for t, y in zip(self.topics, self.targets))
        return f"PlanWriteTask(L={self.length}, {len(self.letters)} plans; {pairs})"


def plan_write_task(n_topics: int = 4, length: int = 10, letters: str = "abcd", seed: int = 0) -> PlanWriteTask:
    """Topics ``"0", "1", ..`` whose plans are distinct letters, a random permutation drawn with ``seed``."""
    k, L = check_positive_int(n_topics, "n_topics"), check_positive_int(length, "length")
    check_nonnegative_int(seed, "seed")
    plan_pattern(letters[:1] if isinstance(letters, str) else "", 1, letters)  # validates letters
    if any(c.isdigit() for c in letters):
        raise ValueError(f"letters must not contain digits (the topics are digits), got {letters!r}")
    if k > min(len(letters), 10):
        raise ValueError(f"n_topics must be at most {min(len(letters), 10)} (one plan each), got {n_topics}")
    perm = np.random.default_rng(seed).permutation(len(letters))[:k]
    return PlanWriteTask(tuple(str(i) for i in range(k)), letters, tuple(letters[i] for i in perm), L)
