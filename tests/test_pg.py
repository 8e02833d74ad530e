"""REINFORCE and PPO on the language MDP: agreement with the env, masks, exact gradients and KL, learning."""

from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np
import pytest
import torch

from rlcore.core.returns import discounted_returns
from rlcore.envs.language import CharLanguageEnv, char_reward, length_constraint, target_match, weighted_sum
from rlcore.lm import (
    CharLM,
    PPOConfig,
    ReinforceConfig,
    aggregate,
    baseline_variance_ratio,
    collect,
    exact_expected_reward,
    exact_kl,
    kl_to_reference,
    normalize_advantages,
    ppo,
    ppo_loss,
    reinforce,
    reinforce_loss,
    rollout_rewards,
    sample,
    score,
)

K_SE = 4.0
"""Statistical tests accept an estimate within K_SE standard errors of the exact value."""


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_model(chars="ab", seed=0):
    return CharLM(chars, embed_dim=8, hidden_dim=16, seed=seed)


def mixed_env(max_len=5, prompts=("",)):
    delayed = weighted_sum([(1.0, target_match("ab", partial=True)), (0.5, length_constraint(1, 2))])
    return CharLanguageEnv("ab", max_len, delayed_reward=delayed, immediate_reward=char_reward({"b": -0.1}),
                           prompts=prompts)


def grads(model):
    return torch.cat([p.grad.reshape(-1) if p.grad is not None else torch.zeros(p.numel())
                      for p in model.parameters()])


# ---------------------------------------------------- the two views agree
@pytest.mark.parametrize("gamma", [1.0, 0.9])
def test_batched_returns_equal_env_returns(gamma):
    env = mixed_env(prompts=("", "a", "ba", "bab"))
    model = tiny_model()
    ro = sample(model, env.prompts, 16, env.max_len, generator=torch.Generator().manual_seed(0), max_len=env.max_len)
    assert set(ro.prompts) == set(env.prompts)
    G = discounted_returns(rollout_rewards(env, ro), gamma)
    for b in range(len(ro)):
        ref_env = mixed_env(prompts=env.prompts)
        ref_env.reset(seed=0, options={"prompt": ro.prompts[b]})
        rewards, t, done = [], 0, False
        while not done:
            a = int(ro.completions[b, t])
            _, r, term, trunc, info = ref_env.step(a)
            rewards.append(r)
            done = term or trunc
            t += 1
        # the env terminates at EOS and at max_len alike; the rollout says which of the two happened
        assert t == int(ro.lengths[b]) and term and not trunc and (a == env.vocab.EOS) == bool(ro.eos[b])
        assert info["final_text"] == ro.full_texts[b]
        g_env = [sum(gamma**k * r for k, r in enumerate(rewards[i:])) for i in range(len(rewards))]
        np.testing.assert_allclose(G[b, :t].numpy(), g_env, rtol=0, atol=1e-12)
        assert (G[b, t:] == 0).all()


def test_sequence_reward_lands_on_eos_and_nothing_after_end_is_trained():
    env = CharLanguageEnv("ab", 4, delayed_reward=lambda text: 1.0 + len(text))
    model = tiny_model(seed=1)
    cfg = PPOConfig(batch_size=128, num_mini_batches=1, kl_coef=0.1)
    batch = collect(model, env, cfg, copy.deepcopy(model), torch.Generator().manual_seed(0))
    ro, last = batch.rollout, batch.rollout.lengths - 1
    rows = torch.arange(len(ro))
    assert (batch.task_rewards[rows, last] == torch.tensor([1.0 + len(t) for t in ro.texts], dtype=torch.float64)).all()
    off = batch.task_rewards.clone()
    off[rows, last] = 0
    assert (off == 0).all()
    term = ro.eos
    assert term.any() and (ro.completions[rows[term], last[term]] == env.vocab.EOS).all()
    assert ro.mask[rows, last].all()  # the EOS token is inside the loss mask
    assert env.vocab.PAD != env.vocab.EOS
    for x in (batch.advantages, batch.returns, batch.old_logprobs, batch.rewards):
        assert (x[~ro.mask] == 0).all()
    # scrambling everything after the end changes neither the loss nor its gradient
    idx = torch.arange(len(ro))
    loss, _ = ppo_loss(model, batch, idx, cfg)
    model.zero_grad()
    loss.backward()
    g0 = grads(model)
    scrambled = copy.copy(batch)
    tokens = ro.tokens.clone()
    after = torch.cat([torch.zeros(len(ro), 1, dtype=torch.bool), ~ro.mask], 1)  # no prompt: column j + 1 = token j
    noise = torch.Generator().manual_seed(1)
    tokens[after] = torch.randint(0, env.vocab.n_actions, (int(after.sum()),), generator=noise)
    scrambled.rollout = dataclasses.replace(ro, tokens=tokens)
    loss2, _ = ppo_loss(model, scrambled, idx, cfg)
    model.zero_grad()
    loss2.backward()
    assert torch.equal(loss, loss2) and torch.allclose(g0, grads(model), atol=1e-7)


