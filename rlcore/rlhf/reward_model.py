"""A learned reward model: a small GRU that scores a whole text at its last token, trained on preferences.

Book: *RLHF*, "Training a reward model".

The model reads ``BOS, x, y`` (and ``EOS`` when the text ended by choice) and
its scalar head at the last token is the score ``r_phi(x, y)``. Trained with
the Bradley-Terry loss [`bradley_terry_loss`][], it is a
[`TextReward`][rlcore.envs.rewards.TextReward] like any rule, so an env, PPO or
best-of-n use it unchanged: one forward pass scores a batch.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from rlcore.core.validation import (
    check_array,
    check_flag,
    check_instance,
    check_nonnegative_int,
    check_positive_int,
    check_real,
    check_strings,
)
from rlcore.envs.rewards import TextReward
from rlcore.lm.config import validate_config
from rlcore.lm.model import CharLM
from rlcore.lm.rollout import Rollout, rollout_from_texts
from rlcore.lm.training import optimizer_step
from rlcore.rlhf.config import RLHF_RULES
from rlcore.rlhf.preferences import PreferenceData

__all__ = ["bradley_terry_loss", "expected_calibration_error", "RewardModel", "RewardConfig", "RewardResult",
           "train_reward_model", "evaluate_pairs"]


def bradley_terry_loss(r_chosen: torch.Tensor, r_rejected: torch.Tensor, margin: float | torch.Tensor = 0.0,
                       labels: torch.Tensor | None = None, center_coef: float = 0.0) -> torch.Tensor:
    """Mean Bradley-Terry loss ``-log sigmoid(r_c - r_r - margin)`` over pairs.

    With soft ``labels`` ``q = P(chosen > rejected)``:
    ``-[q log sigmoid(d) + (1 - q) log sigmoid(-d)]``, ``d = r_c - r_r - margin``.
    ``center_coef * mean((r_c + r_r)^2)`` keeps the scores centred (TRL's
    ``center_rewards_coefficient``); the loss only sees differences otherwise.
    """
    shape = check_array(check_instance(r_chosen, "r_chosen", torch.Tensor), "r_chosen", ndim=1).shape
    check_array(check_instance(r_rejected, "r_rejected", torch.Tensor), "r_rejected", shape=shape)
    if isinstance(margin, torch.Tensor):
        check_array(margin, "margin", shape=shape)
    else:
        check_real(margin, "margin", low=-np.inf)
    if labels is not None:
        q = check_array(check_instance(labels, "labels", torch.Tensor), "labels", shape=shape)
        if (q < 0).any() or (q > 1).any():
            raise ValueError("labels must be probabilities in [0, 1]")
    center_coef = check_real(center_coef, "center_coef")
    d = r_chosen - r_rejected - margin
    if labels is None:
        loss = -nn.functional.logsigmoid(d)
    else:
        q = labels.to(d.dtype)
        loss = -(q * nn.functional.logsigmoid(d) + (1 - q) * nn.functional.logsigmoid(-d))
    out = loss.mean()
    if center_coef:
        out = out + center_coef * ((r_chosen + r_rejected) ** 2).mean()
    return out


def expected_calibration_error(p: np.ndarray, outcome: np.ndarray, n_bins: int = 10) -> float:
    """``ECE = sum_b (n_b / n) |mean(outcome in b) - mean(p in b)|`` over ``n_bins`` equal-width bins of ``p``."""
    n_bins = check_positive_int(n_bins, "n_bins")
    p = check_array(p, "p", ndim=1)
    outcome = check_array(outcome, "outcome", shape=p.shape)
    for name, x in (("p", p), ("outcome", outcome)):
        if (x < 0).any() or (x > 1).any():
            raise ValueError(f"{name} must hold probabilities in [0, 1], got values in [{x.min():g}, {x.max():g}]")
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        sel = bins == b
        if sel.any():
            ece += sel.mean() * abs(outcome[sel].mean() - p[sel].mean())
    return float(ece)


class RewardModel(TextReward):
    """``r_phi(text) = scale * (head(h_last) - shift)``: a [`CharLM`][] body read at the text's last token.

    ``max_len`` says whether a text ended with ``EOS`` (shorter than the limit) or at the limit.
    """

    def __init__(self, net: CharLM, max_len: int, name: str = "reward_model") -> None:
        if check_instance(net, "net", CharLM).value is None:
            raise ValueError("net must be a CharLM with a value head (the reward model's scalar output)")
        self.net = net
        self.max_len = check_positive_int(max_len, "max_len")
        self.name = check_instance(name, "name", str)
        self.shift, self.scale = 0.0, 1.0

    def raw(self, texts: Sequence[str] | Rollout) -> torch.Tensor:
        """Unnormalised scores ``[B]`` with gradients (texts are full texts: prompt + completion)."""
        if isinstance(texts, Rollout):
            ro = texts
        else:
            texts = self._texts(texts, "texts")
            ro = rollout_from_texts(self.net.vocab, [""] * len(texts), list(texts), self.max_len,
                                    device=self.net.device)
        _, values = self.net(ro.tokens)
        last = ro.prompt_lengths + ro.lengths
        return values.gather(1, last[:, None]).squeeze(1)

    def _texts(self, texts: Sequence[str], name: str) -> tuple[str, ...]:
        texts = check_strings(texts, name)
        for i, t in enumerate(texts):
            self.net.vocab.check(t, f"{name}[{i}]")
            if len(t) > self.max_len:
                raise ValueError(f"{name}[{i}] {t!r} is longer than max_len={self.max_len}")
        return texts

    def score(self, texts: list[str]) -> np.ndarray:
        with torch.no_grad():
            return (self.scale * (self.raw(texts) - self.shift)).double().cpu().numpy()

    def normalize(self, reference_texts: Sequence[str]) -> RewardModel:
        """Set ``shift``, ``scale`` so that scores on ``reference_texts`` have mean 0 and std 1 (in place)."""
        with torch.no_grad():
            r = self.raw(self._texts(reference_texts, "reference_texts")).double()
        std = float(r.std(unbiased=False))
        self.shift, self.scale = float(r.mean()), 1.0 / std if std > 0 else 1.0
        return self


@dataclass(frozen=True)
class RewardConfig:
    """Reward-model training (Bradley-Terry on preference pairs)."""

    num_train_epochs: int = 20
    """passes over the training pairs"""
    batch_size: int = 64
    """pairs per gradient step"""
    learning_rate: float = 3e-3
    """Adam step size"""
    margin: float = 0.0
    """``m`` in ``-log sigmoid(r_c - r_r - m)``"""
    center_rewards_coefficient: float = 0.0
    """weight of ``mean((r_c + r_r)^2)``, which keeps scores centred"""
    max_grad_norm: float | None = 1.0
    """clip the gradient's norm to this (None: no clipping)"""
    seed: int = 0
    """seeds the shuffling and the head's initialisation"""

    def __post_init__(self) -> None:
        validate_config(self, RLHF_RULES)


