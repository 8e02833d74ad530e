"""Direct alignment from preferences: DPO (Rafailov et al., 2023) and IPO (Azar et al., 2023).

Book: *RLHF*, "Direct preference optimisation".

With ``h = [log pi(y_c|x) - log pi_ref(y_c|x)] - [log pi(y_r|x) - log pi_ref(y_r|x)]``:

| loss_type | per-pair loss | from |
|---|---|---|
| sigmoid | ``-(1 - eps) log sigma(beta h) - eps log sigma(-beta h)`` | Bradley-Terry on the implicit reward (1) |
| ipo | ``q (h - 1/(2 beta))^2 + (1 - q) (h + 1/(2 beta))^2`` | a squared loss with a finite target (2) |

(1) The implicit reward is ``beta log(pi / pi_ref)``. (2) Finite even for certain labels.

``eps`` is ``label_smoothing`` (conservative DPO); a pair's soft label ``q``
replaces ``1 - eps`` by ``(1 - eps) q + eps (1 - q)``. For IPO, ``q`` weighs the
two orders of the pair, so the loss is IPO's expected over the label and its
minimiser is ``h = (2q - 1) / (2 beta)``; with ``q = 1`` it is Azar et al.'s
``(h - 1/(2 beta))^2``. The implicit rewards
``beta (log pi - log pi_ref)`` of chosen and rejected texts are logged under TRL's
names (``rewards/chosen``, ``rewards/margins``, ``rewards/accuracies``, ``logps/chosen`` ...).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from rlcore.core.validation import check_choice, check_flag, check_instance, check_real, check_tensor
from rlcore.lm.config import validate_config
from rlcore.lm.model import CharLM
from rlcore.lm.parallel import owned, reduce_sum, replicate, world
from rlcore.lm.rollout import sequence_logprob
from rlcore.lm.training import accumulated_step, frozen_copy
from rlcore.rlhf.config import RLHF_RULES
from rlcore.rlhf.preferences import PreferenceData

__all__ = ["DPO_LOSSES", "dpo_loss", "DPOConfig", "DPOResult", "dpo"]

DPO_LOSSES = ("sigmoid", "ipo")
"""The ``loss_type`` values [`dpo_loss`][] knows."""


def dpo_loss(chosen_logps: torch.Tensor, rejected_logps: torch.Tensor, ref_chosen_logps: torch.Tensor,
             ref_rejected_logps: torch.Tensor, beta: float = 0.1, loss_type: str = "sigmoid",
             label_smoothing: float = 0.0, labels: torch.Tensor | None = None
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-pair DPO/IPO losses ``[B]`` and the implicit rewards of chosen and rejected (see the module table).

    All four inputs are sequence log-probabilities ``[B]``; the reference ones are constants.
    """
    check_choice(loss_type, "loss_type", DPO_LOSSES)
    beta = check_real(beta, "beta", open_low=True)
    if check_real(label_smoothing, "label_smoothing") > 0.5:
        raise ValueError(f"label_smoothing must lie in [0, 0.5], got {label_smoothing}")
    shape = None
    for name, x in (("chosen_logps", chosen_logps), ("rejected_logps", rejected_logps),
                    ("ref_chosen_logps", ref_chosen_logps), ("ref_rejected_logps", ref_rejected_logps)):
        shape = tuple(check_tensor(x, name, ndim=1, shape=shape, kind="floating", finite=True).shape)
        if not shape[0]:
            raise ValueError(f"{name} must not be empty, got shape {shape}")
    if labels is not None:
        check_tensor(labels, "labels", shape=shape, finite=True)
        if not labels.is_meta and ((labels < 0).any() or (labels > 1).any()):
            raise ValueError("labels must be probabilities in [0, 1]")
    chosen_logratio = chosen_logps - ref_chosen_logps.detach()
    rejected_logratio = rejected_logps - ref_rejected_logps.detach()
    h = chosen_logratio - rejected_logratio
    q = torch.ones_like(h) if labels is None else labels.to(h.dtype)
    if loss_type == "sigmoid":
        q = (1 - label_smoothing) * q + label_smoothing * (1 - q)
        losses = -q * nn.functional.logsigmoid(beta * h) - (1 - q) * nn.functional.logsigmoid(-beta * h)
    else:
        target = 1 / (2 * beta)
        losses = q * (h - target) ** 2 + (1 - q) * (h + target) ** 2
    return losses, beta * chosen_logratio.detach(), beta * rejected_logratio.detach()


@dataclass(frozen=True)
class DPOConfig:
    """DPO/IPO training on preference pairs (TRL's names)."""

    beta: float = 0.1
    """strength of the implicit KL anchor to the reference"""
    loss_type: str = "sigmoid"
    """``"sigmoid"`` (DPO) or ``"ipo"``"""
    label_smoothing: float = 0.0
    """``eps``: the assumed probability that a label is wrong (sigmoid loss only)"""
    num_train_epochs: int = 20
    """passes over the pairs"""
    batch_size: int = 64
    """pairs per gradient step"""
    learning_rate: float = 1e-3
    """Adam step size"""
    max_grad_norm: float | None = 1.0
    """clip the gradient's norm to this (None: no clipping)"""
    seed: int = 0
    """seeds the shuffling"""
    gradient_accumulation_steps: int = 1
    """micro-batches per process and step: each batch of pairs is cut into
    ``world_size x gradient_accumulation_steps`` micro-batches ([`rlcore.lm.parallel`][])"""

    def __post_init__(self) -> None:
        validate_config(self, RLHF_RULES)
        if self.loss_type not in DPO_LOSSES:
            raise ValueError(f"DPOConfig.loss_type must be one of {DPO_LOSSES}, got {self.loss_type!r}")