# ------------------------------------------------------------ PPO details
@pytest.mark.parametrize("kw", [{}, {"temperature": 0.7}, {"temperature": 1.3, "num_mini_batches": 1}])
def test_first_minibatch_has_ratio_one(kw):
    env = mixed_env(4)
    cfg = PPOConfig(n_iterations=3, batch_size=32, learning_rate=1e-2, **kw)
    res = ppo(tiny_model(seed=2), env, cfg)
    h = res.history
    assert (h["first_ratio_dev"] == 0).all() and (h["first_clipfrac"] == 0).all()
    assert (h["first_approx_kl"] == 0).all()
    assert (h["approx_kl"] > 0).any()  # later minibatches did move


def test_kl_to_identical_reference_is_exactly_zero():
    env = mixed_env(4)
    model = tiny_model(seed=3)
    ro = sample(model, "", 64, env.max_len, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        lp = score(model, ro)[0]
        lp_ref = score(copy.deepcopy(model), ro)[0]
    assert (kl_to_reference(lp, lp_ref, ro.mask) == 0).all()
    res = ppo(model, env, PPOConfig(n_iterations=2, batch_size=32, kl_coef=0.5))
    assert res.history["kl_ref"][0] == 0.0 and res.history["kl_ref"][1] != 0.0


@pytest.mark.parametrize("temperature", [1.0, 0.8])
def test_kl_estimate_matches_exact_kl(temperature):
    pi, ref = tiny_model(seed=4), tiny_model(seed=5)
    exact = exact_kl(pi, ref, 3, temperature)
    n = 20_000
    ro = sample(pi, "", n, 3, temperature, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        lp, lp_ref = score(pi, ro)[0], score(ref, ro)[0]
    assert exact > 0.01
    for estimator in ("k1", "k3"):  # the two unbiased estimators
        kl = kl_to_reference(lp, lp_ref, ro.mask, estimator)
        se = float(kl.std()) / math.sqrt(n)
        assert abs(float(kl.mean()) - exact) < K_SE * se, estimator


def test_token_loss_aggregation_modes():
    x = torch.tensor([[1.0, 2.0, 7.0], [3.0, 9.0, 9.0]])
    m = torch.tensor([[True, True, False], [True, False, False]])
    assert float(aggregate(x, m, "token-mean")) == pytest.approx(2.0)             # (1 + 2 + 3) / 3
    assert float(aggregate(x, m, "seq-mean-token-mean")) == pytest.approx(2.25)   # (1.5 + 3) / 2
    assert float(aggregate(x, m, "seq-mean-token-sum")) == pytest.approx(3.0)     # (3 + 3) / 2
    assert float(aggregate(x, torch.zeros_like(m), "token-mean")) == 0.0
    with pytest.raises(ValueError, match="loss_agg"):
        aggregate(x, m, "mean")
    with pytest.raises(ValueError, match="loss_agg"):
        ppo(tiny_model(), mixed_env(), PPOConfig(loss_agg="sum"))


@pytest.mark.parametrize("max_len, batch_size, reward", [
    (1, 1, lambda t: 1.0),       # a single token
    (3, 16, lambda t: 0.5),      # all rewards equal: normalised advantages are all 0
    (1, 16, target_match("a")),  # every text ends at the same step
])
def test_degenerate_batches_give_finite_stats(max_len, batch_size, reward):
    env = CharLanguageEnv("ab", max_len, delayed_reward=reward)
    for agg in ("token-mean", "seq-mean-token-mean", "seq-mean-token-sum"):
        res = ppo(tiny_model(seed=6), env, PPOConfig(n_iterations=2, batch_size=batch_size, loss_agg=agg,
                                                       ent_coef=0.01, kl_coef=0.1))
        for k, v in res.history.items():
            assert np.isfinite(v).all(), (k, v)
        res = reinforce(tiny_model(seed=6), env, ReinforceConfig(n_iterations=2, batch_size=batch_size,
                                                                 loss_agg=agg, baseline="value"))
        for k, v in res.history.items():
            assert np.isfinite(v).all(), (k, v)
    assert (normalize_advantages(torch.ones(2, 3), torch.ones(2, 3, dtype=torch.bool)) == 0).all()


# ---------------------------------------------------- exact policy gradient
def _exact_gradient(model, env):
    model.zero_grad()
    exact_expected_reward(model, env).backward()
    return grads(model)


def _directions(dim, seed=0):
    g = torch.Generator().manual_seed(seed)
    d = torch.randn(3, dim, generator=g)
    return d / d.norm(dim=1, keepdim=True)


def _check_unbiased(estimates, exact):
    """Projected on the exact gradient and on random directions, the mean is within K_SE standard errors."""
    est = torch.stack(estimates)
    dirs = torch.cat([(exact / exact.norm())[None], _directions(exact.numel())])
    proj, target = est @ dirs.T, dirs @ exact
    mean, se = proj.mean(0), proj.std(0) / math.sqrt(len(est))
    assert (torch.abs(mean - target) < K_SE * se + 1e-6).all(), (mean, target, se)
    # and the estimate is informative: it points along the exact gradient
    assert mean[0] > K_SE * se[0]


@pytest.mark.parametrize("baseline", ["none", "mean", "value"])
def test_reinforce_gradient_is_unbiased(baseline):
    env = CharLanguageEnv("ab", 3, delayed_reward=target_match("ab", partial=True))
    model = tiny_model(seed=7)
    exact = _exact_gradient(model, env)
    g = torch.Generator().manual_seed(0)
    estimates = []
    for _ in range(40):
        ro = sample(model, "", 128, env.max_len, generator=g)
        G = discounted_returns(rollout_rewards(env, ro).float(), 1.0)
        logp, values, _ = score(model, ro)
        b = {"none": None, "mean": (G.sum(0, keepdim=True) - G) / (len(G) - 1), "value": values}[baseline]
        model.zero_grad()
        (-reinforce_loss(logp, G, b, ro.mask, "seq-mean-token-sum")).backward()
        estimates.append(grads(model).clone())
    _check_unbiased(estimates, exact)


def test_ppo_first_step_gradient_is_unbiased():
    env = CharLanguageEnv("ab", 3, delayed_reward=target_match("ab", partial=True))
    model = tiny_model(seed=7)
    exact = _exact_gradient(model, env)
    cfg = PPOConfig(batch_size=128, num_mini_batches=1, gamma=1.0, lam=1.0, norm_adv=False, vf_coef=0.0,
                    ent_coef=0.0, loss_agg="seq-mean-token-sum")
    g = torch.Generator().manual_seed(1)
    ref = copy.deepcopy(model)
    estimates = []
    for _ in range(40):
        batch = collect(model, env, cfg, ref, g)
        loss, st = ppo_loss(model, batch, batch.order, cfg)
        assert st["ratio_dev"] == 0.0
        model.zero_grad()
        (-loss).backward()
        estimates.append(grads(model).clone())
    _check_unbiased(estimates, exact)


def test_baseline_reduces_variance():
    env = CharLanguageEnv("ab", 3, delayed_reward=lambda t: 2.0 + target_match("ab")(t))
    assert baseline_variance_ratio(tiny_model(seed=8), env, n_batches=20, batch_size=32) > 2.0


# ------------------------------------------------------------------ learning
def test_ppo_clearly_improves_reward():
    env = CharLanguageEnv("abc", 4, delayed_reward=target_match("cab", partial=True))
    model = CharLM("abc", embed_dim=16, hidden_dim=32, seed=0)
    res = ppo(model, env, PPOConfig(n_iterations=25, batch_size=64, learning_rate=1e-2, seed=0))
    start = res.history["reward"][:3].mean()
    assert start < 0.4 and res.final_reward > 0.85 and res.final_reward > start + 0.4
    assert np.isfinite(res.history["explained_variance"]).all()


def test_reinforce_improves_reward():
    env = CharLanguageEnv("abc", 4, delayed_reward=target_match("cab", partial=True))
    model = CharLM("abc", embed_dim=16, hidden_dim=32, seed=0)
    res = reinforce(model, env, ReinforceConfig(n_iterations=60, batch_size=64, learning_rate=1e-2, seed=0))
    assert res.final_reward > res.history["reward"][:3].mean() + 0.3


def test_kl_penalty_and_target_kl():
    env = CharLanguageEnv("abc", 4, delayed_reward=target_match("cab", partial=True))
    runs = {}
    for kl_coef in (0.0, 1.0):
        model = CharLM("abc", embed_dim=16, hidden_dim=32, seed=0)
        runs[kl_coef] = ppo(model, env, PPOConfig(n_iterations=15, batch_size=64, learning_rate=1e-2,
                                                  kl_coef=kl_coef, seed=0)).history
    assert runs[1.0]["kl_ref"][-3:].mean() < runs[0.0]["kl_ref"][-3:].mean()
    model = CharLM("abc", embed_dim=16, hidden_dim=32, seed=0)
    h = ppo(model, env, PPOConfig(n_iterations=3, batch_size=64, learning_rate=5e-2, target_kl=1e-4)).history
    assert (h["epochs"] < 4).any()


def test_progress_bars_and_result_fields():
    res = reinforce(tiny_model(), mixed_env(3), ReinforceConfig(n_iterations=2, batch_size=4), progress=True)
    assert len(res.history["reward"]) == 2 and res.elapsed > 0 and len(res.samples) == 4
    res = ppo(tiny_model(), mixed_env(3), PPOConfig(n_iterations=2, batch_size=4), progress=True)
    assert set(res.history) >= {"approx_kl", "clipfrac", "kl_ref", "explained_variance", "epochs"}


def test_runs_are_reproducible():
    env = mixed_env(4)
    a = ppo(tiny_model(), env, PPOConfig(n_iterations=2, batch_size=16, seed=3)).history
    b = ppo(tiny_model(), env, PPOConfig(n_iterations=2, batch_size=16, seed=3)).history
    for k in a:
        if k != "time":
            np.testing.assert_array_equal(a[k], b[k])


# ---------------------------------------------------------------- bad inputs
def test_bad_inputs_raise():
    env = mixed_env()
    with pytest.raises(ValueError, match="vocabulary"):
        ppo(CharLM("abc"), env, PPOConfig(n_iterations=1))
    with pytest.raises(ValueError, match="top_p"):
        ppo(tiny_model(), env, PPOConfig(n_iterations=1, top_p=0.0))
    with pytest.raises(ValueError, match="lam"):
        ppo(tiny_model(), env, PPOConfig(lam=1.5))
    with pytest.raises(ValueError, match="baseline"):
        reinforce(tiny_model(), env, ReinforceConfig(baseline="median"))
    nan_env = CharLanguageEnv("ab", 3, delayed_reward=lambda t: float("nan"))
    with pytest.raises(ValueError, match="non-finite"):
        ppo(tiny_model(), nan_env, PPOConfig(n_iterations=1, batch_size=4))
    with pytest.raises(ValueError, match="non-finite"):
        reinforce(tiny_model(), nan_env, ReinforceConfig(n_iterations=1, batch_size=4))


@pytest.mark.slow
@pytest.mark.benchmark
def test_benchmark_targets():
    """About two minutes: deselected by default (``-m "not benchmark"``); run with ``-m benchmark``."""
    from rlcore.bench.language import run_benchmark

    out = run_benchmark(time_budget=60.0, task="easy")
    assert out["ppo_seconds_to_90pct"] is not None and out["ppo_reward"] >= 0.9
    assert out["speedup"] >= 10
    assert out["peak_rss_mb"] < 1024
    assert out["baseline_variance_ratio"] > 1


def test_sampling_sweep_and_figures():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rlcore.lm import sampling_sweep
    from rlcore.plots.lm import plot_pg_history, plot_sampling_sweep

    env = mixed_env(4)
    sweep = sampling_sweep(tiny_model(seed=9), env, temperatures=(0.2, 2.0), top_ps=(1.0, 0.5), n=200)
    assert sweep["reward"].shape == (2, 2)
    assert sweep["distinct"][0, 0] < sweep["distinct"][1, 0]   # hotter sampling, more varied texts
    assert sweep["entropy_bits"][1, 1] <= sweep["entropy_bits"][1, 0] + 1e-9  # nucleus cuts the tail
    res = ppo(tiny_model(), env, PPOConfig(n_iterations=2, batch_size=8))
    for fig in (plot_sampling_sweep(sweep), plot_pg_history({"PPO": res.history}, x="time")):
        assert len(fig.axes) >= 2
        plt.close(fig)
