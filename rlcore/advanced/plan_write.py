"""Plan, then write: a manager picks a plan letter, a character LM writes the text the plan commits it to.

Book: *Advanced techniques*, "Hierarchical RL for long-form generation" (a manager choosing an option,
Sutton, Precup & Singh, 1999; a worker conditioned on the manager's goal, as in feudal RL).

The task: the prompt is a topic ``t`` (a digit); the completion ``y`` has exactly ``L`` characters and is paid
once, after the last one, ``R(t, y) = [y == pattern(c*(t), L)]``, ``pattern(c, L)_i = letters[(j + i (j + 1)) mod n]``
for ``c = letters[j]``: a walk through the ``n`` letters whose start (the plan) fixes its stride, so the first
character decides every later one; ``c*(t)`` is the topic's secret plan and one 0/1 at the end all either learner sees.
The task is a [`PlanWriteTask`][] (defined, with [`plan_pattern`][], in [`rlcore.advanced.plan_write_data`][]).

The manager ``pi_H(c | t) = softmax(theta_t)_c`` takes one decision per episode, learnt by REINFORCE with the
leave-one-out baseline of its topic's group: ``grad J_H = E[grad log pi_H(c | t) (R - b)]``,
``b_i = sum_{k != i} R_k / (G - 1)``. The worker, a [`CharLM`][] reading ``t c``, writes the other ``L - 1``
characters under [`rlcore.lm.losses.reinforce_loss`][] on ``R`` (``worker_reward="task"``) or on the goal reward
``[c body == pattern(c, L)]``, whether it carried out the plan it was handed (``"goal"``). The flat learner is
the same LM writing all ``L`` characters under the same step on ``R``, with as many texts per update (it is
[`rlcore.lm.reinforce.reinforce`][] exactly). Both start from one skill model ([`skill_start`][]) that writes
every pattern, noisily, and knows no topic's plan. Success is exact: ``P(R = 1 | t) = pi(y* | t)`` flat and
``pi_H(c* | t) pi(y*_{2:} | t c*)`` managed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from rlcore.advanced.plan_write_data import (  # noqa: F401 (re-exported)
    PlanWriteTask,
    plan_pattern,
    plan_write_task,
)
from rlcore.core.returns import discounted_returns
from rlcore.core.validation import (
    check_flag,
    check_index_array,
    check_instance,
    check_nonnegative_int,
    check_positive_int,
    check_tensor,
    check_unit_interval,
)
from rlcore.envs.language import CharLanguageEnv
from rlcore.lm.config import RULES, ReinforceConfig, _choice, _flag, _real, validate_config
from rlcore.lm.losses import reinforce_loss
from rlcore.lm.model import CharLM
from rlcore.lm.pretrain import pretrain
from rlcore.lm.reinforce import leave_one_out_baseline
from rlcore.lm.rewards import rollout_rewards
from rlcore.lm.rollout import Rollout, rollout_from_texts, sample, score, sequence_logprob
from rlcore.lm.training import check_model_env, generator_for, optimizer_step, sample_batch

__all__ = ["plan_pattern", "PlanWriteTask", "plan_write_task", "skill_lines", "skill_start", "PlanPolicy",
           "plan_pg_loss", "exact_success", "PlanWriteConfig", "PlanWriteResult", "train_plan_write"]


def skill_lines(task: PlanWriteTask, n_lines: int = 512, noise: float = 0.2, seed: int = 0) -> list[str]:
    """Texts ``topic + pattern(c, L)``, topic and plan uniform and independent, each character after the plan
    replaced by a uniform letter with probability ``noise``: they teach every pattern and no topic's plan."""
    check_instance(task, "task", PlanWriteTask)
    n = check_positive_int(n_lines, "n_lines")
    eps = check_unit_interval(noise, "noise")
    check_nonnegative_int(seed, "seed")
    rng, A, lines = np.random.default_rng(seed), task.letters, []
    for _ in range(n):
        y = plan_pattern(A[rng.integers(len(A))], task.length, A)
        body = "".join(A[rng.integers(len(A))] if rng.random() < eps else ch for ch in y[1:])
        lines.append(task.topics[rng.integers(len(task.topics))] + y[0] + body)
    return lines


def skill_start(task: PlanWriteTask, n_lines: int = 512, noise: float = 0.2, steps: int = 150,
                embed_dim: int = 16, hidden_dim: int = 32, seed: int = 0, dtype: torch.dtype = torch.float64,
                device: torch.device | str | None = None) -> CharLM:
    """A small [`CharLM`][] fitted by maximum likelihood to [`skill_lines`][]: the common start of both learners."""
    check_instance(task, "task", PlanWriteTask)
    model = CharLM(task.env.vocab, embed_dim, hidden_dim, seed=seed, device=device, dtype=dtype)
    pretrain(model, skill_lines(task, n_lines, noise, seed), steps=steps, seed=seed, max_len=task.env.max_len)
    return model


