"""Policy gradients on the language MDP: REINFORCE (with and without a baseline) and PPO.

Book: *RL for large language models*, "Policy gradients" and "Proximal policy optimisation".

Both maximise ``J(theta) = E_{x ~ pi_theta}[R(x)]`` with the policy-gradient theorem

``grad J = E[ sum_t grad log pi_theta(a_t | s_t) (G_t - b(s_t)) ]``,

where ``G_t = sum_{k>=t} gamma^(k-t) r_k`` (from :func:`rlcore.core.returns.discounted_returns`)
and any baseline ``b`` that does not depend on ``a_t`` leaves it unbiased.
PPO replaces ``G_t - b`` by GAE advantages (:func:`rlcore.core.returns.gae`) and
takes several clipped steps on each batch.

The :class:`~rlcore.envs.language.CharLanguageEnv` is the reference
definition of the task: rewards of batched model rollouts are computed by the
env's own :meth:`~rlcore.envs.language.CharLanguageEnv.reward_sequence`, and
the tests check the returns against stepping the env.

Token-loss aggregation (``loss_agg``, names as in verl), for a per-token loss ``l_{b,t}``
and mask ``m_{b,t}``:

========================= ===================================================================
``"token-mean"``          ``sum_{b,t} m l / sum_{b,t} m`` (every token weighs the same)
``"seq-mean-token-mean"`` ``(1/B) sum_b (sum_t m l / sum_t m)`` (every sequence weighs the same)
``"seq-mean-token-sum"``  ``(1/B) sum_b sum_t m l`` (the unbiased policy-gradient estimator)
========================= ===================================================================
"""

from __future__ import annotations

import copy
import math
import resource
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from rlcore.core.returns import discounted_returns, gae
from rlcore.envs.language import CharLanguageEnv
from rlcore.lm.nn import CharLM, Rollout, enumerate_sequences, sample, score

__all__ = [
    "LOSS_AGG", "aggregate", "masked_mean", "normalize_advantages", "rollout_rewards", "kl_to_reference",
    "exact_expected_reward", "exact_kl", "reinforce_loss", "ppo_policy_loss", "clipped_value_loss",
    "ReinforceConfig", "PPOConfig", "PGResult", "Batch", "collect", "ppo_loss", "reinforce", "ppo",
    "benchmark_env", "run_benchmark", "baseline_variance_ratio", "sampling_speedup", "sampling_sweep",
]

LOSS_AGG = ("token-mean", "seq-mean-token-mean", "seq-mean-token-sum")


# ------------------------------------------------------------------ helpers
def _check_agg(mode: str) -> None:
    if mode not in LOSS_AGG:
        raise ValueError(f"loss_agg must be one of {LOSS_AGG}, got {mode!r}")


def aggregate(x: torch.Tensor, mask: torch.Tensor, mode: str = "token-mean") -> torch.Tensor:
    """Reduce a per-token quantity ``x [B, L]`` to a scalar over ``mask`` (see the module table).

    Rows or batches without any valid token contribute 0 (never NaN).
    """
    _check_agg(mode)
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
    mean = masked_mean(adv, mask)
    var = masked_mean((adv - mean) ** 2, mask)
    out = (adv - mean) / (var.sqrt() + eps)
    return torch.where(mask, out, torch.zeros_like(out))


def _check_model_env(model: CharLM, env: CharLanguageEnv) -> None:
    if model.vocab != env.vocab:
        raise ValueError(f"model vocabulary {model.vocab!r} differs from the env's {env.vocab!r}")
    if env.prompts != [""]:
        raise ValueError("neural rollouts start from BOS: use an env without prompts (prompts=('',))")


