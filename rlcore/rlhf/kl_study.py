"""The three KL estimators measured exactly on the toy: bias, spread, and the gradient each one follows.

Book: *RLHF*, "The KL penalty" (and why GRPO's choice of where to put ``k3`` matters).

With every completion listed, the expectation of an estimator under ``y ~ pi`` is
a sum. Two things are measured for ``k1``, ``k2`` and ``k3`` ([`rlcore.lm.kl`][]),
each summed over the tokens of a completion:

* as an *estimate* of ``KL(pi || pi_ref)``: its exact mean (so its bias) and its
  standard deviation across completions;
* as a *loss* on fixed samples: the exact expected gradient
  ``sum_y pi(y) grad sum_t k_t`` (``pi(y)`` held constant), compared with the
  gradients of the reverse ``KL(pi || pi_ref)`` and the forward ``KL(pi_ref || pi)``.
  For a single decision per prompt (``max_len`` = prompt length + 1) ``k1`` gives 0, ``k2`` the reverse and
  ``k3`` the forward gradient exactly; over several tokens the same holds state by state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from rlcore.core.validation import check_instance
from rlcore.lm.exact import enumerate_completions
from rlcore.lm.kl import KL_ESTIMATORS, kl_to_reference
from rlcore.lm.model import CharLM
from rlcore.lm.rollout import score

__all__ = ["EstimatorRow", "kl_estimator_table"]


@dataclass(frozen=True)
class EstimatorRow:
    """One estimator: ``mean``, ``bias = mean - KL``, ``std``; cosines of its expected loss gradient with
    the reverse- and forward-KL gradients (NaN for an expected gradient that is zero: ``k1``'s),
    and its norm relative to the reverse one."""

    estimator: str
    kl: float
    mean: float
    bias: float
    std: float
    cos_reverse: float
    cos_forward: float
    grad_norm_ratio: float


def _flat_grad(model: CharLM, loss: torch.Tensor) -> torch.Tensor:
    model.zero_grad(set_to_none=True)
    loss.backward()
    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1).double()
                      for p in model.parameters()])


def _cos(a: torch.Tensor, b: torch.Tensor, scale: float) -> float:
    """``cos(a, b)``; NaN when ``a`` or ``b`` is zero up to rounding (below ``1e-9 scale``): no direction."""
    na, nb = float(a.norm()), float(b.norm())
    return math.nan if min(na, nb) <= 1e-9 * scale else float(a @ b) / (na * nb)


def kl_estimator_table(model: CharLM, ref: CharLM, max_len: int, prompts: str | Sequence[str] = ("",)
                       ) -> list[EstimatorRow]:
    """Exact statistics of ``k1``, ``k2``, ``k3`` for ``pi = model`` against ``ref`` (see the module docstring)."""
    check_instance(model, "model", CharLM)
    if check_instance(ref, "ref", CharLM).vocab != model.vocab:
        raise ValueError(f"ref vocabulary {ref.vocab!r} differs from the model's {model.vocab!r}")
    every = enumerate_completions(model.vocab, max_len, prompts, device=model.device)
    n_prompts = int(every.group_ids.max()) + 1
    with torch.no_grad():
        ref_tok = score(ref, every)[0]
    logp_tok = score(model, every)[0]
    seq = logp_tok.sum(-1)
    w = seq.exp().detach() / n_prompts                       # pi(y|x) / |prompts|, held constant
    ref_seq = ref_tok.sum(-1)
    reverse = _flat_grad(model, (seq.exp() * (seq - ref_seq)).sum() / n_prompts)
    logp_tok = score(model, every)[0]
    forward = _flat_grad(model, -(ref_seq.exp() * logp_tok.sum(-1)).sum() / n_prompts)
    with torch.no_grad():
        kl = float((w * (seq - ref_seq)).sum())
    rows = []
    scale = max(float(reverse.norm()), float(forward.norm()))
    for est in KL_ESTIMATORS:
        logp_tok = score(model, every)[0]
        k = kl_to_reference(logp_tok, ref_tok, every.mask, est)
        g = _flat_grad(model, (w * k).sum())
        k = k.detach().double()
        mean = float((w * k).sum())
        std = float(np.sqrt(float((w * (k - mean) ** 2).sum())))
        rows.append(EstimatorRow(est, kl, mean, mean - kl, std, _cos(g, reverse, scale), _cos(g, forward, scale),
                                 float(g.norm() / reverse.norm()) if reverse.norm() > 0 else 0.0))
    model.zero_grad(set_to_none=True)
    return rows
