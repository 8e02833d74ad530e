"""Two-player matrix games and independent learners: why a learning partner makes the world non-stationary.

Book: *Advanced techniques*, "Multi-agent RL for dialogue systems" ("Cooperation, competition and
everything between" and "Learning dynamics").

A general-sum matrix game is a pair of payoff tables ``A, B`` of shape ``[n, m]``: the row player
picks ``i``, the column player ``j``, and they receive ``A[i, j]`` and ``B[i, j]``. With mixed
strategies ``x`` (over rows) and ``y`` (over columns) the expected payoffs are the bilinear forms

    u_1(x, y) = x^T A y,        u_2(x, y) = x^T B y.

``(x*, y*)`` is a Nash equilibrium when neither player gains by deviating alone; the gap to one is
measured by the exploitability (often called NashConv)

    expl(x, y) = [max_i (A y)_i - x^T A y] + [max_j (x^T B)_j - x^T B y]  >= 0,

zero exactly at an equilibrium. Two games are built in:

* [`demand_game`][], a negotiation in miniature (a two-offer Nash demand game, "Deal or No Deal" with
  one item split): each side asks for a small share (concede) or a large one (greedy) of a surplus;
  if the demands fit, each gets what it asked for, otherwise there is no deal and both get 0. With
  the defaults (asks 1 or 3 of 4) the payoffs are ``A = [[1, 1], [3, 0]]``, ``B = A^T``: a game of
  chicken, with two pure equilibria (one side concedes) and a mixed one (greedy with probability 2/3).
* [`matching_pennies`][], ``A = [[1, -1], [-1, 1]] = -B``: no pure equilibrium, the unique one is
  ``x* = y* = (1/2, 1/2)``. The contrast case: independent learners cycle around it.

An independent learner treats its partner as part of the environment. To the row player the
payoff of a *fixed* action ``i`` is ``Q_1(i; y_t) = (A y_t)_i``; it changes whenever the partner's
``y_t`` does, so the row player's best response ``argmax_i Q_1(i; y_t)`` keeps switching: the
environment it learns in is non-stationary ([`action_values`][], [`best_response_switches`][]).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from rlcore.core.validation import (
    check_array,
    check_flag,
    check_nonnegative_int,
    check_positive_int,
    check_probability_vector,
    check_real,
)

__all__ = ["matching_pennies", "demand_game", "expected_payoffs", "pure_nash", "nash_2x2", "exploitability",
           "PlayHistory", "independent_pg", "action_values", "best_response_switches", "distance_to_nash"]

_GRADIENTS = ("sampled", "exact")


def _check_game(A: Any, B: Any) -> tuple[np.ndarray, np.ndarray]:
    A, B = check_array(A, "A", ndim=2), check_array(B, "B", ndim=2)
    if A.shape != B.shape:
        raise ValueError(f"A and B must be finite payoff tables of one shape [n, m], got shapes {A.shape} and "
                         f"{B.shape}")
    return A, B


def matching_pennies() -> tuple[np.ndarray, np.ndarray]:
    """``(A, B)`` with ``A = [[1, -1], [-1, 1]]`` and ``B = -A``: the row player wins when the coins match."""
    A = np.array([[1.0, -1.0], [-1.0, 1.0]])
    return A, -A


def demand_game(demands: Any = (1.0, 3.0), surplus: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """A Nash demand game: each player asks for ``demands[k]`` of ``surplus``; ``(A, B)`` of shape ``[K, K]``.

    ``A[i, j] = d_i [d_i + d_j <= S]`` and ``B[i, j] = d_j [d_i + d_j <= S]``: a deal when the asks fit,
    nothing for either side otherwise (the module docstring gives the default table).
    """
    d = check_array(demands, "demands", ndim=1)
    if d.size < 2 or (d < 0).any():
        raise ValueError(f"demands must be at least two finite numbers >= 0, got {demands!r}")
    S = check_real(surplus, "surplus", open_low=True)
    deal = d[:, None] + d[None, :] <= S
    return np.where(deal, d[:, None], 0.0), np.where(deal, d[None, :], 0.0)


def expected_payoffs(A: Any, B: Any, x: Any, y: Any) -> tuple[float, float]:
    """``(x^T A y, x^T B y)``: both players' expected payoffs under the mixed strategies ``x`` and ``y``."""
    A, B = _check_game(A, B)
    x, y = check_probability_vector(x, A.shape[0], "x"), check_probability_vector(y, A.shape[1], "y")
    return float(x @ A @ y), float(x @ B @ y)


