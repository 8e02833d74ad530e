"""Over-optimisation and the reward-KL frontier on the toy, against hand sums and the optimum's inequality."""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np
import pytest
import torch

from rlcore.envs.language import CharLanguageEnv, from_function
from rlcore.lm import CharLM, PPOConfig, pretrain
from rlcore.plots.rlhf import plot_frontier, plot_overoptimisation
from rlcore.rlhf import simulate_preferences
from rlcore.rlhf.frontier import reward_kl_frontier
from rlcore.rlhf.overoptimisation import ToyEvaluator, fit_gao, gao_curve, ppo_curve

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PROMPTS = ("a", "b")
MAX_LEN = 4
GOLD = from_function(lambda t: float(t[1:].count("b")) - 1.5 * max(0, len(t) - 2), "gold")
PROXY = from_function(lambda t: float(t[1:].count("b")), "proxy")  # forgets the length penalty


def tiny(seed=0):
    return CharLM("ab", embed_dim=8, hidden_dim=16, seed=seed, dtype=torch.float64)


def hand_logprob(model, prompt, completion):
    """log pi(completion | prompt) by stepping the model one token at a time (EOS unless at max_len)."""
    v = model.vocab
    tokens = [v.BOS] + [v.stoi[c] for c in prompt]
    total = 0.0
    actions = [v.stoi[c] for c in completion] + ([v.EOS] if len(prompt) + len(completion) < MAX_LEN else [])
    with torch.no_grad():
        for a in actions:
            logits, _ = model(torch.tensor([tokens]))
            total += float(torch.log_softmax(logits[0, -1].double(), -1)[a])
            tokens.append(a)
    return total


def every_completion(prompt):
    for n in range(MAX_LEN - len(prompt) + 1):
        for chars in itertools.product("ab", repeat=n):
            yield "".join(chars)


def test_evaluator_matches_hand_sums():
    ref, other = tiny(0), tiny(1)
    ev = ToyEvaluator(ref, MAX_LEN, PROMPTS, {"gold": GOLD})
    kl = gold = 0.0
    for x in PROMPTS:
        for y in every_completion(x):
            lp, lr = hand_logprob(other, x, y), hand_logprob(ref, x, y)
            kl += math.exp(lp) * (lp - lr) / len(PROMPTS)
            gold += math.exp(lp) * GOLD([x + y])[0] / len(PROMPTS)
    stats = ev.evaluate(other)
    assert stats["kl"] == pytest.approx(kl, abs=1e-10) and stats["gold"] == pytest.approx(gold, abs=1e-10)
    assert stats["d"] == pytest.approx(math.sqrt(kl))
    assert ev.evaluate(ref)["kl"] == pytest.approx(0.0, abs=1e-12)
    # log-probabilities are renormalised per prompt: a constant shift changes nothing
    shifted = ev.evaluate_logp(ev.ref_logp + np.where(ev.groups == 0, np.log(2.0), -1.0))
    assert shifted["kl"] == pytest.approx(0.0, abs=1e-12) and shifted["gold"] == pytest.approx(
        ev.evaluate(ref)["gold"], abs=1e-12)
    with pytest.raises(ValueError, match="logp"):
        ev.evaluate_logp(np.zeros(3))
    with pytest.raises(ValueError, match="rank_by"):
        ev.best_of_n(2, "proxy")


def test_best_of_n_by_the_gold_reward_climbs_to_the_best_text():
    ref = tiny(2)
    ev = ToyEvaluator(ref, MAX_LEN, PROMPTS, {"gold": GOLD})
    best = np.mean([max(GOLD([x + y])[0] for y in every_completion(x)) for x in PROMPTS])
    golds = [ev.best_of_n(n, "gold")["gold"] for n in (1, 4, 16, 256, 100_000)]
    assert golds[0] == pytest.approx(ev.evaluate(ref)["gold"], abs=1e-12)
    assert all(a < b for a, b in zip(golds, golds[1:]))
    assert golds[-1] == pytest.approx(best, abs=1e-6)
    for n in (2, 8, 64):
        assert ev.best_of_n(n, "gold")["kl"] <= math.log(n) - (n - 1) / n + 1e-12


@pytest.mark.parametrize("form", ["bon", "rl"])
def test_fit_gao_recovers_the_parameters_of_exact_data(form):
    d = np.linspace(0.0, 4.0, 21)
    gain = gao_curve(d, 0.7, 0.2, form)
    fit = fit_gao(d, gain, form)
    assert fit.alpha == pytest.approx(0.7, abs=1e-10) and fit.beta == pytest.approx(0.2, abs=1e-10)
    grid = np.linspace(1e-6, 20, 2_000_001)
    assert fit.peak_d == pytest.approx(grid[np.argmax(gao_curve(grid, 0.7, 0.2, form))], abs=1e-4)
    # the wrong form does not fit the other's data exactly
    other = fit_gao(d, gain, "rl" if form == "bon" else "bon")
    assert other.rmse > 1e-3
    with pytest.raises(ValueError, match="form"):
        fit_gao(d, gain, "linear")
    with pytest.raises(ValueError, match="two finite points"):
        fit_gao([0.0, 1.0], [0.0, 0.5], form)


