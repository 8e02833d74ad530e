"""Trainer configs: one field name per idea (TRL's where TRL has one), every field documented and checked.

Book: *RL for large language models*, "Policy gradients" and "Proximal policy optimisation".

A config is validated when it is built: a negative ``max_grad_norm`` (which
would flip the gradient and train the model to *minimise* reward), zero
minibatches or a NaN ``target_kl`` raise ``ValueError`` naming the field,
the value and what is allowed. The rules live in one table, [`RULES`][],
so the configs to come (DPO, GRPO) share them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from rlcore.core.validation import check_instance
from rlcore.lm.kl import KL_ESTIMATORS
from rlcore.lm.losses import LOSS_AGG

__all__ = ["RULES", "validate_config", "SamplingConfig", "TrainerConfig", "ReinforceConfig", "PPOConfig"]


def _integer(low: int, none: bool = False) -> tuple[Any, str]:
    def ok(v: Any) -> bool:
        return (none and v is None) or (isinstance(v, int) and not isinstance(v, bool) and v >= low)
    return ok, f"an integer >= {low}" + (" or None" if none else "")


def _real(low: float, high: float = math.inf, open_low: bool = False, none: bool = False) -> tuple[Any, str]:
    def ok(v: Any) -> bool:
        if none and v is None:
            return True
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return False
        return (v > low if open_low else v >= low) and v <= high
    left = "(" if open_low else "["
    span = f"> {low:g}" if high == math.inf and open_low else (
        f">= {low:g}" if high == math.inf else f"in {left}{low:g}, {high:g}]")
    return ok, f"a finite number {span}" + (" or None" if none else "")


def _choice(options: tuple[str, ...]) -> tuple[Any, str]:
    return (lambda v: v in options), f"one of {options}"


def _flag() -> tuple[Any, str]:
    return (lambda v: isinstance(v, bool)), "True or False"


RULES: dict[str, tuple[Any, str]] = {
    "n_iterations": _integer(1), "batch_size": _integer(1), "num_generations": _integer(1),
    "num_mini_batches": _integer(1), "num_ppo_epochs": _integer(1), "seed": _integer(0),
    "learning_rate": _real(0, open_low=True), "gamma": _real(0, 1), "lam": _real(0, 1),
    "cliprange": _real(0, open_low=True), "cliprange_value": _real(0, open_low=True, none=True),
    "vf_coef": _real(0), "ent_coef": _real(0), "kl_coef": _real(0),
    "kl_estimator": _choice(KL_ESTIMATORS), "kl_penalty": _choice(("reward", "loss")),
    "target_kl": _real(0, open_low=True, none=True), "norm_adv": _flag(), "loss_agg": _choice(LOSS_AGG),
    "baseline": _choice(("none", "mean", "value")),
    "temperature": _real(0, open_low=True), "top_k": _integer(1, none=True), "top_p": _real(0, 1, open_low=True),
    "max_grad_norm": _real(0, open_low=True, none=True), "time_limit": _real(0, open_low=True, none=True),
    "kl_target": _real(0, open_low=True, none=True), "kl_horizon": _integer(1),
    "missing_eos_penalty": _real(0, none=True), "gradient_accumulation_steps": _integer(1),
}
"""``field name -> (check, what is allowed)``, shared by every trainer config."""


def validate_config(cfg: Any, rules: dict[str, tuple[Any, str]] | None = None) -> None:
    """Check every field of a config dataclass against ``rules`` (default [`RULES`][]); ``ValueError`` names
    the first bad field, its value and what is allowed."""
    if not is_dataclass(cfg) or isinstance(cfg, type):
        raise TypeError(f"cfg must be a config dataclass instance, got {cfg!r}")
    name = type(cfg).__name__
    rules = RULES if rules is None else check_instance(rules, "rules", dict, "a dict field -> (check, allowed)")
    for f in fields(cfg):
        if f.name not in rules:
            raise ValueError(f"{name}.{f.name} has no validation rule in rules (add it to the config's rule table)")
        rule = rules[f.name]
        if not (isinstance(rule, tuple) and len(rule) == 2 and callable(rule[0])):
            raise TypeError(f"rules[{f.name!r}] must be a pair (check, what is allowed), got {rule!r}")
        ok, allowed = rule
        value = getattr(cfg, f.name)
        if not ok(value):
            raise ValueError(f"{name}.{f.name} must be {allowed}, got {value!r}")
    if hasattr(cfg, "num_generations") and cfg.batch_size % cfg.num_generations:
        raise ValueError(f"{name}.batch_size ({cfg.batch_size}) must be a multiple of "
                         f"num_generations ({cfg.num_generations})")


@dataclass(frozen=True)
class SamplingConfig:
    """The fields every trainer that samples its own batches shares: sizes, sampling, step, seed, budget."""

    n_iterations: int = 200
    """number of (sample a batch, update) iterations"""
    batch_size: int = 64
    """completions sampled per iteration"""
    num_generations: int = 1
    """completions per prompt: each iteration draws ``batch_size / num_generations`` prompts
    uniformly from the env's prompts (with replacement) and completes each this many times"""
    learning_rate: float = 3e-3
    """Adam step size"""
    temperature: float = 1.0
    """sampling temperature; log-probs, entropy and KL are scored under ``softmax(z / temperature)``"""
    top_k: int | None = None
    """top-k filter while sampling only (None: off)"""
    top_p: float = 1.0
    """nucleus filter while sampling only (1: off)"""
    max_grad_norm: float | None = 1.0
    """clip the gradient's norm to this (None: no clipping)"""
    seed: int = 0
    """seeds every random draw of the trainer (a ``torch.Generator``)"""
    time_limit: float | None = None
    """stop after this many seconds of training (None: no limit)"""
    gradient_accumulation_steps: int = 1
    """micro-batches each process samples and back-propagates before one optimiser step: the batch is
    ``world_size x gradient_accumulation_steps`` micro-batches, each drawn by its own random stream
    ([`rlcore.lm.parallel`][]), so one process accumulating two equals two processes with one each"""

    def __post_init__(self) -> None:
        validate_config(self)


