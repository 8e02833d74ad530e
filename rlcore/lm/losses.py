"""The policy-gradient losses, apart from any trainer: REINFORCE, PPO's clipped surrogate, the value loss.

Book: *RL for large language models*, "Policy gradients" and "Proximal policy optimisation".

Every loss reads per-token tensors ``[B, L]`` aligned on the completion with a
mask ``m`` (prompt and padding never count), and reduces them with one of
three aggregations (``loss_agg``, names as in verl):

| ``loss_agg`` | aggregate |
|---|---|
| ``"token-mean"`` | ``sum_{b,t} m l / sum_{b,t} m`` (every token weighs the same) |
| ``"seq-mean-token-mean"`` | ``(1/B) sum_b (sum_t m l / sum_t m)`` (every sequence weighs the same) |
| ``"seq-mean-token-sum"`` | ``(1/B) sum_b sum_t m l`` (the unbiased policy-gradient estimator) |
"""

from __future__ import annotations

import torch

from rlcore.core.validation import check_real, check_tensor

__all__ = ["LOSS_AGG", "aggregate", "masked_mean", "normalize_advantages", "reinforce_loss", "ppo_policy_loss",
           "clipped_value_loss", "explained_variance"]

LOSS_AGG = ("token-mean", "seq-mean-token-mean", "seq-mean-token-sum")
"""The token-loss aggregations [`aggregate`][] knows."""


def _check_agg(mode: str) -> None:
    if mode not in LOSS_AGG:
        raise ValueError(f"loss_agg must be one of {LOSS_AGG}, got {mode!r}")


def _check_tokens(mask: torch.Tensor, **tensors: torch.Tensor | None) -> None:
    """Per-token tensors ``[B, L]`` (at least one row) of one shape, and a bool ``mask`` of that shape."""
    (first, x), *rest = tensors.items()
    check_tensor(x, first, ndim=2)
    if x.shape[0] == 0:
        raise ValueError(f"{first} must hold at least one row, got shape {tuple(x.shape)}")
    for name, t in rest:
        if t is not None:
            check_tensor(t, name, shape=tuple(x.shape))
    check_tensor(mask, "mask", shape=tuple(x.shape), kind="bool")


def _check_finite(result: torch.Tensor, mask: torch.Tensor, what: str, **tensors: torch.Tensor | None) -> None:
    """One reduction on the (small) result; only when it is not finite, name the input that made it so."""
    if result.is_meta or bool(torch.isfinite(result).all()):
        return
    for name, t in tensors.items():
        if t is not None and not bool(torch.isfinite(t.detach()[mask]).all()):
            raise ValueError(f"{name} must be finite on the valid (mask) tokens, found NaN or inf")
    raise ValueError(f"{what} is not finite (NaN or inf) although its inputs are")


