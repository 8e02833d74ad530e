"""Prompt-conditioned sampling and scoring: completions of prompts, in one batched pass.

Book: *RL for large language models*, "Text generation as an MDP" and "Sampling: temperature, top-k, top-p".

A prompt is part of the state: row ``b`` reads ``BOS, p_1 .. p_P`` (its prompt,
``P = prompt_lengths[b]``) and then writes its completion ``a_0, a_1, ..``
until it samples ``EOS`` or the text reaches its length limit. The prompt is
conditioned on, never scored: the batch, a [`Rollout`][rlcore.lm.rollout_batch.Rollout]
(its fields tabled in [`rlcore.lm.rollout_batch`][]), aligns every array except ``tokens``
on the *completion*, so losses read only completion tokens.

``PAD`` is a token of its own, distinct from ``EOS``: an ``EOS`` is an action
the policy chose and is scored; ``PAD`` is only filler.

Log-probabilities, values and entropies are always those of the
*unfiltered* distribution ``softmax(z / temperature)``, whatever top-k or
top-p was used to draw the sample: top-k and top-p decide which tokens may
be drawn, not what the policy is. (Scoring under the filtered support gives
``log 0 = -inf`` for a token that another policy could have drawn: an
infinite KL and a NaN gradient after one update.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import torch

from rlcore.core.sampling import _check_sampling, sample_logits
from rlcore.core.validation import (
    check_device,
    check_instance,
    check_nonnegative_int,
    check_positive_int,
    check_strings,
    check_tensor,
)
from rlcore.envs.vocabulary import Vocabulary
from rlcore.lm.model import CharLM, _check_lm
from rlcore.lm.rollout_batch import Rollout

__all__ = ["sample", "score", "sequence_logprob", "generate", "rollout_from_texts"]


def _prompt_list(prompts: str | Sequence[str], vocab: Vocabulary) -> list[str]:
    check_instance(prompts, "prompts", (str, list, tuple), "a string or a list of strings")
    plist = [prompts] if isinstance(prompts, str) else list(prompts)
    if not plist:
        raise ValueError("prompts must hold at least one prompt (use [''] for none)")
    for p in plist:
        if not isinstance(p, str):
            raise ValueError(f"prompts must be strings, got {p!r}")
        vocab.check(p, "prompt")
    return plist


@torch.no_grad()
def sample(model: CharLM, prompts: str | Sequence[str] = ("",), n_per_prompt: int = 1, max_new_tokens: int = 20,
           temperature: float = 1.0, top_k: int | None = None, top_p: float = 1.0,
           generator: torch.Generator | None = None, max_len: int | None = None) -> Rollout:
    """Sample ``n_per_prompt`` completions of every prompt in one batched pass.

    ``a_j ~ softmax(filter(z_j; temperature, top_k, top_p))`` with
    [`rlcore.core.sampling.sample_logits`][]. Row ``b`` of prompt ``p`` ends at
    ``EOS`` or after ``max_new_tokens`` characters, or once the whole text
    ``p + completion`` holds ``max_len`` characters (the env's length limit;
    ``None``: no such limit). Rows are grouped prompt by prompt:
    ``group_ids[b] = b // n_per_prompt``. The model runs in ``eval`` mode
    (restored afterwards); every tensor is put on the model's device.
    """
    v = _check_lm(model).vocab
    plist = _prompt_list(prompts, v)
    n = check_positive_int(n_per_prompt, "n_per_prompt")
    max_new = check_positive_int(max_new_tokens, "max_new_tokens")
    _check_sampling(temperature, top_k, top_p)
    if generator is not None:
        check_instance(generator, "generator", torch.Generator)
    if max_len is not None:
        check_positive_int(max_len, "max_len")
        too_long = [p for p in plist if len(p) >= max_len]
        if too_long:
            raise ValueError(f"prompt {too_long[0]!r} leaves no room under max_len={max_len}")
    dev = model.device
    rows = [p for p in plist for _ in range(n)]
    B = len(rows)
    P = torch.tensor([len(p) for p in rows], device=dev)
    limit = torch.full((B,), max_new, device=dev)
    if max_len is not None:
        limit = torch.minimum(limit, max_len - P)
    T = int((P + limit).max())
    tokens = torch.full((B, T + 1), v.PAD, dtype=torch.long, device=dev)
    tokens[:, 0] = v.BOS
    for b, p in enumerate(rows):
        if p:
            tokens[b, 1: 1 + len(p)] = torch.tensor(v.encode(p), device=dev)
    L = int(limit.max())
    completions = torch.full((B, L), v.PAD, dtype=torch.long, device=dev)
    logprobs = torch.zeros(B, L, device=dev, dtype=model.dtype)
    values = torch.zeros(B, L, device=dev, dtype=model.dtype)
    mask = torch.zeros(B, L, dtype=torch.bool, device=dev)
    lengths = torch.zeros(B, dtype=torch.long, device=dev)
    eos = torch.zeros(B, dtype=torch.bool, device=dev)
    alive = torch.ones(B, dtype=torch.bool, device=dev)
    was_training = model.training
    model.eval()
    hidden = None
    for t in range(T):
        logits, val, hidden = model.step(tokens[:, t: t + 1], hidden)
        writing = alive & (t >= P)  # rows past their prompt choose the next token
        if not writing.any():
            if not alive.any():
                break
            continue
        a, _ = sample_logits(logits[:, 0], temperature, top_k, top_p, generator=generator)
        lp = torch.log_softmax(logits[:, 0] / temperature, dim=-1).gather(-1, a[:, None]).squeeze(-1)
        rows_w = writing.nonzero().squeeze(-1)
        j = lengths[rows_w]
        completions[rows_w, j] = a[rows_w]
        logprobs[rows_w, j] = lp[rows_w]
        values[rows_w, j] = val[rows_w, 0]
        mask[rows_w, j] = True
        tokens[rows_w, t + 1] = a[rows_w]
        lengths[rows_w] += 1
        ended = writing & (a == v.EOS)
        eos |= ended
        alive &= ~ended & ~(writing & (lengths >= limit))
    model.train(was_training)
    width = int(lengths.max())
    return Rollout(tokens[:, : int((P + lengths).max()) + 1], completions[:, :width], mask[:, :width],
                   logprobs[:, :width], values[:, :width], P, lengths, eos,
                   torch.arange(len(plist), device=dev).repeat_interleave(n), tuple(rows), v,
                   float(temperature), top_k, float(top_p))


def score(model: CharLM, tokens: torch.Tensor | Rollout, mask: torch.Tensor | None = None,
          temperature: float | None = None,
          prompt_lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Re-score completions in one forward pass (with gradients): ``(logprobs, values, entropy)``, each ``[B, L]``.

    ``log pi(a_j|s_j)``, ``V(s_j)`` and ``H(pi(.|s_j)) = -sum_a pi log pi`` under
    ``pi = softmax(z / temperature)``, aligned on the completion and 0 where
    ``mask`` is False. ``tokens [B, T+1]`` are full sequences (``BOS``, prompt,
    completion); completion ``j`` of row ``b`` is ``tokens[b, prompt_lengths[b] + 1 + j]``
    (``prompt_lengths`` defaults to 0: no prompt). Pass a [`Rollout`][] alone to
    score it with its own mask, prompt lengths and (unless ``temperature`` is
    given) temperature; otherwise ``temperature`` defaults to 1.
    """
    _check_lm(model)
    if isinstance(tokens, Rollout):
        ro = tokens
        tokens, mask, prompt_lengths = ro.tokens, ro.mask if mask is None else mask, ro.prompt_lengths
        temperature = ro.temperature if temperature is None else temperature
    temperature = 1.0 if temperature is None else temperature
    if mask is None:
        raise ValueError("score needs the completion mask (or a Rollout)")
    check_tensor(tokens, "tokens", ndim=2, kind="integer")
    if tokens.shape[1] < 2:
        raise ValueError(f"tokens must hold BOS and at least one more token per row, got shape {tuple(tokens.shape)}")
    check_tensor(mask, "mask", shape=(tokens.shape[0], None), kind="bool")
    B, L = mask.shape
    T = tokens.shape[1] - 1
    P = torch.zeros(B, dtype=torch.long, device=tokens.device) if prompt_lengths is None else prompt_lengths
    check_tensor(P, "prompt_lengths", shape=(B,), kind="integer")
    outside = mask & (P[:, None] + torch.arange(L, device=mask.device)[None, :] >= T)
    if not mask.is_meta and bool((P < 0).any() | outside.any()):   # one sync
        raise ValueError(f"prompt_lengths and mask must point inside tokens: prompt_lengths >= 0 and every "
                         f"completion token within the {T} positions after BOS")
    _check_sampling(temperature, None, 1.0)
    logits, values = model(tokens[:, :-1])
    pos = (P[:, None] + torch.arange(L, device=tokens.device)[None, :]).clamp(max=T - 1)
    logp_all = torch.log_softmax(logits.gather(1, pos[..., None].expand(-1, -1, logits.shape[-1])) / temperature, -1)
    actions = tokens.gather(1, pos + 1).clamp(max=model.vocab.n_actions - 1)
    logp = logp_all.gather(-1, actions[..., None]).squeeze(-1)
    ent = -(logp_all.exp() * logp_all).sum(-1)
    zero = torch.zeros_like(logp)
    return (torch.where(mask, logp, zero), torch.where(mask, values.gather(1, pos), zero),
            torch.where(mask, ent, zero))


