"""RLHF on the character LM (book chapter 4): preferences, reward models, best-of-n, DPO/IPO, GRPO/RLOO.

``preferences`` (a simulated labeller), ``reward_model`` (Bradley-Terry), ``exact``
(the KL-regularised optimum ``pi*`` on an enumerable toy), ``best_of_n``, ``dpo`` (DPO and IPO),
``grpo`` (GRPO, Dr. GRPO, DAPO), ``rloo``, ``overoptimisation`` (exact toy statistics and
Gao et al.'s fits) and ``frontier`` (gold reward against KL for every method).
Importing this package imports torch.
"""

from rlcore.rlhf.best_of_n import (
    best_of_n,
    best_of_n_distribution,
    best_of_n_kl,
    best_of_n_kl_bound,
    normalize_per_prompt,
)
from rlcore.rlhf.dpo import DPO_LOSSES, DPOConfig, DPOResult, dpo, dpo_loss
from rlcore.rlhf.exact import ExactOptimum, completion_logprobs, exact_optimum, kl_between, tilted_logprobs
from rlcore.rlhf.frontier import Frontier, FrontierPoint, reward_kl_frontier
from rlcore.rlhf.grpo import GRPO_LOSSES, GRPOConfig, group_advantages, grpo, grpo_loss
from rlcore.rlhf.kl_study import EstimatorRow, kl_estimator_table
from rlcore.rlhf.overoptimisation import GaoFit, ToyEvaluator, fit_gao, gao_curve, ppo_curve
from rlcore.rlhf.preferences import Labeller, PreferenceData, simulate_preferences
from rlcore.rlhf.reward_model import (
    RewardConfig,
    RewardModel,
    RewardResult,
    bradley_terry_loss,
    evaluate_pairs,
    expected_calibration_error,
    train_reward_model,
)
from rlcore.rlhf.rloo import RLOOConfig, rloo, rloo_advantages

__all__ = [
    "PreferenceData", "Labeller", "simulate_preferences",
    "bradley_terry_loss", "expected_calibration_error", "RewardModel", "RewardConfig", "RewardResult",
    "train_reward_model", "evaluate_pairs",
    "ExactOptimum", "exact_optimum", "completion_logprobs", "kl_between", "tilted_logprobs",
    "best_of_n", "best_of_n_distribution", "best_of_n_kl", "best_of_n_kl_bound", "normalize_per_prompt",
    "DPO_LOSSES", "dpo_loss", "DPOConfig", "DPOResult", "dpo",
    "EstimatorRow", "kl_estimator_table",
    "ToyEvaluator", "GaoFit", "fit_gao", "gao_curve", "ppo_curve", "Frontier", "FrontierPoint", "reward_kl_frontier",
    "GRPO_LOSSES", "group_advantages", "grpo_loss", "GRPOConfig", "grpo", "rloo_advantages", "RLOOConfig", "rloo",
]
