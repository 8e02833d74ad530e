"""RLHF on the toy: the exact optimum, preferences, the reward model, DPO/IPO and best-of-n, against exact sums."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from rlcore.envs.language import CharLanguageEnv, from_function
from rlcore.lm import CharLM, PPOConfig, ppo, sample
from rlcore.rlhf import (
    DPOConfig,
    Labeller,
    PreferenceData,
    RewardConfig,
    best_of_n,
    best_of_n_distribution,
    best_of_n_kl,
    best_of_n_kl_bound,
    bradley_terry_loss,
    dpo,
    dpo_loss,
    exact_optimum,
    simulate_preferences,
    train_reward_model,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PROMPTS = ("a", "b")
MAX_LEN = 4


def tiny(seed=0):
    return CharLM("ab", embed_dim=8, hidden_dim=16, seed=seed)


def gold_rule(text):
    """The hidden judge: likes 'b's after the prompt, dislikes length."""
    return float(text[1:].count("b")) - 0.3 * len(text)


GOLD = from_function(gold_rule, "gold")


def stepwise_prob(model, prompt, ids):
    v = model.vocab
    with torch.no_grad():
        hidden, logp = None, 0.0
        seq = [v.BOS] + v.encode(prompt)
        for tok in seq[:-1]:
            _, _, hidden = model.step(torch.tensor([[tok]]), hidden)
        last = seq[-1]
        for a in ids:
            logits, _, hidden = model.step(torch.tensor([[last]]), hidden)
            logp += float(torch.log_softmax(logits[0, 0], -1)[a])
            last = a
    return math.exp(logp)


# ------------------------------------------------------------- the exact optimum
def test_exact_optimum_matches_brute_force_and_sums_to_one():
    ref, beta = tiny(1), 0.5
    opt = exact_optimum(ref, GOLD, beta, MAX_LEN, PROMPTS)
    groups = opt.groups
    for g, p in enumerate(PROMPTS):
        assert opt.pi_star[groups == g].sum() == pytest.approx(1.0, abs=1e-9)
        room, weights = MAX_LEN - len(p), {}
        for t in range(room + 1):
            for chars in itertools.product(range(2), repeat=t):
                ids = list(chars) + ([ref.vocab.EOS] if t < room else [])
                text = p + ref.vocab.decode(ids)
                weights[(text, t < room)] = stepwise_prob(ref, p, ids) * math.exp(gold_rule(text) / beta)
        Z = sum(weights.values())
        assert opt.J_star[g] == pytest.approx(beta * math.log(Z), abs=1e-5)
        got = {(opt.completions.full_texts[i], bool(opt.completions.eos[i])): opt.pi_star[i]
               for i in np.flatnonzero(groups == g)}
        for key, w in weights.items():
            assert got[key] == pytest.approx(w / Z, abs=1e-6), key


@pytest.mark.parametrize("seed", [2, 3])
def test_reward_minus_kl_equals_the_optimum_minus_the_kl_to_it(seed):
    """For any policy: E[r] - beta KL(pi || ref) = J* - beta KL(pi || pi*), an identity of the tilted optimum."""
    ref, model, beta = tiny(1), tiny(seed), 0.7
    opt = exact_optimum(ref, GOLD, beta, MAX_LEN, PROMPTS)
    obj = opt.objective(model)
    assert obj["objective"] == pytest.approx(opt.value - beta * opt.kl(model), abs=1e-6)
    assert obj["objective"] <= opt.value + 1e-9 and opt.kl(model) > 0
    assert opt.objective(ref)["kl_ref"] == 0.0
    assert opt.kl(ref) == pytest.approx((opt.value - opt.objective(ref)["objective"]) / beta, abs=1e-6)


def test_beta_must_be_positive():
    with pytest.raises(ValueError, match="beta"):
        exact_optimum(tiny(), GOLD, 0.0, MAX_LEN, PROMPTS)


# ------------------------------------------------------------------ preferences
def test_preferences_are_reproducible_and_follow_the_labeller():
    sft = tiny(4)
    a = simulate_preferences(sft, PROMPTS, GOLD, 64, MAX_LEN, Labeller(temperature=0.2), seed=5)
    b = simulate_preferences(sft, PROMPTS, GOLD, 64, MAX_LEN, Labeller(temperature=0.2), seed=5)
    assert a.chosen == b.chosen and a.rejected == b.rejected and np.array_equal(a.soft_label, b.soft_label)
    wins = np.mean([gold_rule(p + c) > gold_rule(p + r) for p, c, r in zip(a.prompts, a.chosen, a.rejected)])
    assert wins > 0.8                                             # a decisive labeller mostly picks the better one
    for p, c, r, q in zip(a.prompts, a.chosen, a.rejected, a.soft_label):   # soft label = its Bradley-Terry prob
        z = (gold_rule(p + c) - gold_rule(p + r)) / 0.2
        assert q == pytest.approx(1 / (1 + math.exp(-z)), abs=1e-9)
        assert c != r
    biased = simulate_preferences(sft, PROMPTS, GOLD, 64, MAX_LEN, Labeller(length_bias=5.0), seed=5)
    longer = np.mean([len(c) > len(r) for c, r in zip(biased.chosen, biased.rejected) if len(c) != len(r)])
    assert longer > 0.9                                           # the quirk is in the labels


@pytest.mark.parametrize("kw, match", [
    (dict(prompts=(), chosen=(), rejected=()), "empty"),
    (dict(prompts=("a",), chosen=("ab",), rejected=("ab",)), "identical"),
    (dict(prompts=("a",), chosen=("ab",), rejected=("a",), soft_label=[1.5]), "soft_label"),
    (dict(prompts=("a",), chosen=("ac",), rejected=("a",)), "not in the vocabulary"),
    (dict(prompts=("a",), chosen=("abbbb",), rejected=("a",)), "max_len"),
])
def test_preference_data_rejects_bad_pairs(kw, match):
    with pytest.raises(ValueError, match=match):
        PreferenceData(vocab=tiny().vocab, max_len=MAX_LEN, **kw)


# ------------------------------------------------------------------ reward model
def test_bradley_terry_loss_by_hand():
    rc, rr = torch.tensor([0.0, 2.0, -1.0]), torch.tensor([0.0, 0.0, 1.0])
    want = np.mean([math.log(2), math.log(1 + math.exp(-2)), math.log(1 + math.exp(2))])
    assert float(bradley_terry_loss(rc, rr)) == pytest.approx(want, abs=1e-6)
    want_m = np.mean([math.log(1 + math.exp(0.5)), math.log(1 + math.exp(-1.5)), math.log(1 + math.exp(2.5))])
    assert float(bradley_terry_loss(rc, rr, margin=0.5)) == pytest.approx(want_m, abs=1e-6)
    q = torch.tensor([0.5, 0.5, 0.5])                     # a coin-flip label: symmetric in the two texts
    assert float(bradley_terry_loss(rc, rr, labels=q)) == pytest.approx(float(bradley_terry_loss(rr, rc, labels=q)))
    assert float(bradley_terry_loss(rc, rr, center_coef=1.0)) == pytest.approx(want + np.mean([0, 4, 0]), abs=1e-6)


def test_bradley_terry_loss_goes_to_zero_on_a_separable_set():
    r = torch.zeros(4, requires_grad=True)              # free scores of 4 texts, a strict order 0 > 1 > 2 > 3
    opt = torch.optim.Adam([r], lr=0.5)
    c, w = torch.tensor([0, 0, 1, 2]), torch.tensor([1, 3, 2, 3])
    for _ in range(300):
        loss = bradley_terry_loss(r[c], r[w])
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 1e-3


def test_reward_model_learns_the_gold_ranking_and_is_normalised():
    sft = tiny(4)
    data = simulate_preferences(sft, PROMPTS, GOLD, 200, MAX_LEN, Labeller(temperature=0.1), seed=6)
    train, held = data.split(0.25, seed=0)
    res = train_reward_model(train, RewardConfig(num_train_epochs=30, seed=0), init=sft, held_out=held)
    assert res.history["loss"][-1] < res.history["loss"][0]
    assert res.held_out_accuracy > 0.8 and 0 <= res.held_out_ece <= 1
    ref_texts = sample(sft, PROMPTS, 100, MAX_LEN, generator=torch.Generator().manual_seed(7), max_len=MAX_LEN)
    rm = res.model.normalize(ref_texts.full_texts)
    s = rm(ref_texts.full_texts)
    assert abs(s.mean()) < 1e-6 and s.std() == pytest.approx(1.0, abs=1e-6)
    env = CharLanguageEnv("ab", MAX_LEN, delayed_reward=rm, prompts=PROMPTS)   # a learned reward is a reward
    out = ppo(tiny(4), env, PPOConfig(n_iterations=2, batch_size=16))
    assert np.isfinite(out.history["reward"]).all()


def test_reward_model_and_best_of_n_are_reproducible():
    sft = tiny(4)
    data = simulate_preferences(sft, PROMPTS, GOLD, 40, MAX_LEN, seed=6)
    a = train_reward_model(data, RewardConfig(num_train_epochs=3, seed=2), init=sft)
    b = train_reward_model(data, RewardConfig(num_train_epochs=3, seed=2), init=sft)
    for k in a.history:
        np.testing.assert_array_equal(a.history[k], b.history[k])
    texts = sample(sft, PROMPTS, 20, MAX_LEN, generator=torch.Generator().manual_seed(3), max_len=MAX_LEN).full_texts
    np.testing.assert_array_equal(a.model(texts), b.model(texts))
    c = train_reward_model(data, RewardConfig(num_train_epochs=3, seed=3), init=sft)
    assert not np.array_equal(a.model(texts), c.model(texts))  # the seed does matter
    runs = [best_of_n(sft, PROMPTS, a.model, 4, MAX_LEN, generator=torch.Generator().manual_seed(5))
            for _ in range(2)]
    assert runs[0][0].texts == runs[1][0].texts
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


# ------------------------------------------------------------------------ DPO
def test_dpo_loss_by_hand():
    lc, lr = torch.tensor([-1.0, -2.0]), torch.tensor([-2.0, -1.0])
    rc, rr = torch.tensor([-1.5, -1.5]), torch.tensor([-1.5, -1.5])
    h = np.array([1.0, -1.0])                          # (lc - rc) - (lr - rr)
    losses, chosen, rejected = dpo_loss(lc, lr, rc, rr, beta=0.5)
    np.testing.assert_allclose(losses.numpy(), np.log1p(np.exp(-0.5 * h)), atol=1e-6)
    np.testing.assert_allclose(chosen.numpy(), [0.25, -0.25], atol=1e-7)
    np.testing.assert_allclose(rejected.numpy(), [-0.25, 0.25], atol=1e-7)
    smooth, _, _ = dpo_loss(lc, lr, rc, rr, beta=0.5, label_smoothing=0.1)
    want = 0.9 * np.log1p(np.exp(-0.5 * h)) + 0.1 * np.log1p(np.exp(0.5 * h))
    np.testing.assert_allclose(smooth.numpy(), want, atol=1e-6)
    ipo, _, _ = dpo_loss(lc, lr, rc, rr, beta=0.5, loss_type="ipo")
    np.testing.assert_allclose(ipo.numpy(), (h - 1.0) ** 2, atol=1e-6)
    # a soft label q: the label is a coin with P(chosen first) = q, and the loss its expectation
    q = torch.tensor([0.8, 0.3])
    soft_ipo, _, _ = dpo_loss(lc, lr, rc, rr, beta=0.5, loss_type="ipo", labels=q)
    want = 0.8 * (h - 1.0) ** 2 + 0.2 * (-h - 1.0) ** 2, 0.3 * (h - 1.0) ** 2 + 0.7 * (-h - 1.0) ** 2
    np.testing.assert_allclose(soft_ipo.numpy(), [want[0][0], want[1][1]], atol=1e-6)
    # whose minimiser over h is (2q - 1) / (2 beta), found here by a fine grid search
    grid = torch.linspace(-3, 3, 60001)
    for qi in (0.8, 0.3):
        vals, _, _ = dpo_loss(grid, torch.zeros_like(grid), torch.zeros_like(grid), torch.zeros_like(grid),
                              beta=0.5, loss_type="ipo", labels=torch.full_like(grid, qi))
        assert float(grid[vals.argmin()]) == pytest.approx((2 * qi - 1) / (2 * 0.5), abs=1e-3)
    with pytest.raises(ValueError, match="loss_type"):
        dpo_loss(lc, lr, rc, rr, loss_type="hinge-ish")


def test_dpo_loss_is_log_2_at_the_start_and_training_separates_the_pairs():
    sft = tiny(4)
    data = simulate_preferences(sft, PROMPTS, GOLD, 64, MAX_LEN, Labeller(temperature=0.1), seed=8)
    res = dpo(tiny(4), data, DPOConfig(beta=0.5, num_train_epochs=1, learning_rate=1e-12))
    assert res.history["loss"][0] == pytest.approx(math.log(2), abs=1e-5)
    res = dpo(tiny(4), data, DPOConfig(beta=0.5, num_train_epochs=15, learning_rate=5e-3))
    h = res.history
    assert h["loss"][-1] < 0.6 * math.log(2) and h["rewards/accuracies"][-1] > 0.75 and h["rewards/margins"][-1] > 0


def test_dpo_is_reproducible_and_refuses_bad_inputs():
    sft = tiny(4)
    data = simulate_preferences(sft, PROMPTS, GOLD, 16, MAX_LEN, seed=9)
    a = dpo(tiny(4), data, DPOConfig(num_train_epochs=2, seed=1)).history
    b = dpo(tiny(4), data, DPOConfig(num_train_epochs=2, seed=1)).history
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    with pytest.raises(ValueError, match="DPOConfig.beta"):
        DPOConfig(beta=0.0)
    with pytest.raises(ValueError, match="vocabulary"):
        dpo(CharLM("abc"), data)


# ---------------------------------------------------------------- best-of-n
def test_best_of_n_distribution_sums_to_one_and_is_what_sampling_gives():
    ref = tiny(1)
    every_opt = exact_optimum(ref, GOLD, 1.0, MAX_LEN, ("a",))
    logp, r, groups = every_opt.ref_logp, every_opt.reward, every_opt.groups
    for n in (1, 2, 4):
        p = np.exp(best_of_n_distribution(logp, r, groups, n))
        assert p.sum() == pytest.approx(1.0, abs=1e-6)  # float32 model probabilities
    total = np.exp(logp).sum()  # 1 up to float32 rounding; best-of-1 is pi renormalised in float64
    assert total == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(np.exp(best_of_n_distribution(logp, r, groups, 1)), np.exp(logp) / total,
                               rtol=1e-12, atol=0)
    p4 = np.exp(best_of_n_distribution(logp, r, groups, 4))
    # sampled best-of-4 picks follow p4, reward level by reward level (ties share one level)
    kept, scores = best_of_n(ref, ["a"] * 4000, GOLD, 4, MAX_LEN, generator=torch.Generator().manual_seed(0))
    levels = np.unique(r)
    for lv in levels:
        q = p4[r == lv].sum()
        freq = np.mean(np.isclose(scores, lv))
        assert abs(freq - q) < 5 * math.sqrt(q * (1 - q) / 4000) + 1e-3, lv


def test_best_of_n_exact_kl_is_below_the_usual_formula():
    ref = tiny(1)
    assert best_of_n_kl(ref, GOLD, 1, MAX_LEN, PROMPTS) == pytest.approx(0.0, abs=1e-12)
    for n in (2, 4, 16):
        exact = best_of_n_kl(ref, GOLD, n, MAX_LEN, PROMPTS)
        assert 0 < exact <= best_of_n_kl_bound(n) + 1e-12


# ------------------------------------------------- the toy: against the exact optimum
@pytest.fixture(scope="module")
def toy():
    from rlcore.lm import pretrain

    ref = CharLM("ab", embed_dim=16, hidden_dim=32, seed=0)
    pretrain(ref, ["ab", "aab", "ba", "abba", "b", "aa"], steps=100, seed=0, max_len=5)
    return ref, exact_optimum(ref, GOLD, 0.5, 5, PROMPTS)


def test_dpo_reaches_the_exact_optimum_on_the_toy(toy):
    """Bradley-Terry labels at temperature 1 and DPO's beta = 0.5 share the optimum pi* of beta = 0.5."""
    import copy

    ref, opt = toy
    assert opt.kl(ref) > 0.2                                   # the reference is far from pi*
    data = simulate_preferences(ref, PROMPTS, GOLD, 2000, 5, Labeller(temperature=1.0), seed=1)
    model = copy.deepcopy(ref)
    dpo(model, data, DPOConfig(beta=0.5, num_train_epochs=30, learning_rate=3e-3, batch_size=256))
    assert opt.kl(model) <= 0.05
    assert opt.objective(model)["objective"] > opt.objective(ref)["objective"]


