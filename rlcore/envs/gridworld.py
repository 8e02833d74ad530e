"""GridWorld: a maze drawn in ASCII, as a tabular MDP and a gymnasium ``Env``.

Book: *Fundamental concepts*, "The MDP tuple" and "Reward design".

Cells of the layout:

    .  floor           #  wall (cannot be entered)
    S  start           G  goal (ends the episode)
    T  trap            C  cliff

Entering a cell earns its reward: ``goal_reward`` for ``G``, ``trap_reward``
for ``T``, ``cliff_reward`` for ``C`` and ``step_reward`` for anything else.
A trap ends the episode unless ``traps_end=False``; a cliff sends the agent
back to ``S`` unless ``cliffs_end=True``. Moves into a wall or off the grid
leave the agent where it is. With ``slip > 0`` the agent moves as intended
with probability ``1 - slip`` and slides to either side with ``slip / 2``
each (the Russell & Norvig model with ``slip = 0.2``).

Actions are ``0 up, 1 right, 2 down, 3 left`` (as in gymnasium's CliffWalking);
states number the non-wall cells in row-major order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rlcore.core.mdp import TabularMDP
from rlcore.core.validation import (
    check_array,
    check_flag,
    check_index_array,
    check_instance,
    check_positive_int,
    check_real,
    check_strings,
)
from rlcore.envs.tabular import TabularEnv

__all__ = ["GridWorld", "LAYOUTS"]

ACTIONS = ("up", "right", "down", "left")
ARROWS = ("↑", "→", "↓", "←")
_DELTAS = np.array([(-1, 0), (0, 1), (1, 0), (0, -1)])
_CELLS = set(".#SGTC")
# Colours of the rgb_array frame, one per cell letter (the agent is drawn on top in red).
_CELL_RGB = {".": (235, 235, 235), "#": (70, 70, 70), "S": (170, 200, 240), "G": (120, 200, 120),
             "T": (240, 170, 90), "C": (200, 90, 90)}
_AGENT_RGB = (220, 30, 30)
_CELL_PX = 24

#: Named layouts, ready to use as ``GridWorld(layout="name")``.
LAYOUTS: dict[str, list[str]] = {
    # Russell & Norvig, *AIMA*, Fig. 17.1: use slip=0.2, step_reward=-0.04, gamma=1.
    "russell_norvig": ["...G", ".#.T", "S..."],
    # Sutton & Barto, Example 4.1: terminal corners; use step_reward=goal_reward=-1, gamma=1.
    "sutton_4x4": ["G...", "....", "....", "...G"],
    # Sutton & Barto, Example 6.6 (cliff walking); step -1, cliff -100 and back to start.
    "cliff": ["............", "............", "............", "SCCCCCCCCCCG"],
    # A small maze with a trap, the default.
    "classic": ["S...#....", ".##.#.##.", "....#..T.", ".#....#..", ".#.##.#.G"],
}


def _parse(layout: str | Sequence[str]) -> np.ndarray:
    if isinstance(layout, str):
        if layout in LAYOUTS:
            rows = LAYOUTS[layout]
        else:
            rows = [r for r in layout.strip("\n").split("\n")]
    else:
        rows = list(check_strings(layout, "layout", allow_empty=True))
    if not rows or not rows[0]:
        raise ValueError("layout must have at least one row and one column")
    width = len(rows[0])
    for i, r in enumerate(rows):
        if len(r) != width:
            raise ValueError(f"layout rows must all have the same width ({width}); row {i} has {len(r)}")
    grid = np.frombuffer("".join(rows).encode("ascii", errors="replace"), dtype="S1").reshape(len(rows), width)
    unknown = {str(x) for x in np.unique(grid).astype(str)} - _CELLS
    if unknown:
        raise ValueError(f"layout has unknown cell(s) {sorted(unknown)}; use . # S G T C")
    return grid.astype(str)


class GridWorld(TabularEnv):
    """A grid maze as a gymnasium ``Env`` with its exact [`TabularMDP`][] in ``.mdp``.

    Parameters
    ----------
    layout : name from LAYOUTS or rows of ASCII cells
    step_reward, goal_reward, trap_reward, cliff_reward : float
        Reward for entering an ordinary, goal, trap or cliff cell.
    traps_end : bool
        Whether entering a trap ends the episode (otherwise: back to start).
    cliffs_end : bool
        Whether falling off a cliff ends the episode (otherwise: back to start).
    slip : float in [0, 1]
        Probability of sliding sideways instead of moving as intended.
    gamma : float
        Discount factor of the MDP.
    max_episode_steps : int, optional
        Time limit (truncation) of the simulation.
    render_mode : "ansi", "rgb_array" or None

    Examples
    --------
    >>> env = GridWorld(["S..", ".#.", "..G"], step_reward=-1.0, goal_reward=0.0)
    >>> env.mdp.n_states
    8
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(
        self,
        layout: str | Sequence[str] = "classic",
        *,
        step_reward: float = -0.04,
        goal_reward: float = 1.0,
        trap_reward: float = -1.0,
        cliff_reward: float = -100.0,
        traps_end: bool = True,
        cliffs_end: bool = False,
        slip: float = 0.0,
        gamma: float = 0.99,
        max_episode_steps: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        if not 0.0 <= check_real(slip, "slip") <= 1.0:
            raise ValueError(f"slip must lie in [0, 1], got {slip}")
        for name, value in (("step_reward", step_reward), ("goal_reward", goal_reward),
                            ("trap_reward", trap_reward), ("cliff_reward", cliff_reward)):
            check_real(value, name, low=-np.inf)
        check_flag(traps_end, "traps_end"), check_flag(cliffs_end, "cliffs_end")
        grid = _parse(layout)
        self.grid = grid
        self.shape = grid.shape
        self.slip = float(slip)
        open_cells = grid != "#"
        self.cell_state = np.full(grid.shape, -1, dtype=np.int64)
        self.cell_state[open_cells] = np.arange(int(open_cells.sum()))
        self.positions = np.argwhere(open_cells)  # [S, 2] (row, col) of each state
        if len(self.positions) == 0:
            raise ValueError("layout has no open cells")
        kinds = grid[open_cells]  # cell type of each state
        starts = np.flatnonzero(kinds == "S")
        sends_back = ((kinds == "C") & (not cliffs_end)).any() or ((kinds == "T") & (not traps_end)).any()
        if len(starts) > 1:
            raise ValueError(f"layout must have at most one start 'S', found {len(starts)}")
        if sends_back and len(starts) == 0:
            raise ValueError("cliffs or non-ending traps send the agent back to start: add an 'S' to the layout")

        # Intended move of every state in each direction: [S, A]; blocked moves stay put.
        target = self.positions[:, None, :] + _DELTAS[None, :, :]
        H, W = grid.shape
        inside = (target[..., 0] >= 0) & (target[..., 0] < H) & (target[..., 1] >= 0) & (target[..., 1] < W)
        tr, tc = np.clip(target[..., 0], 0, H - 1), np.clip(target[..., 1], 0, W - 1)
        dest = np.where(inside, self.cell_state[tr, tc], -1)
        S = len(kinds)
        move = np.where(dest >= 0, dest, np.arange(S)[:, None])  # [S, A]

        # Successor slots: intended, then the two sideways slides.
        A = len(ACTIONS)
        if slip > 0:
            a_idx = np.arange(A)
            dirs = np.stack([a_idx, (a_idx - 1) % A, (a_idx + 1) % A], axis=1)  # [A, 3]
            cells = move[:, dirs]  # [S, A, 3]
            prob = np.broadcast_to(np.array([1 - slip, slip / 2, slip / 2]), cells.shape).copy()
        else:
            cells = move[:, :, None]
            prob = np.ones(cells.shape)
        kind = kinds[cells]
        reward = np.select([kind == "G", kind == "T", kind == "C"],
                           [goal_reward, trap_reward, cliff_reward], default=step_reward).astype(float)
        ends = (kind == "G") | ((kind == "T") & traps_end) | ((kind == "C") & cliffs_end)
        back = ((kind == "C") & (not cliffs_end)) | ((kind == "T") & (not traps_end))
        next_state = np.where(back, starts[0] if len(starts) else 0, cells)
        terminal = (kinds == "G") | ((kinds == "T") & traps_end) | ((kinds == "C") & cliffs_end)
        initial = None
        if len(starts):
            initial = np.zeros(S)
            initial[starts[0]] = 1.0
        self._params = dict(step_reward=step_reward, goal_reward=goal_reward, trap_reward=trap_reward,
                            cliff_reward=cliff_reward, traps_end=traps_end, cliffs_end=cliffs_end)
        names = [f"({r},{c})" for r, c in self.positions]
        mdp = TabularMDP(next_state, prob, reward, ends, gamma=gamma, terminal=terminal, initial=initial,
                         state_names=names if S <= 100_000 else None, action_names=ACTIONS)
        super().__init__(mdp, max_episode_steps=max_episode_steps, render_mode=render_mode)

    # ---------------------------------------------------------------- helpers
    @classmethod
    def open(cls, height: int, width: int, **kwargs) -> GridWorld:
        """An empty ``height x width`` room with ``S`` top-left and ``G`` bottom-right."""
        if check_positive_int(height, "height") < 1 or check_positive_int(width, "width") < 2:
            raise ValueError(f"an open grid needs height >= 1 and width >= 2, got {height}x{width}")
        rows = ["." * width] * height
        rows[0] = "S" + rows[0][1:]
        rows[-1] = rows[-1][:-1] + "G"
        return cls(rows, **kwargs)

    def state_of(self, row: int, col: int) -> int:
        """State index of cell ``(row, col)`` (raises for walls and for cells off the grid)."""
        H, W = self.cell_state.shape
        for name, v, n in (("row", row, H), ("col", col, W)):
            if isinstance(v, bool) or not (isinstance(v, (int, np.integer)) or isinstance(v, (float, np.floating))
                                           and float(v).is_integer()) or not 0 <= v < n:
                raise ValueError(f"{name} must be an integer in [0, {n - 1}], got {v!r}")
        s = int(self.cell_state[int(row), int(col)])
        if s < 0:
            raise ValueError(f"cell ({row}, {col}) is a wall and has no state")
        return s

    def to_grid(self, values: np.ndarray, fill: float = np.nan) -> np.ndarray:
        """Scatter a per-state array ``[S]`` onto the grid ``[H, W]`` (walls get ``fill``)."""
        values = check_array(values, "values", shape=(self.mdp.n_states,), finite=False)
        check_instance(fill, "fill", (int, float, np.integer, np.floating), "a number")
        out = np.full(self.shape, fill, dtype=float)
        out[self.positions[:, 0], self.positions[:, 1]] = values
        return out

    def render(self):
        if self.render_mode == "ansi":
            return self.ansi()
        if self.render_mode == "rgb_array":
            return self.frame()
        return None

    def frame(self, cell_px: int = _CELL_PX) -> np.ndarray:
        """The grid as an ``[H * cell_px, W * cell_px, 3]`` uint8 picture, the agent a red square.

        Drawn with numpy alone (one colour per cell, scaled up), so rendering a video of an
        episode costs microseconds a frame; [`rlcore.plots.tabular.plot_grid`][] draws the
        annotated figure for the book.
        """
        cell_px = check_positive_int(cell_px, "cell_px")
        letters = sorted(_CELL_RGB)
        palette = np.array([_CELL_RGB[c] for c in letters], dtype=np.uint8)
        cells = palette[np.searchsorted(letters, self.grid)]
        r, c = self.positions[self.s]
        cells[r, c] = _AGENT_RGB
        return np.repeat(np.repeat(cells, cell_px, axis=0), cell_px, axis=1)

    def ansi(self, policy: np.ndarray | None = None) -> str:
        """Text picture of the grid; the agent is ``@``, or arrows show ``policy`` if given."""
        g = self.grid.copy().astype("<U1")
        if policy is not None:
            policy = check_index_array(policy, "policy", len(ACTIONS), shape=(self.mdp.n_states,))
            free = np.isin(self.grid[self.positions[:, 0], self.positions[:, 1]], [".", "S"])
            for (r, c), a in zip(self.positions[free], policy[free]):
                g[r, c] = ARROWS[int(a)]
        else:
            r, c = self.positions[self.s]
            g[r, c] = "@"
        return "\n".join("".join(row) for row in g) + "\n"
