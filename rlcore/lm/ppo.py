"""Proximal policy optimisation on the language MDP (Schulman et al., 2017), with a KL anchor to a reference.

Book: *RL for large language models*, "Proximal policy optimisation"; *RLHF*, "The KL penalty".

Each iteration collects a batch of prompted completions, scores it once with
the current policy (the "old" policy), computes GAE advantages
([`rlcore.core.returns.gae`][]) on ``r_t - kl_coef * k_t`` (or keeps the KL in
the loss), and takes ``num_ppo_epochs`` passes of clipped updates over
``num_mini_batches`` shuffled minibatches.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from rlcore.core.returns import gae
from rlcore.core.validation import check_flag, check_instance, check_positive_int, check_real, check_tensor
from rlcore.envs.language import CharLanguageEnv
from rlcore.lm.config import PPOConfig
from rlcore.lm.kl import AdaptiveKLController
from rlcore.lm.losses import (
    aggregate,
    clipped_value_loss,
    explained_variance,
    masked_mean,
    normalize_advantages,
    ppo_policy_loss,
)
from rlcore.lm.model import CharLM, _check_lm
from rlcore.lm.rewards import rollout_rewards
from rlcore.lm.rollout import Rollout, score
from rlcore.lm.training import (
    PGResult,
    accumulated_step,
    check_model_env,
    sample_batch,
    start_training,
    token_kl,
)

__all__ = ["Batch", "collect", "ppo_loss", "ppo"]


@dataclass
class Batch:
    """One PPO batch: a rollout with its old log-probs/values, rewards and GAE advantages (all ``[B, L]``)."""

    rollout: Rollout
    task_rewards: torch.Tensor
    rewards: torch.Tensor
    old_logprobs: torch.Tensor
    old_values: torch.Tensor
    ref_logprobs: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor
    order: torch.Tensor
    """row permutation of the first epoch (old log-probs were scored minibatch by minibatch in this order)"""

    def __post_init__(self) -> None:
        check_instance(self.rollout, "rollout", Rollout)
        shape = tuple(self.rollout.mask.shape)
        for name in ("task_rewards", "rewards", "old_logprobs", "old_values", "ref_logprobs", "advantages",
                     "returns"):
            check_tensor(getattr(self, name), name, shape=shape)
        check_tensor(self.order, "order", shape=shape[:1], kind="integer")


def _minibatches(order: torch.Tensor, n: int) -> list[torch.Tensor]:
    return [c for c in torch.tensor_split(order, min(n, len(order))) if len(c)]


def _score_rows(model: CharLM, ro: Rollout, idx: torch.Tensor, temperature: float):
    return score(model, ro.tokens[idx], ro.mask[idx], temperature, ro.prompt_lengths[idx])


@torch.no_grad()
def collect(model: CharLM, env: CharLanguageEnv, cfg: PPOConfig, ref: CharLM, generator: torch.Generator,
            kl_coef: float | None = None, rows: int | None = None) -> Batch:
    """Sample a batch, score it, apply the KL penalty and compute GAE.

    With ``kl_penalty="reward"``: ``r_t = r_task_t - kl_coef * k(log pi_old, log pi_ref)_t``;
    ``(A, R) = gae(r, V_old, gamma, lam)`` with ``done`` at the last completion token:
    the env terminates at ``EOS`` and at its length limit alike, so nothing is
    bootstrapped past the end. Old and reference log-probs are scored by the
    same batched forward pass the update uses, minibatch by minibatch in the
    first epoch's order, so the first minibatch has ratio exactly 1 and a
    reference equal to the policy gives a KL of exactly 0. ``kl_coef`` overrides the
    config's (the adaptive controller's current value); ``missing_eos_penalty`` is
    subtracted at the last token of every completion that has no ``EOS``; ``rows`` (default
    ``batch_size``) is the size of this (micro-)batch.
    """
    check_model_env(model, env)
    check_instance(cfg, "cfg", PPOConfig)
    if _check_lm(ref, "ref").vocab != model.vocab:
        raise ValueError(f"ref must write the model's vocabulary {model.vocab!r}, got {ref.vocab!r}")
    check_instance(generator, "generator", torch.Generator)
    check_real(kl_coef, "kl_coef", 0.0, none=True)
    check_positive_int(rows, "rows", none=True)
    beta = cfg.kl_coef if kl_coef is None else kl_coef
    ro = sample_batch(model, env, cfg, generator, rows)
    mask = ro.mask
    B, L = mask.shape
    order = torch.randperm(B, generator=generator, device=generator.device)
    old_logp, old_v, ref_logp = (torch.zeros(B, L, device=mask.device, dtype=model.dtype) for _ in range(3))
    model.eval()
    for idx in _minibatches(order, cfg.num_mini_batches):
        lp, v, _ = _score_rows(model, ro, idx, cfg.temperature)
        old_logp[idx], old_v[idx] = lp, v
        ref_logp[idx] = _score_rows(ref, ro, idx, cfg.temperature)[0]
    task_r = rollout_rewards(env, ro)
    if cfg.missing_eos_penalty is not None:
        rows = torch.arange(B, device=mask.device)
        task_r[rows, ro.lengths - 1] -= cfg.missing_eos_penalty * (~ro.eos).to(task_r.dtype)
    rewards = task_r.to(old_logp.dtype)
    if cfg.kl_penalty == "reward":
        rewards = rewards - beta * token_kl(old_logp, ref_logp, mask, cfg.kl_estimator)
    dones = torch.arange(L, device=mask.device)[None, :] == (ro.lengths[:, None] - 1)
    adv, ret = gae(rewards, old_v, cfg.gamma, cfg.lam, dones=dones)
    zero = torch.zeros_like(adv)
    return Batch(ro, task_r, rewards, old_logp, old_v, ref_logp, torch.where(mask, adv, zero),
                 torch.where(mask, ret, zero), order)


def ppo_loss(model: CharLM, batch: Batch, idx: torch.Tensor, cfg: PPOConfig,
             kl_coef: float | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """Total PPO loss on the rows ``idx``: ``L_clip + vf_coef L_V - ent_coef H`` (``+ kl_coef KL`` in loss mode)."""
    _check_lm(model)
    check_instance(batch, "batch", Batch)
    check_tensor(idx, "idx", ndim=1, kind="integer")
    B = len(batch.rollout)
    if idx.numel() == 0 or (not idx.is_meta and bool(((idx < 0) | (idx >= B)).any())):
        raise ValueError(f"idx must hold at least one row number, each in [0, {B}), got {idx.tolist()}")
    check_instance(cfg, "cfg", PPOConfig)
    check_real(kl_coef, "kl_coef", 0.0, none=True)
    mask = batch.rollout.mask[idx]
    logp, values, ent = _score_rows(model, batch.rollout, idx, cfg.temperature)
    adv = batch.advantages[idx]
    if cfg.norm_adv:
        adv = normalize_advantages(adv, mask)
    pg, stats = ppo_policy_loss(logp, batch.old_logprobs[idx], adv, mask, cfg.cliprange, cfg.loss_agg)
    vl = clipped_value_loss(values, batch.old_values[idx], batch.returns[idx], mask, cfg.cliprange_value,
                            cfg.loss_agg)
    entropy = aggregate(ent, mask, cfg.loss_agg)
    loss = pg + cfg.vf_coef * vl - cfg.ent_coef * entropy
    if cfg.kl_penalty == "loss":
        kl = aggregate(token_kl(logp, batch.ref_logprobs[idx], mask, cfg.kl_estimator), mask, cfg.loss_agg)
        loss = loss + (cfg.kl_coef if kl_coef is None else kl_coef) * kl
    with torch.no_grad():
        moved = (values - batch.old_values[idx]).abs()
        vf_clipped = moved > cfg.cliprange_value if cfg.cliprange_value is not None else torch.zeros_like(mask)
        vf_clipfrac = float(masked_mean(vf_clipped.to(values.dtype), mask))
    stats.update(pg_loss=float(pg.detach()), value_loss=float(vl.detach()), entropy=float(entropy.detach()),
                 vf_clipfrac=vf_clipfrac)
    return loss, stats


def ppo(model: CharLM, env: CharLanguageEnv, config: PPOConfig | None = None, ref_model: CharLM | None = None,
        progress: bool = False) -> PGResult:
    """Proximal policy optimisation with a value head, GAE and an optional KL anchor to a reference.

    For each iteration: [`collect`][] a batch, then for ``num_ppo_epochs`` shuffle
    it into ``num_mini_batches`` and minimise [`ppo_loss`][] with Adam, stopping
    the epochs early once ``approx_kl > target_kl``. With ``kl_target`` the KL
    coefficient follows [`rlcore.lm.kl.AdaptiveKLController`][]. ``history`` also
    carries TRL's names (``objective/kl``, ``objective/entropy``, ``objective/rlhf_reward``,
    ``policy/approxkl``, ``policy/clipfrac``, ``val/clipfrac``). ``model`` is trained in
    place; ``ref_model`` defaults to a frozen copy of the initial model. Under ``torchrun`` (or with
    ``gradient_accumulation_steps > 1``) every micro-batch is collected, whitened and cut into
    minibatches on its own, each minibatch step follows the mean of the micro-batches' losses,
    and the early stop reads ``approx_kl`` averaged over all of them ([`rlcore.lm.parallel`][]).
    """
    cfg = PPOConfig() if config is None else check_instance(config, "config", PPOConfig)
    check_model_env(model, env)
    if getattr(model, "value", None) is None:
        raise ValueError("model must have a value head: PPO's critic V(s_t) is CharLM(value_head=True)")
    check_flag(progress, "progress")
    if cfg.kl_target is not None and cfg.kl_coef <= 0:
        raise ValueError("PPOConfig.kl_target needs a starting kl_coef > 0 for the adaptive controller to scale")
    tr = start_training(model, env, cfg, ref_model, adam_eps=1e-5, uses_value_head=True)
    keys = ("reward", "kl_ref", "entropy", "length", "approx_kl", "clipfrac", "pg_loss", "value_loss",
            "explained_variance", "epochs", "first_ratio_dev", "first_approx_kl", "first_clipfrac", "time",
            "objective/kl", "objective/entropy", "objective/rlhf_reward", "objective/kl_coef", "policy/approxkl",
            "policy/clipfrac", "val/clipfrac")
    hist: dict[str, list[float]] = {k: [] for k in keys}
    controller = AdaptiveKLController(cfg.kl_coef, cfg.kl_target, cfg.kl_horizon) if cfg.kl_target else None
    start = time.perf_counter()
    batches: list[Batch] = []
    for _ in tqdm(range(cfg.n_iterations), disable=not progress or not tr.world.is_main, desc="ppo", leave=False):
        beta = controller.value if controller is not None else cfg.kl_coef
        batches = [collect(model, env, cfg, tr.ref, g, beta, tr.rows) for g in tr.generators]
        model.eval()  # no dropout in CharLM; eval keeps scoring identical to collection
        per_mb: list[dict[str, float]] = []
        epochs_done, stop = 0, False
        for epoch in range(cfg.num_ppo_epochs):
            chunks = [_minibatches(b.order if epoch == 0 else torch.randperm(tr.rows, generator=g, device=g.device),
                                   cfg.num_mini_batches) for b, g in zip(batches, tr.generators)]
            for k in range(len(chunks[0])):
                items = [(b, c[k]) for b, c in zip(batches, chunks)]
                st = tr.mean_stats(accumulated_step(tr.opt, tr.net, items,
                                                    lambda net, it, beta=beta: ppo_loss(net, it[0], it[1], cfg, beta),
                                                    cfg.max_grad_norm))
                per_mb.append(st)
                if cfg.target_kl is not None and st["approx_kl"] > cfg.target_kl:
                    stop = True
                    break
            epochs_done += 1
            if stop:
                break
        first = per_mb[0]
        for k in ("ratio_dev", "approx_kl", "clipfrac"):
            hist[f"first_{k}"].append(first[k])
        for k in ("approx_kl", "clipfrac", "pg_loss", "value_loss", "entropy"):
            hist[k].append(float(np.mean([s[k] for s in per_mb])))
        hist["epochs"].append(epochs_done)
        reward, kl_ref, length, ev, ent = (tr.mean(v) for v in zip(*[(
            float(b.task_rewards.sum(1).mean()),
            float(token_kl(b.old_logprobs, b.ref_logprobs, b.rollout.mask, cfg.kl_estimator).sum(1).mean()),
            float(b.rollout.lengths.float().mean()),
            explained_variance(b.old_values, b.returns, b.rollout.mask),
            float(-b.old_logprobs.sum(1).mean())) for b in batches]))
        hist["reward"].append(reward)
        hist["kl_ref"].append(kl_ref)
        hist["length"].append(length)
        hist["explained_variance"].append(ev)
        # the same quantities under the names TRL logs them
        hist["objective/kl"].append(kl_ref)
        hist["objective/entropy"].append(ent)
        hist["objective/rlhf_reward"].append(reward - beta * kl_ref)
        hist["objective/kl_coef"].append(beta)
        hist["policy/approxkl"].append(hist["approx_kl"][-1])
        hist["policy/clipfrac"].append(hist["clipfrac"][-1])
        hist["val/clipfrac"].append(float(np.mean([s["vf_clipfrac"] for s in per_mb])))
        if controller is not None:
            controller.update(kl_ref, cfg.batch_size)
        hist["time"].append(time.perf_counter() - start)
        if cfg.time_limit is not None and tr.mean([hist["time"][-1]]) > cfg.time_limit:
            break
    model.eval()
    samples = batches[0].rollout.texts if batches else []
    return PGResult(model, {k: np.asarray(v, dtype=float) for k, v in hist.items()}, cfg,
                    time.perf_counter() - start, samples)
