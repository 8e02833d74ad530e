"""Checks for notebooks/exercises/ex07_actor_critic.py (book chapter 3, "From tables to networks", actor-critic).

References: small rollouts worked by hand in the comments, rlcore's ``gae`` and ``discounted_returns``
(the one implementation of advantages that A2C and PPO share), and ``rlcore.approx.a2c.a2c_loss`` on a
real CartPole rollout, compared by value and by gradient.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch

from rlcore.approx.a2c import a2c_loss as rl_a2c_loss
from rlcore.approx.a2c import collect_rollout, vector_env
from rlcore.approx.a2c_config import A2CConfig
from rlcore.approx.common import mlp
from rlcore.core.returns import discounted_returns, gae

from .harness import check, expect, expect_close

MODULE = "ex07_actor_critic"


def _pair(out, what: str):
    """The ``(advantages, returns)`` tuple, as float arrays."""
    expect(isinstance(out, tuple) and len(out) == 2, f"{what}: expected a tuple (advantages, returns), "
                                                     f"got {type(out).__name__}")
    return np.asarray(out[0], dtype=float), np.asarray(out[1], dtype=float)


# --------------------------------------------------------------------------- rollout_advantages
# Four steps, reward 1 each, V = (1, 2, 3, 4), V(s_T) = 10, gamma = 0.5.
R4, V4, F, T_ = [1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 3.0, 4.0], False, True


@check(MODULE, "rollout_advantages", "next_t = 0 after a termination, final_values[t] after a truncation, "
                                     "values[t + 1] (last_value at the end) otherwise")
def check_advantages_by_hand(f):
    # terminated at t = 1. t = 3: delta = 1 + 0.5 * 10 - 4 = 2, A = 2; t = 2: delta = 1 + 0.5 * 4 - 3 = 0,
    # A = 0 + 0.5 * 2 = 1; t = 1: delta = 1 - 2 = -1, A = -1 (nothing follows); t = 0: delta = 1 + 1 - 1 = 1,
    # A = 1 + 0.5 * (-1) = 0.5. Returns A + V = (1.5, 1, 4, 6): 1 + 0.5 * 1, 1, 1 + 0.5 * 6, 1 + 0.5 * 10.
    adv, ret = _pair(f(R4, V4, 10.0, [F, T_, F, F], [F, F, F, F], [0.0, 6.0, 0.0, 0.0], 0.5, 1.0),
                     "terminated at t = 1")
    expect_close(adv, [0.5, -1.0, 1.0, 2.0], "advantages, terminated at t = 1, lam = 1")
    expect_close(ret, [1.5, 1.0, 4.0, 6.0], "returns, terminated at t = 1, lam = 1")
    # truncated at t = 1 instead, the state it was cut in worth 6: delta_1 = 1 + 0.5 * 6 - 2 = 2, A_1 = 2;
    # A_0 = (1 + 0.5 * 2 - 1) + 0.5 * 2 = 2. Returns (3, 4, 4, 6).
    adv, ret = _pair(f(R4, V4, 10.0, [F, F, F, F], [F, T_, F, F], [0.0, 6.0, 0.0, 0.0], 0.5, 1.0),
                     "truncated at t = 1")
    expect_close(adv, [2.0, 2.0, 1.0, 2.0], "advantages, truncated at t = 1 (final value 6), lam = 1")
    expect_close(ret, [3.0, 4.0, 4.0, 6.0], "returns, truncated at t = 1 (final value 6), lam = 1")
    # flagged both ways: terminated wins, as in the first case
    adv, _ = _pair(f(R4, V4, 10.0, [F, T_, F, F], [F, T_, F, F], [0.0, 6.0, 0.0, 0.0], 0.5, 1.0), "both flags")
    expect_close(adv, [0.5, -1.0, 1.0, 2.0], "advantages, t = 1 both terminated and truncated (terminated wins)")


@check(MODULE, "rollout_advantages", "A_t = delta_t + gamma * lam * A_{t+1}, and the recursion stops at "
                                     "an ending of either kind")
def check_lambda_by_hand(f):
    # truncated at t = 1 as above, lam = 0.5: A_3 = 2; A_2 = 0 + 0.25 * 2 = 0.5; A_1 = 2 (the cut stops the sum);
    # A_0 = 1 + 0.25 * 2 = 1.5. Returns A + V = (2.5, 4, 3.5, 6).
    adv, ret = _pair(f(R4, V4, 10.0, [F, F, F, F], [F, T_, F, F], [0.0, 6.0, 0.0, 0.0], 0.5, 0.5),
                     "truncated at t = 1, lam = 0.5")
    expect_close(adv, [1.5, 2.0, 0.5, 2.0], "advantages, truncated at t = 1, lam = 0.5")
    expect_close(ret, [2.5, 4.0, 3.5, 6.0], "returns, truncated at t = 1, lam = 0.5")
    # lam = 0: every advantage is its own TD error
    adv, _ = _pair(f(R4, V4, 10.0, [F, F, F, F], [F, T_, F, F], [0.0, 6.0, 0.0, 0.0], 0.5, 0.0), "lam = 0")
    expect_close(adv, [1.0, 2.0, 0.0, 2.0], "advantages, truncated at t = 1, lam = 0 (one-step TD errors)")
    # one step, no ending: A = r + gamma V(s_T) - V(s_0) = 2 + 0.9 * 5 - 1
    adv, ret = _pair(f([2.0], [1.0], 5.0, [F], [F], [0.0], 0.9, 0.95), "one step")
    expect_close(adv, [5.5], "advantage of a one-step rollout")
    expect_close(ret, [6.5], "return of a one-step rollout")


def _random_rollout(rng, T: int):
    rewards, values = rng.normal(size=T), rng.normal(size=T)
    terminated = rng.random(T) < 0.15
    truncated = rng.random(T) < 0.15  # some steps carry both flags
    final_values = rng.normal(size=T) * 3 + 5  # garbage where not truncated: it must not be read there
    return rewards, values, float(rng.normal()), terminated, truncated, final_values


@check(MODULE, "rollout_advantages", "same as rlcore.core.returns.gae(rewards, values, gamma, lam, dones=terminated, "
                                     "last_value=..., truncated=..., next_values=final_values)")
def check_advantages_match_gae(f):
    rng = np.random.default_rng(7)
    for T, gamma, lam in ((1, 0.9, 1.0), (5, 0.99, 1.0), (12, 0.9, 0.95), (20, 0.5, 0.0), (30, 1.0, 0.7)):
        for _ in range(4):
            r, v, last, te, tr, fv = _random_rollout(rng, T)
            ref_adv, ref_ret = gae(r, v, gamma, lam, dones=te, last_value=last, truncated=tr, next_values=fv)
            adv, ret = _pair(f(r, v, last, te, tr, fv, gamma, lam), f"T = {T}")
            what = f"T = {T}, gamma = {gamma}, lam = {lam}, terminated at {np.flatnonzero(te).tolist()}, " \
                   f"truncated at {np.flatnonzero(tr).tolist()}"
            expect_close(adv, ref_adv, f"advantages ({what})", atol=1e-8)
            expect_close(ret, ref_ret, f"returns ({what})", atol=1e-8)


@check(MODULE, "rollout_advantages", "at lam = 1 the returns are discounted sums of rewards up to an ending, "
                                     "then 0 (terminated) or final_values (truncated), or last_value")
def check_returns_match_discounted_returns(f):
    rng = np.random.default_rng(11)
    for T in (3, 8, 25):
        r, v, last, te, tr, fv = _random_rollout(rng, T)
        ref = discounted_returns(r, 0.95, te, last, truncated=tr, next_values=fv)
        _, ret = _pair(f(r, v, last, te, tr, fv, 0.95, 1.0), f"T = {T}")
        expect_close(ret, ref, f"returns at lam = 1, T = {T} (they must not depend on values)", atol=1e-8)


# --------------------------------------------------------------------------- a2c_loss
def _leaves(*arrays):
    return [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]


@check(MODULE, "a2c_loss", "-mean(logp * A) + vf_coef * mean((values - returns)^2) - ent_coef * mean(entropy): "
                           "the full squared error, minus the entropy bonus")
def check_loss_by_hand(f):
    # pi(a) = 0.5 and 0.25 with A = 2 and 1: policy term -mean(2 log 0.5, log 0.25) = 2 ln 2;
    # value errors (1 - 3, 0 - 1): mean square 2.5; mean entropy 0.5.
    args = ([np.log(0.5), np.log(0.25)], [2.0, 1.0], [1.0, 0.0], [3.0, 1.0], [0.6, 0.4])
    for vf, ent, expected in ((0.5, 0.1, 2 * np.log(2) + 1.25 - 0.05), (1.0, 0.0, 2 * np.log(2) + 2.5),
                              (0.0, 1.0, 2 * np.log(2) - 0.5)):
        out = f(*_leaves(*args), vf_coef=vf, ent_coef=ent)
        expect(isinstance(out, torch.Tensor), f"expected a torch tensor, got {type(out).__name__}")
        expect_close(out.detach(), expected, f"loss of the two-transition batch (vf_coef {vf}, ent_coef {ent})",
                     atol=1e-9)


@check(MODULE, "a2c_loss", "detach the advantages and the returns; gradient reaches only logp, values and entropy")
def check_loss_gradients(f):
    rng = np.random.default_rng(3)
    n, vf, ent = 6, 0.25, 0.01
    logp, A, V, G, H = (rng.normal(size=n) for _ in range(5))
    leaves = _leaves(logp, A, V, G, H)
    out = f(*leaves, vf_coef=vf, ent_coef=ent)
    expect(isinstance(out, torch.Tensor) and out.requires_grad,
           "expected a tensor that carries gradient (keep the computation in torch)")
    out.backward()
    g_logp, g_A, g_V, g_G, g_H = (t.grad for t in leaves)
    for grad, name in ((g_A, "advantages"), (g_G, "returns")):
        expect(grad is None or not grad.abs().max().item(),
               f"gradient with respect to the {name}: expected none (they are targets), got {grad}")
    for grad, expected, name in ((g_logp, -A / n, "logp"), (g_V, 2 * vf * (V - G) / n, "values"),
                                 (g_H, np.full(n, -ent / n), "entropy")):
        expect(grad is not None, f"no gradient reached {name}")
        expect_close(grad, expected, f"d loss / d {name}", atol=1e-9)


@check(MODULE, "a2c_loss", "same value and gradient as rlcore.approx.a2c.a2c_loss on a CartPole rollout")
def check_loss_matches_rlcore(f):
    def cartpole():
        return gym.make("CartPole-v1", max_episode_steps=12)  # short, so that both endings occur

    for seed, cfg in ((0, A2CConfig(vf_coef=0.25, ent_coef=0.01)), (1, A2CConfig(vf_coef=1.0, ent_coef=0.1))):
        actor = mlp([4, 16, 2], seed=seed)
        critic = mlp([4, 16, 1], seed=seed + 10)
        envs, _ = vector_env(cartpole, 4)
        obs, _ = envs.reset(seed=seed)
        batch, _ = collect_rollout(envs, actor, obs, 20, torch.Generator().manual_seed(seed))
        envs.close()
        params = [*actor.parameters(), *critic.parameters()]
        ref, _ = rl_a2c_loss(actor, critic, batch, cfg)
        ref_grads = torch.autograd.grad(ref, params)

        values = critic(batch.obs).squeeze(-1)  # [T, N]
        with torch.no_grad():
            nv = critic(batch.final_obs).squeeze(-1) * batch.truncated
            adv, ret = gae(batch.rewards.T, values.T, cfg.gamma, cfg.gae_lambda, dones=batch.terminated.T,
                           last_value=critic(batch.last_obs).squeeze(-1), truncated=batch.truncated.T,
                           next_values=nv.T)
        logits = torch.log_softmax(actor(batch.obs), -1)
        logp = logits.gather(-1, batch.actions[..., None]).squeeze(-1)
        entropy = -(logits.exp() * logits).sum(-1)
        out = f(logp.reshape(-1), adv.T.reshape(-1), values.reshape(-1), ret.T.reshape(-1), entropy.reshape(-1),
                vf_coef=cfg.vf_coef, ent_coef=cfg.ent_coef)
        expect(isinstance(out, torch.Tensor) and out.requires_grad,
               "expected a tensor that carries gradient (keep the computation in torch)")
        what = f"seed {seed}, vf_coef {cfg.vf_coef}, ent_coef {cfg.ent_coef}"
        expect_close(out.item(), ref.item(), f"loss on a CartPole rollout ({what})", atol=1e-4)
        grads = torch.autograd.grad(out, params, allow_unused=True)
        for k, (g, r) in enumerate(zip(grads, ref_grads)):
            expect(g is not None, f"parameter tensor {k} got no gradient ({what})")
            expect_close(g, r, f"gradient of parameter tensor {k} ({what})", atol=1e-5)


def mutants(sol):
    """Plausible wrong answers (each must be caught by at least one check of its function)."""

    def advantages(truncation="bootstrap", last=True, cut_on_truncation=True, cut_on_termination=True,
                   use_lambda=True, final_everywhere=False):
        def f(rewards, values, last_value, terminated, truncated, final_values, gamma, lam=1.0):
            r, v = np.asarray(rewards, dtype=float), np.asarray(values, dtype=float)
            te, tr = np.asarray(terminated, dtype=bool), np.asarray(truncated, dtype=bool)
            fv = np.asarray(final_values, dtype=float)
            lam = lam if use_lambda else 1.0
            T = len(r)
            adv, running = np.zeros(T), 0.0
            for t in range(T - 1, -1, -1):
                following = (last_value if last else 0.0) if t == T - 1 else v[t + 1]
                if final_everywhere:
                    following = fv[t]
                if te[t]:
                    following = 0.0
                elif tr[t]:
                    following = {"bootstrap": fv[t], "zero": 0.0, "next": following}[truncation]
                delta = r[t] + gamma * following - v[t]
                stop = (cut_on_termination and te[t]) or (cut_on_truncation and tr[t])
                running = delta + (0.0 if stop else gamma * lam * running)
                adv[t] = running
            return adv, adv + v
        return f

    def loss(half_mse=False, ent_sign=-1.0, detach=True, reduce="mean", policy_sign=-1.0):
        def f(logp, advantages, values, returns, entropy, vf_coef=0.5, ent_coef=0.0):
            A, G = (advantages.detach(), returns.detach()) if detach else (advantages, returns)
            red = torch.mean if reduce == "mean" else torch.sum
            value = red((values - G) ** 2) * (0.5 if half_mse else 1.0)
            return policy_sign * red(logp * A) + vf_coef * value + ent_sign * ent_coef * red(entropy)
        return f

    return {
        "ex07_actor_critic.rollout_advantages": [
            ("truncation treated as termination", advantages(truncation="zero")),
            ("truncation bootstraps from the next episode's first state", advantages(truncation="next")),
            ("no bootstrap at the rollout's end", advantages(last=False)),
            ("recursion runs on across a truncation", advantages(cut_on_truncation=False)),
            ("recursion runs on across a termination", advantages(cut_on_termination=False)),
            ("lambda ignored", advantages(use_lambda=False)),
            ("final_values read at every step", advantages(final_everywhere=True)),
            ("returns = advantages", lambda *a, **k: (sol.rollout_advantages(*a, **k)[0],) * 2)],
        "ex07_actor_critic.a2c_loss": [
            ("0.5 * MSE", loss(half_mse=True)),
            ("entropy bonus with the wrong sign", loss(ent_sign=1.0)),
            ("advantages and returns not detached", loss(detach=False)),
            ("sum instead of mean", loss(reduce="sum")),
            ("policy term with the wrong sign", loss(policy_sign=1.0))],
    }
