"""Group methods without a critic: GRPO (Shao et al., 2024) with the Dr. GRPO and DAPO losses.

Book: *RLHF*, "Group relative policy optimisation".

For ``G = num_generations`` completions ``y_1 .. y_G`` of one prompt with rewards
``r_i``, the advantage of every token of ``y_i`` is the group-relative score

    A_i = (r_i - mean_j r_j) / (std_j r_j + 1e-4)      (scale_rewards="group";
                                                        "batch": one std over the batch; "none": no division)

and the per-token loss is the clipped surrogate plus the ``k3`` KL *in the loss*:

    l_t = -min(rho_t A_i, clip(rho_t, 1 - epsilon, 1 + epsilon_high) A_i) + beta k3_t.

``loss_type`` says how tokens are averaged: ``"grpo"`` (mean per sequence, then
over sequences: long wrong answers are penalised less per token, so they grow),
``"dapo"`` (mean over all tokens) and ``"dr_grpo"`` (sum over all tokens divided by
``batch x max completion length``, a constant: no length bias).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rlcore.core.validation import check_array, check_choice, check_instance, check_positive_int, check_real
from rlcore.envs.language import CharLanguageEnv
from rlcore.lm.config import SamplingConfig, validate_config
from rlcore.lm.kl import kl_estimate
from rlcore.lm.losses import aggregate, masked_mean
from rlcore.lm.model import CharLM
from rlcore.lm.rewards import rollout_rewards
from rlcore.lm.rollout import score
from rlcore.lm.training import PGResult, start_training, train_per_batch
from rlcore.rlhf.config import GROUP_RULES, check_trainer_inputs

__all__ = ["GRPO_LOSSES", "group_advantages", "grpo_loss", "GRPOConfig", "grpo"]

GRPO_LOSSES = ("grpo", "dr_grpo", "dapo")
"""The token aggregations [`grpo_loss`][] knows."""


def group_advantages(rewards: torch.Tensor, num_generations: int, scale_rewards: str = "group",
                     eps: float = 1e-4) -> tuple[torch.Tensor, float]:
    """``(A [B], frac_reward_zero_std)`` for rewards ``[B]`` in consecutive groups of ``num_generations``.

    The standard deviation is the sample one (``n - 1`` in the denominator), as TRL computes it.
    """
    check_choice(scale_rewards, "scale_rewards", ("group", "batch", "none"))
    check_array(check_instance(rewards, "rewards", torch.Tensor), "rewards", ndim=1)
    eps = check_real(eps, "eps")
    G = check_positive_int(num_generations, "num_generations")
    if G < 2 or rewards.shape[0] % G:
        raise ValueError(f"num_generations must be >= 2 and divide the batch of {rewards.shape[0]}, got {G}")
    grouped = rewards.reshape(-1, G)
    centred = (grouped - grouped.mean(1, keepdim=True)).reshape(-1)
    group_std = grouped.std(1)
    zero_std = float((group_std == 0).float().mean())
    if scale_rewards == "group":
        centred = centred / (group_std.repeat_interleave(G) + eps)
    elif scale_rewards == "batch":
        centred = centred / (rewards.std() + eps)
    return centred, zero_std


def grpo_loss(logp: torch.Tensor, old_logp: torch.Tensor, ref_logp: torch.Tensor, advantages: torch.Tensor,
              mask: torch.Tensor, beta: float = 0.0, epsilon: float = 0.2, epsilon_high: float | None = None,
              loss_type: str = "dapo", max_completion_length: int | None = None) -> tuple[torch.Tensor, dict]:
    """The GRPO loss of a batch (see the module docstring) and ``clip_ratio``, ``kl`` statistics."""
    check_choice(loss_type, "loss_type", GRPO_LOSSES)
    beta, epsilon = check_real(beta, "beta"), check_real(epsilon, "epsilon", open_low=True)
    epsilon_high = check_real(epsilon_high, "epsilon_high", open_low=True, none=True)
    max_completion_length = check_positive_int(max_completion_length, "max_completion_length", none=True)
    shape = check_array(check_instance(logp, "logp", torch.Tensor), "logp", ndim=2).shape
    for name, x in (("old_logp", old_logp), ("ref_logp", ref_logp)):
        check_array(check_instance(x, name, torch.Tensor), name, shape=shape)
    check_array(check_instance(advantages, "advantages", torch.Tensor), "advantages", shape=shape[:1])
    check_array(check_instance(mask, "mask", torch.Tensor), "mask", shape=shape)
    if mask.dtype != torch.bool:
        raise TypeError(f"mask must be a bool tensor (True = a completion token), got dtype {mask.dtype}")
    hi = epsilon if epsilon_high is None else epsilon_high
    ratio = torch.exp(logp - old_logp.detach())
    A = advantages.detach()[:, None]
    per_token = -torch.minimum(ratio * A, ratio.clamp(1 - epsilon, 1 + hi) * A)
    kl = kl_estimate(logp, ref_logp.detach(), "k3")
    if beta:
        per_token = per_token + beta * kl
    if loss_type == "grpo":
        loss = aggregate(per_token, mask, "seq-mean-token-mean")
    elif loss_type == "dapo":
        loss = aggregate(per_token, mask, "token-mean")
    else:
        L = mask.shape[1] if max_completion_length is None else int(max_completion_length)
        loss = torch.where(mask, per_token, torch.zeros_like(per_token)).sum() / (mask.shape[0] * L)
    with torch.no_grad():
        clipped = ((ratio < 1 - epsilon) & (A < 0)) | ((ratio > 1 + hi) & (A > 0))
        stats = {"clip_ratio": float(masked_mean(clipped.to(logp.dtype), mask)),
                 "kl": float(masked_mean(kl.detach(), mask))}
    return loss, stats


@dataclass(frozen=True)
class GRPOConfig(SamplingConfig):
    """GRPO: group-relative advantages, no critic, the ``k3`` KL in the loss (TRL's names)."""

    num_generations: int = 8
    """completions per prompt (the group); at least 2"""
    beta: float = 0.04
    """weight of the ``k3`` KL to the reference in the loss"""
    epsilon: float = 0.2
    """lower clip range of the ratio"""
    epsilon_high: float | None = None
    """upper clip range (DAPO's clip-higher); None: the same as ``epsilon``"""
    loss_type: str = "dapo"
    """token aggregation: ``"grpo"``, ``"dr_grpo"`` or ``"dapo"``"""
    scale_rewards: str = "group"
    """divide advantages by the group's std (``"group"``), the batch's (``"batch"``) or not (``"none"``)"""

    def __post_init__(self) -> None:
        validate_config(self, GROUP_RULES)
        if self.loss_type not in GRPO_LOSSES:
            raise ValueError(f"GRPOConfig.loss_type must be one of {GRPO_LOSSES}, got {self.loss_type!r}")
        if self.num_generations < 2:
            raise ValueError(f"GRPOConfig.num_generations must be >= 2 (a group), got {self.num_generations}")


def grpo(model: CharLM, env: CharLanguageEnv, config: GRPOConfig | None = None, ref_model: CharLM | None = None,
         progress: bool = False) -> PGResult:
    """GRPO on the language MDP, one update per batch; ``model`` is trained in place.

    ``history`` holds ``reward``, ``reward_std``, ``frac_reward_zero_std``, ``kl``
    (mean per-token ``k3``), ``clip_ratio``, ``completion_length`` and ``time``. Under
    ``torchrun`` (or with ``gradient_accumulation_steps > 1``) each micro-batch holds whole groups,
    and every entry is the mean over the micro-batches ([`rlcore.lm.parallel`][]).
    """
    cfg = GRPOConfig() if config is None else config
    if not isinstance(cfg, GRPOConfig):
        raise ValueError(f"config must be a GRPOConfig, got {type(cfg).__name__}")
    check_trainer_inputs(model, env, ref_model, progress)
    tr = start_training(model, env, cfg, ref_model)
    max_completion = env.max_len - min(len(p) for p in env.prompts)

    def micro_batch_loss(net, ro):
        rewards = rollout_rewards(env, ro).sum(1).to(model.dtype)
        adv, zero_std = group_advantages(rewards, cfg.num_generations, cfg.scale_rewards)
        logp = score(net, ro)[0]
        with torch.no_grad():
            ref_logp = score(tr.ref, ro)[0]
        loss, st = grpo_loss(logp, logp.detach(), ref_logp, adv, ro.mask, cfg.beta, cfg.epsilon, cfg.epsilon_high,
                             cfg.loss_type, max_completion)
        return loss, {"reward": float(rewards.mean()), "reward_std": float(rewards.std()),
                      "frac_reward_zero_std": zero_std, **st, "completion_length": float(ro.lengths.float().mean())}

    keys = ("reward", "reward_std", "frac_reward_zero_std", "kl", "clip_ratio", "completion_length", "time")
    return train_per_batch(model, env, cfg, tr, micro_batch_loss, keys, "grpo", progress)
