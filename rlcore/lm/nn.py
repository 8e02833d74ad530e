"""A tiny character-level language model used as a policy ``pi_theta(a|s)`` with a value head ``V_phi(s)``.

Book: *RL for large language models*, "From tables to neural policies".

The table ``Q[s, a]`` of the language MDP needs ``sum_t |V|^t`` rows; a
recurrent network instead reads the prefix ``s_t = (BOS, x_1, .., x_t)`` into a
hidden state ``h_t = GRU(h_{t-1}, embed(x_t))`` and outputs

* logits ``z_t = W h_t + b`` with ``pi_theta(a | s_t) = softmax(z_t)_a`` over the
  ``n + 1`` actions (characters and ``EOS``),
* a value ``V(s_t) = w_v . h_t + b_v`` (the critic of PPO and REINFORCE's baseline).

Shapes (``B`` batch, ``L`` steps = ``max_len``, ``A = n_actions``):

============ ============ ===================================================
name         shape        meaning
============ ============ ===================================================
tokens       ``[B, L+1]`` ``BOS, a_0, .., a_{L-1}`` with ``PAD`` after ``EOS``
actions      ``[B, L]``   ``a_t`` (``PAD`` after the episode ended)
logprobs     ``[B, L]``   ``log pi(a_t | s_t)`` under the sampling distribution
values       ``[B, L]``   ``V(s_t)``
mask         ``[B, L]``   True for real actions, ``EOS`` included
============ ============ ===================================================
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from rlcore.core.policies import _check_sampling, filter_logits, sample_logits
from rlcore.envs.language import Vocabulary, state_count

__all__ = [
    "DEFAULT_CHARS", "ModelConfig", "CharLM", "Rollout", "sample", "score", "sequence_logprob",
    "enumerate_sequences", "load_corpus", "PretrainResult", "pretrain", "pretrained", "save", "load",
    "count_parameters",
]

DEFAULT_CHARS = " abcdefghijklmnopqrstuvwxyz"
"""Space and the 26 lower-case letters: the vocabulary of the bundled corpus."""


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of a :class:`CharLM`; stored in every checkpoint."""

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


class CharLM(nn.Module):
    """GRU character LM: ``forward(tokens) -> (logits, values)``.

    Parameters
    ----------
    vocab : :class:`~rlcore.envs.language.Vocabulary` or str
        Characters (default: space and a-z).
    embed_dim, hidden_dim, num_layers : int
        Sizes; the defaults give about 20k parameters.
    value_head : bool
        Add ``V(s_t)``; without it ``values`` is a tensor of zeros.
    seed : int, optional
        Seeds the weight initialisation (without touching the global RNG state).
    """

    def __init__(self, vocab: Vocabulary | str = DEFAULT_CHARS, embed_dim: int = 32, hidden_dim: int = 64,
                 num_layers: int = 1, value_head: bool = True, seed: int | None = None) -> None:
        super().__init__()
        self.vocab = vocab if isinstance(vocab, Vocabulary) else Vocabulary(vocab)
        for name, v in (("embed_dim", embed_dim), ("hidden_dim", hidden_dim), ("num_layers", num_layers)):
            if int(v) != v or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        self.config = ModelConfig("".join(self.vocab.chars), int(embed_dim), int(hidden_dim), int(num_layers),
                                  bool(value_head))
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            self.embed = nn.Embedding(self.vocab.n_tokens, embed_dim)
            self.gru = nn.GRU(embed_dim, hidden_dim, num_layers, batch_first=True)
            self.head = nn.Linear(hidden_dim, self.vocab.n_actions)
            self.value = nn.Linear(hidden_dim, 1) if value_head else None

    @classmethod
    def from_config(cls, config: ModelConfig, seed: int | None = None) -> CharLM:
        """Build a model from a :class:`ModelConfig`."""
        return cls(config.chars, config.embed_dim, config.hidden_dim, config.num_layers, config.value_head, seed)

    def step(self, tokens: torch.Tensor, hidden: torch.Tensor | None = None):
        """Run ``tokens [B, L]`` from ``hidden``; returns ``(logits [B, L, A], values [B, L], hidden)``."""
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

    @torch.no_grad()
    def generate(self, n: int = 1, max_len: int = 20, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float = 1.0, seed: int | None = None) -> list[str]:
        """Sample ``n`` texts (a convenience wrapper around :func:`sample`)."""
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        return sample(self, n, max_len, temperature, top_k, top_p, generator=g).texts


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# ------------------------------------------------------------------ rollouts
@dataclass
class Rollout:
    """A batch of episodes sampled from the policy in one pass (see the module table for shapes).

    ``lengths[b]`` = number of actions of episode ``b`` (``EOS`` included);
    ``terminated[b]`` = it ended with ``EOS`` (otherwise it hit ``max_len``: truncated).
    ``temperature, top_k, top_p`` are the sampling settings, to score with the same ones.
    """

    tokens: torch.Tensor
    actions: torch.Tensor
    logprobs: torch.Tensor
    values: torch.Tensor
    mask: torch.Tensor
    lengths: torch.Tensor
    terminated: torch.Tensor
    vocab: Vocabulary
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float = 1.0

    @property
    def texts(self) -> list[str]:
        """The generated texts (without special tokens)."""
        return [self.vocab.decode(row[: int(n)]) for row, n in zip(self.actions.tolist(), self.lengths.tolist())]

    def __len__(self) -> int:
        return self.actions.shape[0]

    def index(self, idx: torch.Tensor | slice) -> Rollout:
        """The sub-batch ``idx`` (rows)."""
        return Rollout(self.tokens[idx], self.actions[idx], self.logprobs[idx], self.values[idx], self.mask[idx],
                       self.lengths[idx], self.terminated[idx], self.vocab, self.temperature, self.top_k,
                       self.top_p)


