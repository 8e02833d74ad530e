"""The exact KL-regularised optimum on an enumerable toy: every completion, ``pi*``, ``Z`` and ``J*``.

Book: *RLHF*, "The KL-regularised objective" and "Direct preference optimisation".

For a prompt ``x``, a reference ``pi_ref`` and ``beta > 0`` the objective
``E_{y ~ pi}[r(x, y)] - beta KL(pi(.|x) || pi_ref(.|x))`` is maximised by

    pi*(y|x) = pi_ref(y|x) exp(r(x, y) / beta) / Z(x),   Z(x) = sum_y pi_ref(y|x) exp(r(x, y) / beta),

with value ``J*(x) = beta log Z(x)``. On a vocabulary of two or three characters
and completions of at most five or six, every ``y`` can be listed
([`rlcore.lm.exact.enumerate_completions`][]), so ``pi*``, ``Z``, ``J*`` and the
exact ``KL(pi || pi*)`` of any trained policy are sums, not estimates. Prompts are
weighted uniformly, as the env's ``reset`` draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from rlcore.core.validation import (
    check_array,
    check_callable,
    check_instance,
    check_log_probs,
    check_positive_int,
    check_real,
)
from rlcore.envs.rewards import TextReward, from_function
from rlcore.lm.exact import enumerate_completions
from rlcore.lm.model import CharLM
from rlcore.lm.rollout import Rollout, sequence_logprob

__all__ = ["ExactOptimum", "exact_optimum", "completion_logprobs", "mean_over_prompts", "kl_between",
           "tilted_logprobs"]


@torch.no_grad()
def completion_logprobs(model: CharLM, every: Rollout, temperature: float = 1.0) -> np.ndarray:
    """``log pi(y|x)`` of every enumerated completion, float64 ``[N]``."""
    check_instance(model, "model", CharLM)
    check_instance(every, "every", Rollout)
    check_real(temperature, "temperature", open_low=True)
    if model.vocab != every.vocab:
        raise ValueError(f"model vocabulary {model.vocab!r} differs from the completions' {every.vocab!r}")
    return sequence_logprob(model, every, temperature=temperature).double().cpu().numpy()


def mean_over_prompts(per_completion: np.ndarray, groups: np.ndarray) -> float:
    """``mean_x sum_{y of x} f(x, y)``: sum each prompt's completions, then average the prompts uniformly."""
    per_completion = check_array(per_completion, "per_completion", ndim=1, finite=False)
    groups = _check_groups(groups, per_completion.shape[0])
    return float(np.mean([per_completion[groups == g].sum() for g in np.unique(groups)]))


def _check_groups(groups, n: int, contiguous: bool = False) -> np.ndarray:
    """``groups`` as ``[n]`` prompt indices ``>= 0`` (``contiguous``: every index ``0 .. max`` used)."""
    groups = check_array(groups, "groups", shape=(n,), integer=True)
    if groups.min() < 0 or (contiguous and np.unique(groups).size != groups.max() + 1):
        raise ValueError(f"groups must be prompt indices 0, 1, ..., each used, got {np.unique(groups).tolist()}")
    return groups


