"""Offline alignment of a language model from a fixed log of scored texts, against online PPO, measured exactly.

Book: *Advanced techniques*, "Offline RL and language model alignment" ("A tour of offline methods" and
"Direct preference optimisation").

A reference ``pi_ref`` is sampled once, ``n`` completions per prompt, each text scored by a reward (plus,
optionally, Gaussian noise: a noisy proxy). That log ``D = {(x_i, y_i, r_i)}`` (a [`TextLog`][], drawn by
[`collect_log`][]; both live in [`rlcore.advanced.offline_lm_data`][]) is all the offline methods see:

* filtered behaviour cloning keeps the top ``q``-fraction of ``D`` by ``r`` (per prompt by default) and
  maximises the completion likelihood ``sum_{i kept} log pi(y_i|x_i)``;
* reward-weighted regression / AWR maximises ``sum_i w_i log pi(y_i|x_i)``,
  ``w_i = min(exp((r_i - b(x_i)) / T), max_weight)``, ``b(x)`` the mean logged reward of prompt ``x``;
* offline DPO turns ``D`` into preference pairs (higher logged reward = chosen), [`rlcore.rlhf.dpo.dpo`][].

Online PPO ([`rlcore.lm.ppo.ppo`][]) samples fresh text from the current policy, scored by the same reward.
[`rlcore.rlhf.overoptimisation.ToyEvaluator`][] judges every method on the enumerable toy: exact ``E_pi[r_gold]``
and ``KL(pi || pi_ref) = mean_x sum_y pi(y|x) log(pi(y|x) / pi_ref(y|x))``, sums over every completion. Only
completions are trained on: the prompt is conditioned on, never a target.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from rlcore.advanced.offline_lm_data import TextLog, collect_log  # noqa: F401 (re-exported)
from rlcore.core.validation import (
    check_callable,
    check_flag,
    check_index_array,
    check_instance,
    check_nonnegative_int,
    check_positive_int,
    check_real,
)
from rlcore.envs.language import CharLanguageEnv
from rlcore.envs.rewards import TextReward, from_function
from rlcore.lm.config import PPOConfig
from rlcore.lm.model import CharLM
from rlcore.lm.ppo import ppo
from rlcore.lm.rollout import rollout_from_texts, sequence_logprob
from rlcore.lm.training import optimizer_step
from rlcore.rlhf.dpo import DPOConfig, dpo
from rlcore.rlhf.overoptimisation import ToyEvaluator
from rlcore.rlhf.preferences import PreferenceData

__all__ = ["TextLog", "collect_log", "top_fraction_indices", "awr_weights", "weighted_nll", "fit_weighted",
           "log_preference_pairs", "filtered_bc", "awr", "offline_dpo", "DEFAULT_PPO", "online_ppo", "OfflineLMResult",
           "evaluate_method", "compare_offline"]


def _check(**args) -> None:
    """``TypeError`` unless each argument given is of its kind: ``ref``/``model`` a CharLM, ``log`` a TextLog."""
    for name, v in args.items():
        check_instance(v, name, TextLog if name == "log" else CharLM)


def _groups(log: TextLog) -> list[np.ndarray]:  # the entries of each prompt of log.prompt_set, in log order
    return [np.flatnonzero([q == p for q in log.prompts]) for p in log.prompt_set]


def top_fraction_indices(log: TextLog, top_fraction: float, per_prompt: bool = True) -> np.ndarray:
    """Entries kept by filtered cloning, in log order: the ``ceil(q n)`` highest logged rewards.

    With ``per_prompt`` (the default: rewards of different prompts need not be comparable) the rule is applied
    to each prompt's ``n_x`` entries separately, keeping ``ceil(q n_x)`` of them; otherwise to the whole log.
    Ties at the cut go to the earlier entries of the log (a stable sort on ``-r``).
    """
    _check(log=log)
    real = isinstance(top_fraction, (int, float, np.integer, np.floating)) and not isinstance(top_fraction, bool)
    q = float(top_fraction) if real else -1.0
    if not 0 < q <= 1:
        raise ValueError(f"top_fraction must lie in (0, 1], got {top_fraction!r}")
    groups = _groups(log) if check_flag(per_prompt, "per_prompt") else [np.arange(len(log))]
    keep = lambda n: max(1, math.ceil(round(q * n, 9)))  # noqa: E731  (round: 0.3 * 10 is 3.0000000000000004)
    kept = [idx[np.argsort(-log.rewards[idx], kind="stable")[: keep(len(idx))]] for idx in groups]
    return np.sort(np.concatenate(kept))


def awr_weights(log: TextLog, temperature: float = 0.2, max_weight: float | None = 20.0) -> np.ndarray:
    """AWR's weights ``w_i = min(exp((r_i - b(x_i)) / T), max_weight)``, ``b(x) = mean of r_j over entries of x``.

    ``r_i - b(x_i)`` is the logged advantage; ``max_weight`` (``None``: no clipping) caps the few entries with
    a large advantage, which would otherwise dominate the loss when ``T`` is small (Peng et al. use 20).
    """
    _check(log=log)
    T = check_real(temperature, "temperature", open_low=True)
    cap = check_real(max_weight, "max_weight", open_low=True, none=True)
    adv = log.rewards.copy()
    for idx in _groups(log):
        adv[idx] -= log.rewards[idx].mean()
    return np.exp(adv / T) if cap is None else np.minimum(np.exp(adv / T), cap)


def _check_weights(log: TextLog, weights: np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (len(log),) or not np.isfinite(w).all() or (w < 0).any():
        raise ValueError(f"weights must hold one finite number >= 0 per log entry ({len(log)}), got shape {w.shape}")
    return w


def weighted_nll(model: CharLM, log: TextLog, weights: np.ndarray, idx: np.ndarray | None = None) -> torch.Tensor:
    """``L(theta) = -(1/|B|) sum_{i in B} w_i log pi_theta(y_i | x_i)`` over the entries ``B = idx`` (default: all).

    ``log pi(y|x)`` is the completion's log-probability (``EOS`` included, the prompt conditioned on, not scored).
    """
    _check(model=model, log=log)
    w = _check_weights(log, weights)
    idx = np.arange(len(log)) if idx is None else check_index_array(idx, "idx", len(log), shape=(None,))
    ro = rollout_from_texts(log.vocab, [log.prompts[i] for i in idx], [log.completions[i] for i in idx],
                            log.max_len, device=model.device)
    wt = torch.as_tensor(w[idx], dtype=model.dtype, device=model.device)
    return -(wt * sequence_logprob(model, ro)).mean()


def fit_weighted(model: CharLM, log: TextLog, weights: np.ndarray, *, epochs: int = 30, learning_rate: float = 3e-3,
                 batch_size: int = 64, seed: int = 0) -> np.ndarray:
    """Minimise [`weighted_nll`][] with Adam over shuffled batches of the entries with ``w_i > 0``; in place.

    Returns the loss of every step; gradients are clipped to norm 1; ``seed`` seeds the shuffling.
    """
    _check(model=model, log=log)
    w, epochs, batch_size = _check_weights(log, weights), check_positive_int(epochs, "epochs"), \
        check_positive_int(batch_size, "batch_size")
    check_real(learning_rate, "learning_rate", open_low=True)
    rows = np.flatnonzero(w > 0)
    if len(rows) == 0:
        raise ValueError("weights must give at least one log entry a weight > 0, got all zeros")
    g = torch.Generator().manual_seed(check_nonnegative_int(seed, "seed"))
    opt, losses = torch.optim.Adam(model.parameters(), lr=learning_rate), []
    model.train()
    for _ in range(epochs):
        for part in torch.split(torch.randperm(len(rows), generator=g), batch_size):
            loss = weighted_nll(model, log, w, rows[part.numpy()])
            optimizer_step(opt, model, loss, max_grad_norm=1.0)
            losses.append(float(loss.detach()))
    model.eval()
    return np.asarray(losses)


def log_preference_pairs(log: TextLog, max_pairs_per_prompt: int | None = None, seed: int = 0) -> PreferenceData:
    """Preference pairs from the log: for each prompt, every ``(i, j)``, ``i < j`` in log order, of its entries
    with ``r_i != r_j`` and ``y_i != y_j``; the completion with the higher logged reward is chosen (hard label).

    A prompt with ``n_x`` entries gives at most ``n_x (n_x - 1) / 2`` pairs (a pair recurs as often as the log's
    duplicates make it); ``max_pairs_per_prompt`` keeps a seeded random subset of that many per prompt, in order.
    """
    _check(log=log)
    cap = check_positive_int(max_pairs_per_prompt, "max_pairs_per_prompt", none=True)
    rng = np.random.default_rng(check_nonnegative_int(seed, "seed"))
    out: list[tuple[str, str, str]] = []
    for p, idx in zip(log.prompt_set, _groups(log)):
        pairs = [(i, j) for a, i in enumerate(idx) for j in idx[a + 1:]
                 if log.rewards[i] != log.rewards[j] and log.completions[i] != log.completions[j]]
        if cap is not None and len(pairs) > cap:
            pairs = [pairs[k] for k in np.sort(rng.choice(len(pairs), cap, replace=False))]
        for i, j in pairs:
            hi, lo = (i, j) if log.rewards[i] > log.rewards[j] else (j, i)
            out.append((p, log.completions[hi], log.completions[lo]))
    if not out:
        raise ValueError("log has no two different completions of one prompt with different rewards: no pairs")
    return PreferenceData(*zip(*out), log.vocab, log.max_len)


def filtered_bc(ref: CharLM, log: TextLog, top_fraction: float = 0.25, per_prompt: bool = True, *, epochs: int = 30,
                learning_rate: float = 3e-3, batch_size: int = 64, seed: int = 0) -> CharLM:
    """A copy of ``ref`` trained on ``-(1/|K|) sum_{i in K} log pi(y_i|x_i)``, ``K`` = [`top_fraction_indices`][]."""
    _check(ref=ref, log=log)
    w = np.isin(np.arange(len(log)), top_fraction_indices(log, top_fraction, per_prompt)).astype(np.float64)
    model = copy.deepcopy(ref)
    fit_weighted(model, log, w, epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, seed=seed)
    return model


def awr(ref: CharLM, log: TextLog, temperature: float = 0.2, max_weight: float | None = 20.0, *, epochs: int = 30,
        learning_rate: float = 3e-3, batch_size: int = 64, seed: int = 0) -> CharLM:
    """A copy of ``ref`` trained on ``-(1/n) sum_i w_i log pi(y_i|x_i)`` with the [`awr_weights`][] of the log."""
    _check(ref=ref, log=log)
    model = copy.deepcopy(ref)
    fit_weighted(model, log, awr_weights(log, temperature, max_weight), epochs=epochs, learning_rate=learning_rate,
                 batch_size=batch_size, seed=seed)
    return model


def offline_dpo(ref: CharLM, log: TextLog, beta: float = 0.5, max_pairs_per_prompt: int | None = 1000, *,
                epochs: int = 5, learning_rate: float = 3e-3, batch_size: int = 256, seed: int = 0) -> CharLM:
    """A copy of ``ref`` trained by DPO on [`log_preference_pairs`][]: minimise the mean of ``-log sigma(beta h)``,
    ``h = log(pi(y_c|x) / pi_ref(y_c|x)) - log(pi(y_r|x) / pi_ref(y_r|x))`` ([`rlcore.rlhf.dpo`][]).

    ``ref`` is the DPO reference, so the implicit KL anchor is to the policy that wrote the log.
    """
    _check(ref=ref, log=log)
    data = log_preference_pairs(log, max_pairs_per_prompt, seed)
    model = copy.deepcopy(ref)
    dpo(model, data, DPOConfig(beta=beta, num_train_epochs=epochs, learning_rate=learning_rate,
                               batch_size=min(batch_size, len(data)), seed=seed), ref_model=ref)
    return model


DEFAULT_PPO = PPOConfig(n_iterations=10, batch_size=128, num_generations=8, kl_coef=0.1, learning_rate=3e-3)
"""Online PPO's default: 10 iterations of 128 completions, per-token reward ``r_t - 0.1 log(pi / pi_ref)``."""


