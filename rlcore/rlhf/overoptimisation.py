"""Reward over-optimisation on the toy, measured exactly, and the fitted forms of Gao et al. (ICML 2023).

Book: *RLHF*, "Reward hacking and over-optimisation".

A policy optimised against a learned *proxy* reward first gains *gold* reward,
then loses it as it moves further from the reference and finds the proxy's
mistakes. Gao, Schulman & Hilton (2023) measure the distance by
``d = sqrt(KL(pi || pi_ref))`` and fit the gold reward's gain over the reference by

    best-of-n:  R(d) = d (alpha - beta d)          peak at d = alpha / (2 beta)
    RL:         R(d) = d (alpha - beta log d)      peak at d = exp(alpha / beta - 1)

On the toy every number is a sum over all completions: [`ToyEvaluator`][]
gives the exact KL to the reference and the exact expected value of each reward,
for a trained model, for any distribution given by its log-probabilities, and for
best-of-``n`` under any ranking reward.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from rlcore.core.validation import (
    check_array,
    check_callable,
    check_choice,
    check_instance,
    check_log_probs,
    check_positive_int,
    check_real,
)
from rlcore.envs.language import CharLanguageEnv
from rlcore.envs.rewards import TextReward, from_function
from rlcore.lm.exact import enumerate_completions
from rlcore.lm.model import CharLM
from rlcore.lm.ppo import PPOConfig, ppo
from rlcore.rlhf.best_of_n import best_of_n_distribution, normalize_per_prompt
from rlcore.rlhf.config import check_trainer_inputs
from rlcore.rlhf.exact import completion_logprobs, kl_between, mean_over_prompts

__all__ = ["GAO_FORMS", "ToyEvaluator", "gao_curve", "fit_gao", "GaoFit", "ppo_curve"]

GAO_FORMS = ("bon", "rl")
"""``"bon"``: ``d (alpha - beta d)``; ``"rl"``: ``d (alpha - beta log d)``."""


class ToyEvaluator:
    """Exact statistics of policies on the toy: ``KL(pi || pi_ref)``, ``d`` and ``E_pi[r]`` for named rewards."""

    def __init__(self, ref: CharLM, max_len: int, prompts: str | Sequence[str],
                 rewards: Mapping[str, TextReward]) -> None:
        check_instance(ref, "ref", CharLM)
        check_instance(rewards, "rewards", Mapping, "a mapping name -> TextReward")
        if not rewards:
            raise ValueError("rewards must name at least one reward, got none")
        for name, r in rewards.items():
            check_callable(r, f"rewards[{name!r}]")
        self.ref, self.max_len = ref, check_positive_int(max_len, "max_len")
        self.prompts = tuple([prompts] if isinstance(prompts, str) else prompts)
        self.every = enumerate_completions(ref.vocab, self.max_len, self.prompts, device=ref.device)
        self.groups = self.every.group_ids.cpu().numpy()
        self.ref_logp = normalize_per_prompt(completion_logprobs(ref, self.every), self.groups)
        texts = self.every.full_texts
        self.scores = {name: np.asarray(from_function(r, name)(texts), dtype=np.float64) for name, r in rewards.items()}

    def evaluate_logp(self, logp: np.ndarray) -> dict[str, float]:
        """``kl``, ``d = sqrt(kl)`` and ``E[r]`` per reward of the distribution ``exp(logp)`` over the completions.

        ``logp`` is renormalised per prompt first
        ([`normalize_per_prompt`][rlcore.rlhf.best_of_n.normalize_per_prompt]).
        """
        logp = check_log_probs(logp, "logp", shape=self.ref_logp.shape)
        logp = normalize_per_prompt(logp, self.groups)
        p = np.exp(logp)
        kl = max(kl_between(logp, self.ref_logp, self.groups), 0.0)
        out = {"kl": kl, "d": float(np.sqrt(kl))}
        for name, r in self.scores.items():
            out[name] = mean_over_prompts(p * r, self.groups)
        return out

    def evaluate(self, model: CharLM) -> dict[str, float]:
        """[`evaluate_logp`][] of a model's own distribution."""
        return self.evaluate_logp(completion_logprobs(model, self.every))

    def best_of_n(self, n: int, rank_by: str) -> dict[str, float]:
        """Exact statistics of best-of-``n`` over the reference, ranking by the reward ``rank_by``."""
        check_choice(rank_by, "rank_by", sorted(self.scores))
        n = check_positive_int(n, "n")
        return self.evaluate_logp(best_of_n_distribution(self.ref_logp, self.scores[rank_by], self.groups, int(n)))

    def __repr__(self) -> str:
        return (f"ToyEvaluator({len(self.ref_logp)} completions of {len(self.prompts)} prompts, "
                f"rewards {sorted(self.scores)})")


