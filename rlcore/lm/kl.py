"""KL estimators to a reference policy: ``k1``, ``k2``, ``k3`` as named choices.

Book: *RLHF*, "The KL penalty" (why the policy is kept close to the reference).

For a token ``a ~ pi(.|s)`` write ``log r = log pi_ref(a|s) - log pi(a|s)``.
The three estimators of ``KL(pi || pi_ref)`` (Schulman, "Approximating KL divergence", 2020):

| name | per-token value | properties under ``a ~ pi`` |
|---|---|---|
| ``k1`` | ``-log r`` | unbiased; can be negative; high variance |
| ``k2`` | ``(log r)^2 / 2`` | biased (exact to second order); never negative |
| ``k3`` | ``(r - 1) - log r`` | unbiased and never negative (a control variate added to k1) |

Where the estimate goes matters as much as which one it is. With the
score-function gradient, a per-token reward term ``-beta f(a)`` contributes
``-beta E[grad log pi(a) f(a)]``, and a loss term contributes ``beta E[grad f(a)]``
on the sampled tokens. Per state, with ``rho = pi_ref / pi``:

| placement | expected gradient it follows | use it? |
|---|---|---|
| reward, k1 | ``grad KL(pi || pi_ref)`` | yes (PPO, RLOO) |
| reward, k3 | ``grad KL(pi || pi_ref) - grad KL(pi_ref || pi)`` | no: drifts |
| loss, k1 | ``E[grad log pi] = 0``: noise only | no: drifts |
| loss, k2 | ``grad KL(pi || pi_ref)`` | yes |
| loss, k3 | ``grad KL(pi_ref || pi)`` (the forward KL) | yes (GRPO) |

``tests/test_rollout.py::test_kl_anchor_placement`` shows each row on a toy
where only the KL acts.

Both log-probabilities must come from the same *unfiltered* distribution
(``softmax(z / temperature)``, see [`rlcore.lm.rollout`][]): under a top-k or
top-p support one of them can be ``-inf`` and every estimator is infinite.
A sequence's KL is the sum of its tokens' estimates.
"""

from __future__ import annotations

import math

import torch

from rlcore.core.validation import check_positive_int, check_real, check_tensor

__all__ = ["KL_ESTIMATORS", "kl_estimate", "kl_to_reference", "AdaptiveKLController"]

KL_ESTIMATORS = ("k1", "k2", "k3")
"""The names [`kl_estimate`][] accepts."""


def kl_estimate(logp: torch.Tensor, ref_logp: torch.Tensor, estimator: str = "k1") -> torch.Tensor:
    """Per-token estimate of ``KL(pi || pi_ref)`` from sampled tokens (see the module table)."""
    if estimator not in KL_ESTIMATORS:
        raise ValueError(f"kl_estimator must be one of {KL_ESTIMATORS}, got {estimator!r}")
    check_tensor(logp, "logp", kind="floating")
    check_tensor(ref_logp, "ref_logp", shape=tuple(logp.shape), kind="floating")
    log_r = ref_logp - logp
    if not log_r.is_meta and bool(torch.isnan(log_r).any()):  # one reduction; NaN in either input (or inf - inf)
        name = "logp" if bool(torch.isnan(logp).any()) else "ref_logp"
        raise ValueError(f"{name} must not hold NaN (log pi - log pi_ref is NaN at "
                         f"{int(torch.isnan(log_r).sum())} token(s))")
    if estimator == "k1":
        return -log_r
    if estimator == "k2":
        return 0.5 * log_r**2
    return torch.expm1(log_r) - log_r


def kl_to_reference(logp: torch.Tensor, ref_logp: torch.Tensor, mask: torch.Tensor,
                    estimator: str = "k1") -> torch.Tensor:
    """Per-sequence KL estimate ``sum_t m_t k(log pi_t, log pi_ref_t)``, shape ``[B]``.

    With ``k1`` and completions ``y ~ pi`` its mean is unbiased for the sequence-level
    ``KL(pi || pi_ref) = E_pi[log pi(y) - log pi_ref(y)]``.
    """
    k = kl_estimate(logp, ref_logp, estimator)
    check_tensor(mask, "mask", shape=tuple(logp.shape), kind="bool")
    return torch.where(mask, k, torch.zeros_like(k)).sum(-1)


class AdaptiveKLController:
    """Ziegler et al. (2019)'s controller: nudge ``kl_coef`` so that the measured KL tracks a target.

    After a batch of ``n_steps`` samples with mean sequence KL ``kl``:
    ``e = clip(kl / target - 1, -0.2, 0.2)`` and ``kl_coef <- kl_coef (1 + e n_steps / horizon)``.
    Too much KL raises the coefficient, too little lowers it.
    """

    def __init__(self, kl_coef: float, target: float, horizon: int) -> None:
        check_real(kl_coef, "kl_coef", open_low=True)
        check_real(target, "target", open_low=True)
        check_positive_int(horizon, "horizon")
        self.value, self.target, self.horizon = float(kl_coef), float(target), int(horizon)

    def update(self, kl: float, n_steps: int) -> float:
        """Apply one update from the batch's mean KL; returns the new ``kl_coef``."""
        check_real(kl, "kl", -math.inf)
        check_positive_int(n_steps, "n_steps")
        error = min(max(kl / self.target - 1.0, -0.2), 0.2)
        self.value *= 1.0 + error * n_steps / self.horizon
        return self.value
