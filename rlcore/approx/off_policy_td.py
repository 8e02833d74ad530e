"""Off-policy linear TD on Baird's counterexample: semi-gradient TD and DP diverge, TDC does not.

Book: *Sequential decision making*, "From tables to networks" (the deadly triad);
Sutton & Barto (2018), sections 11.1-11.2 (Figure 11.2) and 11.7 (Figure 11.5); Sutton et al. (2009).

Every learner here runs on a [`Baird`][rlcore.approx.baird.Baird] problem and returns a
[`BairdResult`][rlcore.approx.baird.BairdResult] holding the whole weight history.

| learner (this module) | update | on Baird |
|---|---|---|
| ``off_policy_semi_gradient_td`` | sampled, ``rho = pi / b`` | diverges |
| ``semi_gradient_dp`` | expected, every state at once | diverges |
| ``on_policy_semi_gradient_td`` | sampled, ``pi = b`` so ``rho = 1`` | bounded |
| ``tdc`` | sampled, gradient-corrected | bounded, PBE falls |
| ``expected_tdc`` | expected, gradient-corrected | bounded, PBE falls |

Semi-gradient TD follows a direction that is not the gradient of any objective, which is why it
can run away off-policy. TDC (TD with gradient correction) descends the ``mu``-weighted projected
Bellman error instead; its gradient needs ``E[x x^T]^{-1} E[rho delta x]``, which it tracks with a
second weight vector ``v`` learned by least mean squares on a faster time scale (``beta > alpha``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from rlcore.approx.baird import N_STATES, Baird, BairdResult, _problem
from rlcore.core.returns import td_target
from rlcore.core.seeding import as_generator
from rlcore.core.validation import (
    check_flag,
    check_positive_int,
    check_probability_vector,
    check_real,
)

__all__ = ["off_policy_semi_gradient_td", "on_policy_semi_gradient_td", "semi_gradient_dp", "tdc", "expected_tdc"]




# ---------------------------------------------------------------- semi-gradient learners
def off_policy_semi_gradient_td(n_steps: int = 1000, alpha: float = 0.01, seed: int | None = 0, *,
                                problem: Baird | None = None, progress: bool = False) -> BairdResult:
    """Off-policy semi-gradient TD(0) along one trajectory of ``b`` (Sutton & Barto, Figure 11.2 left).

    ``w <- w + alpha * rho_t * delta_t * x(S_t)``, with ``delta_t = R + gamma x(S_{t+1})^T w - x(S_t)^T w``
    and ``rho_t = pi(A_t|S_t) / b(A_t|S_t)``: a dashed step (``rho = 0``) leaves ``w`` as it is, a
    solid step (``rho = 7``) pulls ``v(S_t)`` towards ``gamma v(lower)``. Every pull also moves the
    shared weight ``w[7]``, which lifts ``v(lower)`` twice as much as an upper value, so the target
    runs away from the values that chase it. On average the step is ``alpha * M w`` with
    ``M = X^T D (gamma P_pi - I) X`` (see [`semi_gradient_dp`][rlcore.approx.off_policy_td.semi_gradient_dp]);
    ``M`` has eigenvalues with a positive real part (about ``0.24`` and ``0.022``), and
    ``|1 + alpha lambda| > 1`` for such a ``lambda`` and every ``alpha > 0``: no step size is small enough.

    Returns a [`BairdResult`][rlcore.approx.baird.BairdResult] with ``w [n_steps + 1, d]`` and the
    sampled ``states``/``actions``. Beyond about 150,000 steps (seed 0) it overflows to ``inf``/``nan``.
    """
    return _semi_gradient_td(n_steps, alpha, seed, _problem(problem), progress, "off-policy semi-gradient TD")


def on_policy_semi_gradient_td(n_steps: int = 1000, alpha: float = 0.01, seed: int | None = 0, *,
                               problem: Baird | None = None, progress: bool = False) -> BairdResult:
    """The same learner on the same transitions, evaluating ``b`` itself (``pi = b``, so ``rho = 1``).

    Only the off-policy element of the triad is removed. Why it stays bounded: the states are
    then visited by the very policy being evaluated, so ``mu`` is its stationary distribution and
    ``P_b`` is non-expansive in the ``mu``-norm. The expected update
    ``w <- w - alpha * A w`` with ``A = X^T D (I - gamma P_b) X`` then has
    ``u^T A u >= (1 - gamma) ||X u||_mu^2 > 0`` on every direction that changes a value, and
    moves nothing along the others (``A u = 0`` when ``X u = 0``): for a small ``alpha`` the
    iterates contract to the TD fixed point ``v = 0`` (Tsitsiklis & Van Roy, 1997).
    """
    problem = replace(_problem(problem), pi_solid=_problem(problem).b_solid)
    return _semi_gradient_td(n_steps, alpha, seed, problem, progress, "on-policy semi-gradient TD")


def _semi_gradient_td(n_steps, alpha, seed, problem: Baird, progress: bool, method: str) -> BairdResult:
    n_steps = check_positive_int(n_steps, "n_steps")
    alpha = check_real(alpha, "alpha", open_low=True)
    check_flag(progress, "progress")
    states, actions = problem.sample(n_steps, as_generator(seed))
    X, gamma, rho = problem.X, problem.gamma, problem.rho[actions]
    W = np.empty((n_steps + 1, problem.n_features))
    W[0] = w = problem.w0.copy()
    with np.errstate(over="ignore", invalid="ignore"):  # a long divergent run may overflow: it shows as inf/nan
        for t in tqdm(range(n_steps), disable=not progress, desc=method):
            x = X[states[t]]
            delta = td_target(0.0, X[states[t + 1]] @ w, gamma, False) - x @ w
            w = w + alpha * rho[t] * delta * x
            W[t + 1] = w
    return BairdResult(method, W, problem, alpha, states=states, actions=actions)


def semi_gradient_dp(n_sweeps: int = 1000, alpha: float = 0.01, *, problem: Baird | None = None,
                     mu: Any = None) -> BairdResult:
    """Expected semi-gradient DP: every state updated at once, weighted by ``mu`` (S&B eq. 11.9, Figure 11.2 right).

    ``w <- w + alpha * sum_s mu(s) (E_pi[R + gamma v(S', w) | s] - v(s, w)) x(s)``
    ``  = w + alpha * X^T D (gamma P_pi - I) X w``, the update off-policy TD makes on average.
    With the default ``mu`` (``b``'s, uniform: Figure 11.2 right) there is no sampling noise left
    and the weights still diverge. With ``mu`` the on-policy distribution of ``pi``
    (``[0, 0, 0, 0, 0, 0, 1]``: ``pi`` only ever visits the lower state) it converges.
    """
    problem = _problem(problem)
    n_sweeps = check_positive_int(n_sweeps, "n_sweeps")
    alpha = check_real(alpha, "alpha", open_low=True)
    mu = problem.mu if mu is None else check_probability_vector(mu, N_STATES, "mu")
    X = problem.X
    M = X.T @ np.diag(mu) @ (problem.gamma * problem.P_target - np.eye(N_STATES)) @ X
    W = np.empty((n_sweeps + 1, problem.n_features))
    W[0] = w = problem.w0.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(n_sweeps):
            w = w + alpha * (M @ w)
            W[k + 1] = w
    return BairdResult("semi-gradient DP", W, problem, alpha)


# ---------------------------------------------------------------- gradient TD
def tdc(n_steps: int = 1000, alpha: float = 0.005, beta: float = 0.05, seed: int | None = 0, *,
        problem: Baird | None = None, progress: bool = False) -> BairdResult:
    """TDC along one trajectory of ``b`` (Figure 11.5 left); both vectors updated from the same old values.

    With ``x_t = x(S_t)``, ``delta_t = R + gamma x_{t+1}^T w - x_t^T w`` and ``rho_t = pi(A_t|S_t) / b(A_t|S_t)``:

    - ``w <- w + alpha * rho_t * (delta_t x_t - gamma x_{t+1} (x_t^T v))``: the semi-gradient TD
      step minus a correction term; on average the two make a step down the gradient of the PBE;
    - ``v <- v + beta * rho_t * (delta_t - x_t^T v) x_t``: regresses the TD error on the features.

    ``v`` starts at 0. Returns a [`BairdResult`][rlcore.approx.baird.BairdResult] with the histories
    ``w`` and ``v`` (``[n_steps + 1, d]`` each) and the sampled ``states``/``actions``.
    """
    problem = _problem(problem)
    n_steps = check_positive_int(n_steps, "n_steps")
    alpha, beta = check_real(alpha, "alpha", open_low=True), check_real(beta, "beta", open_low=True)
    check_flag(progress, "progress")
    states, actions = problem.sample(n_steps, as_generator(seed))
    X, gamma, rho = problem.X, problem.gamma, problem.rho[actions]
    d = problem.n_features
    W, V = np.empty((n_steps + 1, d)), np.empty((n_steps + 1, d))
    W[0], V[0] = w, v = problem.w0.copy(), np.zeros(d)
    for t in tqdm(range(n_steps), disable=not progress, desc="TDC"):
        x, x2 = X[states[t]], X[states[t + 1]]
        delta = td_target(0.0, x2 @ w, gamma, False) - x @ w
        xv = x @ v
        w = w + alpha * rho[t] * (delta * x - gamma * xv * x2)
        v = v + beta * rho[t] * (delta - xv) * x
        W[t + 1], V[t + 1] = w, v
    return BairdResult("TDC", W, problem, alpha, beta, v=V, states=states, actions=actions)


def expected_tdc(n_sweeps: int = 1000, alpha: float = 0.005, beta: float = 0.05, *,
                 problem: Baird | None = None, mu: Any = None) -> BairdResult:
    """TDC's expected update over ``S ~ mu``, ``A ~ b`` and ``S'`` (Figure 11.5 right).

    With ``D = diag(mu)``, ``P = P_pi`` and the Bellman error ``delta_w = (gamma P - I) X w`` (rewards 0):

    - ``w <- w + alpha * (X^T D delta_w - gamma X^T P^T D X v)``
    - ``v <- v + beta * X^T D (delta_w - X v)``

    (``E_b[rho f(S')] = E_pi[f(S')]`` turns the sampled terms into these.) ``mu`` defaults to
    ``b``'s state distribution (uniform).
    """
    problem = _problem(problem)
    n_sweeps = check_positive_int(n_sweeps, "n_sweeps")
    alpha, beta = check_real(alpha, "alpha", open_low=True), check_real(beta, "beta", open_low=True)
    mu = problem.mu if mu is None else check_probability_vector(mu, N_STATES, "mu")
    X, P, D = problem.X, problem.P_target, np.diag(mu)
    XtD = X.T @ D
    B = (problem.gamma * P - np.eye(N_STATES)) @ X  # delta_w = B w
    C = problem.gamma * X.T @ P.T @ D @ X
    d = problem.n_features
    W, V = np.empty((n_sweeps + 1, d)), np.empty((n_sweeps + 1, d))
    W[0], V[0] = w, v = problem.w0.copy(), np.zeros(d)
    for k in range(n_sweeps):
        delta = B @ w
        w, v = w + alpha * (XtD @ delta - C @ v), v + beta * XtD @ (delta - X @ v)
        W[k + 1], V[k + 1] = w, v
    return BairdResult("expected TDC", W, problem, alpha, beta, v=V)
