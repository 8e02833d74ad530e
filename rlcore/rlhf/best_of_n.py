"""Best-of-n sampling: draw ``n`` completions, keep the one the reward likes best, and its exact KL.

Book: *RLHF*, "Best-of-n sampling" (alignment at inference time, no training).

For ``n`` draws from ``pi`` and a reward ``r`` the chosen completion follows
``pi_n(y) = F(r(y))^n - F(r(y)^-)^n`` shared among the ``y`` of equal reward in
proportion to ``pi(y)``, where ``F(t) = P_pi(r <= t)``. The usual
``KL(pi_n || pi) = log n - (n - 1) / n`` is an upper bound (Beirami et al., 2024),
approached only when every single completion is unlikely (three equally likely texts
without ties give 0.162 for n = 2 against a bound of 0.193); [`best_of_n_kl`][]
computes the exact value on the enumerable toy so that the gap can be seen.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from rlcore.core.validation import check_array, check_callable, check_instance, check_log_probs, check_positive_int
from rlcore.envs.rewards import TextReward, from_function
from rlcore.lm.exact import enumerate_completions
from rlcore.lm.model import CharLM
from rlcore.lm.rollout import Rollout, sample
from rlcore.rlhf.exact import _check_groups, completion_logprobs, kl_between

__all__ = ["best_of_n", "normalize_per_prompt", "best_of_n_distribution", "best_of_n_kl", "best_of_n_kl_bound"]


def best_of_n(model: CharLM, prompts: str | Sequence[str], reward: TextReward, n: int, max_len: int,
              temperature: float = 1.0, generator: torch.Generator | None = None) -> tuple[Rollout, np.ndarray]:
    """For every prompt, sample ``n`` completions and keep the highest-scoring one (ties: the first drawn).

    Returns the kept rows as a [`Rollout`][rlcore.lm.rollout_batch.Rollout] and their scores.
    """
    check_instance(model, "model", CharLM)
    n, max_len = check_positive_int(n, "n"), check_positive_int(max_len, "max_len")
    reward = from_function(check_callable(reward, "reward"), "reward")
    if generator is not None:
        check_instance(generator, "generator", torch.Generator)
    ro = sample(model, prompts, int(n), max_len, temperature, generator=generator, max_len=max_len)
    scores = np.asarray(reward(ro.full_texts), dtype=np.float64).reshape(-1, int(n))
    best = np.arange(scores.shape[0]) * int(n) + scores.argmax(axis=1)
    return ro.index(torch.as_tensor(best, device=ro.mask.device)), scores.max(axis=1)


def normalize_per_prompt(logp: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """``log pi(y|x)`` shifted so that each prompt's probabilities sum to 1 in float64.

    A float32 model's probabilities over every completion sum to 1 only up to
    rounding (about 1e-6); the exact sums on the toy are taken after this.
    """
    logp = check_log_probs(logp, "logp").copy()
    groups = _check_groups(groups, logp.shape[0])
    for g in np.unique(groups):
        sel = groups == g
        m = logp[sel].max()
        logp[sel] -= m + np.log(np.exp(logp[sel] - m).sum())
    return logp


def best_of_n_distribution(logp: np.ndarray, reward: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    """``log pi_n(y|x)`` over enumerated completions, given their ``log pi(y|x)`` and rewards (see module).

    ``pi`` is renormalised per prompt first ([`normalize_per_prompt`][]).
    """
    n = check_positive_int(n, "n")
    p = np.exp(normalize_per_prompt(logp, groups))
    reward = check_array(reward, "reward", shape=p.shape)
    groups = np.asarray(groups)
    out = np.zeros_like(p)
    for g in np.unique(groups):
        sel = np.flatnonzero(groups == g)
        levels, inverse = np.unique(reward[sel], return_inverse=True)
        mass = np.bincount(inverse, weights=p[sel], minlength=len(levels))
        cdf = np.cumsum(mass)
        level_p = np.clip(cdf, 0, 1) ** n - np.clip(cdf - mass, 0, 1) ** n
        out[sel] = level_p[inverse] * p[sel] / mass[inverse]
    with np.errstate(divide="ignore"):
        return np.log(out)


def best_of_n_kl(model: CharLM, reward: TextReward, n: int, max_len: int, prompts: str | Sequence[str] = ("",),
                 temperature: float = 1.0) -> float:
    """Exact ``KL(pi_n || pi)`` of best-of-``n`` over ``model`` on the toy, averaged over prompts."""
    check_instance(model, "model", CharLM)
    check_positive_int(n, "n")
    reward = from_function(check_callable(reward, "reward"), "reward")
    every = enumerate_completions(model.vocab, max_len, prompts, device=model.device)
    groups = every.group_ids.cpu().numpy()
    logp = normalize_per_prompt(completion_logprobs(model, every, temperature), groups)
    r = np.asarray(reward(every.full_texts), dtype=np.float64)
    return kl_between(best_of_n_distribution(logp, r, groups, n), logp, groups)


def best_of_n_kl_bound(n: int) -> float:
    """``log n - (n - 1) / n``: the usual formula, an upper bound on best-of-n's KL."""
    n = check_positive_int(n, "n")
    return float(np.log(n) - (n - 1) / n)