def sequence_logprob(model: CharLM, tokens: torch.Tensor | Rollout, mask: torch.Tensor | None = None,
                     temperature: float | None = None, prompt_lengths: torch.Tensor | None = None) -> torch.Tensor:
    """``log pi(y | x) = sum_j log pi(a_j | s_j)`` of every completion, shape ``[B]``."""
    return score(model, tokens, mask, temperature, prompt_lengths)[0].sum(-1)


def generate(model: CharLM, prompts: str | Sequence[str] = ("",), n_per_prompt: int = 1, max_new_tokens: int = 20,
             temperature: float = 1.0, top_k: int | None = None, top_p: float = 1.0,
             seed: int | None = None) -> list[str]:
    """Sampled completions as text (a convenience around [`sample`][]; ``seed`` makes it reproducible)."""
    check_nonnegative_int(seed, "seed", none=True)
    _check_lm(model)
    g = torch.Generator(device=model.device).manual_seed(seed) if seed is not None else None
    return sample(model, prompts, n_per_prompt, max_new_tokens, temperature, top_k, top_p, generator=g).texts


def rollout_from_texts(vocab: Vocabulary, prompts: Sequence[str], completions: Sequence[str], max_len: int,
                       device: torch.device | str | None = None) -> Rollout:
    """Given completions of given prompts as a [`Rollout`][] (log-probs and values 0), to score or train on.

    A completion ended with ``EOS`` unless prompt plus completion fill ``max_len``
    characters: the same rule the env and [`sample`][] follow.
    """
    check_instance(vocab, "vocab", Vocabulary)
    prompts = check_strings(prompts, "prompts", allow_empty=True)
    completions = check_strings(completions, "completions", allow_empty=True)
    check_positive_int(max_len, "max_len")
    device = check_device(device, "device")
    if len(prompts) != len(completions) or not prompts:
        raise ValueError(f"prompts and completions must be non-empty and of one length, got {len(prompts)} "
                         f"and {len(completions)}")
    rows = []
    for p, c in zip(prompts, completions):
        vocab.check(p, "prompt")
        vocab.check(c, "completion")
        if len(p) + len(c) > max_len:
            raise ValueError(f"prompt {p!r} + completion {c!r} is longer than max_len={max_len}")
        rows.append(vocab.encode(c) + ([vocab.EOS] if len(p) + len(c) < max_len else []))
    B, L = len(rows), max(1, max(len(r) for r in rows))
    T = max(len(p) + len(r) for p, r in zip(prompts, rows))
    tokens = torch.full((B, T + 1), vocab.PAD, dtype=torch.long)
    tokens[:, 0] = vocab.BOS
    comp = torch.full((B, L), vocab.PAD, dtype=torch.long)
    for b, (p, r) in enumerate(zip(prompts, rows)):
        seq = vocab.encode(p) + r
        tokens[b, 1: 1 + len(seq)] = torch.tensor(seq, dtype=torch.long)
        comp[b, : len(r)] = torch.tensor(r, dtype=torch.long)
    lengths = torch.tensor([len(r) for r in rows])
    mask = torch.arange(L)[None, :] < lengths[:, None]
    eos = torch.tensor([bool(r) and r[-1] == vocab.EOS for r in rows])
    zeros = torch.zeros(B, L)
    ro = Rollout(tokens, comp, mask, zeros, zeros.clone(), torch.tensor([len(p) for p in prompts]), lengths, eos,
                 torch.arange(B), tuple(prompts), vocab)
    if device is None:
        return ro
    return replace(ro, **{k: getattr(ro, k).to(device) for k in ("tokens", "completions", "mask", "logprobs", "values",
                                                               "prompt_lengths", "lengths", "eos", "group_ids")})