def rollout_rewards(env: CharLanguageEnv, rollout: Rollout, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Per-step rewards ``r [B, L]`` of a batched rollout, computed by the env (0 after the end).

    The delayed reward lands on the last valid position: the ``EOS`` token, or
    the last character of a truncated text.
    """
    out = torch.zeros(rollout.actions.shape, dtype=dtype)
    for b, (row, n) in enumerate(zip(rollout.actions.tolist(), rollout.lengths.tolist())):
        r, term = env.reward_sequence(row[:n])
        if len(r) != n or term != bool(rollout.terminated[b]):
            raise RuntimeError("rollout and env disagree on where the episode ends")  # pragma: no cover
        out[b, :n] = torch.tensor(r, dtype=dtype)
    return out


def _dones(mask: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """``done[b, t] = (t == lengths[b] - 1)``: the last step of every episode (EOS or length limit)."""
    idx = torch.arange(mask.shape[1])
    return idx[None, :] == (lengths[:, None] - 1)


def kl_to_reference(logp: torch.Tensor, ref_logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-sequence KL estimate ``sum_t [log pi(a_t|s_t) - log pi_ref(a_t|s_t)]``, shape ``[B]``.

    With ``x ~ pi`` its mean is unbiased for ``KL(pi || pi_ref) = E_pi[log pi(x) - log pi_ref(x)]``
    over whole texts (the per-token terms are what the KL penalty subtracts from the rewards).
    """
    return torch.where(mask, logp - ref_logp, torch.zeros_like(logp)).sum(-1)


def _enumerated(model: CharLM, max_len: int, temperature: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    tokens, mask = enumerate_sequences(model.vocab, max_len)
    logp = score(model, tokens, mask, temperature)[0].sum(-1)
    return tokens, mask, logp


def exact_expected_reward(model: CharLM, env: CharLanguageEnv, temperature: float = 1.0) -> torch.Tensor:
    """``J(theta) = sum_x pi_theta(x) R(x)`` by enumerating every text (tiny instances; differentiable).

    ``R(x) = sum_t r_t`` (undiscounted). ``J.backward()`` gives the exact policy gradient.
    """
    _check_model_env(model, env)
    tokens, mask, logp = _enumerated(model, env.max_len, temperature)
    R = torch.tensor([sum(env.reward_sequence(row[1:][m].tolist())[0]) for row, m in zip(tokens, mask)],
                     dtype=logp.dtype)
    return (logp.exp() * R).sum()


@torch.no_grad()
def exact_kl(model: CharLM, ref: CharLM, max_len: int, temperature: float = 1.0) -> float:
    """``KL(pi || pi_ref) = sum_x pi(x) [log pi(x) - log pi_ref(x)]`` over all texts (tiny instances)."""
    _, _, logp = _enumerated(model, max_len, temperature)
    _, _, ref_logp = _enumerated(ref, max_len, temperature)
    return float((logp.exp() * (logp - ref_logp)).sum())


# ------------------------------------------------------------------- losses
def reinforce_loss(logp: torch.Tensor, returns: torch.Tensor, baseline: torch.Tensor | None,
                   mask: torch.Tensor, loss_agg: str = "seq-mean-token-sum") -> torch.Tensor:
    """REINFORCE surrogate ``L = -agg_t[ log pi(a_t|s_t) (G_t - b_t) ]``; ``-grad L`` estimates ``grad J``.

    ``returns`` and ``baseline`` are treated as constants (detached).
    """
    adv = returns if baseline is None else returns - baseline
    return aggregate(-logp * adv.detach(), mask, loss_agg)


def ppo_policy_loss(logp: torch.Tensor, old_logp: torch.Tensor, adv: torch.Tensor, mask: torch.Tensor,
                    clip_coef: float = 0.2, loss_agg: str = "token-mean") -> tuple[torch.Tensor, dict[str, float]]:
    """PPO clipped surrogate (Schulman et al., 2017).

    ``rho_t = exp(log pi(a_t|s_t) - log pi_old(a_t|s_t))``,
    ``L = agg_t max(-A_t rho_t, -A_t clip(rho_t, 1 - eps, 1 + eps))``.

    Stats: ``approx_kl = mean[(rho - 1) - log rho]`` (non-negative, unbiased for
    ``KL(pi_old || pi)``), ``clipfrac = mean[|rho - 1| > eps]`` and
    ``ratio_dev = max |rho - 1|``, all over valid tokens.
    """
    logratio = logp - old_logp.detach()
    ratio = logratio.exp()
    adv = adv.detach()
    pg1 = -adv * ratio
    pg2 = -adv * ratio.clamp(1 - clip_coef, 1 + clip_coef)
    loss = aggregate(torch.maximum(pg1, pg2), mask, loss_agg)
    with torch.no_grad():
        zero = torch.zeros_like(ratio)
        stats = {
            "approx_kl": float(masked_mean((ratio - 1) - logratio, mask)),
            "clipfrac": float(masked_mean(((ratio - 1).abs() > clip_coef).to(ratio.dtype), mask)),
            "ratio_dev": float(torch.where(mask, (ratio - 1).abs(), zero).max()) if mask.any() else 0.0,
        }
    return loss, stats


def clipped_value_loss(values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor,
                       clip: float | None = 0.2, loss_agg: str = "token-mean") -> torch.Tensor:
    """Value loss ``0.5 agg max[(V - R)^2, (V_old + clip(V - V_old, -c, c) - R)^2]`` (plain MSE if ``clip`` is None)."""
    returns = returns.detach()
    err = (values - returns) ** 2
    if clip is not None:
        v_clip = old_values + (values - old_values).clamp(-clip, clip)
        err = torch.maximum(err, (v_clip - returns) ** 2)
    return 0.5 * aggregate(err, mask, loss_agg)


# ------------------------------------------------------------------ configs
@dataclass
class ReinforceConfig:
    """REINFORCE hyper-parameters (one field, one meaning)."""

    n_iterations: int = 200
    """number of (sample a batch, take one gradient step) iterations"""
    batch_size: int = 64
    """texts sampled per iteration"""
    learning_rate: float = 3e-3
    """Adam step size"""
    gamma: float = 1.0
    """discount factor of the returns ``G_t``"""
    baseline: str = "mean"
    """``"none"``; ``"mean"``: leave-one-out batch mean of ``G_t`` at the same step (unbiased);
    ``"value"``: the model's value head ``V(s_t)``, trained by regression on ``G_t``"""
    vf_coef: float = 0.5
    """weight of the value regression loss (``baseline="value"`` only)"""
    ent_coef: float = 0.0
    """weight of the entropy bonus"""
    kl_coef: float = 0.0
    """``beta``: per-token KL penalty ``-beta (log pi - log pi_ref)`` added to the rewards"""
    loss_agg: str = "seq-mean-token-sum"
    """token-loss aggregation, one of :data:`LOSS_AGG`"""
    temperature: float = 1.0
    """sampling temperature (log-probs are scored with the same one)"""
    max_grad_norm: float | None = 1.0
    """gradient-norm clipping (None: off)"""
    seed: int = 0
    """seeds sampling (a ``torch.Generator``)"""
    time_limit: float | None = None
    """stop after this many seconds of training (None: no limit)"""


@dataclass
class PPOConfig:
    """PPO hyper-parameters (one field, one meaning; CleanRL/TRL names)."""

    n_iterations: int = 100
    """number of (collect a batch, run the PPO epochs) iterations"""
    batch_size: int = 64
    """texts sampled per iteration"""
    n_minibatches: int = 4
    """minibatches per epoch (rows of the batch are shuffled into them)"""
    n_epochs: int = 4
    """passes over each batch"""
    learning_rate: float = 3e-3
    """Adam step size"""
    gamma: float = 1.0
    """discount factor"""
    lam: float = 0.95
    """GAE ``lambda``: 0 = one-step TD error, 1 = Monte Carlo return minus ``V``"""
    clip_coef: float = 0.2
    """``epsilon`` of the clipped ratio ``clip(rho, 1 - eps, 1 + eps)``"""
    vf_clip: float | None = 0.2
    """clip range of the value update (None: plain MSE)"""
    vf_coef: float = 0.5
    """weight of the value loss"""
    ent_coef: float = 0.0
    """weight of the entropy bonus"""
    kl_coef: float = 0.0
    """``beta``: per-token KL penalty ``-beta (log pi_old - log pi_ref)`` added to the rewards"""
    target_kl: float | None = None
    """stop the epochs of an iteration early once ``approx_kl`` exceeds this (None: never)"""
    norm_adv: bool = True
    """normalise advantages over the valid tokens of each minibatch"""
    loss_agg: str = "token-mean"
    """token-loss aggregation, one of :data:`LOSS_AGG`"""
    temperature: float = 1.0
    """sampling temperature (log-probs are scored with the same one)"""
    top_k: int | None = None
    """top-k filter while sampling and scoring (None: off)"""
    top_p: float = 1.0
    """nucleus filter while sampling and scoring (1: off)"""
    max_grad_norm: float | None = 1.0
    """gradient-norm clipping (None: off)"""
    seed: int = 0
    """seeds sampling and minibatch shuffling"""
    time_limit: float | None = None
    """stop after this many seconds of training (None: no limit)"""


@dataclass(frozen=True)
class PGResult:
    """Outcome of :func:`reinforce` or :func:`ppo`.

    ``history[key]`` is an array with one entry per iteration; keys include
    ``reward`` (mean task reward of the batch), ``kl_ref`` (mean sequence KL to the
    reference), ``entropy``, ``length``, ``time``; PPO adds ``approx_kl``,
    ``clipfrac``, ``value_loss``, ``explained_variance``, ``epochs`` and the
    first-minibatch diagnostics ``first_ratio_dev``, ``first_approx_kl``, ``first_clipfrac``.
    """

    model: CharLM
    history: dict[str, np.ndarray]
    config: Any
    elapsed: float
    samples: list[str] = field(default_factory=list)

    @property
    def final_reward(self) -> float:
        """Mean reward over the last 10% of iterations."""
        r = self.history["reward"]
        k = max(1, len(r) // 10)
        return float(np.mean(r[-k:]))


def _validate(cfg: Any) -> None:
    for name in ("n_iterations", "batch_size"):
        v = getattr(cfg, name)
        if int(v) != v or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    if not 0 <= cfg.gamma <= 1:
        raise ValueError(f"gamma must lie in [0, 1], got {cfg.gamma}")
    if not cfg.learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {cfg.learning_rate}")
    if cfg.kl_coef < 0:
        raise ValueError(f"kl_coef must be >= 0, got {cfg.kl_coef}")
    _check_agg(cfg.loss_agg)


def _frozen_copy(model: CharLM) -> CharLM:
    """A copy of ``model`` used only under ``no_grad`` and never given to the optimiser.

    Its parameters keep ``requires_grad=True`` on purpose: PyTorch's CPU GRU takes a
    different kernel when no weight requires grad, which would make ``log pi_ref``
    differ from ``log pi`` in the last bit for identical weights.
    """
    ref = copy.deepcopy(model)
    ref.eval()
    return ref


def _step(opt: torch.optim.Optimizer, model: nn.Module, loss: torch.Tensor, max_grad_norm: float | None) -> None:
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if max_grad_norm is not None:
        nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    opt.step()


def _sampling(cfg: Any) -> dict[str, Any]:
    return {"temperature": cfg.temperature, "top_k": getattr(cfg, "top_k", None), "top_p": getattr(cfg, "top_p", 1.0)}


# ---------------------------------------------------------------- REINFORCE
def reinforce(model: CharLM, env: CharLanguageEnv, config: ReinforceConfig | None = None,
              ref_model: CharLM | None = None, progress: bool = False) -> PGResult:
    """REINFORCE (Williams, 1992) on the language MDP, one gradient step per batch.

    ``theta <- theta + alpha * agg_t[ grad log pi(a_t|s_t) (G_t - b_t) ]`` with
    ``G_t`` from :func:`rlcore.core.returns.discounted_returns`. ``model`` is trained in
    place; ``ref_model`` (default: a frozen copy of the initial model) is the
    reference of the KL penalty and of the logged ``kl_ref``.
    """
    cfg = config or ReinforceConfig()
    _validate(cfg)
    if cfg.baseline not in ("none", "mean", "value"):
        raise ValueError(f"baseline must be 'none', 'mean' or 'value', got {cfg.baseline!r}")
    if cfg.baseline == "value" and model.value is None:
        raise ValueError("baseline='value' needs a model with a value head")
    _check_model_env(model, env)
    # --- seeding: every random draw comes from this generator
    g = torch.Generator().manual_seed(cfg.seed)
    ref = ref_model if ref_model is not None else _frozen_copy(model)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate)
    hist: dict[str, list[float]] = {k: [] for k in ("reward", "kl_ref", "entropy", "length", "loss", "time")}
    start = time.perf_counter()
    for _ in tqdm(range(cfg.n_iterations), disable=not progress, desc="reinforce", leave=False):
        ro = sample(model, cfg.batch_size, env.max_len, cfg.temperature, generator=g)
        L = int(ro.lengths.max())
        tokens, mask = ro.tokens[:, : L + 1], ro.mask[:, :L]
        task_r = rollout_rewards(env, ro)[:, :L]
        model.train()
        logp, values, ent = score(model, tokens, mask, cfg.temperature)
        with torch.no_grad():
            ref_logp = score(ref, tokens, mask, cfg.temperature)[0]
        kl_tok = torch.where(mask, logp.detach() - ref_logp, torch.zeros_like(logp))
        rewards = task_r.to(logp.dtype) - cfg.kl_coef * kl_tok
        G = discounted_returns(rewards, cfg.gamma)
        if cfg.baseline == "none":
            b = None
        elif cfg.baseline == "mean":
            n = G.shape[0]
            b = (G.sum(0, keepdim=True) - G) / max(n - 1, 1) if n > 1 else torch.zeros_like(G)
        else:
            b = values.detach()
        loss = reinforce_loss(logp, G, b, mask, cfg.loss_agg) - cfg.ent_coef * aggregate(ent, mask, cfg.loss_agg)
        if cfg.baseline == "value":
            loss = loss + cfg.vf_coef * clipped_value_loss(values, values.detach(), G, mask, None, cfg.loss_agg)
        _step(opt, model, loss, cfg.max_grad_norm)
        hist["reward"].append(float(task_r.sum(1).mean()))
        hist["kl_ref"].append(float(kl_tok.sum(1).mean()))
        hist["entropy"].append(float(masked_mean(ent.detach(), mask)))
        hist["length"].append(float(ro.lengths.float().mean()))
        hist["loss"].append(float(loss.detach()))
        hist["time"].append(time.perf_counter() - start)
        if cfg.time_limit is not None and hist["time"][-1] > cfg.time_limit:
            break
    model.eval()
    return PGResult(model, {k: np.asarray(v) for k, v in hist.items()}, cfg, time.perf_counter() - start, ro.texts)


# ----------------------------------------------------------------------- PPO
@dataclass
class Batch:
    """One PPO batch: a rollout with its old log-probs/values, rewards and GAE advantages (all ``[B, L]``)."""

    rollout: Rollout
    tokens: torch.Tensor
    mask: torch.Tensor
    task_rewards: torch.Tensor
    rewards: torch.Tensor
    old_logprobs: torch.Tensor
    old_values: torch.Tensor
    ref_logprobs: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor
    order: torch.Tensor
    """row permutation of the first epoch (old log-probs were scored minibatch by minibatch in this order)"""


@torch.no_grad()
def collect(model: CharLM, env: CharLanguageEnv, cfg: PPOConfig, ref: CharLM, generator: torch.Generator) -> Batch:
    """Sample a batch, score it, add the KL penalty and compute GAE.

    Rewards ``r_t = r_task_t - kl_coef (log pi_old(a_t|s_t) - log pi_ref(a_t|s_t))``;
    ``(A, R) = gae(r, V_old, gamma, lam)`` with ``done`` at the last valid step
    (EOS or the length limit: nothing is bootstrapped past the end).
    Old (and reference) log-probs are re-scored by the same batched forward pass
    the update will use, minibatch by minibatch in the first epoch's order, so that
    the very first minibatch has ratio exactly 1 and a reference identical to the
    policy gives a KL of exactly 0.
    """
    smp = _sampling(cfg)
    ro = sample(model, cfg.batch_size, env.max_len, generator=generator, **smp)
    L = int(ro.lengths.max())
    tokens, mask = ro.tokens[:, : L + 1], ro.mask[:, :L]
    B = tokens.shape[0]
    order = torch.randperm(B, generator=generator)
    old_logp = torch.zeros(B, L)
    old_v = torch.zeros(B, L)
    model.eval()
    ref_logp = torch.zeros(B, L)
    for idx in _minibatches(order, cfg.n_minibatches):
        lp, v, _ = score(model, tokens[idx], mask[idx], **smp)
        old_logp[idx], old_v[idx] = lp, v
        ref_logp[idx] = score(ref, tokens[idx], mask[idx], **smp)[0]
    task_r = rollout_rewards(env, ro)[:, :L]
    kl_tok = torch.where(mask, old_logp - ref_logp, torch.zeros_like(old_logp))
    rewards = task_r.float() - cfg.kl_coef * kl_tok
    adv, ret = gae(rewards, old_v, cfg.gamma, cfg.lam, dones=_dones(mask, ro.lengths))
    zero = torch.zeros_like(adv)
    adv, ret = torch.where(mask, adv, zero), torch.where(mask, ret, zero)
    return Batch(ro, tokens, mask, task_r, rewards, old_logp, old_v, ref_logp, adv, ret, order)


def _minibatches(order: torch.Tensor, n: int) -> list[torch.Tensor]:
    n = max(1, min(int(n), len(order)))
    return [c for c in torch.tensor_split(order, n) if len(c)]


def ppo_loss(model: CharLM, batch: Batch, idx: torch.Tensor, cfg: PPOConfig) -> tuple[torch.Tensor, dict[str, float]]:
    """Total PPO loss on the rows ``idx``: ``L_clip + vf_coef L_V - ent_coef H``, with stats."""
    tokens, mask = batch.tokens[idx], batch.mask[idx]
    logp, values, ent = score(model, tokens, mask, **_sampling(cfg))
    adv = batch.advantages[idx]
    if cfg.norm_adv:
        adv = normalize_advantages(adv, mask)
    pg, stats = ppo_policy_loss(logp, batch.old_logprobs[idx], adv, mask, cfg.clip_coef, cfg.loss_agg)
    vl = clipped_value_loss(values, batch.old_values[idx], batch.returns[idx], mask, cfg.vf_clip, cfg.loss_agg)
    entropy = aggregate(ent, mask, cfg.loss_agg)
    loss = pg + cfg.vf_coef * vl - cfg.ent_coef * entropy
    stats.update(pg_loss=float(pg.detach()), value_loss=float(vl.detach()), entropy=float(entropy.detach()))
    return loss, stats


def _explained_variance(values: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor) -> float:
    """``1 - Var[R - V] / Var[R]`` over valid tokens; defined as 0 when ``Var[R] = 0`` (nothing to explain)."""
    r, v = returns[mask].double(), values[mask].double()
    if r.numel() == 0:
        return 0.0
    var_r = r.var(unbiased=False)
    return 0.0 if var_r == 0 else float(1 - (r - v).var(unbiased=False) / var_r)


def ppo(model: CharLM, env: CharLanguageEnv, config: PPOConfig | None = None, ref_model: CharLM | None = None,
        progress: bool = False) -> PGResult:
    """Proximal policy optimisation with a value head, GAE and an optional KL penalty to a reference.

    For each iteration: collect ``batch_size`` texts (:func:`collect`), then for
    ``n_epochs`` shuffle them into ``n_minibatches`` and minimise :func:`ppo_loss`
    with Adam, stopping the epochs early if ``approx_kl > target_kl``. ``model``
    is trained in place; ``ref_model`` defaults to a frozen copy of the initial model.
    """
    cfg = config or PPOConfig()
    _validate(cfg)
    if int(cfg.n_epochs) != cfg.n_epochs or cfg.n_epochs < 1:
        raise ValueError(f"n_epochs must be an integer >= 1, got {cfg.n_epochs!r}")
    if not 0 <= cfg.lam <= 1:
        raise ValueError(f"lam must lie in [0, 1], got {cfg.lam}")
    if not cfg.clip_coef > 0:
        raise ValueError(f"clip_coef must be > 0, got {cfg.clip_coef}")
    _check_model_env(model, env)
    # --- seeding: every random draw (sampling, shuffling) comes from this generator
    g = torch.Generator().manual_seed(cfg.seed)
    ref = ref_model if ref_model is not None else _frozen_copy(model)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate, eps=1e-5)
    keys = ("reward", "kl_ref", "entropy", "length", "approx_kl", "clipfrac", "pg_loss", "value_loss",
            "explained_variance", "epochs", "first_ratio_dev", "first_approx_kl", "first_clipfrac", "time")
    hist: dict[str, list[float]] = {k: [] for k in keys}
    start = time.perf_counter()
    batch = None
    for _ in tqdm(range(cfg.n_iterations), disable=not progress, desc="ppo", leave=False):
        batch = collect(model, env, cfg, ref, g)
        model.eval()  # no dropout in CharLM; eval keeps scoring identical to collection
        per_mb: list[dict[str, float]] = []
        epochs_done = 0
        stop = False
        for epoch in range(cfg.n_epochs):
            order = batch.order if epoch == 0 else torch.randperm(len(batch.order), generator=g)
            for idx in _minibatches(order, cfg.n_minibatches):
                loss, st = ppo_loss(model, batch, idx, cfg)
                _step(opt, model, loss, cfg.max_grad_norm)
                per_mb.append(st)
                if cfg.target_kl is not None and st["approx_kl"] > cfg.target_kl:
                    stop = True
                    break
            epochs_done += 1
            if stop:
                break
        first = per_mb[0]
        hist["first_ratio_dev"].append(first["ratio_dev"])
        hist["first_approx_kl"].append(first["approx_kl"])
        hist["first_clipfrac"].append(first["clipfrac"])
        for k in ("approx_kl", "clipfrac", "pg_loss", "value_loss", "entropy"):
            hist[k].append(float(np.mean([s[k] for s in per_mb])))
        hist["epochs"].append(epochs_done)
        hist["reward"].append(float(batch.task_rewards.sum(1).mean()))
        hist["kl_ref"].append(float(kl_to_reference(batch.old_logprobs, batch.ref_logprobs, batch.mask).mean()))
        hist["length"].append(float(batch.rollout.lengths.float().mean()))
        hist["explained_variance"].append(_explained_variance(batch.old_values, batch.returns, batch.mask))
        hist["time"].append(time.perf_counter() - start)
        if cfg.time_limit is not None and hist["time"][-1] > cfg.time_limit:
            break
    model.eval()
    samples = batch.rollout.texts if batch is not None else []
    return PGResult(model, {k: np.asarray(v, dtype=float) for k, v in hist.items()}, cfg,
                    time.perf_counter() - start, samples)


# -------------------------------------------------- sampling vs reward/diversity
@torch.no_grad()
def sampling_sweep(model: CharLM, env: CharLanguageEnv, temperatures: Sequence[float] = (0.3, 0.7, 1.0, 1.5),
                   top_ps: Sequence[float] = (1.0,), n: int = 256, seed: int = 0) -> dict[str, np.ndarray]:
    """Mean reward and diversity of ``n`` samples for every (temperature, top_p) pair.

    Returns arrays of shape ``[len(temperatures), len(top_ps)]``: ``reward`` (mean
    ``R(x)``), ``distinct`` (fraction of distinct texts) and ``entropy_bits``
    (``-sum_x p_hat(x) log2 p_hat(x)`` of the empirical text distribution), plus the
    grids ``temperatures`` and ``top_ps``. Plot with :func:`rlcore.plots.lm.plot_sampling_sweep`.
    """
    _check_model_env(model, env)
    shape = (len(temperatures), len(top_ps))
    out = {k: np.zeros(shape) for k in ("reward", "distinct", "entropy_bits")}
    for i, tau in enumerate(temperatures):
        for j, p in enumerate(top_ps):
            ro = sample(model, n, env.max_len, tau, None, p, generator=torch.Generator().manual_seed(seed))
            out["reward"][i, j] = float(rollout_rewards(env, ro).sum(1).mean())
            _, counts = np.unique(np.asarray(ro.texts, dtype=object), return_counts=True)
            q = counts / counts.sum()
            out["distinct"][i, j] = len(counts) / n
            out["entropy_bits"][i, j] = float(-(q * np.log2(q)).sum())
    out["temperatures"] = np.asarray(temperatures, dtype=float)
    out["top_ps"] = np.asarray(top_ps, dtype=float)
    return out


# ----------------------------------------------------------------- benchmark
def benchmark_env(max_len: int = 16, word: str = "dog") -> CharLanguageEnv:
    """The benchmark task: a delayed reward ``R(x) = 0.5 [word in x] + 0.5 lexicon_score(x)``.

    The lexicon is the bundled corpus's words, so the maximum ``R = 1`` is
    achievable (e.g. ``"the dog sat"``); the pretrained LM writes lexicon words
    but rarely the target word.
    """
    from rlcore.envs.language import contains_word, lexicon_score, weighted_sum
    from rlcore.lm.nn import DEFAULT_CHARS, load_corpus

    lexicon = {w for line in load_corpus() for w in line.split()}
    reward = weighted_sum([(0.5, contains_word(word)), (0.5, lexicon_score(lexicon))])
    return CharLanguageEnv(DEFAULT_CHARS, max_len, delayed_reward=reward)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _grad_vector(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.grad.reshape(-1) if p.grad is not None else torch.zeros(p.numel())
                      for p in model.parameters()])


