"""What the policy-gradient trainers share: prompted batches from the env, the reference, the KL term, one step.

Book: *RL for large language models*, "Policy gradients".
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

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
    check_tensor,
)
from rlcore.envs.language import CharLanguageEnv
from rlcore.lm.config import SamplingConfig
from rlcore.lm.kl import kl_estimate
from rlcore.lm.model import CharLM, _check_lm
from rlcore.lm.parallel import World, micro_batch_rows, reduce_mean, replicate, stream_generators, sync_context, world
from rlcore.lm.rollout import Rollout, sample

__all__ = ["PGResult", "frozen_copy", "sample_batch", "token_kl", "optimizer_step", "check_model_env", "generator_for",
           "Training", "start_training", "accumulated_step", "train_per_batch"]


@dataclass(frozen=True)
class PGResult:
    """Outcome of [`rlcore.lm.reinforce.reinforce`][] or [`rlcore.lm.ppo.ppo`][].

    ``history[key]`` holds one entry per iteration: ``reward`` (mean task return of
    the batch), ``kl_ref`` (mean sequence KL to the reference, by the config's
    estimator), ``entropy``, ``length``, ``time``; PPO adds ``approx_kl``,
    ``clipfrac``, ``value_loss``, ``explained_variance``, ``epochs`` and the
    first-minibatch diagnostics ``first_ratio_dev``, ``first_approx_kl``, ``first_clipfrac``.
    """

    model: CharLM
    history: dict[str, np.ndarray]
    config: Any
    elapsed: float
    samples: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_instance(self.model, "model", nn.Module)
        check_instance(self.history, "history", dict, "a dict of per-iteration arrays")
        if "reward" not in self.history:
            raise ValueError(f"history must hold a 'reward' entry, got keys {sorted(self.history)}")
        check_real(self.elapsed, "elapsed", 0.0)
        check_strings(self.samples, "samples", allow_empty=True)

    @property
    def final_reward(self) -> float:
        """Mean batch reward over the last 10% of iterations."""
        r = self.history["reward"]
        k = max(1, len(r) // 10)
        return float(np.mean(r[-k:]))

    def __repr__(self) -> str:
        n = len(self.history["reward"])
        return (f"PGResult({type(self.config).__name__}, {n} iterations in {self.elapsed:.1f} s, "
                f"final reward {self.final_reward:.3f}, samples {self.samples[:3]!r})")


def check_model_env(model: CharLM, env: CharLanguageEnv) -> None:
    """``ValueError`` unless the model writes the env's vocabulary."""
    _check_lm(model)
    check_instance(env, "env", CharLanguageEnv)
    if model.vocab != env.vocab:
        raise ValueError(f"model vocabulary {model.vocab!r} differs from the env's {env.vocab!r}")


def frozen_copy(model: CharLM) -> CharLM:
    """A copy of ``model`` used only under ``no_grad`` and never given to an optimiser (the reference).

    Its parameters keep ``requires_grad=True`` on purpose: PyTorch's CPU GRU takes a
    different kernel when no weight requires grad, which would make ``log pi_ref``
    differ from ``log pi`` in the last bit for identical weights.
    """
    check_instance(model, "model", nn.Module)
    ref = copy.deepcopy(model)
    ref.eval()
    return ref


def sample_batch(model: CharLM, env: CharLanguageEnv, cfg: SamplingConfig, generator: torch.Generator,
                 rows: int | None = None) -> Rollout:
    """``rows / num_generations`` prompts (``rows`` defaults to ``batch_size``) drawn uniformly from
    ``env.prompts``, each completed ``num_generations`` times up to the env's length limit (so every
    row ends where the env ends)."""
    check_model_env(model, env)
    check_instance(cfg, "cfg", SamplingConfig)
    check_instance(generator, "generator", torch.Generator)
    rows = cfg.batch_size if rows is None else check_positive_int(rows, "rows")
    if rows % cfg.num_generations:
        raise ValueError(f"rows ({rows}) must be a multiple of num_generations ({cfg.num_generations})")
    n_prompts = rows // cfg.num_generations
    if len(env.prompts) == 1:
        prompts = list(env.prompts) * n_prompts
    else:
        idx = torch.randint(len(env.prompts), (n_prompts,), generator=generator, device=generator.device)
        prompts = [env.prompts[i] for i in idx.tolist()]
    return sample(model, prompts, cfg.num_generations, env.max_len, cfg.temperature, cfg.top_k, cfg.top_p,
                  generator=generator, max_len=env.max_len)


