"""The four-rooms grid of Sutton, Precup & Singh (1999), with its stochastic moves, rooms and hallways.

Book: *Advanced techniques*, "Hierarchical RL for long-form generation" (options and managers).

104 cells: four rooms of 25, 30, 25 and 20 cells joined by four one-cell hallways. Each of the
four moves (``0 up, 1 right, 2 down, 3 left``, as in [`GridWorld`][rlcore.envs.gridworld.GridWorld])
goes the intended way with probability ``success`` (2/3 in the paper) and each of the other
three ways with ``(1 - success) / 3``; a move into a wall leaves the agent where it is. Entering
the goal pays ``goal_reward`` (1) and ends the episode; every other transition pays 0; ``gamma``
is 0.9 by default, so the agent is paid for reaching the goal *soon*.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rlcore.core.mdp import TabularMDP
from rlcore.core.validation import check_real, check_unit_interval
from rlcore.envs.gridworld import GridWorld

__all__ = ["FOUR_ROOMS", "FourRooms", "four_rooms"]

FOUR_ROOMS = [
    "#############",
    "#.....#.....#",
    "#.....#.....#",
    "#...........#",
    "#.....#.....#",
    "#.....#.....#",
    "##.####.....#",
    "#.....###.###",
    "#.....#.....#",
    "#.....#.....#",
    "#...........#",
    "#.....#.....#",
    "#############",
]
"""The layout, walls ``#``: rooms north-west, north-east, south-west and south-east."""

_HALLWAYS = ((3, 6), (6, 2), (7, 9), (10, 6))  # NW-NE, NW-SW, NE-SE, SW-SE
_ROOM_BOXES = (((1, 5), (1, 5)), ((1, 6), (7, 11)), ((7, 11), (1, 5)), ((8, 11), (7, 11)))  # rows, cols


@dataclass(frozen=True)
class FourRooms:
    """The four-rooms problem: the stochastic model, the grid it lives on, and its rooms and hallways."""

    mdp: TabularMDP
    """the stochastic MDP (4 successors per action)"""
    grid: GridWorld = field(repr=False)
    """the deterministic GridWorld of the same layout, for positions, pictures and ``state_of``"""
    room_of: np.ndarray = field(repr=False)
    """``[S]`` room index 0-3 (NW, NE, SW, SE) of each cell, ``-1`` for a hallway"""
    hallways: tuple[int, ...]
    """the four hallway states, in the order NW-NE, NW-SW, NE-SE, SW-SE"""
    room_hallways: tuple[tuple[int, int], ...]
    """``room_hallways[r]`` = the two hallways of room ``r``"""
    goal: int
    """the goal state"""

    def __repr__(self) -> str:
        r, c = self.grid.positions[self.goal]
        return f"FourRooms({self.mdp.n_states} cells, 4 hallways, goal at ({r}, {c}), gamma={self.mdp.gamma:g})"


def four_rooms(goal: tuple[int, int] = (7, 9), start: tuple[int, int] | None = (1, 1), *,
               success: float = 2 / 3, goal_reward: float = 1.0, gamma: float = 0.9) -> FourRooms:
    """Build [`FourRooms`][] with the goal at cell ``goal`` (default: the hallway between the eastern rooms).

    The transition model, for an intended move ``a`` from ``s``:

        P(move(s, b) | s, a) = success if b = a, (1 - success) / 3 otherwise,

    where ``move(s, b)`` is the cell one step in direction ``b`` (or ``s`` at a wall). ``start``
    sets the start distribution to one cell (``None``: uniform over every cell but the goal).
    """
    success = check_unit_interval(success, "success")
    goal_reward = check_real(goal_reward, "goal_reward", low=-np.inf)
    rows = [list(r) for r in FOUR_ROOMS]
    for name, cell in (("goal", goal), ("start", start)):
        if cell is None and name == "start":
            continue
        ok = isinstance(cell, tuple) and len(cell) == 2 and all(isinstance(v, (int, np.integer))
                                                                and not isinstance(v, bool) for v in cell)
        if not ok or not (0 <= cell[0] < len(rows) and 0 <= cell[1] < len(rows[0])) or rows[cell[0]][cell[1]] != ".":
            raise ValueError(f"{name} must be the (row, col) of an open cell of FOUR_ROOMS, got {cell!r}")
    if start is not None and tuple(start) == tuple(goal):
        raise ValueError(f"start and goal must differ, got {start!r} for both")
    rows[goal[0]][goal[1]] = "G"
    if start is not None:
        rows[start[0]][start[1]] = "S"
    grid = GridWorld(["".join(r) for r in rows], step_reward=0.0, goal_reward=goal_reward, gamma=gamma)
    det = grid.mdp
    S, A = det.n_states, det.n_actions
    move = det.next_state[:, :, 0]                      # [S, A], deterministic successor of each move
    other = (1.0 - success) / (A - 1)
    prob = np.full((S, A, A), other)
    prob[:, np.arange(A), np.arange(A)] = success       # slot k = the move actually made
    next_state = np.broadcast_to(move[:, None, :], (S, A, A)).copy()
    reward = np.broadcast_to(det.reward[:, None, :, 0], (S, A, A)).copy()
    done = np.broadcast_to(det.done[:, None, :, 0], (S, A, A)).copy()
    g = grid.state_of(*goal)
    initial = np.where(np.arange(S) == g, 0.0, 1.0 / (S - 1)) if start is None else det.initial
    mdp = TabularMDP(next_state, prob, reward, done, gamma=gamma, terminal=det.terminal, initial=initial,
                     state_names=det.state_names, action_names=det.action_names)
    room_of = np.full(S, -1, dtype=np.int64)
    for r, ((r0, r1), (c0, c1)) in enumerate(_ROOM_BOXES):
        inside = ((grid.positions[:, 0] >= r0) & (grid.positions[:, 0] <= r1)
                  & (grid.positions[:, 1] >= c0) & (grid.positions[:, 1] <= c1))
        room_of[inside] = r
    hallways = tuple(grid.state_of(*h) for h in _HALLWAYS)
    room_hallways = ((hallways[0], hallways[1]), (hallways[0], hallways[2]),
                     (hallways[1], hallways[3]), (hallways[2], hallways[3]))
    return FourRooms(mdp, grid, room_of, hallways, room_hallways, g)
