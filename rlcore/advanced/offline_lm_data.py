"""The fixed log of scored texts that the offline methods of [`rlcore.advanced.offline_lm`][] learn from.

Book: *Advanced techniques*, "Offline RL and language model alignment" ("A tour of offline methods").

A reference ``pi_ref`` is sampled once, ``n`` completions per prompt, each text scored by a reward (plus,
optionally, Gaussian noise: a noisy proxy). That log ``D = {(x_i, y_i, r_i)}`` is a [`TextLog`][], checked
on construction; [`collect_log`][] draws one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from rlcore.core.validation import (
    check_array,
    check_callable,
    check_instance,
    check_nonnegative_int,
    check_positive_int,
    check_real,
    check_strings,
)
from rlcore.envs.rewards import TextReward, from_function
from rlcore.envs.vocabulary import Vocabulary
from rlcore.lm.model import CharLM
from rlcore.lm.rollout import sample

__all__ = ["TextLog", "collect_log"]


@dataclass(frozen=True)
class TextLog:
    """A fixed log: entry ``i`` is prompt ``prompts[i]``, completion ``completions[i]``, reward ``rewards[i]``."""

    prompts: tuple[str, ...]
    completions: tuple[str, ...]
    rewards: np.ndarray = field(repr=False)
    vocab: Vocabulary
    max_len: int

    def __post_init__(self) -> None:
        n = len(check_strings(self.prompts, "log prompts", allow_empty=True))
        if n == 0:
            raise ValueError("log prompts must hold at least one entry, got an empty log")
        r = check_array(self.rewards, "rewards", allow_empty=True)
        if len(check_strings(self.completions, "completions", allow_empty=True)) != n or r.shape != (n,):
            raise ValueError(f"completions and rewards must have one entry (rewards finite) per prompt ({n}), got "
                             f"{len(self.completions)} completions and rewards of shape {r.shape}")
        check_positive_int(self.max_len, "max_len")
        check_instance(self.vocab, "vocab", Vocabulary)
        for i, (p, c) in enumerate(zip(self.prompts, self.completions)):
            self.vocab.check(p + c, f"entry {i}")
            if len(p) + len(c) > self.max_len:
                raise ValueError(f"entry {i} ({p!r} + {c!r}) is longer than max_len={self.max_len}")
        for name, v in (("prompts", tuple(self.prompts)), ("completions", tuple(self.completions)), ("rewards", r)):
            object.__setattr__(self, name, v)

    def __len__(self) -> int:
        return len(self.prompts)

    @property
    def prompt_set(self) -> tuple[str, ...]:
        """The distinct prompts, in order of first appearance."""
        return tuple(dict.fromkeys(self.prompts))

    def __repr__(self) -> str:
        return f"TextLog({len(self)} entries, {len(self.prompt_set)} prompts, mean reward {self.rewards.mean():.3f})"


def collect_log(ref: CharLM, prompts: str | Sequence[str], reward: TextReward, n_per_prompt: int, max_len: int,
                *, noise: float = 0.0, seed: int = 0) -> TextLog:
    """Sample ``n_per_prompt`` completions of each prompt from ``ref`` once; ``r_i = reward(x_i y_i) + noise eps_i``,
    ``eps_i ~ N(0, 1)`` i.i.d.; ``seed`` seeds both the sampling (a ``torch.Generator``) and the noise (numpy)."""
    check_instance(ref, "ref", CharLM)
    n, noise = check_positive_int(n_per_prompt, "n_per_prompt"), check_real(noise, "noise")
    check_callable(reward, "reward"), check_positive_int(max_len, "max_len")
    g = torch.Generator(device=ref.device).manual_seed(check_nonnegative_int(seed, "seed"))
    ro = sample(ref, prompts, n, max_len, generator=g, max_len=max_len)
    r = np.asarray(from_function(reward, "reward")(ro.full_texts), dtype=np.float64)
    if noise > 0:
        r = r + noise * np.random.default_rng(seed).standard_normal(len(r))
    return TextLog(ro.prompts, tuple(ro.texts), r, ref.vocab, int(max_len))
