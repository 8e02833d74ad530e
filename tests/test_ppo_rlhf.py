"""PPO's RLHF extras: the adaptive KL controller, the missing-EOS penalty and TRL's log names."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from rlcore.envs.language import CharLanguageEnv, target_match
from rlcore.lm import CharLM, PPOConfig, collect, ppo
from rlcore.lm.kl import AdaptiveKLController

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny(seed=0):
    return CharLM("ab", embed_dim=8, hidden_dim=16, seed=seed)


def test_adaptive_controller_by_hand():
    c = AdaptiveKLController(0.1, target=1.0, horizon=100)
    assert c.update(1.1, 10) == pytest.approx(0.1 * (1 + 0.1 * 10 / 100))      # 10% over target
    v = c.value
    assert c.update(5.0, 10) == pytest.approx(v * (1 + 0.2 * 10 / 100))        # the error is clipped at +0.2
    v = c.value
    assert c.update(0.0, 50) == pytest.approx(v * (1 - 0.2 * 50 / 100))        # and at -0.2
    with pytest.raises(ValueError, match="kl_coef"):
        AdaptiveKLController(0.0, 1.0, 10)


def test_ppo_steers_its_kl_coefficient_towards_the_target():
    env = CharLanguageEnv("ab", 4, delayed_reward=target_match("bbb"))
    h = ppo(tiny(1), env, PPOConfig(n_iterations=25, batch_size=64, kl_coef=0.01, kl_target=0.05, kl_horizon=200,
                                    learning_rate=2e-2)).history
    coef, kl = h["objective/kl_coef"], h["objective/kl"]
    assert coef[0] == 0.01
    above = kl[:-1] > 0.05
    assert above.any()
    steps = np.diff(coef)
    assert (steps[above] > 0).all() and (steps[~above] <= 0).all()      # up when over the target, down when under
    fixed = ppo(tiny(1), env, PPOConfig(n_iterations=3, batch_size=16, kl_coef=0.01)).history
    assert (fixed["objective/kl_coef"] == 0.01).all()
    with pytest.raises(ValueError, match="kl_target"):
        ppo(tiny(1), env, PPOConfig(n_iterations=1, kl_coef=0.0, kl_target=0.1))


def test_missing_eos_penalty_lands_on_the_last_token_of_unfinished_texts():
    env = CharLanguageEnv("ab", 3, delayed_reward=lambda t: 1.0)
    model = tiny(2)
    plain = collect(model, env, PPOConfig(batch_size=64), copy.deepcopy(model), torch.Generator().manual_seed(0))
    pen = collect(model, env, PPOConfig(batch_size=64, missing_eos_penalty=0.7), copy.deepcopy(model),
                  torch.Generator().manual_seed(0))
    ro = pen.rollout
    assert torch.equal(ro.completions, plain.rollout.completions) and (~ro.eos).any() and ro.eos.any()
    diff = plain.task_rewards - pen.task_rewards
    rows = torch.arange(len(ro))
    want = torch.zeros_like(diff)
    want[rows, ro.lengths - 1] = 0.7 * (~ro.eos).double()
    torch.testing.assert_close(diff, want)


def test_history_carries_trls_names():
    env = CharLanguageEnv("ab", 4, delayed_reward=target_match("ab"))
    h = ppo(tiny(3), env, PPOConfig(n_iterations=4, batch_size=32, kl_coef=0.2)).history
    for name in ("objective/kl", "objective/entropy", "objective/rlhf_reward", "policy/approxkl", "policy/clipfrac",
                 "val/clipfrac"):
        assert len(h[name]) == 4 and np.isfinite(h[name]).all(), name
    np.testing.assert_allclose(h["objective/rlhf_reward"], h["reward"] - 0.2 * h["objective/kl"])
    np.testing.assert_array_equal(h["policy/approxkl"], h["approx_kl"])
    assert ((h["val/clipfrac"] >= 0) & (h["val/clipfrac"] <= 1)).all() and (h["objective/entropy"] > 0).all()
