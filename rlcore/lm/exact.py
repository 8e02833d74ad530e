"""Exact expectations on an enumerable toy: every completion, its probability, the exact reward and KL.

Book: *RL for large language models*, "Policy gradients" (the exact gradient a
sampled estimate should match) and *RLHF* (the KL to the reference, computed, not estimated).

With ``n`` characters and a length limit ``T`` (prompt included), a prompt of
``P`` characters has ``sum_{t<m} n^t`` completions ended by ``EOS`` plus ``n^m``
that reach the limit, ``m = T - P``: the language MDP's state count
([`rlcore.envs.language.state_count`][]), one episode per prefix. For a
vocabulary of two or three characters and ``T`` of five or six that is a few
hundred texts, so ``sum_y pi(y|x) f(y)`` is a sum, not an estimate.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace

import torch

from rlcore.core.validation import check_device, check_instance, check_positive_int
from rlcore.envs.language import CharLanguageEnv, state_count
from rlcore.envs.vocabulary import Vocabulary
from rlcore.lm.model import CharLM, _check_lm
from rlcore.lm.rewards import rollout_rewards
from rlcore.lm.rollout import Rollout, rollout_from_texts, sequence_logprob
from rlcore.lm.training import check_model_env

__all__ = ["MAX_ENUMERATED", "enumerate_completions", "exact_expected_reward", "exact_kl"]

MAX_ENUMERATED = 2_000_000
"""Refuse to list more completions than this (the toy must stay a toy)."""


def enumerate_completions(vocab: Vocabulary, max_len: int, prompts: str | Sequence[str] = ("",),
                          device: torch.device | str | None = None) -> Rollout:
    """Every completion of every prompt under the length limit ``max_len``, as one [`Rollout`][].

    ``logprobs`` and ``values`` are zeros (score the rollout with a model);
    ``group_ids`` says which prompt a row completes.
    """
    check_instance(vocab, "vocab", Vocabulary)
    check_positive_int(max_len, "max_len")
    check_instance(prompts, "prompts", (str, list, tuple), "a string or a list of strings")
    device = check_device(device, "device")
    plist = [prompts] if isinstance(prompts, str) else list(prompts)
    if not plist:
        raise ValueError("prompts must hold at least one prompt (use [''] for none)")
    n = vocab.n_chars
    for p in plist:
        check_instance(p, "prompt", str)
        vocab.check(p, "prompt")
        if len(p) >= max_len:
            raise ValueError(f"prompt {p!r} leaves no room under max_len={max_len}")
    count = sum(state_count(n, max_len - len(p)) for p in plist)
    if count > MAX_ENUMERATED:
        raise ValueError(f"max_len={max_len} gives {count} completions, too many to enumerate (limit "
                         f"{MAX_ENUMERATED}); use a smaller vocabulary or max_len")
    completions, prompt_of, group = [], [], []
    for g, p in enumerate(plist):
        for t in range(max_len - len(p) + 1):   # the shorter ones end with EOS, the longest at the limit
            for chars in itertools.product(vocab.chars, repeat=t):
                completions.append("".join(chars))
                prompt_of.append(p)
                group.append(g)
    ro = rollout_from_texts(vocab, prompt_of, completions, max_len, device=device)
    return replace(ro, group_ids=torch.tensor(group, device=ro.mask.device))


def exact_expected_reward(model: CharLM, env: CharLanguageEnv, temperature: float = 1.0) -> torch.Tensor:
    """``J(theta) = (1/|prompts|) sum_x sum_y pi_theta(y|x) R(x, y)`` over every completion (differentiable).

    Prompts are weighted uniformly, as ``env.reset`` draws them; ``R = sum_t r_t``
    is the env's undiscounted return. ``J.backward()`` gives the exact policy gradient.
    """
    check_model_env(model, env)
    ro = enumerate_completions(model.vocab, env.max_len, env.prompts, device=model.device)
    logp = sequence_logprob(model, ro, temperature=temperature)
    R = rollout_rewards(env, ro).sum(-1).to(logp.dtype)
    return (logp.exp() * R).sum() / len(env.prompts)


@torch.no_grad()
def exact_kl(model: CharLM, ref: CharLM, max_len: int, temperature: float = 1.0,
             prompts: str | Sequence[str] = ("",)) -> float:
    """``KL(pi || pi_ref) = mean_x sum_y pi(y|x) [log pi(y|x) - log pi_ref(y|x)]`` over every completion."""
    if _check_lm(ref, "ref").vocab != _check_lm(model).vocab:
        raise ValueError(f"ref must write the model's vocabulary {model.vocab!r}, got {ref.vocab!r}")
    ro = enumerate_completions(model.vocab, max_len, prompts, device=model.device)
    logp = sequence_logprob(model, ro, temperature=temperature)
    ref_logp = sequence_logprob(ref, ro, temperature=temperature)
    n_prompts = int(ro.group_ids.max()) + 1
    return float((logp.exp() * (logp - ref_logp)).sum() / n_prompts)
