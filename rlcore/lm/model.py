"""A tiny character-level language model: the policy ``pi_theta(a|s)`` with a value head ``V_phi(s)``.

Book: *RL for large language models*, "From tables to neural policies".

The table ``Q[s, a]`` of the language MDP needs ``sum_t |V|^t`` rows; a
recurrent network instead reads the prefix ``s_t = (BOS, x_1, .., x_t)`` (prompt
characters included) into a hidden state ``h_t = GRU(h_{t-1}, embed(x_t))`` and outputs

* logits ``z_t = W h_t + b`` with ``pi_theta(a | s_t) = softmax(z_t)_a`` over the
  ``n + 1`` actions (characters and ``EOS``),
* a value ``V(s_t) = w_v . h_t + b_v`` (the critic of PPO and REINFORCE's baseline).

Sampling and scoring live in [`rlcore.lm.rollout`][]; checkpoints in [`rlcore.lm.checkpoint`][].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from rlcore.core.validation import (
    check_device,
    check_flag,
    check_instance,
    check_nonnegative_int,
    check_positive_int,
    check_tensor,
)
from rlcore.envs.vocabulary import Vocabulary

__all__ = ["DEFAULT_CHARS", "ModelConfig", "CharLM", "count_parameters"]

DEFAULT_CHARS = " abcdefghijklmnopqrstuvwxyz"
"""Space and the 26 lower-case letters: the vocabulary of the bundled corpus."""


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of a [`CharLM`][]; stored in every checkpoint."""

    chars: str = DEFAULT_CHARS
    """the characters of the vocabulary (ids ``0 .. n-1``)"""
    embed_dim: int = 32
    """size of the character embedding"""
    hidden_dim: int = 64
    """size of the GRU hidden state ``h_t``"""
    num_layers: int = 1
    """stacked GRU layers"""
    value_head: bool = True
    """whether the model has a value head ``V(s_t)``"""

    def __post_init__(self) -> None:
        check_instance(self.chars, "chars", str)
        if not self.chars or len(set(self.chars)) != len(self.chars):
            raise ValueError(f"chars must be a non-empty string of distinct characters, got {self.chars!r}")
        for name in ("embed_dim", "hidden_dim", "num_layers"):
            object.__setattr__(self, name, check_positive_int(getattr(self, name), name))
        check_flag(self.value_head, "value_head")


class CharLM(nn.Module):
    """GRU character LM: ``forward(tokens) -> (logits, values)``.

    Parameters
    ----------
    vocab : Vocabulary or str
        Characters (default: space and a-z).
    embed_dim, hidden_dim, num_layers : int
        Sizes; the defaults give about 20k parameters.
    value_head : bool
        Add ``V(s_t)``; without it ``values`` is a tensor of zeros.
    seed : int, optional
        Seeds the weight initialisation (without touching the global RNG state).
    device : torch.device or str, optional
        Where to put the weights (default: the CPU).
    dtype : torch.dtype, optional
        The weights' floating type (default: torch's default, float32). float64 makes
        every result the same on every CPU, digit for digit.
    """

    def __init__(self, vocab: Vocabulary | str = DEFAULT_CHARS, embed_dim: int = 32, hidden_dim: int = 64,
                 num_layers: int = 1, value_head: bool = True, seed: int | None = None,
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        check_instance(vocab, "vocab", (Vocabulary, str, list, tuple), "a Vocabulary or a string of characters")
        self.vocab = vocab if isinstance(vocab, Vocabulary) else Vocabulary(vocab)
        for name, v in (("embed_dim", embed_dim), ("hidden_dim", hidden_dim), ("num_layers", num_layers)):
            check_positive_int(v, name)
        check_flag(value_head, "value_head")
        check_nonnegative_int(seed, "seed", none=True)
        check_device(device, "device")
        if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise TypeError(f"dtype must be a floating torch.dtype (torch.float32, torch.float64) or None, "
                            f"got {dtype!r}")
        self.config = ModelConfig("".join(self.vocab.chars), int(embed_dim), int(hidden_dim), int(num_layers),
                                  bool(value_head))
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            self.embed = nn.Embedding(self.vocab.n_tokens, embed_dim)
            self.gru = nn.GRU(embed_dim, hidden_dim, num_layers, batch_first=True)
            self.head = nn.Linear(hidden_dim, self.vocab.n_actions)
            self.value = nn.Linear(hidden_dim, 1) if value_head else None
        if device is not None or dtype is not None:
            self.to(device=device, dtype=dtype)

    @property
    def device(self) -> torch.device:
        """Where the weights live; sampling and scoring put their tensors there too."""
        return self.embed.weight.device

    @property
    def dtype(self) -> torch.dtype:
        """The weights' floating type; rollouts, losses and rewards follow it (``model.double()`` for float64)."""
        return self.embed.weight.dtype

    @classmethod
    def from_config(cls, config: ModelConfig, seed: int | None = None,
                    device: torch.device | str | None = None) -> CharLM:
        """Build a model from a [`ModelConfig`][]."""
        return cls(config.chars, config.embed_dim, config.hidden_dim, config.num_layers, config.value_head, seed,
                   device)

    def step(self, tokens: torch.Tensor, hidden: torch.Tensor | None = None):
        """Run ``tokens [B, L]`` from ``hidden``; returns ``(logits [B, L, A], values [B, L], hidden)``."""
        check_tensor(tokens, "tokens", ndim=2, kind="integer")
        if tokens.numel() == 0:
            raise ValueError(f"tokens must not be empty, got shape {tuple(tokens.shape)}")
        if not tokens.is_meta and bool(((tokens < 0) | (tokens >= self.vocab.n_tokens)).any()):  # one reduction
            raise ValueError(f"tokens must be ids in [0, {self.vocab.n_tokens - 1}], got values in "
                             f"[{int(tokens.min())}, {int(tokens.max())}]")
        if hidden is not None:
            c = self.config
            check_tensor(hidden, "hidden", shape=(c.num_layers, tokens.shape[0], c.hidden_dim), kind="floating")
        out, hidden = self.gru(self.embed(tokens), hidden)
        logits = self.head(out)
        values = self.value(out).squeeze(-1) if self.value is not None else out.new_zeros(out.shape[:-1])
        return logits, values, hidden

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``tokens [B, L]`` (starting with ``BOS``) -> ``(logits [B, L, A], values [B, L])``.

        Position ``t`` sees ``tokens[:, :t+1]`` = state ``s_t``: ``logits[:, t]`` scores
        the action ``a_t`` and ``values[:, t]`` is ``V(s_t)``.
        """
        logits, values, _ = self.step(tokens)
        return logits, values


def _check_lm(model, name: str = "model"):
    """``model`` if it is a CharLM or reads as one (a module with a ``vocab``: the data-parallel wrapper)."""
    check_instance(model, name, nn.Module, "a CharLM")
    if not hasattr(model, "vocab"):
        raise TypeError(f"{name} must be a CharLM (a module with a vocab), got {type(model).__name__}")
    return model


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    check_instance(model, "model", nn.Module)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
