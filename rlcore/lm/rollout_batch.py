"""The batch of prompted completions that sampling returns and every language-model loss reads.

Book: *RL for large language models*, "Text generation as an MDP".

Row ``b`` of a [`Rollout`][] reads ``BOS, p_1 .. p_P`` (its prompt, ``P = prompt_lengths[b]``)
and then its completion ``a_0, a_1, ..``. Every field except ``tokens`` is aligned on the
*completion*: column ``j`` is the ``j``-th action of the row, so losses read only completion
tokens. Built by [`rlcore.lm.rollout.sample`][] and [`rlcore.lm.rollout.rollout_from_texts`][].

| name | shape | meaning |
|---|---|---|
| tokens | ``[B, T+1]`` | ``BOS``, prompt, completion, then ``PAD`` (right-padded) |
| completions | ``[B, L]`` | ``a_j`` (``EOS`` included; ``PAD`` after the end) |
| mask | ``[B, L]`` | True on real completion tokens (``EOS`` included) |
| logprobs | ``[B, L]`` | ``log pi(a_j | s_j)`` under the temperature distribution |
| values | ``[B, L]`` | ``V(s_j)`` |
| prompt_lengths | ``[B]`` | characters of the prompt |
| lengths | ``[B]`` | completion tokens (``EOS`` included) |
| eos | ``[B]`` | the completion ended with ``EOS`` (else at its length limit) |
| group_ids | ``[B]`` | index of the row's prompt in the list given to [`sample`][rlcore.lm.rollout.sample] |
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from rlcore.core.sampling import _check_sampling
from rlcore.core.validation import check_instance, check_strings, check_tensor
from rlcore.envs.vocabulary import Vocabulary

__all__ = ["Rollout"]


@dataclass
class Rollout:
    """A batch of prompted completions (see the module table for the fields' shapes)."""

    tokens: torch.Tensor
    completions: torch.Tensor
    mask: torch.Tensor
    logprobs: torch.Tensor
    values: torch.Tensor
    prompt_lengths: torch.Tensor
    lengths: torch.Tensor
    eos: torch.Tensor
    group_ids: torch.Tensor
    prompts: tuple[str, ...]
    """the prompt of every row (``prompts[b]`` belongs to row ``b``)"""
    vocab: Vocabulary
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float = 1.0

    def __post_init__(self) -> None:
        check_tensor(self.completions, "completions", ndim=2, kind="integer")
        B, L = self.completions.shape
        check_tensor(self.tokens, "tokens", shape=(B, None), kind="integer")
        for name, shape, kind in (("mask", (B, L), "bool"), ("logprobs", (B, L), "floating"),
                                  ("values", (B, L), "floating"), ("prompt_lengths", (B,), "integer"),
                                  ("lengths", (B,), "integer"), ("group_ids", (B,), "integer"), ("eos", (B,), "bool")):
            check_tensor(getattr(self, name), name, shape=shape, kind=kind)
        if len(check_strings(self.prompts, "prompts", allow_empty=True)) != B:
            raise ValueError(f"prompts must hold one prompt per row ({B}), got {len(self.prompts)}")
        check_instance(self.vocab, "vocab", Vocabulary)
        _check_sampling(self.temperature, self.top_k, self.top_p)

    @property
    def texts(self) -> list[str]:
        """The completions as text (no prompt, no special tokens)."""
        return [self.vocab.decode(row[: int(n)]) for row, n in zip(self.completions.tolist(), self.lengths.tolist())]

    @property
    def full_texts(self) -> list[str]:
        """Prompt followed by completion: the text the env's reward reads."""
        return [p + c for p, c in zip(self.prompts, self.texts)]

    def __len__(self) -> int:
        return self.completions.shape[0]

    def index(self, idx: torch.Tensor | slice) -> Rollout:
        """The rows ``idx`` (a slice, or a tensor of row numbers or a boolean mask)."""
        if not isinstance(idx, slice):
            check_tensor(idx, "idx", ndim=1)
            if idx.dtype == torch.bool:
                if idx.shape[0] != len(self):
                    raise ValueError(f"idx as a boolean mask must have one entry per row ({len(self)}), "
                                     f"got {idx.shape[0]}")
            elif idx.is_floating_point() or idx.is_complex():
                raise TypeError(f"idx must hold integer row numbers or booleans, got dtype {idx.dtype}")
            elif idx.numel() and not idx.is_meta and bool(((idx < 0) | (idx >= len(self))).any()):
                raise ValueError(f"idx must hold row numbers in [0, {len(self)}), got values in "
                                 f"[{int(idx.min())}, {int(idx.max())}]")
        rows = range(len(self))[idx] if isinstance(idx, slice) else torch.arange(len(self))[idx].tolist()
        return replace(self, tokens=self.tokens[idx], completions=self.completions[idx], mask=self.mask[idx],
                       logprobs=self.logprobs[idx], values=self.values[idx],
                       prompt_lengths=self.prompt_lengths[idx], lengths=self.lengths[idx], eos=self.eos[idx],
                       group_ids=self.group_ids[idx], prompts=tuple(self.prompts[i] for i in rows))

    def __repr__(self) -> str:
        groups = int(self.group_ids.unique().numel()) if len(self) else 0
        return (f"Rollout({len(self)} completions of {groups} prompts, mean length "
                f"{float(self.lengths.float().mean()) if len(self) else 0:.1f}, "
                f"{int(self.eos.sum())} ended by EOS; first {self.texts[:2]!r})")