def _per_prompt_logsumexp(values: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    out = np.empty(n)
    for g in range(n):
        v = values[groups == g]
        m = v.max()
        out[g] = m + np.log(np.exp(v - m).sum())
    return out


def kl_between(logp: np.ndarray, other_logp: np.ndarray, groups: np.ndarray) -> float:
    """``mean_x sum_y p(y|x) [log p(y|x) - log q(y|x)]`` over enumerated completions (0 log 0 = 0)."""
    logp = check_log_probs(logp, "logp")
    other_logp = check_log_probs(other_logp, "other_logp", shape=logp.shape)
    p = np.exp(logp)
    with np.errstate(invalid="ignore"):  # 0 * -inf where p puts no mass
        terms = np.where(p > 0, p * (logp - other_logp), 0.0)
    return mean_over_prompts(terms, groups)


def tilted_logprobs(ref_logp: np.ndarray, reward: np.ndarray, groups: np.ndarray, beta: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``(log pi*, log Z)`` with ``pi*(y|x) = pi_ref(y|x) exp(r(x, y) / beta) / Z(x)``, from log-probabilities.

    ``groups[i]`` is the prompt index of completion ``i`` (``0 .. n_prompts - 1``).
    """
    beta = check_real(beta, "beta", open_low=True)
    ref_logp = check_log_probs(ref_logp, "ref_logp")
    reward = check_array(reward, "reward", shape=ref_logp.shape)
    groups = _check_groups(groups, ref_logp.shape[0], contiguous=True)
    log_z = _per_prompt_logsumexp(ref_logp + reward / beta, groups, int(groups.max()) + 1)
    return ref_logp + reward / beta - log_z[groups], log_z


@dataclass(frozen=True)
class ExactOptimum:
    """``pi*`` of one (reference, reward, beta) on the toy; every array is over the enumerated completions.

    ``log_pi_star[i] = log pi_ref(y_i|x_i) + r_i / beta - log Z(x_i)``; ``log_z[g]`` and
    ``J_star[g] = beta log Z`` per prompt ``g``; ``value = mean_g J_star[g]``.
    """

    completions: Rollout = field(repr=False)
    prompts: tuple[str, ...]
    beta: float
    reward: np.ndarray = field(repr=False)
    ref_logp: np.ndarray = field(repr=False)
    log_pi_star: np.ndarray = field(repr=False)
    log_z: np.ndarray
    J_star: np.ndarray
    temperature: float = 1.0

    @property
    def value(self) -> float:
        """``J* = mean_x beta log Z(x)``: the best reward-minus-KL any policy can reach."""
        return float(self.J_star.mean())

    @property
    def groups(self) -> np.ndarray:
        return self.completions.group_ids.cpu().numpy()

    def _mean_over_prompts(self, per_completion: np.ndarray) -> float:
        return mean_over_prompts(per_completion, self.groups)

    def kl(self, model: CharLM) -> float:
        """Exact ``KL(pi_model || pi*) = mean_x sum_y pi(y|x) [log pi(y|x) - log pi*(y|x)]``."""
        return kl_between(completion_logprobs(model, self.completions, self.temperature), self.log_pi_star,
                          self.groups)

    def objective(self, model: CharLM) -> dict[str, float]:
        """Exact ``reward``, ``kl_ref`` and ``objective = reward - beta kl_ref`` of a model (``<= value``)."""
        lp = completion_logprobs(model, self.completions, self.temperature)
        p = np.exp(lp)
        reward = self._mean_over_prompts(p * self.reward)
        kl_ref = self._mean_over_prompts(p * (lp - self.ref_logp))
        return {"reward": reward, "kl_ref": kl_ref, "objective": reward - self.beta * kl_ref}

    @property
    def pi_star(self) -> np.ndarray:
        """``pi*(y_i|x_i)`` for every enumerated completion (sums to 1 per prompt)."""
        return np.exp(self.log_pi_star)

    def __repr__(self) -> str:
        return (f"ExactOptimum({len(self.reward)} completions of {len(self.prompts)} prompts, beta={self.beta:g}, "
                f"J*={self.value:.4f})")


def exact_optimum(ref_model: CharLM, reward: TextReward, beta: float, max_len: int,
                  prompts: str | Sequence[str] = ("",), temperature: float = 1.0) -> ExactOptimum:
    """Enumerate every completion and return the KL-regularised optimum ``pi*`` (see the module docstring).

    ``reward`` scores full texts (prompt followed by completion), as the env's delayed reward does.
    """
    check_instance(ref_model, "ref_model", CharLM)
    check_real(beta, "beta", open_low=True)
    check_positive_int(max_len, "max_len")
    reward = from_function(check_callable(reward, "reward"), "reward")
    every = enumerate_completions(ref_model.vocab, max_len, prompts, device=ref_model.device)
    plist = tuple([prompts] if isinstance(prompts, str) else prompts)
    r = np.asarray(reward(every.full_texts), dtype=np.float64)
    ref_logp = completion_logprobs(ref_model, every, temperature)
    groups = every.group_ids.cpu().numpy()
    log_pi_star, log_z = tilted_logprobs(ref_logp, r, groups, beta)
    beta = float(beta)
    return ExactOptimum(every, plist, beta, r, ref_logp, log_pi_star, log_z, beta * log_z, float(temperature))