def aggregate(x: torch.Tensor, mask: torch.Tensor, mode: str = "token-mean") -> torch.Tensor:
    """Reduce a per-token quantity ``x [B, L]`` to a scalar over ``mask`` (see the module table).

    Rows or batches without any valid token contribute 0 (never NaN).
    """
    _check_agg(mode)
    _check_tokens(mask, x=x)
    m = mask.to(x.dtype)
    xm = torch.where(mask, x, torch.zeros_like(x))
    if mode == "token-mean":
        return xm.sum() / m.sum().clamp(min=1.0)
    per_seq = xm.sum(-1)
    if mode == "seq-mean-token-mean":
        per_seq = per_seq / m.sum(-1).clamp(min=1.0)
    return per_seq.mean()


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``sum(m x) / sum(m)`` (0 for an empty mask)."""
    return aggregate(x, mask, "token-mean")


def normalize_advantages(adv: torch.Tensor, mask: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """``(A - mean(A)) / (std(A) + eps)`` over valid tokens (population std); 0 where ``mask`` is False.

    With all advantages equal (e.g. every reward the same) the result is 0, not NaN.
    """
    _check_tokens(mask, adv=adv)
    check_real(eps, "eps", open_low=True)
    if not bool(torch.isfinite(torch.where(mask, adv, torch.zeros_like(adv))).all()):
        raise ValueError("adv must be finite on the valid (mask) tokens, found NaN or inf")
    mean = masked_mean(adv, mask)
    var = masked_mean((adv - mean) ** 2, mask)
    out = (adv - mean) / (var.sqrt() + eps)
    return torch.where(mask, out, torch.zeros_like(out))


def reinforce_loss(logp: torch.Tensor, returns: torch.Tensor, baseline: torch.Tensor | None,
                   mask: torch.Tensor, loss_agg: str = "seq-mean-token-sum") -> torch.Tensor:
    """REINFORCE surrogate ``L = -agg_t[ log pi(a_t|s_t) (G_t - b_t) ]``; ``-grad L`` estimates ``grad J``.

    ``returns`` and ``baseline`` are treated as constants (detached).
    """
    _check_agg(loss_agg)
    _check_tokens(mask, logp=logp, returns=returns, baseline=baseline)
    adv = returns if baseline is None else returns - baseline
    loss = aggregate(-logp * adv.detach(), mask, loss_agg)
    _check_finite(loss, mask, "the REINFORCE loss", logp=logp, returns=returns, baseline=baseline)
    return loss


def ppo_policy_loss(logp: torch.Tensor, old_logp: torch.Tensor, adv: torch.Tensor, mask: torch.Tensor,
                    cliprange: float = 0.2, loss_agg: str = "token-mean") -> tuple[torch.Tensor, dict[str, float]]:
    """PPO clipped surrogate (Schulman et al., 2017).

    ``rho_t = exp(log pi(a_t|s_t) - log pi_old(a_t|s_t))``,
    ``L = agg_t max(-A_t rho_t, -A_t clip(rho_t, 1 - eps, 1 + eps))`` with ``eps = cliprange``.

    Stats: ``approx_kl = mean[(rho - 1) - log rho]`` (non-negative, unbiased for
    ``KL(pi_old || pi)``), ``clipfrac = mean[|rho - 1| > eps]`` and
    ``ratio_dev = max |rho - 1|``, all over valid tokens.
    """
    _check_agg(loss_agg)
    _check_tokens(mask, logp=logp, old_logp=old_logp, adv=adv)
    check_real(cliprange, "cliprange", open_low=True)
    logratio = logp - old_logp.detach()
    ratio = logratio.exp()
    adv = adv.detach()
    pg1 = -adv * ratio
    pg2 = -adv * ratio.clamp(1 - cliprange, 1 + cliprange)
    loss = aggregate(torch.maximum(pg1, pg2), mask, loss_agg)
    _check_finite(loss, mask, "the PPO policy loss", logp=logp, old_logp=old_logp, adv=adv)
    with torch.no_grad():
        zero = torch.zeros_like(ratio)
        stats = {
            "approx_kl": float(masked_mean((ratio - 1) - logratio, mask)),
            "clipfrac": float(masked_mean(((ratio - 1).abs() > cliprange).to(ratio.dtype), mask)),
            "ratio_dev": float(torch.where(mask, (ratio - 1).abs(), zero).max()) if mask.any() else 0.0,
        }
    return loss, stats


def clipped_value_loss(values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor,
                       cliprange_value: float | None = 0.2, loss_agg: str = "token-mean") -> torch.Tensor:
    """Value loss ``0.5 agg max[(V - R)^2, (V_old + clip(V - V_old, -c, c) - R)^2]``, ``c = cliprange_value``.

    With ``cliprange_value=None`` it is the plain ``0.5 agg (V - R)^2``.
    """
    _check_agg(loss_agg)
    _check_tokens(mask, values=values, old_values=old_values, returns=returns)
    check_real(cliprange_value, "cliprange_value", open_low=True, none=True)
    returns = returns.detach()
    err = (values - returns) ** 2
    if cliprange_value is not None:
        v_clip = old_values + (values - old_values).clamp(-cliprange_value, cliprange_value)
        err = torch.maximum(err, (v_clip - returns) ** 2)
    loss = 0.5 * aggregate(err, mask, loss_agg)
    _check_finite(loss, mask, "the value loss", values=values, returns=returns,
                  old_values=old_values if cliprange_value is not None else None)
    return loss


def explained_variance(values: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor) -> float:
    """``1 - Var[R - V] / Var[R]`` over valid tokens; defined as 0 when ``Var[R] = 0`` (nothing to explain)."""
    _check_tokens(mask, values=values, returns=returns)
    r, v = returns[mask].double(), values[mask].double()
    if r.numel() == 0:
        return 0.0
    var_r = r.var(unbiased=False)
    out = 0.0 if var_r == 0 else float(1 - (r - v).var(unbiased=False) / var_r)
    _check_finite(torch.tensor(out), mask, "explained_variance", values=values, returns=returns)
    return out
