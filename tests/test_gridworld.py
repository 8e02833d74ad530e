"""GridWorld: layouts, dynamics, gymnasium compliance and rendering."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rlcore  # noqa: F401  (registers the env id)
from rlcore import LAYOUTS, GridWorld


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("slip", [0.0, 0.2])
def test_check_env(layout, slip):
    check_env(GridWorld(layout, slip=slip, max_episode_steps=50), skip_render_check=True)


def test_registered_id_and_render_modes():
    env = gym.make("rlcore/GridWorld-v0", layout="cliff", render_mode="ansi", max_episode_steps=20)
    env.reset(seed=0)
    text = env.render()
    assert "@" in text and text.count("\n") == 4
    rgb = GridWorld("classic", render_mode="rgb_array")
    rgb.reset(seed=0)
    frame = rgb.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    check_env(gym.make("rlcore/GridWorld-v0").unwrapped)


def test_dynamics_walls_goal_and_cliff():
    env = GridWorld(["S.#", "C.G"], step_reward=-1.0, cliff_reward=-100.0, goal_reward=5.0)
    mdp = env.mdp
    s = env.state_of(0, 0)
    assert mdp.next_state[s, 0, 0] == s  # up: off the grid, stay
    right = env.state_of(0, 1)
    assert mdp.next_state[right, 1, 0] == right  # into the wall, stay
    assert mdp.next_state[s, 2, 0] == s and mdp.reward[s, 2, 0] == -100.0  # cliff: back to start
    assert not mdp.done[s, 2, 0]
    below = env.state_of(1, 1)
    assert mdp.reward[below, 1, 0] == 5.0 and mdp.done[below, 1, 0]
    assert mdp.terminal[env.state_of(1, 2)]


def test_slip_spreads_probability_sideways():
    env = GridWorld(["...", "...", "..."], slip=0.2)
    centre = env.state_of(1, 1)
    P = env.mdp.P[centre, 0]  # intend to go up
    assert P[env.state_of(0, 1)] == pytest.approx(0.8)
    assert P[env.state_of(1, 0)] == pytest.approx(0.1) and P[env.state_of(1, 2)] == pytest.approx(0.1)


def test_traps_and_cliffs_can_end_or_send_back():
    ending = GridWorld(["S.T"], traps_end=True)
    assert ending.mdp.done[ending.state_of(0, 1), 1, 0]
    back = GridWorld(["S.T"], traps_end=False, trap_reward=-3.0)
    assert back.mdp.next_state[back.state_of(0, 1), 1, 0] == back.state_of(0, 0)
    falls = GridWorld(["S.C"], cliffs_end=True)
    assert falls.mdp.done[falls.state_of(0, 1), 1, 0]


def test_open_grid_is_vectorised_and_large():
    env = GridWorld.open(300, 400)
    assert env.mdp.n_states == 120_000
    assert env.grid[0, 0] == "S" and env.grid[-1, -1] == "G"


def test_episode_reaches_goal_following_the_optimal_policy():
    env = GridWorld("classic", gamma=0.95)
    policy = rlcore.value_iteration(env.mdp).policy
    s, _ = env.reset(seed=0)
    for _ in range(100):
        s, r, terminated, truncated, _ = env.step(policy[s])
        if terminated:
            break
    assert terminated and r == 1.0


@pytest.mark.parametrize("kwargs, message", [
    (dict(layout=["S.", "..."]), r"rows must all have the same width \(2\); row 1 has 3"),
    (dict(layout=["S.x"]), r"unknown cell\(s\) \['x'\]"),
    (dict(layout=["S.", "S."]), r"at most one start"),
    (dict(layout=[".C"]), r"send the agent back to start: add an 'S'"),
    (dict(layout=["S."], slip=1.5), r"slip must lie in \[0, 1\]"),
    (dict(layout=["##"]), r"no open cells"),
    (dict(layout=[]), r"at least one row"),
    (dict(layout=["S."], goal_reward=float("nan")), r"goal_reward must be a finite number"),
    (dict(layout=["S."], render_mode="human"), r"render_mode must be one of"),
])
def test_gridworld_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GridWorld(**kwargs)


def test_state_of_a_wall_and_bad_actions():
    env = GridWorld(["S#G"])
    with pytest.raises(ValueError, match="is a wall"):
        env.state_of(0, 1)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must be in \[0, 4\)"):
        env.step(9)


def test_ansi_policy_arrows():
    env = GridWorld(["S.G"], step_reward=-1.0, goal_reward=0.0)
    policy = rlcore.value_iteration(env.mdp).policy
    assert env.ansi(policy).strip() == "→→G"


def test_cells_off_the_grid_are_refused_not_wrapped():
    env = GridWorld("classic")
    H, W = env.cell_state.shape
    for row, col in ((-1, -1), (0, -1), (H, 0), (0, W), (0.5, 0), (True, 0)):
        with pytest.raises(ValueError, match="must be an integer in"):
            env.state_of(row, col)
    assert env.state_of(0, 0) == int(env.cell_state[0, 0])
