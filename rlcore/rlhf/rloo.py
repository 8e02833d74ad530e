"""REINFORCE leave-one-out (RLOO; Kool et al., 2019; Ahmadian et al., 2024): a group baseline, KL in the reward.

Book: *RLHF*, "Group relative policy optimisation" (the critic-free family).

For ``k = num_generations`` completions of one prompt, each sequence's reward
carries the sequence-level KL penalty, ``R_i = r_i - beta sum_t (log pi - log pi_ref)_t``,
and its baseline is the mean of the *other* ``k - 1``:

    A_i = R_i - (1 / (k - 1)) sum_{j != i} R_j = (k / (k - 1)) (R_i - mean_j R_j),

unbiased because ``A_i`` never reads ``y_i``'s own reward in its baseline. The
update is REINFORCE on whole sequences: ``L = -mean_i A_i sum_t log pi(a_t|s_t)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rlcore.core.validation import check_array, check_instance, check_positive_int
from rlcore.envs.language import CharLanguageEnv
from rlcore.lm.config import SamplingConfig, validate_config
from rlcore.lm.kl import kl_to_reference
from rlcore.lm.model import CharLM
from rlcore.lm.reinforce import leave_one_out_baseline
from rlcore.lm.rewards import rollout_rewards
from rlcore.lm.rollout import score
from rlcore.lm.training import PGResult, start_training, train_per_batch
from rlcore.rlhf.config import GROUP_RULES, check_trainer_inputs

__all__ = ["rloo_advantages", "RLOOConfig", "rloo"]


def rloo_advantages(rewards: torch.Tensor, num_generations: int) -> torch.Tensor:
    """``A_i = R_i - mean_{j != i} R_j`` within consecutive groups of ``num_generations`` (``[B]``)."""
    check_array(check_instance(rewards, "rewards", torch.Tensor), "rewards", ndim=1)
    G = check_positive_int(num_generations, "num_generations")
    if G < 2 or rewards.shape[0] % G:
        raise ValueError(f"num_generations must be >= 2 for a leave-one-out baseline and divide the batch of "
                         f"{rewards.shape[0]}, got {num_generations}")
    return rewards - leave_one_out_baseline(rewards, G)


@dataclass(frozen=True)
class RLOOConfig(SamplingConfig):
    """RLOO: leave-one-out baseline over ``num_generations`` completions, sequence KL in the reward."""

    num_generations: int = 4
    """completions per prompt; at least 2"""
    beta: float = 0.05
    """weight of the sequence-level KL ``sum_t (log pi - log pi_ref)`` subtracted from each reward"""

    def __post_init__(self) -> None:
        validate_config(self, GROUP_RULES)
        if self.num_generations < 2:
            raise ValueError(f"RLOOConfig.num_generations must be >= 2 (a leave-one-out group), got "
                             f"{self.num_generations}")


def rloo(model: CharLM, env: CharLanguageEnv, config: RLOOConfig | None = None, ref_model: CharLM | None = None,
         progress: bool = False) -> PGResult:
    """RLOO on the language MDP; ``model`` is trained in place.

    ``history`` holds ``reward`` (task), ``kl`` (mean sequence k1 KL), ``rlhf_reward``
    (``reward - beta kl``), ``completion_length`` and ``time``.
    """
    cfg = RLOOConfig() if config is None else config
    if not isinstance(cfg, RLOOConfig):
        raise ValueError(f"config must be an RLOOConfig, got {type(cfg).__name__}")
    check_trainer_inputs(model, env, ref_model, progress)
    tr = start_training(model, env, cfg, ref_model)

    def micro_batch_loss(net, ro):
        task = rollout_rewards(env, ro).sum(1).to(model.dtype)
        logp = score(net, ro)[0]
        with torch.no_grad():
            ref_logp = score(tr.ref, ro)[0]
            kl = kl_to_reference(logp.detach(), ref_logp, ro.mask, "k1")
            adv = rloo_advantages(task - cfg.beta * kl, cfg.num_generations)
        loss = -(adv * logp.sum(-1)).mean()
        return loss, {"reward": float(task.mean()), "kl": float(kl.mean()),
                      "rlhf_reward": float((task - cfg.beta * kl).mean()),
                      "completion_length": float(ro.lengths.float().mean())}

    keys = ("reward", "kl", "rlhf_reward", "completion_length", "time")
    return train_per_batch(model, env, cfg, tr, micro_batch_loss, keys, "rloo", progress)