@dataclass(frozen=True)
class RewardResult:
    """A trained [`RewardModel`][] with its per-epoch ``history`` (``loss``, ``accuracy``) and held-out scores."""

    model: RewardModel
    history: dict[str, np.ndarray] = field(repr=False)
    held_out_accuracy: float | None
    held_out_ece: float | None
    elapsed: float

    def __repr__(self) -> str:
        acc = "-" if self.held_out_accuracy is None else f"{self.held_out_accuracy:.3f}"
        ece = "-" if self.held_out_ece is None else f"{self.held_out_ece:.3f}"
        return (f"RewardResult(final train loss {self.history['loss'][-1]:.3f}, held-out accuracy {acc}, "
                f"ECE {ece}, {self.elapsed:.1f} s)")


def _pair_scores(rm: RewardModel, chosen: Rollout, rejected: Rollout, idx: torch.Tensor):
    return rm.raw(chosen.index(idx)), rm.raw(rejected.index(idx))


def evaluate_pairs(rm: RewardModel, data: PreferenceData, seed: int = 0) -> tuple[float, float]:
    """``(accuracy, ECE)`` on ``data``.

    Accuracy: how often ``r_c > r_r`` on the pairs whose label says something
    (soft label not exactly 1/2; a coin-flip pair has no right answer). ECE: the
    calibration of ``sigmoid(r_c - r_r)`` against the label, with every pair shown
    in a random order so that predictions fall on both sides of 1/2.
    """
    check_instance(rm, "rm", RewardModel)
    check_instance(data, "data", PreferenceData)
    check_nonnegative_int(seed, "seed")
    if data.vocab != rm.net.vocab:
        raise ValueError(f"data vocabulary {data.vocab!r} differs from the reward model's {rm.net.vocab!r}")
    with torch.no_grad():
        rc, rr = (rm.raw(data.encode(s, rm.net.device)).double().cpu().numpy() for s in ("chosen", "rejected"))
    d = rc - rr
    informative = data.labels != 0.5
    accuracy = float((d[informative] > 0).mean()) if informative.any() else float("nan")
    flip = np.random.default_rng(seed).random(len(d)) < 0.5
    p_first = 1 / (1 + np.exp(-np.where(flip, -d, d)))
    outcome = np.where(flip, 1 - data.labels, data.labels)
    return accuracy, expected_calibration_error(p_first, outcome)