def _check_len(max_len: int) -> None:
    if int(max_len) != max_len or max_len < 1:
        raise ValueError(f"max_len must be an integer >= 1, got {max_len!r}")


@torch.no_grad()
def sample(model: CharLM, n: int, max_len: int, temperature: float = 1.0, top_k: int | None = None,
           top_p: float = 1.0, generator: torch.Generator | None = None) -> Rollout:
    """Sample ``n`` episodes in parallel: ``a_t ~ softmax(filter(z_t; tau, k, p))``.

    One batched forward step per time step, carrying the GRU state; a row is
    finished once it samples ``EOS`` (terminated) or writes ``max_len``
    characters (truncated). After the end, ``actions`` and ``tokens`` hold
    ``PAD`` and ``logprobs``, ``values``, ``mask`` are 0. The model is run in
    ``eval`` mode (restored afterwards). Stops early when every row is done.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    _check_len(max_len)
    _check_sampling(temperature, top_k, top_p)
    v = model.vocab
    was_training = model.training
    model.eval()
    tokens = torch.full((n, max_len + 1), v.PAD, dtype=torch.long)
    tokens[:, 0] = v.BOS
    logprobs = torch.zeros(n, max_len)
    values = torch.zeros(n, max_len)
    mask = torch.zeros(n, max_len, dtype=torch.bool)
    alive = torch.ones(n, dtype=torch.bool)
    terminated = torch.zeros(n, dtype=torch.bool)
    hidden = None
    inp = tokens[:, :1]
    for t in range(max_len):
        logits, val, hidden = model.step(inp, hidden)
        a, lp = sample_logits(logits[:, 0], temperature, top_k, top_p, generator=generator)
        a = torch.where(alive, a, torch.full_like(a, v.PAD))
        tokens[:, t + 1] = a
        logprobs[:, t] = torch.where(alive, lp, torch.zeros_like(lp))
        values[:, t] = torch.where(alive, val[:, 0], torch.zeros_like(lp))
        mask[:, t] = alive
        ended = alive & (a == v.EOS)
        terminated |= ended
        alive = alive & ~ended
        if not alive.any():
            break
        inp = tokens[:, t + 1: t + 2]
    model.train(was_training)
    lengths = mask.sum(1)
    return Rollout(tokens, tokens[:, 1:].clone(), logprobs, values, mask, lengths, terminated, v,
                   float(temperature), top_k, float(top_p))


def score(model: CharLM, tokens: torch.Tensor, mask: torch.Tensor, temperature: float = 1.0,
          top_k: int | None = None, top_p: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Re-score sampled episodes in one forward pass (with gradients).

    Returns ``(logprobs, values, entropy)``, each ``[B, L]`` and 0 where ``mask``
    is False: ``log pi(a_t|s_t)`` and ``H(pi(.|s_t)) = -sum_a pi log pi`` under the
    same filtered distribution used for sampling (pass the rollout's settings).
    With top-k/top-p, an action outside the new filtered support scores
    ``log pi = -inf``; prefer pure temperature sampling for training.
    """
    logits, values = model(tokens[:, :-1])
    z = filter_logits(logits, temperature, top_k, top_p)
    logp_all = torch.log_softmax(z, dim=-1)
    actions = tokens[:, 1:].clamp(max=model.vocab.n_actions - 1)
    logp = logp_all.gather(-1, actions[..., None]).squeeze(-1)
    p = logp_all.exp()
    ent = -torch.where(p > 0, p * logp_all, torch.zeros_like(p)).sum(-1)
    zero = torch.zeros_like(logp)
    return torch.where(mask, logp, zero), torch.where(mask, values, zero), torch.where(mask, ent, zero)


