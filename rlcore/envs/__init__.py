"""Environments: every one is a gymnasium ``Env`` with its exact model in ``.mdp``."""

from gymnasium.envs.registration import register, registry

from rlcore.envs.gridworld import LAYOUTS, GridWorld
from rlcore.envs.healthcare import TreatmentModel, chronic_disease_model, pooled_model, sepsis_model
from rlcore.envs.language import CharLanguageEnv, Vocabulary
from rlcore.envs.rewards import TextReward, from_function
from rlcore.envs.rooms import FOUR_ROOMS, FourRooms, four_rooms
from rlcore.envs.tabular import TabularEnv

__all__ = ["GridWorld", "LAYOUTS", "TabularEnv", "TreatmentModel", "chronic_disease_model", "pooled_model",
           "sepsis_model",
           "CharLanguageEnv", "Vocabulary", "TextReward", "from_function", "FOUR_ROOMS", "FourRooms", "four_rooms"]

if "rlcore/GridWorld-v0" not in registry:
    register(id="rlcore/GridWorld-v0", entry_point="rlcore.envs.gridworld:GridWorld")
if "rlcore/ChronicDisease-v0" not in registry:
    register(id="rlcore/ChronicDisease-v0", entry_point="rlcore.envs.healthcare:chronic_disease_env")
if "rlcore/Sepsis-v0" not in registry:
    register(id="rlcore/Sepsis-v0", entry_point="rlcore.envs.healthcare:sepsis_env")