def train_reward_model(data: PreferenceData, config: RewardConfig | None = None, init: CharLM | None = None,
                       held_out: PreferenceData | None = None, progress: bool = False) -> RewardResult:
    """Fit a [`RewardModel`][] to preference pairs by minimising [`bradley_terry_loss`][] with Adam.

    ``init`` (for example the SFT model) gives the body; it is copied, never
    changed. Without it a fresh [`CharLM`][] of the data's vocabulary is built.
    """
    cfg = RewardConfig() if config is None else check_instance(config, "config", RewardConfig)
    check_instance(data, "data", PreferenceData)
    check_flag(progress, "progress")
    if init is not None and check_instance(init, "init", CharLM).value is None:
        raise ValueError("init must be a CharLM with a value head (the reward model's scalar output)")
    if held_out is not None and check_instance(held_out, "held_out", PreferenceData).vocab != data.vocab:
        raise ValueError(f"held_out vocabulary {held_out.vocab!r} differs from the data's {data.vocab!r}")
    net = copy.deepcopy(init) if init is not None else CharLM(data.vocab, seed=cfg.seed)
    if net.vocab != data.vocab:
        raise ValueError(f"init vocabulary {net.vocab!r} differs from the data's {data.vocab!r}")
    rm = RewardModel(net, data.max_len)
    chosen, rejected = data.encode("chosen", net.device), data.encode("rejected", net.device)
    labels = torch.as_tensor(data.labels, dtype=net.dtype, device=net.device)
    g = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.learning_rate)
    hist: dict[str, list[float]] = {"loss": [], "accuracy": []}
    start = time.perf_counter()
    net.train()
    for _ in tqdm(range(cfg.num_train_epochs), disable=not progress, desc="reward model", leave=False):
        order = torch.randperm(len(data), generator=g)
        losses, correct = [], 0
        for idx in torch.split(order, cfg.batch_size):
            rc, rr = _pair_scores(rm, chosen, rejected, idx)
            loss = bradley_terry_loss(rc, rr, cfg.margin, labels[idx], cfg.center_rewards_coefficient)
            optimizer_step(opt, net, loss, cfg.max_grad_norm)
            losses.append(float(loss.detach()) * len(idx))
            correct += int((rc > rr).sum())
        hist["loss"].append(sum(losses) / len(data))
        hist["accuracy"].append(correct / len(data))
    net.eval()
    acc = ece = None
    if held_out is not None:
        acc, ece = evaluate_pairs(rm, held_out, cfg.seed)
    return RewardResult(rm, {k: np.asarray(v) for k, v in hist.items()}, acc, ece, time.perf_counter() - start)