def online_ppo(ref: CharLM, reward: TextReward, prompts: Sequence[str], max_len: int,
               config: PPOConfig | None = None, seed: int = 0) -> CharLM:
    """A copy of ``ref`` trained by PPO on ``CharLanguageEnv(delayed_reward=reward)``, KL-anchored to ``ref``.

    The config's seed is replaced by ``seed``; ``config`` defaults to [`DEFAULT_PPO`][].
    """
    _check(ref=ref), check_callable(reward, "reward")
    cfg = DEFAULT_PPO if config is None else check_instance(config, "config", PPOConfig)
    env = CharLanguageEnv(ref.vocab, max_len, delayed_reward=from_function(reward, "reward"), prompts=tuple(prompts))
    model = copy.deepcopy(ref)
    ppo(model, env, replace(cfg, seed=check_nonnegative_int(seed, "seed")), ref_model=ref)
    return model


@dataclass(frozen=True)
class OfflineLMResult:
    """One method's exact ``E_pi[r_gold]`` and ``KL(pi || pi_ref)`` on the toy, and the size of the log it had."""

    method: str
    gold_reward: float
    kl: float
    log_size: int
    fresh_samples: int = 0
    """texts the method sampled and had scored beyond the log (online PPO: iterations x batch size)"""
    model: CharLM | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        return (f"OfflineLMResult({self.method}: gold {self.gold_reward:.4f}, KL {self.kl:.4f}, log {self.log_size}, "
                f"fresh samples {self.fresh_samples})")


