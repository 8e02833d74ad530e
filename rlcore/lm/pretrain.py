"""Maximum-likelihood pretraining of the character LM on the bundled corpus: the SFT policy and the reference.

Book: *RL for large language models*, "From tables to neural policies" (RL starts from a pretrained model).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from rlcore.core.validation import (
    check_array,
    check_choice,
    check_flag,
    check_instance,
    check_nonnegative_int,
    check_positive_int,
    check_real,
    check_strings,
)
from rlcore.envs.vocabulary import Vocabulary
from rlcore.lm.checkpoint import load, save
from rlcore.lm.model import CharLM, _check_lm

__all__ = ["load_corpus", "PretrainResult", "pretrain", "pretrained"]


def load_corpus(name: str = "corpus.txt") -> list[str]:
    """Lines of the bundled corpus (``rlcore/data/corpus.txt``: short, simple sentences)."""
    data = resources.files("rlcore.data")
    check_instance(name, "name", str)
    check_choice(name, "name", sorted(f.name for f in data.iterdir() if f.name.endswith(".txt")))
    text = data.joinpath(name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


@dataclass(frozen=True)
class PretrainResult:
    """``losses[i]`` = mean cross-entropy (nats per token) of minibatch ``i``."""

    losses: np.ndarray

    def __post_init__(self) -> None:
        check_array(self.losses, "losses", ndim=1, finite=False, allow_empty=True)

    @property
    def final_loss(self) -> float:
        """Mean of the last 10% of the losses."""
        k = max(1, len(self.losses) // 10)
        return float(np.mean(self.losses[-k:]))


def _encode_lines(vocab: Vocabulary, lines: Sequence[str], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    tokens = torch.full((len(lines), max_len + 1), vocab.PAD, dtype=torch.long)
    tokens[:, 0] = vocab.BOS
    mask = torch.zeros(len(lines), max_len, dtype=torch.bool)
    for i, line in enumerate(lines):
        ids = vocab.encode(line)[:max_len]
        if len(ids) < max_len:
            ids = ids + [vocab.EOS]
        tokens[i, 1: 1 + len(ids)] = torch.tensor(ids, dtype=torch.long)
        mask[i, : len(ids)] = True
    return tokens, mask


def pretrain(model: CharLM, corpus: str | Iterable[str] | None = None, steps: int = 500, seed: int = 0,
             batch_size: int = 64, lr: float = 1e-2, max_len: int = 24, progress: bool = False) -> PretrainResult:
    """Maximum-likelihood pretraining: minimise ``-(1/N) sum_{x in batch} sum_t log pi_theta(x_{t+1} | x_{<=t})``.

    Each line is ``BOS x_1 .. x_n EOS`` (cut to ``max_len`` characters, in which
    case no ``EOS`` is appended), so the model also learns when to stop. ``N`` is
    the number of predicted tokens. Adam; ``corpus`` defaults to [`load_corpus`][].
    Unknown characters in the corpus raise ``ValueError``.
    """
    _check_lm(model)
    if corpus is not None and not isinstance(corpus, str):
        check_instance(corpus, "corpus", Iterable, "a string or an iterable of strings")
    lines = load_corpus() if corpus is None else ([corpus] if isinstance(corpus, str) else list(corpus))
    lines = [x for s in check_strings(lines, "corpus", allow_empty=True) for x in s.splitlines() if x.strip()]
    if not lines:
        raise ValueError("corpus must contain at least one non-empty line")
    for line in lines:
        model.vocab.check(line, "corpus line")
    steps = check_nonnegative_int(steps, "steps")
    check_nonnegative_int(seed, "seed")
    check_positive_int(batch_size, "batch_size")
    check_real(lr, "lr", open_low=True)
    check_positive_int(max_len, "max_len")
    check_flag(progress, "progress")
    tokens, mask = (x.to(model.device) for x in _encode_lines(model.vocab, lines, max_len))
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = np.zeros(steps)
    targets = tokens[:, 1:].clamp(max=model.vocab.n_actions - 1)
    for i in tqdm(range(steps), disable=not progress, desc="pretrain", leave=False):
        idx = torch.randint(len(lines), (batch_size,), generator=g).to(model.device)
        m = mask[idx]
        L = int(m.sum(1).max())
        logits, _ = model(tokens[idx, :L])
        loss = nn.functional.cross_entropy(logits[m[:, :L]], targets[idx, :L][m[:, :L]])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses[i] = loss.item()
    model.eval()
    return PretrainResult(losses)


def pretrained(steps: int = 600, seed: int = 0, cache: str | Path | None = None, **kwargs) -> CharLM:
    """A [`CharLM`][] pretrained on the bundled corpus, for notebooks.

    With ``cache`` (a file path), the checkpoint is loaded if it exists, else
    trained with [`pretrain`][] and saved there. ``kwargs`` go to [`CharLM`][]
    (sizes); a cached file with another architecture raises ``ValueError``.
    """
    check_nonnegative_int(steps, "steps")
    if cache is not None:
        if not isinstance(cache, (str, Path)) or str(cache) == "":
            raise TypeError(f"cache must be a file path (str or Path) or None, got {cache!r}")
        if Path(cache).is_dir():
            raise ValueError(f"cache {cache} is a directory, not a checkpoint file")
    if cache is not None and Path(cache).exists():
        model = CharLM(seed=seed, **kwargs)
        try:
            return load(cache, model)
        except ValueError as exc:
            raise ValueError(f"cache {cache}: {exc}") from exc
    model = CharLM(seed=seed, **kwargs)
    pretrain(model, steps=steps, seed=seed)
    if cache is not None:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        save(model, cache)
    return model