def baseline_variance_ratio(model: CharLM, env: CharLanguageEnv, n_batches: int = 30, batch_size: int = 32,
                            seed: int = 0) -> float:
    """``tr Cov[g_none] / tr Cov[g_mean]``: variance of REINFORCE's batch gradient without / with a baseline.

    Both estimators use the same sampled batches; the baseline is the
    leave-one-out batch mean (unbiased). A ratio above 1 is the variance reduction.
    """
    g = torch.Generator().manual_seed(seed)
    grads: dict[str, list[torch.Tensor]] = {"none": [], "mean": []}
    for _ in range(n_batches):
        ro = sample(model, batch_size, env.max_len, generator=g)
        L = int(ro.lengths.max())
        tokens, mask = ro.tokens[:, : L + 1], ro.mask[:, :L]
        G = discounted_returns(rollout_rewards(env, ro)[:, :L].float(), 1.0)
        for kind in grads:
            b = None if kind == "none" else (G.sum(0, keepdim=True) - G) / (G.shape[0] - 1)
            model.zero_grad(set_to_none=True)
            logp = score(model, tokens, mask)[0]
            reinforce_loss(logp, G, b, mask).backward()
            grads[kind].append(_grad_vector(model).clone())
    model.zero_grad(set_to_none=True)
    var = {k: torch.stack(v).var(0).sum().item() for k, v in grads.items()}
    return var["none"] / var["mean"] if var["mean"] > 0 else math.inf


