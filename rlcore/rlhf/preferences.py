"""Preference data from a simulated labeller: pairs of completions and which one a (quirky) judge prefers.

Book: *RLHF*, "Collecting human preferences" and "The Bradley-Terry model".

A hidden gold reward ``r`` (a rule over texts) plays the human. For each prompt,
two completions are sampled from the SFT policy, and the labeller prefers ``y_1``
with the Bradley-Terry probability

    p(y_1 > y_2) = sigmoid((r(x, y_1) - r(x, y_2) + length_bias (|y_1| - |y_2|)) / temperature),

then flips its answer with probability ``noise``. ``length_bias > 0`` is a
labeller that likes long answers whatever they say: a quirk a reward model
trained on these labels learns too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from rlcore.core.validation import (
    check_array,
    check_callable,
    check_choice,
    check_instance,
    check_nonnegative_int,
    check_positive_int,
    check_real,
    check_strings,
    check_unit_interval,
)
from rlcore.envs.rewards import TextReward, from_function
from rlcore.envs.vocabulary import Vocabulary
from rlcore.lm.model import CharLM
from rlcore.lm.rollout import Rollout, rollout_from_texts, sample

__all__ = ["PreferenceData", "Labeller", "simulate_preferences"]


@dataclass(frozen=True)
class PreferenceData:
    """Pairs ``(prompt, chosen, rejected)`` of completions, with an optional soft label per pair.

    ``soft_label[i]`` is the probability that ``chosen[i]`` is the better one
    (1 for a hard label); ``max_len`` is the length limit of prompt plus
    completion, which says whether a completion ended with ``EOS`` (shorter than
    the limit) or at the limit.
    """

    prompts: tuple[str, ...]
    chosen: tuple[str, ...]
    rejected: tuple[str, ...]
    vocab: Vocabulary
    max_len: int
    soft_label: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name in ("prompts", "chosen", "rejected"):
            check_strings(getattr(self, name), name, allow_empty=True)
        check_instance(self.vocab, "vocab", Vocabulary)
        check_positive_int(self.max_len, "max_len")
        n = len(self.prompts)
        if n == 0:
            raise ValueError("PreferenceData needs at least one pair, got empty prompts (an empty preference set)")
        if len(self.chosen) != n or len(self.rejected) != n:
            raise ValueError(f"prompts, chosen and rejected must have one entry per pair, got "
                             f"{n}, {len(self.chosen)} and {len(self.rejected)}")
        for i, (p, c, r) in enumerate(zip(self.prompts, self.chosen, self.rejected)):
            if c == r:
                raise ValueError(f"pair {i} has identical chosen and rejected texts {c!r}: it carries no preference")
            for name, t in (("prompt", p), ("chosen", c), ("rejected", r)):
                self.vocab.check(t, f"{name} of pair {i}")
            if len(p) + max(len(c), len(r)) > self.max_len:
                raise ValueError(f"pair {i} is longer than max_len={self.max_len}")
        if self.soft_label is not None:
            s = check_array(self.soft_label, "soft_label", shape=(n,))
            if (s < 0).any() or (s > 1).any():
                raise ValueError(f"soft_label must hold one probability in [0, 1] per pair ({n}), got shape "
                                 f"{s.shape}")
            object.__setattr__(self, "soft_label", s)

    def __len__(self) -> int:
        return len(self.prompts)

    @property
    def labels(self) -> np.ndarray:
        """``P(chosen > rejected)`` per pair: the soft labels, or ones."""
        return np.ones(len(self)) if self.soft_label is None else self.soft_label

    def subset(self, idx: Sequence[int] | np.ndarray) -> PreferenceData:
        """The pairs ``idx``, in that order."""
        idx = check_array(idx, "idx", ndim=1, integer=True)
        if idx.min() < 0 or idx.max() >= len(self):
            raise ValueError(f"idx must index pairs in [0, {len(self)}), got values in [{idx.min()}, {idx.max()}]")
        pick = lambda xs: tuple(xs[i] for i in idx)  # noqa: E731
        soft = None if self.soft_label is None else self.soft_label[idx]
        return PreferenceData(pick(self.prompts), pick(self.chosen), pick(self.rejected), self.vocab, self.max_len,
                              soft)

    def split(self, held_out: float = 0.2, seed: int = 0) -> tuple[PreferenceData, PreferenceData]:
        """``(train, held_out)``: a seeded random split; both keep at least one pair."""
        if not 0 < check_real(held_out, "held_out") < 1:
            raise ValueError(f"held_out must lie in (0, 1), got {held_out}")
        check_nonnegative_int(seed, "seed")
        if len(self) < 2:
            raise ValueError("split needs at least two pairs")
        order = np.random.default_rng(seed).permutation(len(self))
        k = min(len(self) - 1, max(1, round(held_out * len(self))))
        return self.subset(order[k:]), self.subset(order[:k])

    def encode(self, side: str, device: torch.device | str | None = None) -> Rollout:
        """The ``"chosen"`` or ``"rejected"`` completions as a [`Rollout`][rlcore.lm.rollout_batch.Rollout] (to score);
        ``"both"``: the chosen rows ``0 .. n-1`` then the rejected rows ``n .. 2n-1``, so that one forward
        pass scores both sides of a pair."""
        check_choice(side, "side", ("chosen", "rejected", "both"))
        prompts = self.prompts + self.prompts if side == "both" else self.prompts
        texts = self.chosen + self.rejected if side == "both" else getattr(self, side)
        return rollout_from_texts(self.vocab, prompts, texts, self.max_len, device=device)

    def __repr__(self) -> str:
        return (f"PreferenceData({len(self)} pairs over {len(set(self.prompts))} prompts, "
                f"first {self.prompts[0]!r}: {self.chosen[0]!r} > {self.rejected[0]!r})")


@dataclass(frozen=True)
class Labeller:
    """A simulated judge: Bradley-Terry choices on a gold reward, with noise and a length bias."""

    temperature: float = 1.0
    """scale of the Bradley-Terry logit: small = decisive, large = nearly random"""
    noise: float = 0.0
    """probability of flipping the sampled choice"""
    length_bias: float = 0.0
    """reward-units the judge adds per extra character (a quirk that leaks into the reward model)"""

    def __post_init__(self) -> None:
        check_real(self.temperature, "Labeller.temperature", open_low=True)
        check_unit_interval(self.noise, "Labeller.noise")
        check_real(self.length_bias, "Labeller.length_bias", low=-np.inf)

    def prob_first(self, r1: np.ndarray, r2: np.ndarray, len1: np.ndarray, len2: np.ndarray) -> np.ndarray:
        """``P(first preferred)`` after noise: ``(1 - noise) sigma(z) + noise (1 - sigma(z))``."""
        r1 = check_array(r1, "r1")
        r2, len1, len2 = (check_array(x, name, shape=r1.shape) for name, x in (("r2", r2), ("len1", len1),
                                                                                ("len2", len2)))
        if (len1 < 0).any() or (len2 < 0).any():
            raise ValueError("len1 and len2 must be text lengths >= 0")
        z = (r1 - r2 + self.length_bias * (len1 - len2)) / self.temperature
        p = 1.0 / (1.0 + np.exp(-z))
        return (1 - self.noise) * p + self.noise * (1 - p)


def simulate_preferences(model: CharLM, prompts: str | Sequence[str], gold: TextReward, n_pairs: int,
                         max_len: int, labeller: Labeller | None = None, *, temperature: float = 1.0,
                         seed: int = 0) -> PreferenceData:
    """``n_pairs`` pairs per prompt, completions sampled from ``model`` and labelled by ``labeller`` on ``gold``.

    Pairs whose two completions are the same text carry no preference and are
    dropped (so a prompt may get fewer than ``n_pairs``); the soft label of each
    kept pair is the labeller's probability for the completion it chose.
    """
    labeller = Labeller() if labeller is None else check_instance(labeller, "labeller", Labeller)
    check_instance(model, "model", CharLM)
    gold = from_function(check_callable(gold, "gold"), "gold")
    check_positive_int(n_pairs, "n_pairs")
    check_positive_int(max_len, "max_len")
    check_nonnegative_int(seed, "seed")
    g = torch.Generator(device=model.device).manual_seed(seed)
    ro = sample(model, prompts, 2 * int(n_pairs), max_len, temperature, generator=g, max_len=max_len)
    texts, full = ro.texts, ro.full_texts
    first, second = np.arange(0, len(ro), 2), np.arange(1, len(ro), 2)
    scores = np.asarray(gold(full), dtype=np.float64)
    lengths = np.array([len(t) for t in texts], dtype=np.float64)
    p1 = labeller.prob_first(scores[first], scores[second], lengths[first], lengths[second])
    rng = np.random.default_rng(seed)
    first_wins = rng.random(len(p1)) < p1
    keep = np.array([texts[a] != texts[b] for a, b in zip(first, second)])
    if not keep.any():
        raise ValueError("every sampled pair had two identical completions; raise the temperature or max_len")
    w = np.where(first_wins, first, second)[keep]
    lo = np.where(first_wins, second, first)[keep]
    soft = np.where(first_wins, p1, 1 - p1)[keep]
    return PreferenceData(tuple(ro.prompts[i] for i in w), tuple(texts[i] for i in w), tuple(texts[i] for i in lo),
                          model.vocab, int(max_len), soft)
