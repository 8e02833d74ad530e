"""Deep Q-learning (DQN): Q-learning with a network, experience replay and a target network.

Book: *Sequential decision making*, "From tables to networks" (DQN).

A network ``Q_w(s, .)`` gives the value of every action in state ``s``. The
agent acts epsilon-greedily on it, stores each transition
``(s, a, r, s', terminated)`` in a [`ReplayBuffer`][rlcore.approx.replay.ReplayBuffer]
and, every ``train_freq`` steps, takes ``gradient_steps`` Adam steps, each on a
uniform sample of ``batch_size`` stored transitions, minimising the Huber loss

``L(w) = mean_i huber(Q_w(s_i, a_i) - y_i)``, ``y_i = r_i + gamma (1 - terminated_i) max_a' Q_w-(s'_i, a')``

with ``huber(x) = x^2 / 2`` for ``|x| <= 1`` and ``|x| - 1/2`` beyond (the
gradient of a large error is clipped to +-1). ``y`` is held fixed (no gradient
through it: a semi-gradient method, like tabular Q-learning). ``w-`` are the
weights of the *target network*, a copy of ``w`` refreshed every
``target_update_interval`` environment steps, so the target does not move with
every step taken to reach it.

A *truncated* step (CartPole's 500-step limit) is stored with
``terminated = False`` and its real last state, so its target bootstraps; only
a true terminal state counts ``Q = 0``.

Ablations ([`DQNConfig`][rlcore.approx.dqn_config.DQNConfig]):

- ``target_network=False``: ``y`` uses the online network's *current* weights,
  ``max_a' Q_w(s', a')`` (still without gradient); ``target_update_interval`` is ignored.
- ``replay=False``: online Q-learning on consecutive samples. The buffer holds
  only the last ``batch_size`` transitions; every ``batch_size`` environment
  steps (after ``learning_starts``) one gradient step is taken on exactly those,
  so each transition is used once, in the order it happened. ``buffer_size``,
  ``train_freq`` and ``gradient_steps`` are ignored. This removes both things
  replay gives: decorrelated batches and re-use of each sample.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from rlcore.approx.common import ControlResult, check_device, greedy_returns, make_env, mlp
from rlcore.approx.dqn_config import DQNConfig
from rlcore.approx.replay import ReplayBatch, ReplayBuffer
from rlcore.core.exploration import EpsilonGreedy, constant, linear_decay
from rlcore.core.returns import td_target
from rlcore.core.validation import check_flag, check_instance, check_nonnegative_int, check_unit_interval

__all__ = ["DQNConfig", "make_env", "epsilon_schedule", "dqn_loss", "dqn", "greedy_returns"]


def epsilon_schedule(config: DQNConfig) -> Any:
    """``step -> epsilon``: ``eps_0 + min(t / T_e, 1) (eps_final - eps_0)`` with ``T_e = exploration_steps``.

    Built on [`linear_decay`][rlcore.core.exploration.linear_decay], with the
    environment step as its counter (``T_e = 0``: ``eps_final`` from the start).
    """
    check_instance(config, "config", DQNConfig)
    if config.exploration_steps == 0:
        return constant(config.exploration_final_eps)
    return linear_decay(config.exploration_initial_eps, config.exploration_final_eps, config.exploration_steps)


def _tensors(batch: ReplayBatch, device: torch.device) -> tuple[torch.Tensor, ...]:
    return tuple(torch.from_numpy(np.ascontiguousarray(x)).to(device) for x in
                 (batch.obs, batch.actions, batch.rewards, batch.next_obs, batch.terminated))


def _loss(q_network: nn.Module, target_network: nn.Module, obs: torch.Tensor, actions: torch.Tensor,
          rewards: torch.Tensor, next_obs: torch.Tensor, terminated: torch.Tensor, gamma: float
          ) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.no_grad():
        y = td_target(rewards, target_network(next_obs).max(dim=1).values, gamma, terminated)
    q_sa = q_network(obs).gather(1, actions.unsqueeze(1)).squeeze(1)
    return F.smooth_l1_loss(q_sa, y), q_sa.detach()


def dqn_loss(q_network: nn.Module, target_network: nn.Module, batch: ReplayBatch, gamma: float,
             device: str | torch.device = "cpu") -> tuple[torch.Tensor, dict[str, float]]:
    """Huber loss of ``Q_w(s, a)`` against ``y = r + gamma (1 - terminated) max_a' Q_target(s', a')``.

    ``y`` is computed without gradient by ``target_network`` (pass ``q_network``
    itself for the no-target-network ablation) with
    [`td_target`][rlcore.core.returns.td_target]; the loss is the mean over the
    batch of ``huber(Q_w(s_i, a_i) - y_i)`` (``torch.nn.functional.smooth_l1_loss``).
    Returns the loss (with gradient in ``q_network``'s weights) and ``q_mean``,
    the mean of ``Q_w(s, a)``.
    """
    if not isinstance(batch, ReplayBatch):
        raise TypeError(f"batch must be a ReplayBatch, got {type(batch).__name__}")
    for name, net in (("q_network", q_network), ("target_network", target_network)):
        if not isinstance(net, nn.Module):
            raise TypeError(f"{name} must be a torch nn.Module, got {type(net).__name__}")
    check_unit_interval(gamma, "gamma")
    data = _tensors(batch, check_device(device, none=False))
    try:
        loss, q_sa = _loss(q_network, target_network, *data, gamma)
    except RuntimeError as e:
        raise ValueError(f"q_network and target_network must map batch.obs {tuple(data[0].shape)} to one value per "
                         f"action, and batch.actions must index those values: {e}") from None
    return loss, {"q_mean": float(q_sa.mean())}


def _clip_grad_norm(params: list[nn.Parameter], max_norm: float | None) -> float:
    """Scale the gradients to norm ``<= max_norm`` (``g <- g * max_norm / ||g||``); returns ``||g||`` before.

    Same rule as ``torch.nn.utils.clip_grad_norm_``, in two tensor operations
    instead of one per parameter (a small network spends most of a step on overhead).
    """
    grads = [p.grad for p in params if p.grad is not None]
    norm = float(torch.linalg.vector_norm(torch.cat([g.reshape(-1) for g in grads])))
    if max_norm is not None and norm > max_norm:
        torch._foreach_mul_(grads, max_norm / (norm + 1e-6))
    return norm


def dqn(env: Any, config: DQNConfig | None = None, seed: int = 0, device: str | torch.device = "cpu",
        progress: bool = False) -> ControlResult:
    """Train a Q-network by DQN for ``total_timesteps`` environment steps (or until ``stop_return``).

    At step ``t`` (counting from 0) the action is epsilon-greedy on
    ``Q_w(s_t, .)`` with ``epsilon = epsilon_schedule(config)(t)``, drawn by
    [`EpsilonGreedy`][rlcore.core.exploration.EpsilonGreedy] (ties broken at
    random). After ``t + 1 > learning_starts`` steps, and whenever
    ``t + 1`` is a multiple of ``train_freq``, ``gradient_steps`` updates follow,
    each minimising [`dqn_loss`][rlcore.approx.dqn.dqn_loss] on a batch drawn
    uniformly with replacement, its gradient clipped to norm ``max_grad_norm``.
    The target network is re-copied whenever ``t + 1`` is a multiple of
    ``target_update_interval`` (and the online weights have changed since).

    Parameters
    ----------
    env
        A gymnasium id (``"CartPole-v1"``) or a ``gym.Env`` with a ``Box``
        observation space and ``Discrete`` actions (``TypeError`` otherwise).
    config
        [`DQNConfig`][rlcore.approx.dqn_config.DQNConfig]; default ``DQNConfig()``.
    seed
        Seeds the network, the exploration draws, the replay sampling and the
        environment (``env.reset(seed=seed)`` at the first episode).

    Returns
    -------
    ControlResult
        Every finished training episode; ``model`` is the trained Q-network
        (observation ``[.., d]`` -> ``[.., n_actions]``, float32); ``info`` has, per
        gradient step, ``loss``, ``q_mean``, ``grad_norm`` (before clipping),
        ``epsilon`` and ``steps`` (environment steps so far), plus ``time``
        (seconds of the whole run) and ``steps_per_second``.
    """
    cfg = DQNConfig() if config is None else config
    if not isinstance(cfg, DQNConfig):
        raise TypeError(f"config must be a DQNConfig or None, got {type(config).__name__}")
    seed = check_nonnegative_int(seed, "seed")
    check_flag(progress, "progress")
    device = check_device(device, none=False)
    env, made = make_env(env)
    try:
        return _train(env, cfg, seed, device, progress)
    finally:
        if made:
            env.close()


def _train(env: gym.Env, cfg: DQNConfig, seed: int, device: torch.device, progress: bool) -> ControlResult:
    shape = env.observation_space.shape
    d, n_actions = int(np.prod(shape)), int(env.action_space.n)
    s_net, s_explore, s_replay = (int(s) for s in np.random.SeedSequence(seed).generate_state(3))
    q = mlp([d, *cfg.hidden_sizes, n_actions], cfg.activation, seed=s_net, device=device, dtype=torch.float32)
    target = copy.deepcopy(q) if cfg.target_network else q
    for p in target.parameters() if cfg.target_network else ():
        p.requires_grad_(False)
    params = list(q.parameters())
    opt = torch.optim.Adam(params, lr=cfg.learning_rate, fused=True if device.type in ("cpu", "cuda") else None)
    buffer = ReplayBuffer(cfg.buffer_size if cfg.replay else cfg.batch_size, (d,))
    replay_rng = np.random.default_rng(s_replay)
    explorer = EpsilonGreedy(epsilon_schedule(cfg))
    explorer.bind(1, n_actions, np.random.default_rng(s_explore))
    keys = ("loss", "q_mean", "grad_norm", "epsilon", "steps")
    hist: dict[str, list[float]] = {k: [] for k in keys}
    returns, lengths, end_steps, end_times = [], [], [], []
    n_updates, synced_at = 0, 0
    ep_ret, ep_len = 0.0, 0
    obs, _ = env.reset(seed=seed)
    obs = np.asarray(obs, np.float32).reshape(d)
    t0 = time.perf_counter()
    steps = 0
    for t in tqdm(range(cfg.total_timesteps), disable=not progress, desc="dqn", leave=False):
        explorer.begin_episode(t)
        with torch.no_grad():
            a = explorer.select(q(torch.from_numpy(obs).to(device)).tolist(), 0)
        next_obs, r, terminated, truncated, _ = env.step(a)
        next_obs = np.asarray(next_obs, np.float32).reshape(d)
        buffer.add(obs, a, r, next_obs, bool(terminated))
        steps = t + 1
        ep_ret += float(r)
        ep_len += 1
        if terminated or truncated:
            returns.append(ep_ret)
            lengths.append(ep_len)
            end_steps.append(steps)
            end_times.append(time.perf_counter() - t0)
            ep_ret, ep_len = 0.0, 0
            obs, _ = env.reset()
            obs = np.asarray(obs, np.float32).reshape(d)
        else:
            obs = next_obs
        if steps > cfg.learning_starts:
            n_grad = 0
            if cfg.replay and steps % cfg.train_freq == 0:  # all the round's batches in one draw
                n_grad, batch = cfg.gradient_steps, buffer.sample(cfg.batch_size * cfg.gradient_steps, replay_rng)
            elif not cfg.replay and steps % cfg.batch_size == 0 and len(buffer) == cfg.batch_size:
                n_grad, batch = 1, buffer.recent(cfg.batch_size)
            if n_grad:
                data = _tensors(batch, device)
            for g in range(n_grad):
                part = [x[g * cfg.batch_size:(g + 1) * cfg.batch_size] for x in data]
                loss, q_sa = _loss(q, target, *part, cfg.gamma)
                for p in params:
                    p.grad = None
                loss.backward()
                grad_norm = _clip_grad_norm(params, cfg.max_grad_norm)
                opt.step()
                n_updates += 1
                for k, v in (("loss", float(loss.detach())), ("q_mean", float(q_sa.mean())), ("grad_norm", grad_norm),
                             ("epsilon", explorer.epsilon), ("steps", steps)):
                    hist[k].append(v)
        if cfg.target_network and steps % cfg.target_update_interval == 0 and synced_at != n_updates:
            target.load_state_dict(q.state_dict())
            synced_at = n_updates
        W = cfg.stop_window
        if cfg.stop_return is not None and ep_len == 0 and len(returns) >= W \
                and np.mean(returns[-W:]) >= cfg.stop_return:
            break
    seconds = time.perf_counter() - t0
    info = {k: np.asarray(v, np.int64 if k == "steps" else float) for k, v in hist.items()}
    info["time"] = np.asarray(seconds)
    info["steps_per_second"] = np.asarray(steps / seconds if seconds > 0 else np.nan)
    return ControlResult(np.asarray(returns, float), np.asarray(lengths, np.int64), np.asarray(end_steps, np.int64),
                         steps, model=q, info=info, episode_end_times=np.asarray(end_times, float))
