"""Baird's counterexample: seven states where off-policy semi-gradient TD drives the weights to infinity.

Book: *Sequential decision making*, "From tables to networks" (the deadly triad);
Sutton & Barto (2018), Example 11.1 and Figure 11.2.

A continuing chain of seven states and two actions: *dashed* jumps to one of the six upper
states (indices ``0..5``) uniformly, *solid* to the lower state (index ``6``). Every reward is 0,
so the true value of every policy is ``v_pi = 0``; ``gamma = 0.99``. The value is linear in eight
weights, ``v(s, w) = x(s)^T w`` (indices from 0: the book's ``w_1 .. w_8`` are ``w[0] .. w[7]``):

| state | value | feature row ``X[s]`` |
|---|---|---|
| upper ``i = 0..5`` | ``2 w_i + w_7`` | ``2`` at ``i``, ``1`` at ``7`` |
| lower ``6`` | ``w_6 + 2 w_7`` | ``1`` at ``6``, ``2`` at ``7`` |

The rows are linearly independent, so ``w = 0`` represents ``v_pi`` exactly: what fails is not
representation. The behaviour policy ``b`` picks solid with probability ``1/7`` (the next state is
then uniform over all seven, from anywhere); the target policy ``pi`` always picks solid. Function
approximation, bootstrapping and off-policy training, the deadly triad, are all present; the
per-step importance ratio ``rho = pi(a|s) / b(a|s)`` is ``7`` for solid and ``0`` for dashed.

This module holds the problem, its two error measures and the result type; the learners that
run on it (semi-gradient TD and DP, which diverge, and TDC, which does not) are in
[`rlcore.approx.off_policy_td`][rlcore.approx.off_policy_td].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rlcore.core.validation import check_array, check_instance, check_positive_int, check_real, check_unit_interval

__all__ = ["DASHED", "SOLID", "baird_features", "Baird", "BairdResult", "value_error", "projected_bellman_error"]

DASHED, SOLID = 0, 1  # action indices
N_STATES, N_UPPER = 7, 6


def baird_features() -> np.ndarray:
    """The feature matrix ``X [7, 8]`` of the table above: ``X[s] @ w`` is the value of state ``s``."""
    X = np.zeros((N_STATES, 8))
    X[np.arange(N_UPPER), np.arange(N_UPPER)] = 2.0
    X[:N_UPPER, 7] = 1.0
    X[6, 6], X[6, 7] = 1.0, 2.0
    return X


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class Baird:
    """Baird's seven-state problem (validated on construction; arrays are read-only).

    Attributes
    ----------
    gamma
        Discount factor, in ``[0, 1)`` (the task is continuing).
    b_solid
        Probability ``b(solid|s)`` that the behaviour policy picks solid, in ``(0, 1)`` (``1/7`` in the book).
    pi_solid
        Probability ``pi(solid|s)`` under the target policy, in ``[0, 1]`` (``1`` in the book).
        ``pi_solid == b_solid`` makes the problem on-policy (``rho = 1``).
    X
        ``[7, d]`` features (default [`baird_features`][rlcore.approx.baird.baird_features]).
    w0
        ``[d]`` initial weights (default ``(1, 1, 1, 1, 1, 1, 10, 1)``).
    """

    gamma: float = 0.99
    b_solid: float = 1 / 7
    pi_solid: float = 1.0
    X: np.ndarray | None = field(default=None, repr=False)
    w0: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        gamma = check_unit_interval(self.gamma, "gamma")
        if gamma >= 1.0:
            raise ValueError(f"gamma must be < 1 for this continuing task, got {gamma}")
        b = check_unit_interval(self.b_solid, "b_solid")
        if not 0.0 < b < 1.0:
            raise ValueError(f"b_solid must lie in (0, 1) so that b takes both actions, got {b}")
        pi = check_unit_interval(self.pi_solid, "pi_solid")
        X = baird_features() if self.X is None else _floats(self.X, "X")
        if X.ndim != 2 or X.shape[0] != N_STATES or X.shape[1] < 1 or not np.isfinite(X).all():
            raise ValueError(f"X must be a finite [7, d] feature matrix, got shape {X.shape}")
        d = X.shape[1]
        w0 = np.array([1, 1, 1, 1, 1, 1, 10, 1.0]) if self.w0 is None else _floats(self.w0, "w0")
        if w0.shape != (d,) or not np.isfinite(w0).all():
            raise ValueError(f"w0 must be a finite vector of shape ({d},) (one weight per feature), got shape "
                             f"{w0.shape}")
        X, w0 = X.copy(), w0.copy()
        X.setflags(write=False)
        w0.setflags(write=False)
        for name, value in (("gamma", gamma), ("b_solid", b), ("pi_solid", pi), ("X", X), ("w0", w0)):
            object.__setattr__(self, name, value)

    @property
    def n_features(self) -> int:
        """``d``, the number of weights."""
        return self.X.shape[1]

    def next_state_probs(self, p_solid: float) -> np.ndarray:
        """``[7]`` next-state distribution of a policy that picks solid with probability ``p_solid`` (any state)."""
        p_solid = check_unit_interval(p_solid, "p_solid")
        return np.append(np.full(N_UPPER, (1.0 - p_solid) / N_UPPER), p_solid)

    @property
    def P_target(self) -> np.ndarray:
        """``[7, 7]`` transition matrix ``P_pi[s, s']`` of the target policy (every row the same)."""
        return np.tile(self.next_state_probs(self.pi_solid), (N_STATES, 1))

    @property
    def mu(self) -> np.ndarray:
        """``[7]`` stationary state distribution of ``b``, the weighting of both errors (uniform in the book).

        The next state does not depend on the current one, so one step of ``b`` already reaches it.
        """
        return self.next_state_probs(self.b_solid)

    @property
    def rho(self) -> np.ndarray:
        """``[2]`` importance ratios ``pi(a|s) / b(a|s)`` indexed by action (``[0, 7]`` in the book)."""
        return np.array([(1.0 - self.pi_solid) / (1.0 - self.b_solid), self.pi_solid / self.b_solid])

    def sample(self, n_steps: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``(states [n_steps + 1], actions [n_steps])`` of one run of ``b``, starting from ``S_0 ~ mu``.

        Draw order: ``S_0``, then all actions (``A_t`` solid iff ``U_t < b_solid``), then all upper
        targets, so a seed fixes the whole trajectory.
        """
        n_steps = check_positive_int(n_steps, "n_steps")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        s0 = rng.choice(N_STATES, p=self.mu)
        actions = (rng.random(n_steps) < self.b_solid).astype(np.int64)
        upper = rng.integers(0, N_UPPER, size=n_steps)
        states = np.concatenate([[s0], np.where(actions == SOLID, N_STATES - 1, upper)])
        return states, actions


@dataclass(frozen=True, eq=False)  # holds arrays: compared by identity
class BairdResult:
    """Weight history of a run on [`Baird`][rlcore.approx.baird.Baird].

    Attributes
    ----------
    method
        Which learner produced it.
    w
        ``[T + 1, d]``: ``w[0]`` the initial weights, ``w[t]`` those after ``t`` steps (or sweeps).
    problem
        The [`Baird`][rlcore.approx.baird.Baird] problem it ran on.
    alpha, beta
        Step sizes (``beta`` only for TDC, else ``None``).
    v
        ``[T + 1, d]`` TDC's secondary weights (``None`` for the other learners).
    states, actions
        ``[T + 1]`` and ``[T]`` sampled trajectory (``None`` for the expected updates).
    """

    method: str
    w: np.ndarray = field(repr=False)
    problem: Baird = field(repr=False)
    alpha: float = 0.0
    beta: float | None = None
    v: np.ndarray | None = field(default=None, repr=False)
    states: np.ndarray | None = field(default=None, repr=False)
    actions: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        check_instance(self.method, "method", str)
        check_instance(self.problem, "problem", Baird)
        w = check_array(self.w, "w", ndim=2, finite=False)  # a divergent run holds inf/nan: that is its result
        if w.shape[1] != self.problem.n_features:
            raise ValueError(f"w must have shape [T + 1, {self.problem.n_features}] (one weight per feature), "
                             f"got {w.shape}")
        check_real(self.alpha, "alpha")
        check_real(self.beta, "beta", none=True)
        if self.v is not None:
            check_array(self.v, "v", shape=w.shape, finite=False)
        for name, x, n in (("states", self.states, len(w)), ("actions", self.actions, len(w) - 1)):
            if x is not None:
                check_array(x, name, shape=(n,), integer=True, allow_empty=True)

    @property
    def norms(self) -> np.ndarray:
        """``[T + 1]`` Euclidean norm ``||w_t||`` of every iterate."""
        return np.linalg.norm(self.w, axis=-1)

    @property
    def value_errors(self) -> np.ndarray:
        """``[T + 1]`` root value error of every iterate ([`value_error`][rlcore.approx.baird.value_error])."""
        return value_error(self.w, self.problem)

    @property
    def projected_bellman_errors(self) -> np.ndarray:
        """``[T + 1]`` root projected Bellman error of every iterate."""
        return projected_bellman_error(self.w, self.problem)

    def __repr__(self) -> str:
        n = self.norms
        unit = "sweeps" if self.states is None else "steps"
        return (f"BairdResult({self.method}, {len(self.w) - 1} {unit}, alpha={self.alpha:g}"
                f"{'' if self.beta is None else f', beta={self.beta:g}'}, ||w||: {n[0]:.4g} -> {n[-1]:.4g}, "
                f"RMS VE {self.value_errors[-1]:.4g}, RMS PBE {self.projected_bellman_errors[-1]:.4g})")


# ---------------------------------------------------------------- checks (also used by off_policy_td.py)
def _problem(problem: Any) -> Baird:
    if problem is None:
        return Baird()
    if not isinstance(problem, Baird):
        raise TypeError(f"problem must be a Baird instance or None, got {type(problem).__name__}")
    return problem


def _floats(x: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}") from None


def _weights(w: Any, problem: Baird) -> np.ndarray:
    w = _floats(w, "w")
    if w.ndim == 0 or w.shape[-1] != problem.n_features:
        raise ValueError(f"w must have shape [..., {problem.n_features}] (one weight per feature), got {w.shape}")
    return w


# ---------------------------------------------------------------- error measures
def _bellman_error(w: np.ndarray, problem: Baird) -> np.ndarray:
    """``[..., 7]`` Bellman error ``delta_w(s) = E_pi[R + gamma v(S', w) | s] - v(s, w)`` (rewards are 0)."""
    v = w @ problem.X.T
    return problem.gamma * v @ problem.P_target.T - v


def value_error(w: Any, problem: Baird | None = None) -> np.ndarray | float:
    """Root mean-squared value error ``sqrt(sum_s mu(s) (v(s, w) - v_pi(s))^2)`` with ``v_pi = 0``.

    ``w`` is ``[d]`` (returns a float) or a history ``[..., d]`` (returns ``[...]``);
    ``mu`` is ``b``'s state distribution, uniform for the book's problem.
    """
    problem = _problem(problem)
    w = _weights(w, problem)
    out = np.sqrt((w @ problem.X.T) ** 2 @ problem.mu)
    return float(out) if out.ndim == 0 else out


def projected_bellman_error(w: Any, problem: Baird | None = None) -> np.ndarray | float:
    """Root projected Bellman error ``||Pi delta_w||_mu`` (Sutton & Barto, section 11.4, Figure 11.5).

    ``Pi = X (X^T D X)^+ X^T D`` with ``D = diag(mu)`` projects a value vector onto the
    representable ones in the ``mu``-norm, ``||u||_mu^2 = sum_s mu(s) u(s)^2``; ``delta_w`` is the
    Bellman error of the target policy (the pseudo-inverse copes with dependent features).
    For the book's features the seven rows span ``R^7``, so ``Pi`` is the identity and the PBE
    equals the (unprojected) Bellman error. Shapes as in [`value_error`][rlcore.approx.baird.value_error].
    """
    problem = _problem(problem)
    w = _weights(w, problem)
    X, D = problem.X, np.diag(problem.mu)
    Pi = X @ np.linalg.pinv(X.T @ D @ X) @ X.T @ D
    proj = _bellman_error(w, problem) @ Pi.T
    out = np.sqrt(proj ** 2 @ problem.mu)
    return float(out) if out.ndim == 0 else out
