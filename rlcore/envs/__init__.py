"""Environments: every one is a gymnasium ``Env`` with its exact model in ``.mdp``."""

from gymnasium.envs.registration import register, registry

from rlcore.envs.gridworld import LAYOUTS, GridWorld
from rlcore.envs.tabular import TabularEnv

__all__ = ["GridWorld", "LAYOUTS", "TabularEnv"]

if "rlcore/GridWorld-v0" not in registry:
    register(id="rlcore/GridWorld-v0", entry_point="rlcore.envs.gridworld:GridWorld")
