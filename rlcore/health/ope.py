"""Off-policy evaluation (OPE): the value of a new policy estimated from a log alone.

Book: *Healthcare*, "Off-policy evaluation".

    v(pi) = E_{s_0 ~ mu_0} [ sum_{t < H} gamma^t r_t ]

| name | function | estimate |
|---|---|---|
| is | [`importance_sampling`][] | ``(1/N) sum_i w_i G_i`` |
| wis | [`importance_sampling`][] | ``sum_i w_i G_i / sum_i w_i`` |
| pdis | [`importance_sampling`][] | ``(1/N) sum_i sum_t gamma^t w_{i,0:t} r_{i,t}`` |
| dr | [`doubly_robust`][] | per-decision IS with the FQE model as control variate |
| wdr | [`doubly_robust`][] | the same with self-normalised per-decision weights |
| fqe | [`fitted_q_evaluation`][] | ``(1/N) sum_i V_H(s_{i,0})`` from the empirical model |

with ``w_{i,0:t} = prod_{u <= t} pi(a_u|s_u) / b(a_u|s_u)`` and ``w_i = w_{i,0:H-1}``. Every
estimator returns an [`OPEEstimate`][] with an effective sample size and a bootstrap interval.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rlcore.core.seeding import as_generator
from rlcore.core.validation import (
    check_flag,
    check_instance,
    check_nonnegative_int,
    check_real,
    check_strings,
)
from rlcore.health.logs import OPE_METHODS, LoggedData, check_support
from rlcore.tabular.dp import policy_table

__all__ = ["NoSupportWarning", "OPEEstimate", "importance_sampling", "fitted_q_evaluation", "doubly_robust",
           "evaluate_offline"]


# ------------------------------------------------------------------ estimators
class NoSupportWarning(RuntimeWarning):
    """The evaluated policy takes actions the log never shows: importance weights are all zero."""


@dataclass(frozen=True)
class OPEEstimate:
    """An off-policy estimate of ``v(pi)``.

    Attributes
    ----------
    method
        Estimator name (``"is"``, ``"wis"``, ``"pdis"``, ``"dr"``, ``"fqe"``).
    value
        The point estimate.
    ess
        Effective sample size ``(sum_i w_i)^2 / sum_i w_i^2`` of the trajectory weights
        (``N`` for FQE, which does not reweight): how many on-policy episodes the log is worth.
    ci_low, ci_high
        Percentile bootstrap interval (episodes resampled with replacement).
    n_episodes
        Episodes in the log.
    bootstrap
        The bootstrap replicates.
    """

    method: str
    value: float
    ess: float
    ci_low: float
    ci_high: float
    n_episodes: int
    bootstrap: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))

    def __repr__(self) -> str:
        interval = (f"bootstrap interval [{self.ci_low:.4g}, {self.ci_high:.4g}]"
                    if np.isfinite(self.ci_low) and np.isfinite(self.ci_high) else "no bootstrap interval")
        return (f"OPEEstimate({self.method}: {self.value:.4g}, {interval}, ESS {self.ess:.1f} of "
                f"{self.n_episodes} episodes)")


def _ratios(data: LoggedData, table: np.ndarray) -> np.ndarray:
    """Per-step ratios ``rho_t = pi(a_t|s_t) / b(a_t|s_t)`` (1 after the episode ended), ``[N, H]``."""
    if data.behaviour is not None:
        check_support(data.behaviour, table, terminal=data.terminal)
    rho = table[data.states, data.actions] / data.behaviour_probs
    return np.where(data.valid, rho, 1.0)


def _ess(w: np.ndarray, u: np.ndarray) -> float:
    num = float((u * w).sum()) ** 2
    den = float((u * w * w).sum())
    return num / den if den > 0 else 0.0


def _check_ope(data: Any, n_bootstrap: Any, confidence: Any, seed: Any) -> np.random.Generator:
    """Check what every estimator takes (the log, the bootstrap size, its confidence level); return the seeded RNG."""
    check_instance(data, "data", LoggedData)
    check_nonnegative_int(n_bootstrap, "n_bootstrap")
    if not 0 < check_real(confidence, "confidence", low=-np.inf) < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    return as_generator(seed)


def _check_methods(methods: Any) -> tuple[str, ...]:
    """``methods`` as a non-empty tuple of names from ``OPE_METHODS`` (a lone string is refused)."""
    for m in check_strings(methods, "methods"):
        if m not in OPE_METHODS:
            raise ValueError(f"unknown OPE method {m!r}; choose from {OPE_METHODS}")
    return tuple(methods)


def _bootstrap(stat, n: int, n_bootstrap: int, confidence: float, rng: np.random.Generator):
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    reps = np.array([stat(rng.multinomial(n, np.full(n, 1.0 / n)).astype(float)) for _ in range(n_bootstrap)])
    if reps.size == 0 or np.isnan(reps).all():
        return reps, np.nan, np.nan
    lo, hi = np.nanquantile(reps, [(1 - confidence) / 2, (1 + confidence) / 2])
    return reps, float(lo), float(hi)


def importance_sampling(data: LoggedData, pi: Any, method: str = "wis", *, n_bootstrap: int = 200,
                        confidence: float = 0.95, seed: int | np.random.Generator | None = None) -> OPEEstimate:
    """Importance-sampling estimates of ``v(pi)`` from a log of ``b``.

    * ``"is"``:   ``(1/N) sum_i w_i G_i`` -- unbiased, variance grows with ``H``;
    * ``"wis"``:  ``sum_i w_i G_i / sum_i w_i`` -- biased (consistent), far lower variance;
    * ``"pdis"``: ``(1/N) sum_i sum_t gamma^t w_{i,0:t} r_{i,t}`` -- a reward at ``t`` is
      weighted only by the decisions before it (Precup et al., 2000).

    ``w_{i,0:t} = prod_{u<=t} pi(a_u|s_u)/b(a_u|s_u)``, ``w_i = w_{i,0:H-1}``, ``G_i = sum_t gamma^t r_t``.
    WIS is ``nan`` when no logged episode has positive weight, and then a
    [`NoSupportWarning`][] says so: ``pi`` takes, somewhere on every logged episode, an
    action the behaviour policy never took there, so the log says nothing about ``pi``.
    """
    if method not in ("is", "wis", "pdis"):
        raise ValueError(f"method must be 'is', 'wis' or 'pdis', got {method!r}")
    rng = _check_ope(data, n_bootstrap, confidence, seed)
    table = policy_table(pi, data.n_states, data.n_actions)
    cum = np.cumprod(_ratios(data, table), axis=1)                     # w_{0:t}
    w = cum[:, -1]
    G = data.returns
    pd_terms = (cum * data.rewards) @ data.discounts                   # sum_t gamma^t w_{0:t} r_t

    def stat(u: np.ndarray) -> float:
        if method == "is":
            return float((u * w * G).sum() / u.sum())
        if method == "pdis":
            return float((u * pd_terms).sum() / u.sum())
        tot = (u * w).sum()
        return float((u * w * G).sum() / tot) if tot > 0 else np.nan

    N = data.n_episodes
    if not (w > 0).any():
        warnings.warn(f"{method.upper()}: no logged episode has positive weight under pi (every one of the {N} "
                      f"episodes contains an action pi never takes or b never took); the log carries no "
                      f"information about pi" + ("; WIS is nan" if method == "wis" else "; the estimate is 0"),
                      NoSupportWarning, stacklevel=2)
    reps, lo, hi = _bootstrap(stat, N, n_bootstrap, confidence, rng)
    return OPEEstimate(method, stat(np.ones(N)), _ess(w, np.ones(N)), lo, hi, N, reps)


class _EmpiricalModel:
    """The maximum-likelihood model of a log, stored as unique transitions ``(s, a, s', terminated)``.

    With episode multiplicities ``u_i`` (1, or bootstrap counts) each unique tuple ``j`` carries
    a weight ``n_j`` and a reward sum ``rsum_j``; the empirical Bellman backup is
    ``(B V)(s, a) = [sum_{j in (s,a)} rsum_j + gamma n_j (1 - term_j) V(s'_j)] / N(s, a)``.
    """

    def __init__(self, data: LoggedData, u: np.ndarray | None = None) -> None:
        S, A = data.n_states, data.n_actions
        v = data.valid
        sa = (data.states * A + data.actions)[v]
        s2 = data.next_states[v]
        tm = data.terminated[v]
        w = (np.ones(data.n_episodes) if u is None else u)[:, None] * np.ones_like(data.rewards)
        w, r = w[v], data.rewards[v]
        key = (sa * S + s2) * 2 + tm
        uniq, inv = np.unique(key, return_inverse=True)
        self.n = np.bincount(inv, weights=w)
        self.rsum = np.bincount(inv, weights=w * r)
        self.sa = uniq // 2 // S
        self.s2 = uniq // 2 % S
        self.cont = data.gamma * self.n * (1 - uniq % 2)
        self.N_sa = np.bincount(self.sa, weights=self.n, minlength=S * A).reshape(S, A)
        self.seen = self.N_sa > 0
        self.S, self.A = S, A

    def backup(self, V: np.ndarray, unseen: float) -> np.ndarray:
        tot = np.bincount(self.sa, weights=self.rsum + self.cont * V[self.s2], minlength=self.S * self.A)
        Q = tot.reshape(self.S, self.A) / np.maximum(self.N_sa, 1e-300)
        return np.where(self.seen, Q, unseen)


def _fqe_stack(data: LoggedData, table: np.ndarray, u: np.ndarray | None, unseen_q: float) -> np.ndarray:
    """Finite-horizon FQE: ``Q_h = B_hat(V_{h-1})``, ``V_h = sum_a pi Q_h``, ``h = 1..H``; returns ``[H+1, S, A]``."""
    model = _EmpiricalModel(data, u)
    Q = np.zeros((data.horizon + 1, data.n_states, data.n_actions))
    V = np.zeros(data.n_states)
    for h in range(1, data.horizon + 1):
        Q[h] = model.backup(V, unseen_q)
        V = (table * Q[h]).sum(axis=1)
    return Q


def fitted_q_evaluation(data: LoggedData, pi: Any, *, unseen_q: float = 0.0, n_bootstrap: int = 200,
                        confidence: float = 0.95, seed: int | np.random.Generator | None = None) -> OPEEstimate:
    """Fitted-Q evaluation (direct method) with a tabular regressor.

    ``Q_h(s,a) = mean over logged (s,a) transitions of [r + gamma (1 - terminated) V_{h-1}(s')]``,
    ``V_h(s) = sum_a pi(a|s) Q_h(s,a)``, ``V_0 = 0``; the estimate is ``(1/N) sum_i V_H(s_{i,0})``.
    A tabular least-squares fit is the sample mean, so this is exact policy evaluation in the
    maximum-likelihood model of the log. Pairs never logged get ``Q = unseen_q``. No importance
    weights: low variance, but biased wherever the log is thin or ``pi`` leaves it.
    """
    rng = _check_ope(data, n_bootstrap, confidence, seed)
    unseen_q = check_real(unseen_q, "unseen_q", low=-np.inf)
    table = policy_table(pi, data.n_states, data.n_actions)
    s0 = data.states[:, 0]
    started = data.valid[:, 0]  # an episode that starts in a terminal state is worth 0 (its row is padding)

    def stat(u: np.ndarray | None) -> float:
        Q = _fqe_stack(data, table, u, unseen_q)
        V0 = np.where(started, (table[s0] * Q[-1][s0]).sum(axis=1), 0.0)
        uu = np.ones(data.n_episodes) if u is None else u
        return float((uu * V0).sum() / uu.sum())

    N = data.n_episodes
    reps, lo, hi = _bootstrap(stat, N, n_bootstrap, confidence, rng)
    return OPEEstimate("fqe", stat(None), float(N), lo, hi, N, reps)


def doubly_robust(data: LoggedData, pi: Any, *, unseen_q: float = 0.0, weighted: bool = False,
                  n_bootstrap: int = 200, confidence: float = 0.95,
                  seed: int | np.random.Generator | None = None) -> OPEEstimate:
    """Per-decision doubly robust estimate (Jiang & Li, 2016; Thomas & Brunskill, 2016).

    ``v_DR = (1/N) sum_i sum_t gamma^t [ w_{i,0:t} (r_{i,t} - Q_hat_t(s_t, a_t)) + w_{i,0:t-1} V_hat_t(s_t) ]``

    with ``w_{i,0:-1} = 1`` and the model ``Q_hat_t = Q_{H-t}`` of [`fitted_q_evaluation`][]
    (``H - t`` steps to go), ``V_hat_t(s) = sum_a pi(a|s) Q_hat_t(s,a)``. The model carries the
    estimate; the weighted residuals correct its bias. Unbiased if the weights are right, low
    variance if the model is good. The model is refitted inside every bootstrap replicate.

    ``weighted=True`` gives weighted DR (Thomas & Brunskill, 2016): each ``w_{i,0:t}`` is divided
    by its mean over episodes, ``sum_j w_{j,0:t} / N``, as WIS normalises IS (method ``"wdr"``).
    """
    rng = _check_ope(data, n_bootstrap, confidence, seed)
    unseen_q, weighted = check_real(unseen_q, "unseen_q", low=-np.inf), check_flag(weighted, "weighted")
    table = policy_table(pi, data.n_states, data.n_actions)
    cum_raw = np.cumprod(_ratios(data, table), axis=1)
    H = data.horizon
    t_idx = np.arange(H)[None, :]
    s, a = data.states, data.actions
    disc = data.discounts

    def stat(u: np.ndarray | None) -> float:
        uu = np.ones(data.n_episodes) if u is None else u
        cum = cum_raw
        if weighted:
            mean_w = (uu @ cum_raw) / uu.sum()
            cum = cum_raw / np.where(mean_w > 0, mean_w, 1.0)
        prev = np.concatenate([np.ones((data.n_episodes, 1)), cum[:, :-1]], axis=1)
        Qs = _fqe_stack(data, table, u, unseen_q)                         # [H+1, S, A]
        Qt = Qs[H - t_idx, s, a]                                          # Q_hat_t(s_t, a_t)
        Vt = (table[s] * Qs[H - t_idx, s]).sum(axis=2)                    # V_hat_t(s_t)
        terms = np.where(data.valid, cum * (data.rewards - Qt) + prev * Vt, 0.0) @ disc
        return float((uu * terms).sum() / uu.sum())

    N = data.n_episodes
    reps, lo, hi = _bootstrap(stat, N, n_bootstrap, confidence, rng)
    return OPEEstimate("wdr" if weighted else "dr", stat(None), _ess(cum_raw[:, -1], np.ones(N)), lo, hi, N, reps)


def evaluate_offline(data: LoggedData, pi: Any, methods: tuple[str, ...] = OPE_METHODS, *,
                     n_bootstrap: int = 200, confidence: float = 0.95, unseen_q: float = 0.0,
                     seed: int | np.random.Generator | None = None) -> dict[str, OPEEstimate]:
    """Run several OPE estimators on one log: ``{method: OPEEstimate}`` (same seed, same answers)."""
    methods = _check_methods(methods)
    rng = _check_ope(data, n_bootstrap, confidence, seed)
    check_real(unseen_q, "unseen_q", low=-np.inf)
    out = {}
    for m in methods:
        if m in ("is", "wis", "pdis"):
            out[m] = importance_sampling(data, pi, m, n_bootstrap=n_bootstrap, confidence=confidence, seed=rng)
        elif m in ("dr", "wdr"):
            out[m] = doubly_robust(data, pi, unseen_q=unseen_q, weighted=m == "wdr", n_bootstrap=n_bootstrap,
                                   confidence=confidence, seed=rng)
        elif m == "fqe":
            out[m] = fitted_q_evaluation(data, pi, unseen_q=unseen_q, n_bootstrap=n_bootstrap,
                                         confidence=confidence, seed=rng)
        else:
            raise ValueError(f"unknown OPE method {m!r}; choose from {OPE_METHODS}")
    return out