class PlanPolicy(nn.Module):
    """The manager ``pi_H(c | t) = softmax(theta[t])_c``: one row of logits per topic (zeros: uniform)."""

    def __init__(self, n_topics: int, n_plans: int, dtype: torch.dtype = torch.float64,
                 device: torch.device | str | None = None) -> None:
        super().__init__()
        shape = (check_positive_int(n_topics, "n_topics"), check_positive_int(n_plans, "n_plans"))
        self.theta = nn.Parameter(torch.zeros(shape, dtype=dtype, device=device))

    def probs(self) -> torch.Tensor:
        """``pi_H``, shape ``[n_topics, n_plans]``."""
        return torch.softmax(self.theta, -1)


def plan_pg_loss(logits: torch.Tensor, plans: torch.Tensor, advantages: torch.Tensor) -> torch.Tensor:
    """``L_H = -(1/B) sum_i A_i log softmax(logits_i)[c_i]``; gradient in ``logits_i``: ``-(e_c - pi_i) A_i / B``."""
    check_tensor(logits, "logits", kind="floating", finite=True), check_tensor(plans, "plans", kind="integer")
    check_tensor(advantages, "advantages", finite=True)
    if logits.ndim != 2 or plans.shape != logits.shape[:1] or advantages.shape != logits.shape[:1]:
        raise ValueError(f"logits must be [B, n_plans] with plans and advantages [B], got shapes "
                         f"{tuple(logits.shape)}, {tuple(plans.shape)}, {tuple(advantages.shape)}")
    check_index_array(plans, "plans", logits.shape[1])
    logp = torch.log_softmax(logits, -1).gather(-1, plans[:, None]).squeeze(-1)
    return -(logp * advantages.detach()).mean()


@torch.no_grad()
def exact_success(task: PlanWriteTask, model: CharLM, manager: PlanPolicy | None = None) -> np.ndarray:
    """``P(R = 1 | t)`` per topic, ``[n_topics]``: ``pi(y* | t)`` flat, ``pi_H(c* | t) pi(y*_{2:} | t c*)`` managed."""
    check_model_env(check_instance(model, "model", CharLM), check_instance(task, "task", PlanWriteTask).env)
    if manager is not None and tuple(check_instance(manager, "manager", PlanPolicy).theta.shape) != (
            len(task.topics), len(task.letters)):
        raise ValueError(f"manager must be a PlanPolicy of {len(task.topics)} topics x {len(task.letters)} plans")
    ys, cut = task.targets, 0 if manager is None else 1
    prompts, texts = [t + y[:cut] for t, y in zip(task.topics, ys)], [y[cut:] for y in ys]
    p = sequence_logprob(model, rollout_from_texts(model.vocab, prompts, texts, task.env.max_len, model.device)).exp()
    if manager is not None:
        right = torch.tensor([task.letters.index(c) for c in task.plan_of], device=p.device)
        p = p * manager.probs()[torch.arange(len(ys), device=p.device), right].to(p.dtype)
    return p.cpu().numpy().astype(np.float64)


PLAN_RULES = RULES | {"plan_learning_rate": _real(0, open_low=True), "worker_reward": _choice(("goal", "task")),
                      "hierarchical": _flag()}


@dataclass(frozen=True)
class PlanWriteConfig:
    """One run, flat or hierarchical, on a budget of ``n_iterations x batch_size`` sampled texts."""

    hierarchical: bool = True  # True: manager + worker; False: the flat LM writes every character
    n_iterations: int = 40  # updates; each samples ``batch_size`` texts
    batch_size: int = 64  # texts per update
    num_generations: int = 8  # texts per sampled topic; the leave-one-out baselines are taken within these groups
    learning_rate: float = 3e-3  # Adam step size of the LM (worker or flat policy)
    plan_learning_rate: float = 0.1  # Adam step size of the manager's logits
    worker_reward: str = "task"
    """what the worker is paid: ``"task"`` (``R``, as the flat policy) or ``"goal"`` (it carried out its plan)"""
    max_grad_norm: float | None = 1.0  # clip the LM gradient's norm (None: no clipping)
    seed: int = 0  # seeds the one sampling generator

    def __post_init__(self) -> None:
        validate_config(self, PLAN_RULES)


@dataclass(frozen=True)
class PlanWriteResult:
    """A learning curve: ``history["success"][i, k]`` = exact ``P(R = 1 | topic k)`` after ``history["samples"][i]``
    texts; ``"reward"`` is each batch's mean ``R`` and ``"plan_prob"`` the mean chance of the right plan."""

    model: CharLM
    manager: PlanPolicy | None
    history: dict[str, np.ndarray]
    initial_success: np.ndarray  # exact ``P(R = 1 | t)`` per topic before training
    config: PlanWriteConfig

    def samples_to_reach(self, threshold: float) -> int | None:
        """Texts sampled before the mean exact success first reaches ``threshold`` (None: not within the budget)."""
        thr = check_unit_interval(threshold, "threshold")
        if self.initial_success.mean() >= thr:
            return 0
        hit = np.nonzero(self.history["success"].mean(1) >= thr)[0]
        return int(self.history["samples"][hit[0]]) if hit.size else None

    def __repr__(self) -> str:
        return (f"PlanWriteResult({'hierarchical' if self.config.hierarchical else 'flat'}, "
                f"{int(self.history['samples'][-1])} texts: mean exact success "
                f"{self.initial_success.mean():.3f} -> {self.history['success'][-1].mean():.3f})")


