"""The env's rewards for a whole batch of completions, scored once per batch.

Book: *RL for large language models*, "Rewards for text".

[`CharLanguageEnv`][rlcore.envs.language.CharLanguageEnv] is the reference definition of
the task: ``r_j = [a_j != EOS] r_imm(x + y_{<=j}) + [j is the last step] r_end(x + y)``
for prompt ``x`` and completion ``y``. Stepping the env computes that one
text at a time; [`rollout_rewards`][] computes the same numbers for a
[`Rollout`][rlcore.lm.rollout_batch.Rollout] with one batched call of each reward (a
rule, a gold scorer or a learned reward model alike). The tests check that
both agree.
"""

from __future__ import annotations

import torch

from rlcore.core.validation import check_instance
from rlcore.envs.language import CharLanguageEnv
from rlcore.lm.rollout import Rollout

__all__ = ["rollout_rewards"]


def rollout_rewards(env: CharLanguageEnv, rollout: Rollout, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Per-step rewards ``r [B, L]`` of a rollout (aligned on the completion, 0 after its end).

    The delayed reward ``r_end`` of the full text lands on the last completion
    token (``EOS``, or the character that reached ``env.max_len``). Raises
    ``ValueError`` when the rollout and the env disagree on the vocabulary or
    on where an episode ends (a completion cut before the env's length limit).
    """
    check_instance(env, "env", CharLanguageEnv)
    check_instance(rollout, "rollout", Rollout)
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating torch.dtype (rewards are real numbers), got {dtype!r}")
    if rollout.vocab != env.vocab:
        raise ValueError(f"rollout vocabulary {rollout.vocab!r} differs from the env's {env.vocab!r}")
    lengths, eos = rollout.lengths.tolist(), rollout.eos.tolist()
    texts = rollout.full_texts
    for b, (text, n, e) in enumerate(zip(texts, lengths, eos)):
        if n == 0 or (not e and len(text) < env.max_len) or len(text) > env.max_len:
            raise ValueError(f"rollout row {b} ({text!r}, eos={e}) does not end where the env ends an episode "
                             f"(EOS or max_len={env.max_len}); sample with max_len=env.max_len")
    out = torch.zeros(rollout.mask.shape, dtype=dtype)
    rows = torch.arange(len(texts))
    last = torch.tensor(lengths) - 1
    if env.delayed_reward is not None and texts:
        out[rows, last] += torch.as_tensor(env.delayed_reward(texts), dtype=dtype)
    if env.immediate_reward is not None and texts:
        where, prefixes = [], []
        for b, (p, text, n, e) in enumerate(zip(rollout.prompts, texts, lengths, eos)):
            for j in range(n - int(e)):  # every character, not the EOS action
                where.append((b, j))
                prefixes.append(text[: len(p) + j + 1])
        if prefixes:
            idx = torch.tensor(where)
            out[idx[:, 0], idx[:, 1]] += torch.as_tensor(env.immediate_reward(prefixes), dtype=dtype)
    return out.to(rollout.mask.device)
