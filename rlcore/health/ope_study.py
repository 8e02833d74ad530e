"""How off-policy estimates behave as the log grows, and the trap a small log sets.

Book: *Healthcare*, "Off-policy evaluation" (bias, variance and the WIS trap of Oberst & Sontag, 2019).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rlcore.core.mdp import TabularMDP
from rlcore.core.validation import (
    check_array,
    check_flag,
    check_instance,
    check_mask,
    check_nonnegative_int,
    check_positive_int,
)
from rlcore.health.logs import OPE_METHODS, collect_logs, true_value
from rlcore.health.offline import fitted_q_iteration
from rlcore.health.ope import _check_methods, evaluate_offline, importance_sampling
from rlcore.tabular.dp import policy_table

__all__ = ["OPEConvergence", "ope_convergence", "TrapResult", "find_wis_trap"]


# ---------------------------------------------------- convergence experiment
@dataclass(frozen=True)
class OPEConvergence:
    """OPE estimates over log sizes and repeats, against the exact value.

    ``estimates[m, j, r]`` is method ``methods[m]`` on a log of ``sizes[j]`` episodes, repeat ``r``.
    """

    methods: tuple[str, ...]
    sizes: np.ndarray
    estimates: np.ndarray
    true_value: float

    @property
    def error(self) -> np.ndarray:
        return self.estimates - self.true_value

    @property
    def bias(self) -> np.ndarray:
        """``mean_r(estimate) - v(pi)``, ``[M, n_sizes]``."""
        return np.nanmean(self.error, axis=2)

    @property
    def std(self) -> np.ndarray:
        """Standard deviation over repeats, ``[M, n_sizes]``."""
        return np.nanstd(self.estimates, axis=2)

    @property
    def rmse(self) -> np.ndarray:
        """``sqrt(mean_r (estimate - v(pi))^2)``, ``[M, n_sizes]``."""
        return np.sqrt(np.nanmean(self.error**2, axis=2))


def ope_convergence(mdp: TabularMDP, behaviour: Any, pi: Any, sizes: Any = (50, 200, 1000), *,
                    n_repeats: int = 20, methods: tuple[str, ...] = OPE_METHODS, horizon: int | None = None,
                    seed: int | None = 0) -> OPEConvergence:
    """Error and variance of each OPE estimator as the log grows (no bootstrap, for speed).

    For every repeat ``r`` one log of ``max(sizes)`` episodes is drawn (seeded from
    ``SeedSequence(seed)``) and its first ``n`` episodes are used for each ``n`` in ``sizes``,
    so the sizes are nested, as when records accumulate.
    """
    check_instance(mdp, "mdp", TabularMDP)
    sizes = check_array(sizes, "sizes", ndim=1, integer=True)
    if (sizes < 1).any():
        raise ValueError(f"sizes must be a non-empty list of positive integers, got {sizes}")
    n_repeats, methods = check_positive_int(n_repeats, "n_repeats"), _check_methods(methods)
    check_nonnegative_int(seed, "seed", none=True)
    H = horizon if horizon is not None else mdp.horizon
    truth = true_value(mdp, pi, H)
    est = np.full((len(methods), len(sizes), n_repeats), np.nan)
    seeds = np.random.SeedSequence(seed).spawn(n_repeats)
    for r in range(n_repeats):
        log = collect_logs(mdp, behaviour, int(sizes.max()), horizon=H, seed=np.random.default_rng(seeds[r]))
        for j, n in enumerate(sizes):
            res = evaluate_offline(log.subset(slice(0, int(n))), pi, methods, n_bootstrap=0)
            est[:, j, r] = [res[m].value for m in methods]
    return OPEConvergence(tuple(methods), sizes, est, truth)


# ------------------------------------------------------------------- the trap
@dataclass(frozen=True)
class TrapResult:
    """One run of the 'WIS trap' procedure and how often the trap occurred among the seeds tried.

    Attributes
    ----------
    found
        Whether some seed showed the trap.
    seed
        The first such seed (or the last tried if none).
    wis_learned, wis_clinician
        WIS estimates on the log (for the clinicians WIS is the mean return).
    true_learned, true_clinician
        Exact values from the model.
    ess_learned
        Effective sample size behind ``wis_learned``.
    n_tried, n_trap
        Seeds tried and how many of them showed the trap (``n_trap / n_tried`` is
        the honest frequency of the phenomenon under this procedure).
    learned_policy
        ``[S]`` the policy learned on the trap seed's log.
    """

    found: bool
    seed: int
    wis_learned: float
    wis_clinician: float
    true_learned: float
    true_clinician: float
    ess_learned: float
    n_tried: int
    n_trap: int
    n_episodes: int
    learned_policy: np.ndarray = field(repr=False)


def find_wis_trap(mdp: TabularMDP, behaviour: Any, *, n_episodes: int = 200, mask: Any = None,
                  pessimistic: bool = False, seeds: Any = range(20), horizon: int | None = None) -> TrapResult:
    """Reproduce the WIS trap of Oberst & Sontag (2019) in our model, deterministically.

    Procedure, for each seed in ``seeds`` (in order):

    1. log ``n_episodes`` episodes of the clinician policy ``b`` (``collect_logs(..., seed=seed)``);
    2. learn a policy on the log by fitted-Q iteration (naive by default: ``pessimistic=False``,
       so actions the log barely covers look as good as ``0``);
    3. estimate both policies by WIS on the same log (the clinicians' WIS is their mean return);
    4. compute both true values exactly from the model.

    The trap is ``WIS(learned) > WIS(clinicians)`` while ``v(learned) < v(clinicians)``: the
    estimate rests on the few episodes in which the clinicians happened to act like the
    learned policy (small ESS) and those happened to go well. All seeds are run so that the
    frequency ``n_trap / n_tried`` is reported; the result describes the first trap seed.
    Nothing is tuned per seed: every number is a genuine outcome of the procedure.
    """
    H = horizon if horizon is not None else check_instance(mdp, "mdp", TabularMDP).horizon
    b = policy_table(behaviour, mdp.n_states, mdp.n_actions, "behaviour")
    check_positive_int(n_episodes, "n_episodes")
    check_flag(pessimistic, "pessimistic")
    check_mask(mask, mdp.n_states, mdp.n_actions)
    true_b = true_value(mdp, b, H)
    first = None
    last = None
    n_trap = 0
    seeds = [int(x) for x in check_array(seeds, "seeds", ndim=1, integer=True, allow_empty=True)]
    if any(sd < 0 for sd in seeds):
        raise ValueError(f"seeds must be non-negative integers, got {seeds}")
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    for sd in seeds:
        log = collect_logs(mdp, b, n_episodes, horizon=H, seed=sd)
        learned = fitted_q_iteration(log, mask=mask, pessimistic=pessimistic)
        wis_l = importance_sampling(log, learned.policy, "wis", n_bootstrap=0)
        wis_b = importance_sampling(log, b, "wis", n_bootstrap=0)
        true_l = true_value(mdp, learned.policy, H)
        trap = bool(wis_l.value > wis_b.value and true_l < true_b)
        n_trap += trap
        rec = (sd, wis_l.value, wis_b.value, true_l, wis_l.ess, learned.policy)
        last = rec
        if trap and first is None:
            first = rec
    sd, wl, wb, tl, ess, pol = first if first is not None else last
    return TrapResult(first is not None, sd, wl, wb, tl, true_b, ess, len(seeds), n_trap, n_episodes, pol)