def sampling_speedup(model: CharLM, max_len: int = 16, batch_size: int = 256, n_single: int = 64,
                     seed: int = 0, repeat: int = 3) -> dict[str, float]:
    """Seconds per generated token: one batched call of ``batch_size`` texts versus ``n_single`` calls of one.

    Each is timed ``repeat`` times and the fastest kept (robust to a busy machine).
    """
    g = torch.Generator().manual_seed(seed)
    sample(model, 8, max_len, generator=g)  # warm-up
    batched = single = math.inf
    for _ in range(repeat):
        t = time.perf_counter()
        ro = sample(model, batch_size, max_len, generator=g)
        batched = min(batched, (time.perf_counter() - t) / int(ro.mask.sum()))
        t, n_tok = time.perf_counter(), 0
        for _ in range(n_single):
            n_tok += int(sample(model, 1, max_len, generator=g).mask.sum())
        single = min(single, (time.perf_counter() - t) / n_tok)
    return {"batched_s_per_token": batched, "single_s_per_token": single, "speedup": single / batched}


def run_benchmark(time_budget: float = 60.0, pretrain_steps: int = 600, seed: int = 0,
                  progress: bool = False, ppo_config: PPOConfig | None = None,
                  reinforce_config: ReinforceConfig | None = None, num_threads: int | None = 1) -> dict[str, Any]:
    """Measure the chapter's targets on :func:`benchmark_env`; returns a dict of numbers.

    * ``ppo_reward`` / ``reinforce_reward``: final mean reward after ``time_budget``
      seconds of training each from the same pretrained LM (max achievable = 1),
      and ``ppo_fraction_of_max`` (target >= 0.9);
    * ``baseline_variance_ratio`` (> 1 means the baseline reduces variance);
    * ``sampling_speedup`` of batched over one-at-a-time sampling (target >= 10);
    * ``peak_rss_mb``: peak resident memory of the process (target < 1024).

    ``num_threads`` sets ``torch.set_num_threads`` for the run (restored after):
    one thread is as fast for a model this small and does not stall when other
    processes share the CPU. ``None`` keeps the current setting.
    """
    old_threads = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        out = _run_benchmark(time_budget, pretrain_steps, seed, progress, ppo_config, reinforce_config)
    finally:
        torch.set_num_threads(old_threads)
    out["num_threads"] = num_threads if num_threads is not None else old_threads
    return out