def pure_nash(A: Any, B: Any) -> list[tuple[int, int]]:
    """Every pure equilibrium ``(i, j)``: ``A[i, j] = max_k A[k, j]`` and ``B[i, j] = max_l B[i, l]``."""
    A, B = _check_game(A, B)
    return [(i, j) for i in range(A.shape[0]) for j in range(A.shape[1])
            if A[i, j] >= A[:, j].max() and B[i, j] >= B[i, :].max()]


def nash_2x2(A: Any, B: Any) -> tuple[np.ndarray, np.ndarray]:
    """The fully mixed equilibrium ``(x*, y*)`` of a 2x2 game, in closed form from the indifference conditions.

    ``y*`` makes the row player indifferent, ``(A y*)_0 = (A y*)_1``, and ``x*`` the column player,
    ``(x*^T B)_0 = (x*^T B)_1``:

        y*_0 = (A_11 - A_01) / (A_00 - A_01 - A_10 + A_11),   x*_0 = (B_11 - B_10) / (B_00 - B_01 - B_10 + B_11).

    Each is then a best response to the other (every strategy is). ``ValueError`` when either
    probability is undefined or outside ``(0, 1)``: the game has no fully mixed equilibrium.
    """
    A, B = _check_game(A, B)
    if A.shape != (2, 2):
        raise ValueError(f"A, B: nash_2x2 needs a 2x2 game, got payoff tables of shape {A.shape}")
    da, db = A[0, 0] - A[0, 1] - A[1, 0] + A[1, 1], B[0, 0] - B[0, 1] - B[1, 0] + B[1, 1]
    y0 = (A[1, 1] - A[0, 1]) / da if da != 0 else np.nan
    x0 = (B[1, 1] - B[1, 0]) / db if db != 0 else np.nan
    if not (0 < x0 < 1 and 0 < y0 < 1):
        raise ValueError(f"A, B: the game has no fully mixed equilibrium (indifference gives x*_0={x0:.4g}, "
                         f"y*_0={y0:.4g}; expected both in (0, 1))")
    return np.array([x0, 1 - x0]), np.array([y0, 1 - y0])


def exploitability(A: Any, B: Any, x: Any, y: Any) -> float:
    """``[max_i (A y)_i - x^T A y] + [max_j (x^T B)_j - x^T B y]``: what both players gain by best-responding."""
    A, B = _check_game(A, B)
    x, y = check_probability_vector(x, A.shape[0], "x"), check_probability_vector(y, A.shape[1], "y")
    return float((A @ y).max() - x @ A @ y + (x @ B).max() - x @ B @ y)


