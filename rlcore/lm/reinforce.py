"""REINFORCE on the language MDP (Williams, 1992), with or without a baseline.

Book: *RL for large language models*, "Policy gradients".

It maximises ``J(theta) = E_{x, y ~ pi_theta}[R(x, y)]`` with the policy-gradient theorem

``grad J = E[ sum_t grad log pi_theta(a_t | s_t) (G_t - b(s_t)) ]``,

where ``G_t = sum_{k>=t} gamma^(k-t) r_k`` ([`rlcore.core.returns.discounted_returns`][])
and any baseline ``b`` that does not depend on ``a_t`` leaves it unbiased.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rlcore.core.returns import discounted_returns
from rlcore.core.validation import check_flag, check_instance, check_positive_int, check_tensor
from rlcore.envs.language import CharLanguageEnv
from rlcore.lm.config import ReinforceConfig
from rlcore.lm.losses import aggregate, clipped_value_loss, masked_mean, reinforce_loss
from rlcore.lm.model import CharLM
from rlcore.lm.rewards import rollout_rewards
from rlcore.lm.rollout import score
from rlcore.lm.training import (
    PGResult,
    check_model_env,
    generator_for,
    sample_batch,
    start_training,
    token_kl,
    train_per_batch,
)

__all__ = ["leave_one_out_baseline", "reinforce", "baseline_variance_ratio"]


def leave_one_out_baseline(G: torch.Tensor, group_size: int | None = None) -> torch.Tensor:
    """``b_i = (sum_{k != i} G_k) / (n - 1)`` at every step, over groups of ``group_size`` consecutive rows.

    ``group_size=None`` uses the whole batch as one group. A group of one row gets ``b = 0``.
    ``b_i`` never reads ``G_i``, so ``G_i - b_i`` keeps the gradient unbiased.
    """
    check_tensor(G, "G", finite=True)
    if G.ndim == 0 or G.shape[0] == 0:
        raise ValueError(f"G must hold at least one row (shape [B] or [B, L]), got shape {tuple(G.shape)}")
    n = G.shape[0] if group_size is None else check_positive_int(group_size, "group_size")
    if n < 1 or G.shape[0] % n:
        raise ValueError(f"group_size must divide the batch of {G.shape[0]} rows, got {group_size!r}")
    if n == 1:
        return torch.zeros_like(G)
    grouped = G.reshape(-1, n, *G.shape[1:])
    return ((grouped.sum(1, keepdim=True) - grouped) / (n - 1)).reshape(G.shape)


def reinforce(model: CharLM, env: CharLanguageEnv, config: ReinforceConfig | None = None,
              ref_model: CharLM | None = None, progress: bool = False) -> PGResult:
    """REINFORCE, one gradient step per batch of prompted completions.

    ``theta <- theta + alpha * agg_t[ grad log pi(a_t|s_t) (G_t - b_t) ]``. With
    ``kl_penalty="reward"`` the returns are those of ``r_t - kl_coef * k(log pi, log pi_ref)``;
    with ``"loss"`` the term ``kl_coef * agg(k)`` is added to the loss. ``model`` is
    trained in place; ``ref_model`` defaults to a frozen copy of the initial model.
    """
    cfg = ReinforceConfig() if config is None else check_instance(config, "config", ReinforceConfig)
    check_model_env(model, env)
    check_flag(progress, "progress")
    if cfg.baseline == "value" and model.value is None:
        raise ValueError("ReinforceConfig.baseline='value' needs a model with a value head")
    tr = start_training(model, env, cfg, ref_model, uses_value_head=cfg.baseline == "value")

    def micro_batch_loss(net, ro):
        mask = ro.mask
        task_r = rollout_rewards(env, ro)
        logp, values, ent = score(net, ro)
        with torch.no_grad():
            ref_logp = score(tr.ref, ro)[0]
        kl_tok = token_kl(logp, ref_logp, mask, cfg.kl_estimator)
        rewards = task_r.to(logp.dtype)
        if cfg.kl_penalty == "reward":
            rewards = rewards - cfg.kl_coef * kl_tok.detach()
        G = discounted_returns(rewards, cfg.gamma)
        if cfg.baseline == "none":
            b = None
        elif cfg.baseline == "mean":
            b = leave_one_out_baseline(G, None if cfg.num_generations == 1 else cfg.num_generations)
        else:
            b = values.detach()
        loss = reinforce_loss(logp, G, b, mask, cfg.loss_agg) - cfg.ent_coef * aggregate(ent, mask, cfg.loss_agg)
        if cfg.kl_penalty == "loss":
            loss = loss + cfg.kl_coef * aggregate(kl_tok, mask, cfg.loss_agg)
        if cfg.baseline == "value":
            loss = loss + cfg.vf_coef * clipped_value_loss(values, values.detach(), G, mask, None, cfg.loss_agg)
        return loss, {"reward": float(task_r.sum(1).mean()), "kl_ref": float(kl_tok.detach().sum(1).mean()),
                      "entropy": float(masked_mean(ent.detach(), mask)), "length": float(ro.lengths.float().mean()),
                      "loss": float(loss.detach())}

    keys = ("reward", "kl_ref", "entropy", "length", "loss", "time")
    return train_per_batch(model, env, cfg, tr, micro_batch_loss, keys, "reinforce", progress)


def _grad_vector(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.grad.reshape(-1) if p.grad is not None else torch.zeros_like(p).reshape(-1)
                      for p in model.parameters()])


def baseline_variance_ratio(model: CharLM, env: CharLanguageEnv, n_batches: int = 30, batch_size: int = 32,
                            seed: int = 0) -> float:
    """``tr Cov[g_none] / tr Cov[g_mean]``: variance of REINFORCE's batch gradient without / with a baseline.

    Both estimators use the same sampled batches; the baseline is the
    leave-one-out batch mean (unbiased). A ratio above 1 is the variance reduction.
    """
    check_model_env(model, env)
    if check_positive_int(n_batches, "n_batches") < 2:
        raise ValueError(f"n_batches must be >= 2 (a variance needs two batches), got {n_batches}")
    g = generator_for(model, seed)
    cfg = ReinforceConfig(batch_size=batch_size, seed=seed)
    grads: dict[str, list[torch.Tensor]] = {"none": [], "mean": []}
    for _ in range(n_batches):
        ro = sample_batch(model, env, cfg, g)
        G = discounted_returns(rollout_rewards(env, ro).to(model.dtype), 1.0)
        for kind in grads:
            b = None if kind == "none" else leave_one_out_baseline(G)
            model.zero_grad(set_to_none=True)
            logp = score(model, ro)[0]
            reinforce_loss(logp, G, b, ro.mask).backward()
            grads[kind].append(_grad_vector(model).clone())
    model.zero_grad(set_to_none=True)
    var = {k: torch.stack(v).var(0).sum().item() for k, v in grads.items()}
    return var["none"] / var["mean"] if var["mean"] > 0 else math.inf