def token_kl(logp: torch.Tensor, ref_logp: torch.Tensor, mask: torch.Tensor, estimator: str) -> torch.Tensor:
    """Per-token KL estimate ``[B, L]``, 0 outside the completion mask."""
    k = kl_estimate(logp, ref_logp, estimator)
    check_tensor(mask, "mask", shape=tuple(logp.shape), kind="bool")
    return torch.where(mask, k, torch.zeros_like(k))


def optimizer_step(opt: torch.optim.Optimizer, model: nn.Module, loss: torch.Tensor,
                   max_grad_norm: float | None) -> None:
    """``zero_grad``, ``backward``, optional gradient-norm clipping, ``step``."""
    check_instance(model, "model", nn.Module)
    check_tensor(loss, "loss", ndim=0, kind="floating", finite=True)
    accumulated_step(opt, model, [None], lambda net, _: (loss, {}), max_grad_norm)


def generator_for(model: CharLM, seed: int) -> torch.Generator:
    """A seeded ``torch.Generator`` on the model's device: every random draw of a trainer comes from it."""
    check_instance(model, "model", nn.Module)
    check_nonnegative_int(seed, "seed")
    return torch.Generator(device=model.device).manual_seed(seed)


@dataclass
class Training:
    """What a trainer holds while it runs (see [`start_training`][])."""

    ref: CharLM
    """the reference policy (never updated)"""
    opt: torch.optim.Optimizer
    net: nn.Module
    """the model, or its ``DistributedDataParallel`` wrapper: gradient-carrying forwards go through it"""
    generators: list[torch.Generator]
    """one random stream per micro-batch this process owns"""
    rows: int
    """completions per micro-batch"""
    world: World

    def __post_init__(self) -> None:
        check_instance(self.ref, "ref", nn.Module)
        check_instance(self.opt, "opt", torch.optim.Optimizer)
        check_instance(self.net, "net", nn.Module)
        check_instance(self.generators, "generators", list)
        if not self.generators or not all(isinstance(g, torch.Generator) for g in self.generators):
            raise ValueError(f"generators must be a non-empty list of torch.Generator, got {self.generators!r}")
        check_positive_int(self.rows, "rows")
        check_instance(self.world, "world", World)

    def sample(self, model: CharLM, env: CharLanguageEnv, cfg: SamplingConfig) -> list[Rollout]:
        """One rollout per owned micro-batch, each from its own stream."""
        check_instance(cfg, "cfg", SamplingConfig)
        return [sample_batch(model, env, cfg, g, self.rows) for g in self.generators]

    def mean(self, values: Sequence[float]) -> float:
        """The mean of per-micro-batch values over every micro-batch of every process."""
        if isinstance(values, str) or not len(check_array(values, "values", ndim=1, finite=False)):
            raise ValueError(f"values must be a non-empty sequence of numbers, got {values!r}")
        return reduce_mean([float(np.mean(values))], self.ref.device)[0]

    def mean_stats(self, stats: Sequence[dict[str, float]]) -> dict[str, float]:
        """[`mean`][] of every key of per-micro-batch statistics, in one all-reduce."""
        check_instance(stats, "stats", (list, tuple), "a list of dicts")
        if not stats or not all(isinstance(st, dict) for st in stats):
            raise ValueError(f"stats must be a non-empty list of dicts, got {stats!r}")
        keys = list(stats[0])
        values = reduce_mean([float(np.mean([s[k] for s in stats])) for k in keys], self.ref.device)
        return dict(zip(keys, values))