def test_proxy_optimisation_gains_proxy_and_loses_gold_and_is_reproducible():
    ref = tiny(3)
    pretrain(ref, ["aa", "ab", "ba", "bb", "a", "b"], steps=100, seed=0, max_len=MAX_LEN)  # short texts
    ev = ToyEvaluator(ref, MAX_LEN, PROMPTS, {"gold": GOLD, "proxy": PROXY})
    env = CharLanguageEnv("ab", MAX_LEN, delayed_reward=PROXY, prompts=PROMPTS)
    cfg = PPOConfig(n_iterations=2, batch_size=64, learning_rate=1e-2, seed=0)
    a = ppo_curve(copy.deepcopy(ref), env, ev, cfg, 4)
    b = ppo_curve(copy.deepcopy(ref), env, ev, cfg, 4)
    assert a == b
    assert a[0]["kl"] == pytest.approx(0.0, abs=1e-12) and [p["iterations"] for p in a] == [0, 2, 4, 6, 8]
    golds = [p["gold"] for p in a]
    assert a[-1]["proxy"] > a[0]["proxy"] + 2  # the proxy is optimised to its maximum, 3 b's ...
    assert max(golds) > golds[0] + 0.3  # ... gold rises first (one b beats one a) ...
    assert golds[-1] < max(golds) - 0.5  # ... then falls: the proxy never learnt the length penalty
    fig = plot_overoptimisation({"PPO": a}, {"PPO": fit_gao([p["d"] for p in a],
                                                             [p["gold"] - a[0]["gold"] for p in a], "rl")})
    assert len(fig.axes[0].lines) == 4


def test_no_method_beats_the_exact_frontier():
    ref = tiny(4)
    ev = ToyEvaluator(ref, MAX_LEN, PROMPTS, {"gold": GOLD, "proxy": PROXY})
    pairs = simulate_preferences(ref, PROMPTS, GOLD, 300, MAX_LEN, seed=1)
    front = reward_kl_frontier(ref, ev, GOLD, betas=(0.3, 1.0), ns=(2, 8), pairs=pairs, proxy=PROXY,
                               ppo_config=PPOConfig(n_iterations=8, batch_size=64, learning_rate=1e-2))
    groups = front.by_method()
    assert set(groups) == {"pi* (gold, exact)", "PPO (gold)", "PPO (reward model)", "DPO",
                           "best-of-n (reward model)"}
    for star in groups["pi* (gold, exact)"]:
        bound = star.gold - star.knob * star.kl  # J*_beta: no policy's gold - beta KL exceeds it
        for p in front.points:
            assert p.gold - star.knob * p.kl <= bound + 1e-9, p
    # the exact optimum's KL falls as beta grows; gold-trained PPO lands close to it
    s_lo, s_hi = groups["pi* (gold, exact)"]
    assert s_lo.kl > s_hi.kl
    ppo_lo = groups["PPO (gold)"][0]
    assert ppo_lo.gold - 0.3 * ppo_lo.kl > s_lo.gold - 0.3 * s_lo.kl - 0.05
    for method in ("PPO (gold)", "PPO (reward model)", "DPO"):  # each run used its own beta: less KL at 1.0
        lo, hi = groups[method]
        assert (lo.knob, hi.knob) == (0.3, 1.0) and lo.kl > hi.kl, method
    assert len(front.table()) == len(front.points) + 1
    fig = plot_frontier(front)
    assert len(fig.axes[0].lines) == 5
    with pytest.raises(ValueError, match="betas"):
        reward_kl_frontier(ref, ev, GOLD, betas=(0.0,))


def test_the_exact_frontier_can_be_drawn_densely_without_training():
    ref = tiny(5)
    ev = ToyEvaluator(ref, MAX_LEN, PROMPTS, {"gold": GOLD})
    front = reward_kl_frontier(ref, ev, GOLD, betas=(1.0,), exact_betas=(0.2, 0.5, 5.0),
                               ppo_config=PPOConfig(n_iterations=1, batch_size=8))
    stars = front.by_method()["pi* (gold, exact)"]
    assert [p.knob for p in stars] == [0.2, 0.5, 1.0, 5.0]
    kls, golds = [p.kl for p in stars], [p.gold for p in stars]
    assert kls == sorted(kls, reverse=True) and golds == sorted(golds, reverse=True)  # more KL buys more reward
