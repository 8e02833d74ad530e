"""Sampling a token from logits: temperature, top-k and nucleus (top-p) filtering (torch).

Book: *Sequential decision making*, "Exploration vs. exploitation" (the text side).

Filtering only decides which tokens may be drawn. The language-model losses
score log-probabilities, entropies and KLs under the temperature-only
distribution (see [`rlcore.lm.rollout.score`][]).
"""

from __future__ import annotations

import math

from rlcore.core.validation import check_instance, check_real, check_tensor

__all__ = ["filter_logits", "sample_logits"]


def _check_sampling(temperature: float, top_k: int | None, top_p: float) -> None:
    check_real(temperature, "temperature", open_low=True)
    if top_k is not None and (check_real(top_k, "top_k", -math.inf) < 1 or int(top_k) != top_k):
        raise ValueError(f"top_k must be an integer >= 1 or None, got {top_k!r}")
    if not 0.0 < check_real(top_p, "top_p", -math.inf) <= 1.0:
        raise ValueError(f"top_p must lie in (0, 1], got {top_p}")


def filter_logits(logits, temperature: float = 1.0, top_k: int | None = None, top_p: float = 1.0):
    """Temperature, top-k and nucleus (top-p) filtering of logits ``[..., A]``.

    ``z = logits / tau``; top-k keeps the ``k`` largest ``z`` (ties at the k-th
    value are kept); top-p keeps the smallest set of most probable actions whose
    probability under ``softmax(z)`` reaches ``p`` (an action is kept when the
    mass strictly before it in sorted order is ``< p``, so the most probable one
    always survives). Dropped actions get ``-inf``. The sampling distribution is
    then ``pi(a|s) = softmax(filtered)``: ``tau -> 0`` approaches greedy, ``tau = 1,
    k = None, p = 1`` leaves the model's distribution unchanged.

    Book: *RL for large language models*, "Sampling: temperature, top-k, top-p";
    the language-model counterpart of [`boltzmann_probs`][rlcore.core.exploration.boltzmann_probs].
    """
    import torch

    _check_sampling(temperature, top_k, top_p)
    if check_tensor(logits, "logits").ndim == 0 or logits.shape[-1] == 0 or bool(torch.isnan(logits).any()):
        raise ValueError(f"logits must be a tensor [..., A] with A >= 1 and no NaN, got shape {tuple(logits.shape)}")
    z = logits / temperature if temperature != 1.0 else logits
    neg_inf = float("-inf")
    if top_k is not None and top_k < z.shape[-1]:
        kth = torch.topk(z, int(top_k), dim=-1).values[..., -1:]
        z = z.masked_fill(z < kth, neg_inf)
    if top_p < 1.0:
        sorted_z, order = torch.sort(z, dim=-1, descending=True)
        probs = torch.softmax(sorted_z, dim=-1)
        mass_before = torch.cumsum(probs, dim=-1) - probs
        drop_sorted = mass_before >= top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        z = z.masked_fill(drop, neg_inf)
    return z


def sample_logits(logits, temperature: float = 1.0, top_k: int | None = None, top_p: float = 1.0,
                  generator=None):
    """Draw ``a ~ softmax(filter_logits(logits))`` for every row of ``logits [B, A]``.

    Returns ``(actions [B] long, log_probs [B])`` where ``log_probs`` is
    ``log pi(a|s)`` under the *filtered* distribution actually sampled from (so a
    learner that scores with the same settings gets ratio 1). ``generator`` is a
    ``torch.Generator`` for reproducibility.
    """
    import torch

    z = filter_logits(logits, temperature, top_k, top_p)
    if generator is not None:
        check_instance(generator, "generator", torch.Generator)
    if not bool(torch.isfinite(z).any(dim=-1).all()):
        raise ValueError("logits must have a finite entry in every row (a row of -inf has no distribution)")
    logp = torch.log_softmax(z, dim=-1)
    actions = torch.multinomial(logp.exp(), 1, generator=generator).squeeze(-1)
    return actions, logp.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