@torch.no_grad()
def _plan_probs(task: PlanWriteTask, model: CharLM, manager: PlanPolicy | None) -> np.ndarray:
    """The chance of each topic's right plan: the manager's, or the flat LM's first character's."""
    v, rows = model.vocab, torch.arange(len(task.topics))
    if manager is not None:
        return manager.probs().cpu()[rows, [task.letters.index(c) for c in task.plan_of]].numpy()
    tokens = torch.tensor([[v.BOS, v.stoi[t]] for t in task.topics], device=model.device)
    return torch.softmax(model(tokens)[0][:, -1], -1).cpu()[rows, [v.stoi[c] for c in task.plan_of]].numpy()


def _pg_step(model: CharLM, opt: torch.optim.Optimizer, env: CharLanguageEnv, ro: Rollout, cfg: PlanWriteConfig):
    """REINFORCE on ``env``'s reward with each group's leave-one-out baseline, as [`rlcore.lm.reinforce`][]."""
    model.train()
    G = discounted_returns(rollout_rewards(env, ro).to(model.dtype), 1.0)
    loss = reinforce_loss(score(model, ro)[0], G, leave_one_out_baseline(G, cfg.num_generations), ro.mask)
    optimizer_step(opt, model, loss, cfg.max_grad_norm)
    model.eval()


def train_plan_write(model: CharLM, task: PlanWriteTask, config: PlanWriteConfig | None = None,
                     manager: PlanPolicy | None = None, progress: bool = False) -> PlanWriteResult:
    """Train ``model`` in place, flat or under a manager (a fresh uniform [`PlanPolicy`][] unless given): each
    iteration draws ``batch_size / G`` topics, ``G`` rows each; managed, each row draws ``c ~ pi_H(. | t)`` first."""
    cfg = PlanWriteConfig() if config is None else config
    if not isinstance(cfg, PlanWriteConfig):
        raise ValueError(f"config must be a PlanWriteConfig, got {type(cfg).__name__}")
    if not isinstance(task, PlanWriteTask):
        raise ValueError(f"task must be a PlanWriteTask, got {type(task).__name__}")
    check_model_env(model, task.env)
    check_flag(progress, "progress")
    K, G = len(task.topics), cfg.num_generations
    if not cfg.hierarchical and manager is not None:
        raise ValueError("manager must be None for a flat run (hierarchical=False)")
    if cfg.hierarchical:
        manager = PlanPolicy(K, len(task.letters), model.dtype, model.device) if manager is None else manager
        if not isinstance(manager, PlanPolicy) or tuple(manager.theta.shape) != (K, len(task.letters)):
            raise ValueError(f"manager must be a PlanPolicy of {K} topics x {len(task.letters)} plans, got {manager!r}")
        worker_env = task.worker_env(cfg.worker_reward)
        plan_opt = torch.optim.Adam(manager.parameters(), lr=cfg.plan_learning_rate)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate)
    gen = generator_for(model, cfg.seed)
    flat_cfg = ReinforceConfig(batch_size=cfg.batch_size, num_generations=G, seed=cfg.seed)
    initial = exact_success(task, model, manager)
    hist: dict[str, list] = {"samples": [], "success": [], "reward": [], "plan_prob": []}
    for it in tqdm(range(cfg.n_iterations), disable=not progress, desc="plan-write", leave=False):
        if not cfg.hierarchical:
            ro = sample_batch(model, task.env, flat_cfg, gen)
            _pg_step(model, opt, task.env, ro, cfg)
        else:
            topic = torch.randint(K, (cfg.batch_size // G,), generator=gen, device=gen.device).repeat_interleave(G)
            with torch.no_grad():
                plan = torch.multinomial(manager.probs()[topic], 1, generator=gen).squeeze(-1)
            prompts = [task.topics[t] + task.letters[c] for t, c in zip(topic.tolist(), plan.tolist())]
            ro = sample(model, prompts, 1, task.length - 1, generator=gen, max_len=task.env.max_len)
            R = torch.as_tensor(task.env.delayed_reward(ro.full_texts), dtype=model.dtype, device=model.device)
            plan_opt.zero_grad(set_to_none=True)
            plan_pg_loss(manager.theta[topic], plan, R - leave_one_out_baseline(R, G)).backward()
            plan_opt.step()
            _pg_step(model, opt, worker_env, ro, cfg)
        hist["samples"].append((it + 1) * cfg.batch_size)
        hist["success"].append(exact_success(task, model, manager))
        hist["reward"].append(float(np.mean(task.env.delayed_reward(ro.full_texts))))
        hist["plan_prob"].append(float(_plan_probs(task, model, manager).mean()))
    return PlanWriteResult(model, manager, {k: np.asarray(v) for k, v in hist.items()}, initial, cfg)
