"""The simulation view of a [`TabularMDP`][rlcore.core.mdp.TabularMDP]: a seeded gymnasium ``Env``.

Book: *Fundamental concepts*, "The MDP tuple" (model view versus simulation view).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rlcore.core.mdp import TabularMDP
from rlcore.core.validation import check_instance, check_nonnegative_int, check_positive_int

__all__ = ["TabularEnv"]


class TabularEnv(gym.Env):
    """Sample episodes from a tabular MDP.

    ``reset`` draws ``s_0`` from ``mdp.initial``; ``step(a)`` draws a successor
    slot ``k`` with probability ``prob[s, a, k]`` and returns
    ``(s', r, terminated, truncated, info)``, where ``terminated`` is the slot's
    ``done`` flag or the end of the task (step ``mdp.horizon``, when the MDP has one:
    nothing is earned after it, so learners must not bootstrap) and ``truncated`` is set
    when ``max_episode_steps``, a cut-off of the simulation only, is reached first (the
    task goes on, so learners do bootstrap there).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, mdp: TabularMDP, max_episode_steps: int | None = None,
                 render_mode: str | None = None) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, "
                             f"got {render_mode!r}")
        max_episode_steps = check_positive_int(max_episode_steps, "max_episode_steps", none=True)
        self.mdp = check_instance(mdp, "mdp", TabularMDP)
        self.observation_space = spaces.Discrete(mdp.n_states)
        self.action_space = spaces.Discrete(mdp.n_actions)
        self.max_episode_steps = max_episode_steps
        self.render_mode = render_mode
        self._cum = np.cumsum(mdp.prob, axis=2)
        self._init_cum = np.cumsum(mdp.initial)
        self.s = 0
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=check_nonnegative_int(seed, "seed", none=True))
        self.s = int(min(np.searchsorted(self._init_cum, self.np_random.random(), side="right"),
                         self.mdp.n_states - 1))
        self.t = 0
        return self.s, {}

    def step(self, action: int):
        a = check_nonnegative_int(action, "action")
        if a >= self.mdp.n_actions:
            raise ValueError(f"action must be in [0, {self.mdp.n_actions}), got {action!r}")
        s = self.s
        cum = self._cum[s, a]
        k = min(int(np.searchsorted(cum, self.np_random.random() * cum[-1], side="right")),
                self.mdp.n_successors - 1)
        s2 = int(self.mdp.next_state[s, a, k])
        r = float(self.mdp.reward[s, a, k])
        self.s = s2
        self.t += 1
        terminated = bool(self.mdp.done[s, a, k]) or (self.mdp.horizon is not None and self.t >= self.mdp.horizon)
        truncated = (not terminated and self.max_episode_steps is not None
                     and self.t >= self.max_episode_steps)
        return s2, r, terminated, truncated, {"prob": float(self.mdp.prob[s, a, k])}

    def render(self):
        if self.render_mode == "ansi":
            return f"state {self.mdp.state_names[self.s]} (t={self.t})\n"
        return None