def start_training(model: CharLM, env: CharLanguageEnv, cfg: SamplingConfig, ref_model: CharLM | None,
                   adam_eps: float = 1e-8, uses_value_head: bool = False) -> Training:
    """What every trainer does first: check the vocabulary, fix the reference, build Adam, cut the
    batch into micro-batches with one seeded generator each, and wrap the model for data parallelism.

    The reference is ``ref_model``, or a frozen copy of ``model`` as it is now. In a
    world of one process with ``gradient_accumulation_steps=1`` there is one generator,
    seeded with ``cfg.seed``, and no wrapper.
    """
    check_model_env(model, env)
    check_instance(cfg, "cfg", SamplingConfig)
    if ref_model is not None:
        if _check_lm(ref_model, "ref_model").vocab != model.vocab:
            raise ValueError(f"ref_model must write the model's vocabulary {model.vocab!r}, got {ref_model.vocab!r}")
    check_real(adam_eps, "adam_eps", open_low=True)
    check_flag(uses_value_head, "uses_value_head")
    w = world()
    rows = micro_batch_rows(cfg.batch_size, cfg.gradient_accumulation_steps, w.size, cfg.num_generations)
    ref = ref_model if ref_model is not None else frozen_copy(model)
    net = replicate(model, w, uses_value_head)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate, eps=adam_eps)
    gens = stream_generators(cfg.seed, cfg.gradient_accumulation_steps, w, model.device)
    return Training(ref, opt, net, gens, rows, w)


def accumulated_step(opt: torch.optim.Optimizer, net: nn.Module, items: Sequence[Any],
                     loss_fn: Callable[[nn.Module, Any], tuple[torch.Tensor, dict[str, float]]],
                     max_grad_norm: float | None) -> list[dict[str, float]]:
    """One optimiser step on the mean of ``loss_fn(net, item)`` over ``items`` (this process's micro-batches).

    ``zero_grad``; for each item, forward and backward ``loss / len(items)`` (under
    ``DistributedDataParallel`` the gradients are all-reduced after the last item
    only, which averages them over the processes); optional gradient-norm
    clipping; ``step``. Returns each item's statistics.
    """
    check_instance(opt, "opt", torch.optim.Optimizer)
    check_instance(net, "net", nn.Module)
    check_instance(items, "items", (list, tuple), "a list of micro-batches")
    if not items:
        raise ValueError("items must hold at least one micro-batch, got none")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable (net, item) -> (loss, stats), got {type(loss_fn).__name__}")
    check_real(max_grad_norm, "max_grad_norm", open_low=True, none=True)
    opt.zero_grad(set_to_none=True)
    stats = []
    for j, item in enumerate(items):
        with sync_context(net, last=j == len(items) - 1):
            loss, st = loss_fn(net, item)
            check_tensor(loss, "loss", ndim=0, kind="floating", finite=True)
            (loss / len(items) if len(items) > 1 else loss).backward()
        stats.append(st)
    if max_grad_norm is not None:
        nn.utils.clip_grad_norm_(net.parameters(), max_grad_norm)
    opt.step()
    return stats


def train_per_batch(model: CharLM, env: CharLanguageEnv, cfg: SamplingConfig, tr: Training,
                    micro_batch_loss: Callable[[nn.Module, Rollout], tuple[torch.Tensor, dict[str, float]]],
                    keys: Sequence[str], desc: str, progress: bool) -> PGResult:
    """The loop of the one-step-per-batch trainers (REINFORCE, GRPO, RLOO).

    Each iteration samples this process's micro-batches, takes one [`accumulated_step`][]
    on ``micro_batch_loss`` and records every key of ``keys`` (the micro-batch statistics,
    averaged over all processes, and ``time``); it stops early at ``cfg.time_limit``, a
    decision every process takes alike.
    """
    check_instance(cfg, "cfg", SamplingConfig)
    check_instance(tr, "tr", Training)
    if not callable(micro_batch_loss):
        raise TypeError(f"micro_batch_loss must be callable (net, rollout) -> (loss, stats), "
                        f"got {type(micro_batch_loss).__name__}")
    check_strings(keys, "keys", allow_empty=True)
    check_instance(desc, "desc", str)
    check_flag(progress, "progress")
    hist: dict[str, list[float]] = {k: [] for k in keys}
    start = time.perf_counter()
    rollouts: list[Rollout] = []
    for _ in tqdm(range(cfg.n_iterations), disable=not progress or not tr.world.is_main, desc=desc, leave=False):
        rollouts = tr.sample(model, env, cfg)
        model.train()
        st = tr.mean_stats(accumulated_step(tr.opt, tr.net, rollouts, micro_batch_loss, cfg.max_grad_norm))
        for k in hist:
            hist[k].append(st[k] if k != "time" else time.perf_counter() - start)
        if cfg.time_limit is not None and tr.mean([hist["time"][-1]]) > cfg.time_limit:
            break
    model.eval()
    return PGResult(model, {k: np.asarray(v) for k, v in hist.items()}, cfg, time.perf_counter() - start,
                    rollouts[0].texts if rollouts else [])