def test_ppo_with_the_gold_reward_reaches_the_exact_optimum_on_the_toy(toy):
    import copy

    ref, opt = toy
    env = CharLanguageEnv("ab", 5, delayed_reward=GOLD, prompts=PROMPTS)
    model = copy.deepcopy(ref)
    ppo(model, env, PPOConfig(n_iterations=100, batch_size=256, num_generations=8, kl_coef=0.5, learning_rate=3e-3),
        ref_model=ref)
    assert opt.kl(model) <= 0.05


@pytest.fixture(scope="module")
def deterministic_pairs(toy):
    ref, _ = toy
    d = simulate_preferences(ref, PROMPTS, GOLD, 300, 5, Labeller(temperature=0.01), seed=1)
    return PreferenceData(d.prompts, d.chosen, d.rejected, d.vocab, d.max_len)     # hard labels, no soft ones


def test_dpo_drifts_on_deterministic_preferences_while_ipo_stays_anchored(toy, deterministic_pairs):
    """DPO's loss keeps falling as the margin grows without bound; IPO's squared loss has a finite target."""
    import copy

    from rlcore.lm import exact_kl

    ref, _ = toy
    kl, hist = {}, {}
    for loss_type in ("sigmoid", "ipo"):
        for epochs in (10, 40):
            model = copy.deepcopy(ref)
            res = dpo(model, deterministic_pairs, DPOConfig(beta=0.5, loss_type=loss_type, num_train_epochs=epochs,
                                                            learning_rate=3e-3))
            kl[loss_type, epochs] = exact_kl(model, ref, 5, prompts=PROMPTS)
            hist[loss_type, epochs] = res.history
    assert kl["sigmoid", 40] > 1.5 * kl["sigmoid", 10] > 5 * kl["ipo", 40]      # DPO keeps drifting
    assert abs(kl["ipo", 40] - kl["ipo", 10]) < 0.1                             # IPO has settled
    assert hist["ipo", 40]["rewards/margins"][-1] == pytest.approx(0.5, abs=0.15)   # beta * 1 / (2 beta)
    # the classic DPO observation: the margin grows while the chosen texts themselves lose probability
    h = hist["sigmoid", 40]
    assert h["rewards/margins"][-1] > 5 * h["rewards/margins"][0] and h["logps/chosen"][-1] < h["logps/chosen"][0] - 1


