"""rlcore: the runnable companion to *Reinforcement Learning for Large Language Models*.

From a tabular MDP to policy gradients on a character-level language model,
in small modules whose names follow the book's notation.
"""

from rlcore.core.mdp import TabularMDP
from rlcore.envs import (
    LAYOUTS,
    CharLanguageEnv,
    GridWorld,
    TabularEnv,
    TreatmentModel,
    Vocabulary,
    chronic_disease_model,
    pooled_model,
    sepsis_model,
)
from rlcore.health.offline import (
    LoggedData,
    OPEEstimate,
    behaviour_cloning,
    collect_logs,
    doubly_robust,
    evaluate_offline,
    fitted_q_evaluation,
    fitted_q_iteration,
    importance_sampling,
    soften_policy,
    true_value,
)
from rlcore.health.ope_study import find_wis_trap, ope_convergence
from rlcore.health.safety import (
    constrained_lp,
    constrained_policy,
    lagrangian_sweep,
    pareto_sweep,
    subgroup_analysis,
    treatment_table,
)
from rlcore.tabular.dp import (
    ConvergenceWarning,
    DPResult,
    bellman_optimality_residual,
    policy_evaluation,
    policy_iteration,
    value_iteration,
)
from rlcore.tabular.td import TDResult, expected_sarsa, q_learning, sarsa

__version__ = "0.1.0"

__all__ = [
    "TabularMDP", "TabularEnv", "GridWorld", "LAYOUTS",
    "DPResult", "ConvergenceWarning", "policy_evaluation", "policy_iteration", "value_iteration",
    "bellman_optimality_residual",
    "TDResult", "q_learning", "sarsa", "expected_sarsa",
    # healthcare (teaching models, not clinical tools)
    "TreatmentModel", "chronic_disease_model", "sepsis_model", "pooled_model",
    "LoggedData", "OPEEstimate", "collect_logs", "soften_policy", "true_value", "importance_sampling",
    "doubly_robust", "fitted_q_evaluation", "evaluate_offline", "fitted_q_iteration", "behaviour_cloning",
    "ope_convergence", "find_wis_trap",
    "treatment_table", "subgroup_analysis", "lagrangian_sweep", "constrained_policy", "constrained_lp",
    "pareto_sweep",
    # language MDP and policy gradients (torch is imported on first use)
    "Vocabulary", "CharLanguageEnv",
    "CharLM", "Rollout", "sample", "score", "generate", "pretrain", "pretrained", "save", "load",
    "ReinforceConfig", "PPOConfig", "PGResult", "reinforce", "ppo",
]

# The neural half of the package needs torch; load it only when one of its names is used,
# so the tabular tour (`rlcore demo`) starts in a fraction of a second.
_LAZY = {name: "rlcore.lm" for name in ("CharLM", "Rollout", "sample", "score", "generate", "pretrain", "pretrained",
                                         "save", "load", "ReinforceConfig", "PPOConfig", "PGResult", "reinforce",
                                         "ppo")}


# The layers themselves, so that ``import rlcore`` followed by ``rlcore.rlhf.dpo`` works too.
_LAYERS = ("core", "envs", "tabular", "approx", "lm", "rlhf", "health", "advanced", "plots", "bench", "cli")


def __getattr__(name: str):
    if name in _LAYERS:
        import importlib

        return importlib.import_module(f"rlcore.{name}")
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'rlcore' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_LAYERS))