def sequence_logprob(model: CharLM, tokens: torch.Tensor, mask: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """``log pi(x) = sum_t log pi(a_t | s_t)`` for every row, shape ``[B]``."""
    return score(model, tokens, mask, temperature)[0].sum(-1)


def enumerate_sequences(vocab: Vocabulary, max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every possible episode of the language MDP, as ``(tokens [N, L+1], mask [N, L])``.

    ``N = sum_{t<T} n^t`` texts ended by ``EOS`` plus ``n^T`` truncated ones.
    Small instances only; tests use it for exact expectations ``sum_x pi(x) f(x)``.
    """
    _check_len(max_len)
    n = vocab.n_chars
    count = state_count(n, max_len)  # one episode per prefix: EOS after a shorter one, or truncated at T
    if count > 2_000_000:
        raise ValueError(f"{count} sequences is too many to enumerate; use a smaller vocabulary or max_len")
    rows = []
    for t in range(max_len + 1):
        for chars in itertools.product(range(n), repeat=t):
            acts = list(chars) + ([vocab.EOS] if t < max_len else [])
            rows.append(acts)
    tokens = torch.full((len(rows), max_len + 1), vocab.PAD, dtype=torch.long)
    tokens[:, 0] = vocab.BOS
    mask = torch.zeros(len(rows), max_len, dtype=torch.bool)
    for i, acts in enumerate(rows):
        tokens[i, 1: 1 + len(acts)] = torch.tensor(acts)
        mask[i, : len(acts)] = True
    return tokens, mask


# --------------------------------------------------------------- pretraining
def load_corpus(name: str = "corpus.txt") -> list[str]:
    """Lines of the bundled corpus (``rlcore/data/corpus.txt``: short, simple sentences)."""
    text = resources.files("rlcore.data").joinpath(name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


@dataclass(frozen=True)
class PretrainResult:
    """``losses[i]`` = mean cross-entropy (nats per token) of minibatch ``i``."""

    losses: np.ndarray

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
    the number of predicted tokens. Adam; ``corpus`` defaults to :func:`load_corpus`.
    Unknown characters in the corpus raise ``ValueError``.
    """
    lines = load_corpus() if corpus is None else ([corpus] if isinstance(corpus, str) else list(corpus))
    lines = [x for s in lines for x in s.splitlines() if x.strip()]
    if not lines:
        raise ValueError("corpus must contain at least one non-empty line")
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    _check_len(max_len)
    tokens, mask = _encode_lines(model.vocab, lines, max_len)
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = np.zeros(steps)
    targets = tokens[:, 1:].clamp(max=model.vocab.n_actions - 1)
    for i in tqdm(range(steps), disable=not progress, desc="pretrain", leave=False):
        idx = torch.randint(len(lines), (batch_size,), generator=g)
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
    """A :class:`CharLM` pretrained on the bundled corpus, for notebooks.

    With ``cache`` (a file path), the checkpoint is loaded if it exists, else
    trained with :func:`pretrain` and saved there. ``kwargs`` go to :class:`CharLM`
    (sizes); a cached file with another architecture raises ``ValueError``.
    """
    if cache is not None and Path(cache).exists():
        return load(cache, CharLM(seed=seed, **kwargs))
    model = CharLM(seed=seed, **kwargs)
    pretrain(model, steps=steps, seed=seed)
    if cache is not None:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        save(model, cache)
    return model


# --------------------------------------------------------------- checkpoints
_META_KEY = "rlcore.CharLM"


def save(model: CharLM, path: str | Path) -> None:
    """Write the weights and the :class:`ModelConfig` to a safetensors file (no pickle)."""
    from safetensors.torch import save_file

    state = {k: v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={_META_KEY: json.dumps(asdict(model.config))})


def load(path: str | Path, model: CharLM | None = None) -> CharLM:
    """Load a checkpoint written by :func:`save`, bit-identical.

    Without ``model`` a new :class:`CharLM` is built from the stored config. With
    ``model``, its architecture must match the checkpoint's, else ``ValueError``
    naming the differing fields.
    """
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    if _META_KEY not in meta:
        raise ValueError(f"{path} is not an rlcore CharLM checkpoint (no {_META_KEY!r} metadata)")
    config = ModelConfig(**json.loads(meta[_META_KEY]))
    if model is None:
        model = CharLM.from_config(config)
    elif model.config != config:
        diff = {k: (getattr(config, k), getattr(model.config, k)) for k in asdict(config)
                if getattr(config, k) != getattr(model.config, k)}
        raise ValueError("checkpoint architecture does not match the model: "
                         + ", ".join(f"{k}: checkpoint {a!r} vs model {b!r}" for k, (a, b) in diff.items()))
    state = load_file(str(path))
    own = model.state_dict()
    if set(state) != set(own) or any(state[k].shape != own[k].shape for k in own):
        raise ValueError(f"checkpoint tensors do not match the model's parameters ({path})")
    model.load_state_dict(state)
    return model

