"""Synchronous n-step advantage actor-critic (A2C) on a gymnasium vector environment.

Book: *Sequential decision making*, "From tables to networks" (actor-critic).

An *actor* ``pi_theta(a|s)`` (a network giving action logits) and a *critic*
``V_w(s)`` learn together from rollouts of ``n_steps`` steps in each of
``n_envs`` copies of the environment. On each rollout
[`gae`][rlcore.core.returns.gae] gives the advantage of every transition,
``A_t = sum_k (gamma lam)^k delta_{t+k}`` with ``delta_t = r_t + gamma V(s_{t+1}) - V(s_t)``,
cut where an episode ends and bootstrapped from ``V(s_T)`` at the rollout's
end (``lam = gae_lambda = 1``: the plain n-step return ``G_t - V(s_t)``), and
the value target ``G_t = A_t + V(s_t)``. One gradient step then minimises

``L = -mean[log pi(a_t|s_t) A_t] + vf_coef * mean[(V(s_t) - G_t)^2] - ent_coef * mean[H(pi(.|s_t))]``

with ``A`` and ``G`` held fixed. PPO (``rlcore.lm.ppo``) is this loss with
``log pi(a|s) A`` replaced by the clipped ``min(rho A, clip(rho, 1 - eps, 1 + eps) A)``,
``rho = pi / pi_old``, so that it can take several steps on one rollout; A2C
takes one, where ``rho = 1`` and both gradients coincide.

Endings: a *terminated* episode (the pole fell) counts ``V(s_{t+1}) = 0``; a
*truncated* one (CartPole's 500-step limit) did not end the task, so
``delta_t`` bootstraps from ``V`` of its *final* observation (``gae``'s
``truncated=`` and ``next_values=``). The vector env runs in gymnasium's
``SAME_STEP`` autoreset mode: the step that ends an episode returns the next
episode's first observation and puts the last one in ``info["final_obs"]``,
so every step is a real transition (the default ``NEXT_STEP`` mode would add
a dummy step with reward 0 after each ending; such vector envs are refused).

Actor and critic are two separate [`mlp`][rlcore.approx.common.mlp]s (no
shared trunk) trained by one optimiser on the summed loss: the value loss
cannot distort the policy's features, and ``vf_coef`` acts only through the
joint gradient clipping and the optimiser's epsilon.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from rlcore.approx.a2c_config import A2CConfig, vector_env
from rlcore.approx.common import ControlResult, check_device, mlp
from rlcore.core.returns import gae
from rlcore.core.validation import check_flag, check_instance, check_nonnegative_int, check_positive_int

__all__ = ["A2CConfig", "Rollout", "vector_env", "collect_rollout", "a2c_loss", "a2c"]

@dataclass(frozen=True)
class Rollout:
    """``n_steps`` transitions from each of ``n_envs`` environment copies, time first.

    | field | shape | meaning |
    |---|---|---|
    | ``obs`` | ``[T, N, d]`` | ``s_t``, the state the action was taken in |
    | ``actions`` | ``[T, N]`` | ``a_t ~ pi(.|s_t)`` |
    | ``rewards`` | ``[T, N]`` | ``r_t`` |
    | ``terminated`` | ``[T, N]`` | the episode ended at ``t`` by reaching a terminal state |
    | ``truncated`` | ``[T, N]`` | it was cut at ``t`` by a time limit (and not terminated) |
    | ``final_obs`` | ``[T, N, d]`` | ``s_{t+1}`` of the episode that ended at ``t`` (zeros elsewhere) |
    | ``last_obs`` | ``[N, d]`` | ``s_T``, the state after the rollout's last step |
    """

    obs: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    terminated: torch.Tensor
    truncated: torch.Tensor
    final_obs: torch.Tensor
    last_obs: torch.Tensor

    def __post_init__(self) -> None:
        for f in ("obs", "actions", "rewards", "terminated", "truncated", "final_obs", "last_obs"):
            check_instance(getattr(self, f), f, torch.Tensor, "a torch.Tensor")
        if self.obs.ndim != 3:
            raise ValueError(f"obs must have shape [T, N, d], got {tuple(self.obs.shape)}")
        T, N, d = self.obs.shape
        for f, shape, kind in (("actions", (T, N), "int"), ("rewards", (T, N), "float"), ("terminated", (T, N), "bool"),
                               ("truncated", (T, N), "bool"), ("final_obs", (T, N, d), "float"),
                               ("last_obs", (N, d), "float")):
            x = getattr(self, f)
            if tuple(x.shape) != shape:
                raise ValueError(f"{f} must have shape {shape} (obs is [T, N, d] = {(T, N, d)}), got {tuple(x.shape)}")
            ok = {"int": not x.is_floating_point() and not x.is_complex() and x.dtype != torch.bool,
                  "bool": x.dtype == torch.bool, "float": x.is_floating_point()}[kind]
            if not ok:
                raise TypeError(f"{f} must hold {kind} values, got dtype {x.dtype}")
        if not bool(torch.isfinite(self.rewards).all()):
            raise ValueError("rewards must be finite, found NaN or inf")


def collect_rollout(envs: gym.vector.VectorEnv, actor: nn.Module, obs: np.ndarray, n_steps: int,
                    generator: torch.Generator, device: str | torch.device = "cpu") -> tuple[Rollout, np.ndarray]:
    """Act ``n_steps`` times in every copy with ``a ~ pi(.|s)`` (one batched forward pass per step).

    ``obs`` ``[N, ...]`` is the current observation of each copy; returns the
    [`Rollout`][rlcore.approx.a2c.Rollout] and the observation to continue from.
    Actions are drawn with ``generator``, so a seeded generator repeats the rollout.
    """
    check_instance(envs, "envs", gym.vector.VectorEnv, "a gymnasium VectorEnv")
    check_instance(actor, "actor", nn.Module, "a torch nn.Module")
    n_steps = check_positive_int(n_steps, "n_steps")
    check_instance(generator, "generator", torch.Generator, "a torch.Generator")
    N = envs.num_envs
    d = int(np.prod(envs.single_observation_space.shape))
    if np.size(obs) != N * d:
        raise ValueError(f"obs must hold the current observation of each of the {N} copies ({N * d} numbers), got "
                         f"shape {np.shape(obs)}")
    o, final = np.zeros((n_steps, N, d), np.float32), np.zeros((n_steps, N, d), np.float32)
    acts, rew = np.zeros((n_steps, N), np.int64), np.zeros((n_steps, N), np.float32)
    term, trunc = np.zeros((n_steps, N), bool), np.zeros((n_steps, N), bool)
    for t in range(n_steps):
        o[t] = np.reshape(obs, (N, d))
        with torch.no_grad():
            cdf = torch.softmax(_scores(actor, "actor", torch.from_numpy(o[t]).to(device), envs.single_action_space.n),
                                dim=-1).cumsum(-1)
            u = torch.rand(N, 1, generator=generator, device=cdf.device)  # inverse-CDF draw of a ~ pi(.|s)
            acts[t] = (cdf < u).sum(-1).clamp_(max=cdf.shape[-1] - 1).cpu().numpy()
        obs, rew[t], te, tr, info = envs.step(acts[t])
        term[t], trunc[t] = te, tr & ~te
        for i in np.flatnonzero(te | tr):
            final[t, i] = np.reshape(info["final_obs"][i], d)
    as_t = lambda x: torch.from_numpy(x).to(device)  # noqa: E731
    ro = Rollout(as_t(o), as_t(acts), as_t(rew), as_t(term), as_t(trunc), as_t(final),
                 as_t(np.reshape(obs, (N, d)).astype(np.float32)))
    return ro, obs


def a2c_loss(actor: nn.Module, critic: nn.Module, batch: Rollout, config: A2CConfig
             ) -> tuple[torch.Tensor, dict[str, float]]:
    """The A2C loss of one rollout, ``L = L_pi + vf_coef L_V - ent_coef H``, and its parts.

    ``L_pi = -mean[log pi(a_t|s_t) A_t]``, ``L_V = mean[(V(s_t) - G_t)^2]``,
    ``H = mean[-sum_a pi(a|s_t) log pi(a|s_t)]``; ``(A, G)`` come from
    [`gae`][rlcore.core.returns.gae] with ``lam = gae_lambda``, ``dones`` =
    terminated, ``truncated=`` and ``next_values = V(final_obs)`` (so a time
    limit bootstraps) and ``last_value = V(s_T)``. With ``normalize_advantage``,
    ``A`` is standardised, ``(A - mean A) / (std A + 1e-8)`` (``std`` with ``n - 1``).
    Returns the loss (with gradient) and ``policy_loss``, ``value_loss``,
    ``entropy``, ``explained_variance`` ``= 1 - Var[G - V] / Var[G]``.
    """
    for name, net in (("actor", actor), ("critic", critic)):
        check_instance(net, name, nn.Module, "a torch nn.Module")
    check_instance(batch, "batch", Rollout)
    check_instance(config, "config", A2CConfig)
    T, N = batch.rewards.shape
    d = batch.obs.shape[-1]
    trunc = batch.truncated
    # one critic pass over s_t, s_T and the final states of truncated episodes
    v_all = _scores(critic, "critic", torch.cat([batch.obs.reshape(T * N, d), batch.last_obs, batch.final_obs[trunc]]),
                    1).squeeze(-1)
    values = v_all[:T * N].reshape(T, N)
    with torch.no_grad():
        boot = v_all[T * N:].detach()
        last_value = boot[:N]
        next_values = torch.zeros_like(values)
        next_values[trunc] = boot[N:]
        # gae works along the last axis: rows are copies, columns are time
        adv, returns = gae(batch.rewards.T, values.detach().T, config.gamma, config.gae_lambda,
                           dones=batch.terminated.T, last_value=last_value,
                           truncated=trunc.T, next_values=next_values.T)
        adv, returns = adv.T, returns.T
        if config.normalize_advantage:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    logp = torch.log_softmax(_scores(actor, "actor", batch.obs.reshape(T * N, d), None), dim=-1)
    if int(batch.actions.max()) >= logp.shape[-1] or int(batch.actions.min()) < 0:
        raise ValueError(f"batch.actions must index the actor's {logp.shape[-1]} actions, got values in "
                         f"[{int(batch.actions.min())}, {int(batch.actions.max())}]")
    logp_a = logp.gather(-1, batch.actions.reshape(T * N, 1)).squeeze(-1)
    policy_loss = -(logp_a * adv.reshape(-1)).mean()
    value_loss = ((values - returns) ** 2).mean()
    entropy = -(logp.exp() * logp).sum(-1).mean()
    loss = policy_loss + config.vf_coef * value_loss - config.ent_coef * entropy
    with torch.no_grad():
        var_g = returns.var()
        ev = float(1 - (returns - values).var() / var_g) if var_g > 0 else math.nan
        stats = {"policy_loss": float(policy_loss), "value_loss": float(value_loss), "entropy": float(entropy),
                 "explained_variance": ev}
    return loss, stats


def a2c(env: Any, config: A2CConfig | None = None, seed: int = 0, device: str | torch.device = "cpu",
        progress: bool = False) -> ControlResult:
    """Train an actor-critic by synchronous n-step A2C; one gradient step per rollout of ``n_envs x n_steps``.

    Repeats ``ceil(total_timesteps / (n_envs n_steps))`` times (or until
    ``stop_return`` is reached): [`collect_rollout`][rlcore.approx.a2c.collect_rollout],
    then one optimiser step on [`a2c_loss`][rlcore.approx.a2c.a2c_loss], its
    gradient clipped to norm ``max_grad_norm``.

    Parameters
    ----------
    env
        What [`vector_env`][rlcore.approx.a2c_config.vector_env] accepts, e.g. ``"CartPole-v1"``.
    config
        [`A2CConfig`][rlcore.approx.a2c_config.A2CConfig]; default ``A2CConfig()``.
    seed
        Seeds the two networks, the action sampler (a ``torch.Generator``) and
        the environments (copy ``i`` is reset with ``seed + i``).

    Returns
    -------
    ControlResult
        Every finished training episode; ``model = (actor, critic)``, the actor
        giving logits ``[.., A]`` and the critic ``V`` ``[.., 1]``; ``info`` has,
        per update, ``policy_loss``, ``value_loss``, ``entropy``,
        ``explained_variance``, ``grad_norm`` (before clipping), ``steps``
        (environment steps so far) and ``time`` (seconds so far).
    """
    cfg = A2CConfig() if config is None else config
    if not isinstance(cfg, A2CConfig):
        raise TypeError(f"config must be an A2CConfig or None, got {type(config).__name__}")
    seed = check_nonnegative_int(seed, "seed")
    device = check_device(device, none=False)
    check_flag(progress, "progress")
    envs, made = vector_env(env, cfg.n_envs)
    try:
        return _train(envs, cfg, seed, device, progress)
    finally:
        if made:
            envs.close()


def _scores(net: nn.Module, name: str, x: torch.Tensor, width: int | None) -> torch.Tensor:
    """``net(x)``, its shape errors as a ``ValueError`` naming the network; ``width`` outputs per row, if given."""
    try:
        out = net(x)
    except RuntimeError as e:
        raise ValueError(f"{name} cannot take observations of shape {tuple(x.shape)}: {e}") from None
    if width is not None and out.shape[-1] != width:
        raise ValueError(f"{name} must give {width} output(s) per observation, got shape {tuple(out.shape)}")
    return out


def _train(envs: gym.vector.VectorEnv, cfg: A2CConfig, seed: int, device: torch.device,
           progress: bool) -> ControlResult:
    d = int(np.prod(envs.single_observation_space.shape))
    n_actions = int(envs.single_action_space.n)
    s_actor, s_critic, s_actions = (int(s) for s in np.random.SeedSequence(seed).generate_state(3))
    actor = mlp([d, *cfg.hidden_sizes, n_actions], cfg.activation, seed=s_actor, device=device, dtype=torch.float32)
    critic = mlp([d, *cfg.hidden_sizes, 1], cfg.activation, seed=s_critic, device=device, dtype=torch.float32)
    with torch.no_grad():  # a near-uniform first policy: small output weights
        actor[-1].weight.mul_(0.01)
        actor[-1].bias.zero_()
    params = [*actor.parameters(), *critic.parameters()]
    if cfg.use_rms_prop:
        opt = torch.optim.RMSprop(params, lr=cfg.learning_rate, alpha=0.99, eps=cfg.rms_prop_eps, foreach=True)
    else:
        opt = torch.optim.Adam(params, lr=cfg.learning_rate, eps=cfg.rms_prop_eps, foreach=True)
    generator = torch.Generator(device=device)
    generator.manual_seed(s_actions)
    obs, _ = envs.reset(seed=seed)
    N, T = cfg.n_envs, cfg.n_steps
    ep_ret, ep_len = np.zeros(N), np.zeros(N, np.int64)
    returns, lengths, end_steps, end_times = [], [], [], []
    keys = ("policy_loss", "value_loss", "entropy", "explained_variance", "grad_norm", "steps", "time")
    hist: dict[str, list[float]] = {k: [] for k in keys}
    steps, t0 = 0, time.perf_counter()
    n_updates = math.ceil(cfg.total_timesteps / cfg.batch_size)
    for _ in tqdm(range(n_updates), disable=not progress, desc="a2c", leave=False):
        batch, obs = collect_rollout(envs, actor, obs, T, generator, device)
        now = time.perf_counter() - t0
        rew = batch.rewards.cpu().numpy()
        ended = (batch.terminated | batch.truncated).cpu().numpy()
        for t in range(T):
            ep_ret += rew[t]
            ep_len += 1
            for i in np.flatnonzero(ended[t]):
                returns.append(ep_ret[i])
                lengths.append(ep_len[i])
                end_steps.append(steps + (t + 1) * N)
                end_times.append(now)
            ep_ret[ended[t]] = 0.0
            ep_len[ended[t]] = 0
        steps += T * N
        loss, stats = a2c_loss(actor, critic, batch, cfg)
        opt.zero_grad()
        loss.backward()
        clip = math.inf if cfg.max_grad_norm is None else cfg.max_grad_norm
        grad_norm = float(nn.utils.clip_grad_norm_(params, clip))
        opt.step()
        for k, v in {**stats, "grad_norm": grad_norm, "steps": steps, "time": time.perf_counter() - t0}.items():
            hist[k].append(v)
        W = cfg.stop_window
        if cfg.stop_return is not None and len(returns) >= W and np.mean(returns[-W:]) >= cfg.stop_return:
            break
    return ControlResult(np.asarray(returns, float), np.asarray(lengths, np.int64), np.asarray(end_steps, np.int64),
                         steps, model=(actor, critic), info={k: np.asarray(v, float) for k, v in hist.items()},
                         episode_end_times=np.asarray(end_times, float))
