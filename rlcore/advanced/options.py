"""Options (Sutton, Precup & Singh, 1999): temporally extended actions, their models, and planning with them.

Book: *Advanced techniques*, "Hierarchical RL for long-form generation" (options and managers).

An option ``o = (I_o, pi_o, zeta_o)`` may start in any state of its initiation set ``I_o``,
then acts by ``pi_o`` and stops in ``s`` with probability ``zeta_o(s)`` (the paper writes
``beta``; the book keeps ``beta`` for the strength of a KL penalty). A primitive action
``a`` is the option that may start anywhere, takes ``a`` once and always stops.

The *model* of an option is what value iteration needs to plan with it: its discounted reward
and its discounted distribution of stopping states,

    R_o(s)     = E[ r_1 + gamma r_2 + ... + gamma^(k-1) r_k ]
    P_o(s, x)  = sum_j gamma^j Pr(the option stops in x after j steps | it started in s),

both the solution of a linear system: with ``M[s, x] = gamma P(x | s, pi_o(s))`` over transitions
that do not end the episode and ``C = diag(1 - zeta_o)``,

    R_o = (I - M C)^{-1} r_pi,      P_o = (I - M C)^{-1} M diag(zeta_o).

SMDP value iteration then backs values up through the options available in each state:

    V_{k+1}(s) = max_{o : s in I_o} [ R_o(s) + sum_x P_o(s, x) V_k(x) ].

With every primitive action among the options this is value iteration on the flat MDP, and it
converges to the same ``V*``; longer options carry value further per sweep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rlcore.core.mdp import TabularMDP
from rlcore.core.validation import check_array, check_flags, check_instance, check_positive_int, check_real
from rlcore.envs.rooms import FourRooms
from rlcore.tabular.common import _warn, as_policy_table

__all__ = ["Option", "primitive_options", "hallway_options", "option_model", "OptionModels", "option_models",
           "SMDPResult", "smdp_value_iteration"]


@dataclass(frozen=True)
class Option:
    """A Markov option: where it may start, how it acts, when it stops."""

    name: str
    initiation: np.ndarray = field(repr=False)
    """``[S]`` bool, the states ``I_o`` in which the option may be started"""
    policy: np.ndarray = field(repr=False)
    """``[S]`` int, the action ``pi_o(s)`` it takes in ``s`` (read only where it may act)"""
    termination: np.ndarray = field(repr=False)
    """``[S]`` float in ``[0, 1]``, ``zeta_o(s)``: the chance it stops on arriving in ``s``"""

    def __post_init__(self) -> None:
        check_instance(self.name, "Option name", str)
        shapes = {a: np.shape(getattr(self, a)) for a in ("initiation", "policy", "termination")}
        if len(set(shapes.values())) != 1 or len(shapes["policy"]) != 1:
            raise ValueError(f"Option {self.name!r}: initiation, policy and termination must be [S] arrays of one "
                             f"length, got shapes {shapes}")
        check_flags(self.initiation, f"Option {self.name!r}: initiation")
        if (check_array(self.policy, f"Option {self.name!r}: policy", integer=True) < 0).any():
            raise ValueError(f"Option {self.name!r}: policy must hold action indices >= 0")
        zeta = check_array(self.termination, f"Option {self.name!r}: termination")
        if not np.all((zeta >= 0) & (zeta <= 1)):
            raise ValueError(f"Option {self.name!r}: termination must lie in [0, 1]")

    @property
    def is_primitive(self) -> bool:
        """True when the option always stops after one step."""
        return bool(np.all(np.asarray(self.termination) == 1.0))


def primitive_options(mdp: TabularMDP) -> list[Option]:
    """One option per action: it may start in any non-terminal state and stops after one step."""
    check_instance(mdp, "mdp", TabularMDP)
    S = mdp.n_states
    names = mdp.action_names or tuple(str(a) for a in range(mdp.n_actions))
    return [Option(str(names[a]), ~mdp.terminal, np.full(S, a), np.ones(S)) for a in range(mdp.n_actions)]


def _shortest_path_policy(move: np.ndarray, region: np.ndarray, target: int) -> np.ndarray:
    """Action of each region cell on a shortest path to ``target`` through the region (ties: lowest action)."""
    S, A = move.shape
    dist = np.full(S, np.inf)
    dist[target] = 0.0
    frontier = [target]
    while frontier:  # breadth-first search backwards: a cell is one step further than any cell it can enter
        step = dist[frontier[0]] + 1
        enters = region[:, None] & np.isin(move, frontier) & np.isinf(dist)[:, None]
        frontier = list(np.flatnonzero(enters.any(axis=1)))
        dist[frontier] = step
    return np.argmin(dist[move], axis=1)


def hallway_options(rooms: FourRooms) -> list[Option]:
    """The eight hallway options of the paper: from inside a room, walk to one of its two hallways.

    The option for room ``r`` and hallway ``h`` may start in any cell of the room or in the
    room's *other* hallway; it follows a shortest path (in intended moves) to ``h``, stops there
    with certainty, and stops as soon as a slip carries the agent out of its initiation set.
    Options are named ``"<room>-><hallway cell>"``, for example ``"NW->(3,6)"``; the goal cell is
    never in an initiation set (the episode ends there).
    """
    if not isinstance(rooms, FourRooms):
        raise TypeError(f"rooms must be a FourRooms, got {type(rooms).__name__}")
    move = rooms.mdp.next_state[:, 0, :]  # slot k of any action is the move actually made in direction k
    names = ("NW", "NE", "SW", "SE")
    out = []
    for r, pair in enumerate(rooms.room_hallways):
        for h, other in (pair, pair[::-1]):
            start = (rooms.room_of == r)
            start[other] = True
            start &= ~rooms.mdp.terminal
            region = start.copy()
            region[h] = True
            policy = _shortest_path_policy(move, region, h)
            zeta = np.where(start, 0.0, 1.0)
            zeta[h] = 1.0
            r_h, c_h = rooms.grid.positions[h]
            out.append(Option(f"{names[r]}->({r_h},{c_h})", start, policy, zeta))
    return out


def option_model(mdp: TabularMDP, option: Option) -> tuple[np.ndarray, np.ndarray]:
    """``(R_o [S], P_o [S, S])``: the discounted reward and stopping distribution of ``option`` from every state.

    Rows for states outside ``I_o`` are computed as if the option were started there; planners
    read only the rows of ``I_o``. Needs ``gamma < 1`` (so that ``I - M C`` is invertible).
    """
    check_instance(mdp, "mdp", TabularMDP)
    if not isinstance(option, Option):
        raise TypeError(f"option must be an Option, got {type(option).__name__}")
    S = mdp.n_states
    if np.shape(option.policy) != (S,):
        raise ValueError(f"option {option.name!r} is for {np.shape(option.policy)[0]} states, the MDP has {S}")
    if np.max(option.policy) >= mdp.n_actions:
        raise ValueError(f"option {option.name!r}: policy actions must lie in [0, {mdp.n_actions}), got "
                         f"{np.max(option.policy)}")
    if mdp.gamma >= 1:
        raise ValueError(f"option models need gamma < 1, got gamma={mdp.gamma}")
    table = as_policy_table(mdp, np.asarray(option.policy, dtype=np.int64))
    M = mdp.policy_matrix(table).toarray()  # gamma P^pi_o without the transitions that end the episode
    r_pi = (table * mdp.R).sum(axis=1)
    zeta = np.asarray(option.termination, dtype=float)
    lhs = np.eye(S) - M * (1.0 - zeta)[None, :]
    R = np.linalg.solve(lhs, r_pi)
    P = np.linalg.solve(lhs, M * zeta[None, :])
    return R, P


@dataclass(frozen=True)
class OptionModels:
    """The models of a set of options, stacked: ``R [O, S]``, ``P [O, S, S]`` and ``available [O, S]``."""

    options: tuple[Option, ...]
    R: np.ndarray = field(repr=False)
    P: np.ndarray = field(repr=False)
    available: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        opts = check_instance(self.options, "options", (tuple, list))
        if not opts or not all(isinstance(o, Option) for o in opts):
            raise ValueError(f"options must be a non-empty sequence of Option, got {self.options!r}")
        S = check_flags(self.available, "available", shape=(len(opts), None)).shape[1]
        check_array(self.R, "R", shape=(len(opts), S))
        check_array(self.P, "P", shape=(len(opts), S, S))

    def __repr__(self) -> str:
        n_prim = sum(o.is_primitive for o in self.options)
        return f"OptionModels({len(self.options)} options ({n_prim} primitive), {self.R.shape[1]} states)"


def option_models(mdp: TabularMDP, options: Sequence[Option]) -> OptionModels:
    """[`option_model`][] of every option, stacked into an [`OptionModels`][]."""
    check_instance(mdp, "mdp", TabularMDP)
    options = tuple(check_instance(options, "options", (list, tuple), "a list of Option"))
    if not options:
        raise ValueError("options must hold at least one Option, got none")
    for i, o in enumerate(options):
        check_instance(o, f"options[{i}]", Option)
        if np.shape(o.policy) != (mdp.n_states,):
            raise ValueError(f"options[{i}] ({o.name!r}) is for {np.shape(o.policy)[0]} states, the MDP has "
                             f"{mdp.n_states}")
    pairs = [option_model(mdp, o) for o in options]
    available = np.stack([np.asarray(o.initiation, dtype=bool) & ~mdp.terminal for o in options])
    return OptionModels(options, np.stack([R for R, _ in pairs]), np.stack([P for _, P in pairs]), available)


@dataclass(frozen=True)
class SMDPResult:
    """Values planned with options: ``V [S]``, ``Q [O, S]`` (``-inf`` where unavailable), sweeps and residuals."""

    V: np.ndarray = field(repr=False)
    Q: np.ndarray = field(repr=False)
    iterations: int
    converged: bool
    history: dict = field(repr=False)
    """``{"residual": [iterations], "V": [iterations + 1, S]}``: ``max_s |V_{k+1} - V_k|`` and every iterate"""

    def __repr__(self) -> str:
        return f"SMDPResult({self.Q.shape[0]} options, {self.iterations} sweeps, converged={self.converged})"


def smdp_value_iteration(models: OptionModels, tol: float = 1e-10, max_iterations: int = 10_000) -> SMDPResult:
    """``V_{k+1}(s) = max_{o available in s} [R_o(s) + sum_x P_o(s, x) V_k(x)]`` from ``V_0 = 0``, to ``tol``.

    States where no option is available (terminal states, or cells no option covers) keep value 0.
    """
    if not isinstance(models, OptionModels):
        raise TypeError(f"models must be OptionModels (from option_models), got {type(models).__name__}")
    tol = check_real(tol, "tol", open_low=True)
    max_iterations = check_positive_int(max_iterations, "max_iterations")
    S = models.R.shape[1]
    V = np.zeros(S)
    iterates, residuals = [V], []
    any_option = models.available.any(axis=0)
    for _ in range(max_iterations):
        Q = np.where(models.available, models.R + models.P @ V, -np.inf)
        V_new = np.where(any_option, Q.max(axis=0), 0.0)
        residuals.append(float(np.abs(V_new - V).max()))
        V = V_new
        iterates.append(V)
        if residuals[-1] < tol:
            break
    converged = residuals[-1] < tol
    if not converged:
        _warn("SMDP value iteration", len(residuals), residuals[-1], tol)
    Q = np.where(models.available, models.R + models.P @ V, -np.inf)
    return SMDPResult(V, Q, len(residuals), converged, {"residual": np.array(residuals), "V": np.array(iterates)})