@dataclass(frozen=True)
class PlayHistory:
    """What [`independent_pg`][] did: the policies before every step and after the last one.

    ``x [T+1, n]`` and ``y [T+1, m]`` are the players' policies, ``actions [T, 2]`` the sampled
    actions (``-1`` with the exact gradient) and ``payoffs [T, 2]`` the payoffs received (the
    expected ones with the exact gradient).
    """

    x: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    actions: np.ndarray = field(repr=False)
    payoffs: np.ndarray = field(repr=False)
    lr: float
    gradient: str
    seed: int

    @property
    def average_x(self) -> np.ndarray:
        """``[T+1, n]`` running averages ``x_bar_t = (1/(t+1)) sum_{s<=t} x_s`` (the time-averaged policy)."""
        return np.cumsum(self.x, axis=0) / np.arange(1, len(self.x) + 1)[:, None]

    @property
    def average_y(self) -> np.ndarray:
        """``[T+1, m]`` running averages of ``y_t``."""
        return np.cumsum(self.y, axis=0) / np.arange(1, len(self.y) + 1)[:, None]

    def __repr__(self) -> str:
        return (f"PlayHistory({len(self.payoffs)} steps, {self.gradient} gradient, lr={self.lr:g}, seed={self.seed}, "
                f"final x={np.round(self.x[-1], 3).tolist()}, y={np.round(self.y[-1], 3).tolist()})")


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def independent_pg(A: Any, B: Any, *, n_steps: int = 4000, lr: float = 0.05, seed: int = 0,
                   init_logits: tuple[Any, Any] | None = None, baseline_rate: float = 0.05,
                   gradient: str = "sampled", progress: bool = False) -> PlayHistory:
    """Independent softmax policy gradient: each player ascends its own payoff, blind to the other's learning.

    Player 1 has logits ``theta`` and policy ``x = softmax(theta)`` (player 2: ``phi``, ``y``). Both
    update simultaneously from the same round:

    * ``gradient="sampled"`` (REINFORCE): draw ``i ~ x_t``, ``j ~ y_t``, receive ``r_1 = A[i, j]``,
      ``r_2 = B[i, j]`` and step ``theta += lr (r_1 - b_1) (e_i - x_t)`` with a running baseline
      ``b_1 += baseline_rate (r_1 - b_1)`` (likewise for player 2);
    * ``gradient="exact"``: the expected step ``theta += lr x_t * (A y_t - x_t^T A y_t)``, the gradient
      of ``x^T A y`` with respect to ``theta`` (no sampling; ``seed`` is unused).

    Logits start at ``init_logits`` (default zeros, the uniform policies). Everything random comes
    from ``numpy.random.default_rng(seed)``, so a seed reproduces a run bit for bit.
    """
    A, B = _check_game(A, B)
    n_steps = check_positive_int(n_steps, "n_steps")
    lr = check_real(lr, "lr", open_low=True)
    seed = check_nonnegative_int(seed, "seed")
    rate = check_real(baseline_rate, "baseline_rate")
    check_flag(progress, "progress")
    if gradient not in _GRADIENTS:
        raise ValueError(f"gradient must be one of {_GRADIENTS}, got {gradient!r}")
    n, m = A.shape
    theta, phi = np.zeros(n), np.zeros(m)
    if init_logits is not None:
        if not isinstance(init_logits, (tuple, list)) or len(init_logits) != 2:
            raise ValueError(f"init_logits must be a pair (theta, phi) of logits, got {init_logits!r}")
        theta, phi = (check_array(v, "init_logits", shape=(k,)) for v, k in zip(init_logits, (n, m)))
    rng = np.random.default_rng(seed)
    xs, ys = np.zeros((n_steps + 1, n)), np.zeros((n_steps + 1, m))
    actions = np.full((n_steps, 2), -1, dtype=int)
    payoffs = np.zeros((n_steps, 2))
    b1 = b2 = 0.0
    for t in tqdm(range(n_steps), disable=not progress, desc="independent pg", leave=False):
        x, y = _softmax(theta), _softmax(phi)
        xs[t], ys[t] = x, y
        if gradient == "exact":
            qa, qb = A @ y, x @ B
            payoffs[t] = x @ qa, qb @ y
            theta = theta + lr * x * (qa - x @ qa)
            phi = phi + lr * y * (qb - qb @ y)
            continue
        u = rng.random(2)
        i = min(int(np.searchsorted(np.cumsum(x), u[0], side="right")), n - 1)
        j = min(int(np.searchsorted(np.cumsum(y), u[1], side="right")), m - 1)
        r1, r2 = A[i, j], B[i, j]
        actions[t], payoffs[t] = (i, j), (r1, r2)
        theta = theta + lr * (r1 - b1) * (np.eye(n)[i] - x)
        phi = phi + lr * (r2 - b2) * (np.eye(m)[j] - y)
        b1, b2 = b1 + rate * (r1 - b1), b2 + rate * (r2 - b2)
    xs[-1], ys[-1] = _softmax(theta), _softmax(phi)
    return PlayHistory(xs, ys, actions, payoffs, lr, gradient, seed)


def action_values(A: Any, y: Any) -> np.ndarray:
    """``Q[t, i] = (A y_t)_i``: the payoff of each fixed row action against the partner's policy at step ``t``.

    ``y`` is ``[T, m]`` (or one policy ``[m]``). For the column player pass ``B.T`` and its partner's ``x``.
    A stationary environment would give constant columns; their spread over ``t`` is the non-stationarity
    an independent learner faces.
    """
    A, y = check_array(A, "A", ndim=2), check_array(y, "y")
    if y.shape[-1:] != A.shape[1:] or y.ndim not in (1, 2):
        raise ValueError(f"y must be [T, {A.shape[-1]}] policies for a table of shape {A.shape}, got shape {y.shape}")
    return y @ A.T


def best_response_switches(A: Any, y: Any) -> int:
    """How often the row player's best response ``argmax_i (A y_t)_i`` changes from one step to the next."""
    br = action_values(A, y).argmax(axis=-1)
    return int(np.count_nonzero(br[1:] != br[:-1]))


def distance_to_nash(x: Any, y: Any, x_star: Any, y_star: Any) -> np.ndarray:
    """``d_t = sqrt(||x_t - x*||^2 + ||y_t - y*||^2)`` for every row of ``x [T, n]`` and ``y [T, m]``."""
    x, y = np.atleast_2d(check_array(x, "x")), np.atleast_2d(check_array(y, "y"))
    xs, ys = check_array(x_star, "x_star"), check_array(y_star, "y_star")
    if x.shape[1:] != xs.shape or y.shape[1:] != ys.shape or len(x) != len(y):
        raise ValueError(f"x, y must be [T, n], [T, m] matching x_star {xs.shape} and y_star {ys.shape}, got "
                         f"{x.shape} and {y.shape}")
    return np.sqrt(((x - xs) ** 2).sum(axis=1) + ((y - ys) ** 2).sum(axis=1))