def evaluate_method(method: str, model: CharLM, evaluator: ToyEvaluator, log_size: int, fresh_samples: int = 0,
                    gold: str = "gold") -> OfflineLMResult:
    """Exact gold reward and KL of ``model`` by ``evaluator`` (whose reward ``gold`` is the judge)."""
    check_instance(method, "method", str), _check(model=model)
    _check_gold(check_instance(evaluator, "evaluator", ToyEvaluator), gold)
    log_size, fresh_samples = check_nonnegative_int(log_size, "log_size"), check_nonnegative_int(fresh_samples,
                                                                                                "fresh_samples")
    stats = evaluator.evaluate(model)
    return OfflineLMResult(method, stats[gold], stats["kl"], log_size, fresh_samples, model)


def _check_gold(evaluator: ToyEvaluator, gold: str) -> None:
    if not isinstance(gold, str) or gold not in evaluator.scores:
        raise ValueError(f"gold must name one of the evaluator's rewards {sorted(evaluator.scores)}, got {gold!r}")


def compare_offline(ref: CharLM, log: TextLog, reward: TextReward, evaluator: ToyEvaluator, *,
                    top_fraction: float = 0.25, temperature: float = 0.2, max_weight: float | None = 20.0,
                    beta: float = 0.5, ppo_config: PPOConfig | None = None, seed: int = 0,
                    gold: str = "gold") -> dict[str, OfflineLMResult]:
    """``reference``, ``filtered_bc``, ``awr``, ``offline_dpo`` (all from ``log``) and ``online_ppo`` (on
    ``reward``, the log's reward without its noise), each evaluated exactly; every method uses ``seed``.
    ``evaluator`` must be built on ``ref`` (the KL is to its reference), the log's prompts and ``max_len``.
    Every argument is checked before the first model trains."""
    _check(ref=ref, log=log), check_callable(reward, "reward"), check_instance(evaluator, "evaluator", ToyEvaluator)
    top_fraction_indices(log, top_fraction), awr_weights(log, temperature, max_weight)
    check_real(beta, "beta", 0, True), check_nonnegative_int(seed, "seed"), _check_gold(evaluator, gold)
    if ppo_config is not None:
        check_instance(ppo_config, "ppo_config", PPOConfig)
    if evaluator.ref is not ref or evaluator.max_len != log.max_len or set(evaluator.prompts) != set(log.prompt_set):
        raise ValueError(f"evaluator must be built on ref, the log's prompts {log.prompt_set} and max_len="
                         f"{log.max_len}, got prompts {evaluator.prompts} and max_len={evaluator.max_len}")
    cfg = ppo_config or DEFAULT_PPO
    models = {"reference": ref,
              "filtered_bc": filtered_bc(ref, log, top_fraction, seed=seed),
              "awr": awr(ref, log, temperature, max_weight, seed=seed),
              "offline_dpo": offline_dpo(ref, log, beta, seed=seed),
              "online_ppo": online_ppo(ref, reward, log.prompt_set, log.max_len, cfg, seed=seed)}
    return {name: evaluate_method(name, m, evaluator, len(log), cfg.n_iterations * cfg.batch_size
                                  if name == "online_ppo" else 0, gold) for name, m in models.items()}