@dataclass(frozen=True)
class DPOResult:
    """The trained model and one ``history`` entry per epoch, under TRL's metric names."""

    model: CharLM
    history: dict[str, np.ndarray] = field(repr=False)
    config: Any
    elapsed: float

    def __repr__(self) -> str:
        h = self.history
        return (f"DPOResult({self.config.loss_type}, beta={self.config.beta:g}, {len(h['loss'])} epochs in "
                f"{self.elapsed:.1f} s, loss {h['loss'][-1]:.3f}, reward accuracy {h['rewards/accuracies'][-1]:.3f}, "
                f"margin {h['rewards/margins'][-1]:.3f})")


METRICS = ("loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins",
           "logps/chosen", "logps/rejected")


def dpo(model: CharLM, data: PreferenceData, config: DPOConfig | None = None, ref_model: CharLM | None = None,
        progress: bool = False) -> DPOResult:
    """Minimise [`dpo_loss`][] over the pairs with Adam; ``model`` is trained in place.

    ``ref_model`` defaults to a frozen copy of the starting model; its log-probs
    of every pair are computed once. Chosen and rejected texts are scored in one
    forward pass. Under ``torchrun`` every process shuffles the pairs alike and
    back-propagates its own share of each batch; the step follows the gradient of
    the batch's mean loss ([`rlcore.lm.parallel`][]).
    """
    cfg = DPOConfig() if config is None else check_instance(config, "config", DPOConfig)
    check_instance(model, "model", CharLM)
    check_instance(data, "data", PreferenceData)
    check_flag(progress, "progress")
    if ref_model is not None and check_instance(ref_model, "ref_model", CharLM).vocab != model.vocab:
        raise ValueError(f"ref_model vocabulary {ref_model.vocab!r} differs from the model's {model.vocab!r}")
    if model.vocab != data.vocab:
        raise ValueError(f"model vocabulary {model.vocab!r} differs from the data's {data.vocab!r}")
    w = world()
    M, n = w.size * cfg.gradient_accumulation_steps, len(data)
    if min(n, cfg.batch_size) < M or 0 < n % cfg.batch_size < M:
        raise ValueError(f"every batch of pairs must split into {M} non-empty micro-batches (world size {w.size} "
                         f"x gradient_accumulation_steps {cfg.gradient_accumulation_steps}), but {n} pairs in "
                         f"batches of batch_size={cfg.batch_size} leave a batch of {n % cfg.batch_size or n}")
    ref = ref_model if ref_model is not None else frozen_copy(model)
    pairs = data.encode("both", model.device)
    with torch.no_grad():
        ref_logps = sequence_logprob(ref, pairs)
    labels = torch.as_tensor(data.labels, dtype=model.dtype, device=model.device)
    g = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate)
    net = replicate(model, w)
    hist: dict[str, list[float]] = {k: [] for k in METRICS}
    start = time.perf_counter()
    model.train()

    def micro_batch_loss(net: nn.Module, item: tuple[torch.Tensor, int]):
        idx, batch = item
        k = len(idx)
        logps = sequence_logprob(net, pairs.index(torch.cat([idx, idx + n])))
        lc, lr_ = logps[:k], logps[k:]
        losses, rc, rr = dpo_loss(lc, lr_, ref_logps[idx], ref_logps[idx + n], cfg.beta, cfg.loss_type,
                                  cfg.label_smoothing, labels[idx])
        sums = {key: float(v.detach().sum()) for key, v in (
            ("loss", losses), ("rewards/chosen", rc), ("rewards/rejected", rr),
            ("rewards/accuracies", (rc > rr).float()), ("rewards/margins", rc - rr),
            ("logps/chosen", lc), ("logps/rejected", lr_))}
        return losses.sum() * (M / batch), sums

    for _ in tqdm(range(cfg.num_train_epochs), disable=not progress or not w.is_main, desc=cfg.loss_type,
                  leave=False):
        sums = dict.fromkeys(METRICS, 0.0)
        for idx in torch.split(torch.randperm(n, generator=g), cfg.batch_size):
            mine = [(part.to(model.device), len(idx)) for part in owned(torch.tensor_split(idx, M), w)]
            for st in accumulated_step(opt, net, mine, micro_batch_loss, cfg.max_grad_norm):
                for key in METRICS:
                    sums[key] += st[key]
        for key, total in zip(METRICS, reduce_sum([sums[key] for key in METRICS], model.device)):
            hist[key].append(total / n)
    model.eval()
    return DPOResult(model, {k: np.asarray(v) for k, v in hist.items()}, cfg, time.perf_counter() - start)