# ------------------------------------------------------------------ GRPO and RLOO
def test_group_advantages_by_hand():
    from rlcore.rlhf import group_advantages

    r = torch.tensor([1.0, 0.0, 0.0, 1.0, 2.0, 2.0, 2.0, 2.0])
    adv, zero = group_advantages(r, 4, "group")
    s = math.sqrt(4 * 0.25 / 3)                                 # the sample std of (1, 0, 0, 1)
    a = 0.5 / (s + 1e-4)
    np.testing.assert_allclose(adv.numpy(), [a, -a, -a, a, 0, 0, 0, 0], atol=1e-6)
    assert zero == 0.5                                           # one group of two has equal rewards
    none, _ = group_advantages(r, 4, "none")
    np.testing.assert_allclose(none.numpy(), [0.5, -0.5, -0.5, 0.5, 0, 0, 0, 0])
    batch, _ = group_advantages(r, 4, "batch")
    np.testing.assert_allclose(batch.numpy(), none.numpy() / (float(r.std()) + 1e-4), atol=1e-6)
    with pytest.raises(ValueError, match="num_generations"):
        group_advantages(r, 1)


def test_grpo_loss_aggregations_by_hand():
    from rlcore.rlhf import grpo_loss

    logp = torch.tensor([[-1.0, -1.0, -1.0], [-2.0, 0.0, 0.0]])
    mask = torch.tensor([[True, True, True], [True, False, False]])
    adv = torch.tensor([1.0, -2.0])                              # ratio 1: the per-token loss is -A
    per_seq_mean = np.mean([-1.0, 2.0])
    token_mean = (3 * -1.0 + 2.0) / 4
    dr = (3 * -1.0 + 2.0) / (2 * 5)
    for loss_type, want in (("grpo", per_seq_mean), ("dapo", token_mean), ("dr_grpo", dr)):
        loss, st = grpo_loss(logp, logp, logp, adv, mask, beta=0.3, loss_type=loss_type, max_completion_length=5)
        assert float(loss) == pytest.approx(want, abs=1e-6), loss_type   # k3 = 0 against itself
        assert st["clip_ratio"] == 0.0 and st["kl"] == 0.0


