"""Exact expectations on an enumerable toy: every completion, its probability, the exact reward and KL.

Book: *RL for large language models*, "Policy gradients" (the exact gradient a
sampled estimate should match) and *RLHF* (the KL to the reference, computed, not estimated).

With ``n`` characters and a length limit ``T`` (prompt included), a prompt of
``P`` characters has ``sum_{t<m} n^t`` completions ended by ``EOS`` plus ``n^m``
that reach the limit, ``m = T - P``: the language MDP's state count
(:func:`rlcore.envs.language.state_count`), one episode per prefix. For a
vocabulary of two or three characters and ``T`` of five or six that is a few
hundred texts, so ``sum_y pi(y|x) f(y)`` is a sum, not an estimate.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch

from rlcore.envs.language import CharLanguageEnv, state_count
from rlcore.envs.vocabulary import Vocabulary
from rlcore.lm.model import CharLM
from rlcore.lm.rewards import rollout_rewards
from rlcore.lm.rollout import Rollout, sequence_logprob

__all__ = ["MAX_ENUMERATED", "enumerate_completions", "exact_expected_reward", "exact_kl"]

MAX_ENUMERATED = 2_000_000
"""Refuse to list more completions than this (the toy must stay a toy)."""


def enumerate_completions(vocab: Vocabulary, max_len: int, prompts: str | Sequence[str] = ("",),
                          device: torch.device | str | None = None) -> Rollout:
    """Every completion of every prompt under the length limit ``max_len``, as one :class:`Rollout`.

    ``logprobs`` and ``values`` are zeros (score the rollout with a model);
    ``group_ids`` says which prompt a row completes.
    """
    if isinstance(max_len, bool) or int(max_len) != max_len or max_len < 1:
        raise ValueError(f"max_len must be an integer >= 1, got {max_len!r}")
    plist = [prompts] if isinstance(prompts, str) else list(prompts)
    n = vocab.n_chars
    for p in plist:
        vocab.check(p, "prompt")
        if len(p) >= max_len:
            raise ValueError(f"prompt {p!r} leaves no room under max_len={max_len}")
    count = sum(state_count(n, max_len - len(p)) for p in plist)
    if count > MAX_ENUMERATED:
        raise ValueError(f"{count} completions is too many to enumerate (limit {MAX_ENUMERATED}); "
                         "use a smaller vocabulary or max_len")
    rows, prompt_of, group = [], [], []
    for g, p in enumerate(plist):
        m = max_len - len(p)
        for t in range(m + 1):
            for chars in itertools.product(range(n), repeat=t):
                rows.append(list(chars) + ([vocab.EOS] if t < m else []))
                prompt_of.append(p)
                group.append(g)
    L = max(len(r) for r in rows)
    T = max(len(p) + len(r) for p, r in zip(prompt_of, rows))
    tokens = torch.full((len(rows), T + 1), vocab.PAD, dtype=torch.long)
    tokens[:, 0] = vocab.BOS
    completions = torch.full((len(rows), L), vocab.PAD, dtype=torch.long)
    mask = torch.zeros(len(rows), L, dtype=torch.bool)
    for i, (p, r) in enumerate(zip(prompt_of, rows)):
        seq = vocab.encode(p) + r
        tokens[i, 1: 1 + len(seq)] = torch.tensor(seq, dtype=torch.long)
        completions[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, : len(r)] = True
    lengths = mask.sum(1)
    eos = torch.tensor([bool(r) and r[-1] == vocab.EOS for r in rows])
    ro = Rollout(tokens, completions, mask, torch.zeros(mask.shape), torch.zeros(mask.shape),
                 torch.tensor([len(p) for p in prompt_of]), lengths, eos, torch.tensor(group), tuple(prompt_of), vocab)
    if device is None:
        return ro
    return Rollout(*(x.to(device) if torch.is_tensor(x) else x for x in
                     (ro.tokens, ro.completions, ro.mask, ro.logprobs, ro.values, ro.prompt_lengths, ro.lengths,
                      ro.eos, ro.group_ids)), ro.prompts, vocab)


def _check_model_env(model: CharLM, env: CharLanguageEnv) -> None:
    if model.vocab != env.vocab:
        raise ValueError(f"model vocabulary {model.vocab!r} differs from the env's {env.vocab!r}")


def exact_expected_reward(model: CharLM, env: CharLanguageEnv, temperature: float = 1.0) -> torch.Tensor:
    """``J(theta) = (1/|prompts|) sum_x sum_y pi_theta(y|x) R(x, y)`` over every completion (differentiable).

    Prompts are weighted uniformly, as ``env.reset`` draws them; ``R = sum_t r_t``
    is the env's undiscounted return. ``J.backward()`` gives the exact policy gradient.
    """
    _check_model_env(model, env)
    ro = enumerate_completions(model.vocab, env.max_len, env.prompts, device=model.device)
    logp = sequence_logprob(model, ro, temperature=temperature)
    R = rollout_rewards(env, ro).sum(-1).to(logp.dtype)
    return (logp.exp() * R).sum() / len(env.prompts)


@torch.no_grad()
def exact_kl(model: CharLM, ref: CharLM, max_len: int, temperature: float = 1.0,
             prompts: str | Sequence[str] = ("",)) -> float:
    """``KL(pi || pi_ref) = mean_x sum_y pi(y|x) [log pi(y|x) - log pi_ref(y|x)]`` over every completion."""
    ro = enumerate_completions(model.vocab, max_len, prompts, device=model.device)
    logp = sequence_logprob(model, ro, temperature=temperature)
    ref_logp = sequence_logprob(ref, ro, temperature=temperature)
    n_prompts = int(ro.group_ids.max()) + 1
    return float((logp.exp() * (logp - ref_logp)).sum() / n_prompts)