def gao_curve(d: np.ndarray, alpha: float, beta: float, form: str) -> np.ndarray:
    """``d (alpha - beta d)`` (``form="bon"``) or ``d (alpha - beta log d)`` (``form="rl"``; 0 at d = 0)."""
    check_choice(form, "form", GAO_FORMS)
    alpha, beta = check_real(alpha, "alpha", low=-np.inf), check_real(beta, "beta", low=-np.inf)
    d = check_array(d, "d", allow_empty=True)
    if (d < 0).any():
        raise ValueError(f"d must be >= 0 (d = sqrt(KL)), got {d.min():g}")
    if form == "bon":
        return d * (alpha - beta * d)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d > 0, d * (alpha - beta * np.log(np.where(d > 0, d, 1.0))), 0.0)


@dataclass(frozen=True)
class GaoFit:
    """A least-squares fit of [`gao_curve`][] to measured gold-reward gains."""

    form: str
    alpha: float
    beta: float
    rmse: float
    d: np.ndarray = field(repr=False)
    gain: np.ndarray = field(repr=False)

    @property
    def peak_d(self) -> float:
        """Where the fitted curve peaks (``inf`` when ``beta <= 0``: no peak)."""
        if self.beta <= 0:
            return float("inf")
        return self.alpha / (2 * self.beta) if self.form == "bon" else float(np.exp(self.alpha / self.beta - 1))

    def __call__(self, d: np.ndarray) -> np.ndarray:
        return gao_curve(d, self.alpha, self.beta, self.form)

    def __repr__(self) -> str:
        shape = "d (alpha - beta d)" if self.form == "bon" else "d (alpha - beta log d)"
        return (f"GaoFit({shape}: alpha={self.alpha:.4f}, beta={self.beta:.4f}, peak at d={self.peak_d:.3f}, "
                f"rmse {self.rmse:.4f})")


def fit_gao(d: Sequence[float], gain: Sequence[float], form: str) -> GaoFit:
    """Fit ``gain ~ gao_curve(d, alpha, beta, form)``; the model is linear in ``(alpha, beta)``, so this is exact."""
    check_choice(form, "form", GAO_FORMS)
    d = check_array(d, "d", ndim=1)
    gain = check_array(gain, "gain", shape=d.shape)
    keep = d > 0  # d = 0 carries no information (both forms are 0 there)
    if (d < 0).any() or keep.sum() < 2:
        raise ValueError(f"d must be >= 0 with at least two finite points > 0 (d = sqrt(KL)), got {d.tolist()}")
    dk = d[keep]
    second = dk ** 2 if form == "bon" else dk * np.log(dk)
    X = np.stack([dk, -second], axis=1)
    (alpha, beta), *_ = np.linalg.lstsq(X, gain[keep], rcond=None)
    rmse = float(np.sqrt(np.mean((X @ np.array([alpha, beta]) - gain[keep]) ** 2)))
    return GaoFit(form, float(alpha), float(beta), rmse, d, gain)


def ppo_curve(model: CharLM, env: CharLanguageEnv, evaluator: ToyEvaluator, config: PPOConfig, n_chunks: int,
              ref_model: CharLM | None = None, progress: bool = False) -> list[dict[str, float]]:
    """Train ``model`` with PPO on ``env`` in ``n_chunks`` runs of ``config``; exact statistics before and after each.

    Chunk ``k`` uses seed ``config.seed + k`` (so the whole curve is reproducible);
    every statistic is [`ToyEvaluator.evaluate`][] of the model at that point.
    """
    from dataclasses import replace

    from tqdm.auto import tqdm

    n_chunks = check_positive_int(n_chunks, "n_chunks")
    check_instance(config, "config", PPOConfig)
    check_instance(evaluator, "evaluator", ToyEvaluator)
    check_trainer_inputs(model, env, ref_model, progress)
    ref = ref_model if ref_model is not None else evaluator.ref
    points = [dict(evaluator.evaluate(model), iterations=0)]
    for k in tqdm(range(int(n_chunks)), disable=not progress, desc="PPO", leave=False):
        ppo(model, env, replace(config, seed=config.seed + k), ref_model=ref)
        points.append(dict(evaluator.evaluate(model), iterations=(k + 1) * config.n_iterations))
    return points
