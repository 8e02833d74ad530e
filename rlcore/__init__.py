"""rlcore: the runnable companion to *Reinforcement Learning for Large Language Models*.

From a tabular MDP to policy gradients on a character-level language model,
in small modules whose names follow the book's notation.
"""

from rlcore.dp import (
    ConvergenceWarning,
    DPResult,
    bellman_optimality_residual,
    policy_evaluation,
    policy_iteration,
    value_iteration,
)
from rlcore.envs import LAYOUTS, GridWorld, TabularEnv
from rlcore.mdp import TabularMDP
from rlcore.td import TDResult, expected_sarsa, q_learning, sarsa

__version__ = "0.1.0"

__all__ = [
    "TabularMDP", "TabularEnv", "GridWorld", "LAYOUTS",
    "DPResult", "ConvergenceWarning", "policy_evaluation", "policy_iteration", "value_iteration",
    "bellman_optimality_residual",
    "TDResult", "q_learning", "sarsa", "expected_sarsa",
]
