"""Every environment rlcore registers with gymnasium makes, resets, steps and passes check_env."""

from __future__ import annotations

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import rlcore  # noqa: F401  (registers the ids)

IDS = ["rlcore/GridWorld-v0", "rlcore/ChronicDisease-v0", "rlcore/Sepsis-v0"]


@pytest.mark.parametrize("env_id", IDS)
def test_registered_env(env_id):
    env = gym.make(env_id, max_episode_steps=30)
    s, _ = env.reset(seed=0)
    assert env.observation_space.contains(s)
    check_env(env.unwrapped, skip_render_check=True)


def test_every_public_name_resolves():
    missing = [name for name in rlcore.__all__ if not hasattr(rlcore, name)]
    assert missing == []