@dataclass(frozen=True)
class TrainerConfig(SamplingConfig):
    """The fields REINFORCE and PPO share: returns, the entropy bonus, the KL anchor, token aggregation."""

    gamma: float = 1.0
    """discount factor of the returns"""
    ent_coef: float = 0.0
    """weight of the entropy bonus"""
    kl_coef: float = 0.0
    """``beta``, the strength of the KL penalty to the reference policy"""
    kl_estimator: str = "k1"
    """per-token KL estimator, one of ``k1``, ``k2``, ``k3`` ([`rlcore.lm.kl`][])"""
    kl_penalty: str = "reward"
    """where the KL goes: ``"reward"`` subtracts ``kl_coef * k`` from each token's reward
    (PPO, RLOO; use ``k1``); ``"loss"`` adds ``kl_coef * agg(k)`` to the loss, with gradient
    (GRPO; use ``k3`` or ``k2``). The other pairings drift away from the reference ([`rlcore.lm.kl`][])"""
    loss_agg: str = "token-mean"
    """token-loss aggregation, one of [`rlcore.lm.losses.LOSS_AGG`][]"""


@dataclass(frozen=True)
class ReinforceConfig(TrainerConfig):
    """REINFORCE: one gradient step per sampled batch."""

    baseline: str = "mean"
    """``"none"``; ``"mean"``: leave-one-out mean of ``G_t`` over the other completions of the same
    prompt at the same step (over the batch when ``num_generations == 1``), which keeps the
    gradient unbiased; ``"value"``: the value head ``V(s_t)``, trained by regression on ``G_t``"""
    vf_coef: float = 0.5
    """weight of the value regression loss (``baseline="value"`` only)"""
    loss_agg: str = "seq-mean-token-sum"
    """token-loss aggregation; the default is the unbiased policy-gradient estimator"""


@dataclass(frozen=True)
class PPOConfig(TrainerConfig):
    """PPO: several clipped epochs on each batch, a value head and GAE."""

    n_iterations: int = 100
    """number of (collect a batch, run the PPO epochs) iterations"""
    num_mini_batches: int = 4
    """minibatches per epoch (the batch's rows are shuffled into them)"""
    num_ppo_epochs: int = 4
    """passes over each batch"""
    lam: float = 0.95
    """GAE ``lambda``: 0 = one-step TD error, 1 = Monte Carlo return minus ``V``"""
    cliprange: float = 0.2
    """``epsilon`` of the clipped ratio ``clip(rho, 1 - eps, 1 + eps)``"""
    cliprange_value: float | None = 0.2
    """clip range of the value update around the old values (None: plain squared error)"""
    vf_coef: float = 0.5
    """weight of the value loss"""
    target_kl: float | None = None
    """stop an iteration's epochs early once the minibatch ``approx_kl`` exceeds this (None: never)"""
    norm_adv: bool = True
    """normalise (whiten) advantages over the valid tokens of each minibatch"""
    kl_target: float | None = None
    """adaptive KL control (Ziegler et al.): steer ``kl_coef`` so that the mean sequence KL tracks this
    (None: ``kl_coef`` stays fixed)"""
    kl_horizon: int = 10_000
    """horizon of the adaptive controller, in samples"""
    missing_eos_penalty: float | None = None
    """subtract this from the task reward of a completion that stopped at the length limit without ``EOS``"""