def _run_benchmark(time_budget: float, pretrain_steps: int, seed: int, progress: bool,
                   ppo_config: PPOConfig | None, reinforce_config: ReinforceConfig | None) -> dict[str, Any]:
    from rlcore.lm.nn import CharLM, pretrain

    torch.manual_seed(seed)
    env = benchmark_env()
    t = time.perf_counter()
    base = CharLM(seed=seed)
    pre = pretrain(base, steps=pretrain_steps, seed=seed, progress=progress)
    pretrain_s = time.perf_counter() - t
    out: dict[str, Any] = {"pretrain_seconds": pretrain_s, "pretrain_loss": pre.final_loss,
                           "n_parameters": sum(p.numel() for p in base.parameters())}
    with torch.no_grad():
        ro = sample(base, 512, env.max_len, generator=torch.Generator().manual_seed(seed + 1))
        out["pretrained_reward"] = float(rollout_rewards(env, ro).sum(1).mean())
    out["max_reward"] = 1.0
    pcfg = ppo_config or PPOConfig(n_iterations=10_000, batch_size=128, n_minibatches=4, n_epochs=4,
                                   learning_rate=2e-3, kl_coef=0.05, ent_coef=0.0, seed=seed,
                                   time_limit=time_budget)
    model = copy.deepcopy(base)
    res = ppo(model, env, pcfg, progress=progress)
    with torch.no_grad():
        ro = sample(model, 512, env.max_len, generator=torch.Generator().manual_seed(seed + 2))
        out["ppo_reward"] = float(rollout_rewards(env, ro).sum(1).mean())
    out["ppo_fraction_of_max"] = out["ppo_reward"] / out["max_reward"]
    out["ppo_iterations"] = len(res.history["reward"])
    out["ppo_seconds"] = res.elapsed
    reached = np.flatnonzero(res.history["reward"] >= 0.9 * out["max_reward"])
    out["ppo_seconds_to_90pct"] = float(res.history["time"][reached[0]]) if len(reached) else None
    out["ppo_kl_ref"] = float(res.history["kl_ref"][-1])
    out["ppo_samples"] = res.samples[:5]
    rcfg = reinforce_config or ReinforceConfig(n_iterations=10_000, batch_size=128, learning_rate=2e-3,
                                               baseline="mean", seed=seed, time_limit=time_budget)
    model_r = copy.deepcopy(base)
    rres = reinforce(model_r, env, rcfg, progress=progress)
    with torch.no_grad():
        ro = sample(model_r, 512, env.max_len, generator=torch.Generator().manual_seed(seed + 3))
        out["reinforce_reward"] = float(rollout_rewards(env, ro).sum(1).mean())
    out["reinforce_iterations"] = len(rres.history["reward"])
    reached = np.flatnonzero(rres.history["reward"] >= 0.9 * out["max_reward"])
    out["reinforce_seconds_to_90pct"] = float(rres.history["time"][reached[0]]) if len(reached) else None
    for name, h in (("ppo", res.history), ("reinforce", rres.history)):
        for t in (1.0, 3.0, 10.0):  # batch reward over the iterations ending in [t/2, t] seconds
            sel = (h["time"] <= t) & (h["time"] > t / 2)
            out[f"{name}_batch_reward_at_{t:g}s"] = float(h["reward"][sel].mean()) if sel.any() else None
    out["baseline_variance_ratio"] = baseline_variance_ratio(base, env, seed=seed)
    out.update(sampling_speedup(base, env.max_len, seed=seed))
    out["peak_rss_mb"] = _peak_rss_mb()
    out["ppo_config"] = asdict(pcfg)
    return out