def test_equal_rewards_in_a_group_give_zero_advantage_and_a_finite_loss():
    from rlcore.rlhf import GRPOConfig, grpo

    env = CharLanguageEnv("ab", 3, delayed_reward=lambda t: 1.0)
    res = grpo(tiny(), env, GRPOConfig(n_iterations=3, batch_size=16, num_generations=4))
    assert (res.history["frac_reward_zero_std"] == 1.0).all()
    assert all(np.isfinite(v).all() for v in res.history.values())


def test_rloo_advantage_is_k_over_k_minus_1_times_the_centred_one():
    from rlcore.rlhf import rloo_advantages

    r = torch.tensor([3.0, 1.0, 0.0, 4.0, -1.0, 2.0])
    k = 3
    centred = (r.reshape(-1, k) - r.reshape(-1, k).mean(1, keepdim=True)).reshape(-1)
    torch.testing.assert_close(rloo_advantages(r, k), k / (k - 1) * centred)
    loop = torch.tensor([float(r[i] - np.mean([float(r[j]) for j in range(6) if j // k == i // k and j != i]))
                         for i in range(6)])
    torch.testing.assert_close(rloo_advantages(r, k), loop)


def test_rloo_reaches_the_exact_optimum_and_grpo_optimises_something_else(toy):
    """RLOO's sequence KL in the reward targets pi*; GRPO's normalised advantages and k3-in-loss do not."""
    import copy

    from rlcore.rlhf import GRPOConfig, RLOOConfig, grpo, rloo

    ref, opt = toy
    env = CharLanguageEnv("ab", 5, delayed_reward=GOLD, prompts=PROMPTS)
    model = copy.deepcopy(ref)
    rloo(model, env, RLOOConfig(n_iterations=150, batch_size=256, num_generations=8, beta=0.5, learning_rate=3e-3),
         ref_model=ref)
    assert opt.kl(model) <= 0.05
    g_model = copy.deepcopy(ref)
    grpo(g_model, env, GRPOConfig(n_iterations=150, batch_size=256, num_generations=8, beta=0.5, learning_rate=3e-3),
         ref_model=ref)
    assert opt.objective(g_model)["reward"] > opt.objective(ref)["reward"] + 0.3     # it does chase the reward
    assert opt.kl(g_model) > 10 * opt.kl(model)


@pytest.mark.parametrize("make", ["grpo", "rloo"])
def test_group_methods_need_groups_and_are_reproducible(make):
    from rlcore.rlhf import GRPOConfig, RLOOConfig, grpo, rloo

    cfg_cls, train = (GRPOConfig, grpo) if make == "grpo" else (RLOOConfig, rloo)
    with pytest.raises(ValueError, match="num_generations"):
        cfg_cls(num_generations=1, batch_size=8)
    env = CharLanguageEnv("ab", 3, delayed_reward=GOLD, prompts=PROMPTS)
    a = train(tiny(), env, cfg_cls(n_iterations=2, batch_size=8, num_generations=4, seed=3)).history
    b = train(tiny(), env, cfg_cls(n_iterations=2, batch_size=8, num_generations=4, seed=3)).history
    for k in a:
        if k != "time":
            np.testing.assert_array_equal(a[k], b[k])


# ---------------------------------------------------------- KL estimators, exactly
def test_kl_estimators_measured_exactly_on_one_decision():
    """One decision per prompt: E[grad k1] = 0, E[grad k2] = grad KL(pi||ref), E[grad k3] = grad KL(ref||pi)."""
    from rlcore.rlhf import kl_estimator_table

    model, ref = CharLM("abc", embed_dim=8, hidden_dim=16, seed=5), CharLM("abc", embed_dim=8, hidden_dim=16, seed=6)
    rows = {r.estimator: r for r in kl_estimator_table(model, ref, 2, prompts=("a", "b", "c"))}
    kl = rows["k1"].kl
    assert kl > 0.01
    assert abs(rows["k1"].bias) < 1e-6 and abs(rows["k3"].bias) < 1e-6 and rows["k2"].bias != pytest.approx(0)
    assert rows["k1"].grad_norm_ratio < 1e-5
    assert rows["k2"].cos_reverse == pytest.approx(1.0, abs=1e-6) and rows["k2"].grad_norm_ratio == pytest.approx(1.0)
    assert rows["k3"].cos_forward == pytest.approx(1.0, abs=1e-6)
    assert rows["k3"].std < rows["k1"].std                      # the control variate pays off near the reference


def test_dr_grpo_removes_the_length_bias_of_grpo_on_wrong_answers():
    """GRPO divides each sequence's loss by its length, so long wrong answers are punished less per token."""
    from rlcore.rlhf import GRPOConfig, grpo

    env = CharLanguageEnv("ab", 10, delayed_reward=lambda t: float(t[:3] == "bab"))   # length plays no part

    def wrong_length(model):
        ro = sample(model, "", 2000, 10, generator=torch.Generator().manual_seed(9), max_len=10)
        lengths = [len(t) for t in ro.texts if t[:3] != "bab"]
        return np.mean(lengths), len(lengths) / 2000

    for seed in (0, 1):
        out = {}
        for loss_type in ("grpo", "dr_grpo"):
            model = CharLM("ab", embed_dim=8, hidden_dim=16, seed=seed)
            grpo(model, env, GRPOConfig(n_iterations=25, batch_size=64, num_generations=8, beta=0.0,
                                        learning_rate=5e-3, loss_type=loss_type, seed=seed))
            out[loss_type] = wrong_length(model)
        assert out["grpo"][0] > out["dr_grpo"][0] + 1.0, out            # wrong answers grow longer under grpo
        assert abs(out["grpo"][1] - out["dr_grpo"][1]) < 0.05, out     # at about the same success rate
