"""The language-model layer (book chapter 3): a tiny character LM, prompted sampling and scoring, REINFORCE, PPO.

One idea per module: ``model`` (the GRU policy with a value head), ``rollout``
(sampling and scoring completions of prompts), ``rewards`` (the env's rewards
for a batch), ``exact`` (exact sums on an enumerable toy), ``kl`` (``k1``/``k2``/``k3``),
``losses``, ``config``, ``training`` (what the trainers share), ``reinforce``,
``ppo``, ``parallel`` (data parallelism on torch.distributed), ``pretrain``, ``checkpoint``,
``sweep``, ``budget``, ``metrics``. Importing this package
imports torch.
"""

from rlcore.lm.checkpoint import load, save
from rlcore.lm.config import RULES, PPOConfig, ReinforceConfig, TrainerConfig, validate_config
from rlcore.lm.exact import enumerate_completions, exact_expected_reward, exact_kl
from rlcore.lm.kl import KL_ESTIMATORS, kl_estimate, kl_to_reference
from rlcore.lm.losses import (
    LOSS_AGG,
    aggregate,
    clipped_value_loss,
    explained_variance,
    masked_mean,
    normalize_advantages,
    ppo_policy_loss,
    reinforce_loss,
)
from rlcore.lm.model import DEFAULT_CHARS, CharLM, ModelConfig, count_parameters
from rlcore.lm.ppo import Batch, collect, ppo, ppo_loss
from rlcore.lm.pretrain import PretrainResult, load_corpus, pretrain, pretrained
from rlcore.lm.reinforce import baseline_variance_ratio, leave_one_out_baseline, reinforce
from rlcore.lm.rewards import rollout_rewards
from rlcore.lm.rollout import Rollout, generate, sample, score, sequence_logprob
from rlcore.lm.sweep import sampling_sweep
from rlcore.lm.training import PGResult

__all__ = [
    "DEFAULT_CHARS", "ModelConfig", "CharLM", "count_parameters",
    "Rollout", "sample", "score", "sequence_logprob", "generate", "rollout_rewards",
    "enumerate_completions", "exact_expected_reward", "exact_kl",
    "KL_ESTIMATORS", "kl_estimate", "kl_to_reference",
    "LOSS_AGG", "aggregate", "masked_mean", "normalize_advantages", "reinforce_loss", "ppo_policy_loss",
    "clipped_value_loss", "explained_variance",
    "RULES", "validate_config", "TrainerConfig", "ReinforceConfig", "PPOConfig", "PGResult",
    "leave_one_out_baseline", "reinforce", "baseline_variance_ratio", "Batch", "collect", "ppo_loss", "ppo",
    "load_corpus", "PretrainResult", "pretrain", "pretrained", "save", "load", "sampling_sweep",
]
