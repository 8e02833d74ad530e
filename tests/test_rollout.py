"""Prompted sampling and scoring, KL estimators and the prompted trainers, against plain loops and exact sums."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from rlcore.envs.language import CharLanguageEnv, TextReward, char_reward, from_function
from rlcore.lm import (
    CharLM,
    PPOConfig,
    ReinforceConfig,
    enumerate_completions,
    exact_expected_reward,
    exact_kl,
    kl_estimate,
    leave_one_out_baseline,
    ppo,
    reinforce,
    rollout_rewards,
    sample,
    score,
    sequence_logprob,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PROMPTS = ("", "a", "ba", "abb")


def tiny(seed=0, chars="ab"):
    return CharLM(chars, embed_dim=8, hidden_dim=16, seed=seed)


def stepwise_logprob(model, prompt, completion_ids, temperature=1.0):
    """log pi(y | x) by feeding one token at a time through the GRU: the reference for batched scoring."""
    v = model.vocab
    with torch.no_grad():
        hidden, total = None, 0.0
        inp = [v.BOS] + v.encode(prompt)
        for tok in inp[:-1]:
            _, _, hidden = model.step(torch.tensor([[tok]]), hidden)
        last = inp[-1]
        for a in completion_ids:
            logits, _, hidden = model.step(torch.tensor([[last]]), hidden)
            total += float(torch.log_softmax(logits[0, 0] / temperature, -1)[a])
            last = a
    return total


# ------------------------------------------------------------------ the Rollout
def test_prompt_and_completion_are_kept_apart():
    m = tiny()
    v = m.vocab
    ro = sample(m, PROMPTS, n_per_prompt=8, max_new_tokens=6, generator=torch.Generator().manual_seed(0), max_len=6)
    assert len(ro) == 32 and ro.prompts == tuple(p for p in PROMPTS for _ in range(8))
    assert ro.group_ids.tolist() == [g for g in range(4) for _ in range(8)]
    assert v.PAD != v.EOS
    for b in range(len(ro)):
        p, n, P = ro.prompts[b], int(ro.lengths[b]), int(ro.prompt_lengths[b])
        assert P == len(p) and ro.tokens[b, 0] == v.BOS
        assert ro.tokens[b, 1: 1 + P].tolist() == v.encode(p)            # the prompt, as given
        assert ro.tokens[b, 1 + P: 1 + P + n].tolist() == ro.completions[b, :n].tolist()
        assert (ro.tokens[b, 1 + P + n:] == v.PAD).all() and (ro.completions[b, n:] == v.PAD).all()
        assert ro.mask[b, :n].all() and not ro.mask[b, n:].any()
        if ro.eos[b]:
            assert ro.completions[b, n - 1] == v.EOS                   # EOS is inside the mask
        else:
            assert P + n == 6                                          # stopped by the length limit
        assert ro.full_texts[b] == p + ro.texts[b] and v.EOS not in ro.completions[b, : n - int(ro.eos[b])]
    assert ro.eos.any() and (~ro.eos).any()
    assert "32 completions of 4 prompts" in repr(ro)


def test_batched_scores_equal_a_token_by_token_loop_and_ignore_the_batch():
    m = tiny(seed=1)
    ro = sample(m, PROMPTS, 6, 6, temperature=0.8, generator=torch.Generator().manual_seed(1), max_len=6)
    with torch.no_grad():
        logp = score(m, ro)[0]
    for b in range(len(ro)):
        n = int(ro.lengths[b])
        ref = stepwise_logprob(m, ro.prompts[b], ro.completions[b, :n].tolist(), 0.8)
        assert float(logp[b].sum()) == pytest.approx(ref, abs=1e-5)
    alone = score(m, ro.index(slice(7, 8)))[0]           # the same row scored in a batch of one
    torch.testing.assert_close(alone[0, : alone.shape[1]], logp[7, : alone.shape[1]], atol=1e-6, rtol=0)
    torch.testing.assert_close(ro.logprobs, logp, atol=1e-5, rtol=0)


def test_max_new_tokens_caps_every_row_whatever_its_prompt_length():
    ro = sample(tiny(seed=6), ("", "abb"), 64, 2, temperature=0.5, generator=torch.Generator().manual_seed(3))
    assert int(ro.lengths.max()) == 2 and (ro.lengths <= 2).all()
    assert all(len(t) <= 2 for t in ro.texts) and ro.completions.shape[1] == 2


def test_entropy_of_each_step_equals_a_plain_sum():
    m = tiny(seed=5)
    ro = sample(m, ("ab",), 4, 3, temperature=1.3, generator=torch.Generator().manual_seed(2), max_len=5)
    with torch.no_grad():
        ent = score(m, ro)[2]
        for b in range(len(ro)):
            seq = ro.tokens[b].tolist()
            logits, _ = m(torch.tensor([seq[:-1]]))
            for j in range(int(ro.lengths[b])):
                p = torch.softmax(logits[0, 2 + j] / 1.3, -1).tolist()      # position after BOS + prompt
                want = -sum(q * math.log(q) for q in p if q > 0)
                assert float(ent[b, j]) == pytest.approx(want, abs=1e-5)
            assert (ent[b, int(ro.lengths[b]):] == 0).all()


def test_completion_probabilities_sum_to_one_per_prompt_and_sampling_matches_them():
    m = tiny(seed=2)
    every = enumerate_completions(m.vocab, 4, PROMPTS[:3])
    n_chars = 2
    for g, p in enumerate(PROMPTS[:3]):
        room = 4 - len(p)
        assert int((every.group_ids == g).sum()) == sum(n_chars**t for t in range(room + 1))
    with torch.no_grad():
        prob = sequence_logprob(m, every).exp()
    for g in range(3):
        assert float(prob[every.group_ids == g].sum()) == pytest.approx(1.0, abs=1e-5)
    # empirical frequencies of the completions of "ba" against their exact probabilities
    n = 20_000
    ro = sample(m, "ba", n, 4, generator=torch.Generator().manual_seed(3), max_len=4)
    counts = {}
    for t, e in zip(ro.texts, ro.eos.tolist()):
        counts[(t, e)] = counts.get((t, e), 0) + 1
    for i in torch.nonzero(every.group_ids == 2).squeeze(-1).tolist():
        key = (every.texts[i], bool(every.eos[i]))
        q = float(prob[i])
        assert abs(counts.get(key, 0) / n - q) < 5 * math.sqrt(q * (1 - q) / n) + 1e-4, key


def test_exact_expected_reward_with_prompts_equals_a_plain_sum():
    m = tiny(seed=3)

    def rule(text):
        return float(text.count("b")) - 0.5 * len(text)

    env = CharLanguageEnv("ab", 4, delayed_reward=from_function(rule), prompts=("a", "bb"))
    total = 0.0
    for p in env.prompts:   # every completion, its probability by the token-by-token loop, the env's reward
        room = env.max_len - len(p)
        for t in range(room + 1):
            for chars in itertools.product(range(2), repeat=t):
                ids = list(chars) + ([m.vocab.EOS] if t < room else [])
                total += math.exp(stepwise_logprob(m, p, ids)) * rule(p + m.vocab.decode(ids)) / len(env.prompts)
    assert float(exact_expected_reward(m, env).detach()) == pytest.approx(total, abs=1e-5)


def test_rollout_rewards_score_each_batch_with_one_call_per_reward():
    calls = []

    class Counting(TextReward):
        name = "counting"

        def score(self, texts):
            calls.append(len(texts))
            return np.array([float(len(t)) for t in texts])

    env = CharLanguageEnv("ab", 5, delayed_reward=Counting(), immediate_reward=char_reward({"b": -0.1}),
                          prompts=("a", "bb"))
    ro = sample(tiny(), env.prompts, 16, 5, generator=torch.Generator().manual_seed(4), max_len=5)
    r = rollout_rewards(env, ro)
    assert calls == [32]                                  # the whole batch at once
    for b in range(len(ro)):                              # and the same numbers as stepping the env
        env.reset(options={"prompt": ro.prompts[b]})
        stepped = [env.step(int(a))[1] for a in ro.completions[b, : int(ro.lengths[b])]]
        np.testing.assert_allclose(r[b, : len(stepped)].numpy(), stepped, rtol=0, atol=1e-12)


def test_rollout_rewards_refuse_a_rollout_cut_before_the_env_ends():
    env = CharLanguageEnv("ab", 6, delayed_reward=lambda t: 1.0)
    ro = sample(tiny(), "", 64, 2, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="max_len"):
        rollout_rewards(env, ro)


@pytest.mark.parametrize("kw, match", [({"prompts": []}, "prompts"), ({"prompts": ["abc"]}, "not in the vocabulary"),
                                       ({"prompts": ["ab"], "max_len": 2}, "no room"),
                                       ({"n_per_prompt": 0}, "n_per_prompt"), ({"max_new_tokens": 2.5}, "max_new")])
def test_sample_rejects_bad_prompts_and_sizes(kw, match):
    args = {"prompts": [""], "n_per_prompt": 2, "max_new_tokens": 3} | kw
    with pytest.raises(ValueError, match=match):
        sample(tiny(), **args)


# ---------------------------------------------------------------- KL estimators
def test_kl_estimators_by_hand():
    logp = torch.tensor([-1.0, -2.0, -0.5])
    ref = torch.tensor([-1.5, -1.0, -0.5])
    log_r = ref - logp                                   # [-0.5, 1.0, 0.0]
    torch.testing.assert_close(kl_estimate(logp, ref, "k1"), torch.tensor([0.5, -1.0, 0.0]))
    torch.testing.assert_close(kl_estimate(logp, ref, "k2"), torch.tensor([0.125, 0.5, 0.0]))
    expected_k3 = torch.tensor([math.exp(-0.5) - 1 + 0.5, math.e - 1 - 1.0, 0.0])
    torch.testing.assert_close(kl_estimate(logp, ref, "k3"), expected_k3)
    assert (kl_estimate(logp, ref, "k3") >= 0).all() and log_r.numel() == 3
    with pytest.raises(ValueError, match="kl_estimator"):
        kl_estimate(logp, ref, "k4")


def test_k2_is_biased_upwards_and_k3_is_not_on_exact_toy():
    """Against the exact sequence KL: the sum over tokens of k1 and k3 is unbiased, k2 is not (tested in test_pg)."""
    pi, ref = tiny(seed=4), tiny(seed=5)
    every = enumerate_completions(pi.vocab, 3)
    with torch.no_grad():
        lp, lp_ref = score(pi, every)[0], score(ref, every)[0]
    w = lp.sum(-1).exp()
    exact = exact_kl(pi, ref, 3)
    for est in ("k1", "k3"):
        expect = float((w * torch.where(every.mask, kl_estimate(lp, lp_ref, est), 0.0).sum(-1)).sum())
        assert expect == pytest.approx(exact, abs=1e-5), est
    k2 = float((w * torch.where(every.mask, kl_estimate(lp, lp_ref, "k2"), 0.0).sum(-1)).sum())
    assert abs(k2 - exact) > 1e-4


def test_sequence_kl_ignores_whatever_lies_outside_the_mask():
    from rlcore.lm import kl_to_reference

    logp = torch.tensor([[-1.0, -2.0, 5.0], [-0.5, 7.0, 9.0]])
    ref = torch.tensor([[-1.5, -1.0, -3.0], [-0.5, -4.0, 2.0]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    for est in ("k1", "k2", "k3"):
        want = torch.stack([kl_estimate(logp[b, :n], ref[b, :n], est).sum() for b, n in ((0, 2), (1, 1))])
        torch.testing.assert_close(kl_to_reference(logp, ref, mask, est), want)


def test_leave_one_out_baseline_against_a_loop():
    G = torch.tensor([[1.0, 2.0], [3.0, 0.0], [5.0, 1.0], [7.0, 4.0]])
    for size in (None, 2, 4):
        n = 4 if size is None else size
        want = torch.zeros_like(G)
        for i in range(4):
            group = [j for j in range(4) if j // n == i // n and j != i]
            want[i] = G[group].mean(0)
        torch.testing.assert_close(leave_one_out_baseline(G, size), want)
    assert (leave_one_out_baseline(G, 1) == 0).all()
    with pytest.raises(ValueError, match="group_size"):
        leave_one_out_baseline(G, 3)


# -------------------------------------------------------- trainers with prompts
def test_a_trainer_batch_is_batch_size_rows_in_groups_of_num_generations():
    from rlcore.lm.training import sample_batch

    env = CharLanguageEnv("ab", 4, delayed_reward=lambda t: 0.0, prompts=PROMPTS)
    ro = sample_batch(tiny(), env, PPOConfig(batch_size=24, num_generations=4), torch.Generator().manual_seed(0))
    assert len(ro) == 24 and ro.group_ids.tolist() == [g for g in range(6) for _ in range(4)]
    for g in range(6):
        assert len({ro.prompts[b] for b in range(4 * g, 4 * g + 4)}) == 1
    assert len(set(ro.prompts)) > 1                       # prompts are drawn from the env's list
    assert all(len(t) == 4 or e for t, e in zip(ro.full_texts, ro.eos.tolist()))   # every row ends where the env does



def echo_env():
    """Copy the prompt's character: the reward needs the prompt, so a policy blind to it gets 0.5."""
    return CharLanguageEnv("ab", 2, delayed_reward=lambda t: float(len(t) == 2 and t[1] == t[0]), prompts=("a", "b"))


@pytest.mark.parametrize("trainer", ["ppo", "reinforce"])
def test_trainers_learn_a_prompted_task(trainer):
    env = echo_env()
    model = tiny(seed=6)
    start = float(exact_expected_reward(model, env).detach())
    if trainer == "ppo":
        res = ppo(model, env, PPOConfig(n_iterations=40, batch_size=32, num_generations=4, learning_rate=2e-2))
    else:
        res = reinforce(model, env, ReinforceConfig(n_iterations=60, batch_size=32, num_generations=4,
                                                    learning_rate=2e-2))
    end = float(exact_expected_reward(model, env).detach())
    assert start < 0.5 and end > 0.9, (start, end)
    assert len(res.history["reward"]) > 0


@pytest.mark.parametrize("penalty, estimator, pulls", [
    ("reward", "k1", True),    # score-function gradient of KL(pi || ref), exactly
    ("loss", "k2", True),      # its pathwise gradient is that same gradient
    ("loss", "k3", True),      # the gradient of KL(ref || pi): still towards the reference
    ("reward", "k3", False),   # grad KL(pi || ref) - grad KL(ref || pi): drifts away
    ("loss", "k1", False),     # zero-mean gradient on fixed samples: noise that raises entropy
])
def test_kl_anchor_placement(penalty, estimator, pulls):
    """With no task reward only the KL term acts: the right placements shrink the exact KL, the wrong ones do not."""
    env = CharLanguageEnv("ab", 3, delayed_reward=lambda t: 0.0)
    model, ref = tiny(seed=7), tiny(seed=8)
    before = exact_kl(model, ref, 3)
    ppo(model, env, PPOConfig(n_iterations=30, batch_size=64, kl_coef=1.0, kl_penalty=penalty,
                              kl_estimator=estimator, learning_rate=1e-2), ref_model=ref)
    after = exact_kl(model, ref, 3)
    assert (after < 0.5 * before) if pulls else (after > before), (before, after)
    model = tiny(seed=7)                                 # REINFORCE places the KL the same way
    reinforce(model, env, ReinforceConfig(n_iterations=30, batch_size=64, kl_coef=1.0, kl_penalty=penalty,
                                          kl_estimator=estimator, learning_rate=1e-2), ref_model=ref)
    after = exact_kl(model, ref, 3)
    assert (after < 0.5 * before) if pulls else (after > before), ("reinforce", before, after)


def test_ppo_with_top_k_and_top_p_keeps_finite_weights_for_20_iterations():
    env = CharLanguageEnv("abc", 5, delayed_reward=lambda t: float("c" in t))
    model = tiny(seed=9, chars="abc")
    res = ppo(model, env, PPOConfig(n_iterations=20, batch_size=32, top_k=2, top_p=0.8, ent_coef=0.01,
                                    kl_coef=0.1, learning_rate=1e-2))
    assert all(torch.isfinite(p).all() for p in model.parameters())
    for key in ("kl_ref", "entropy", "approx_kl", "reward"):
        assert np.isfinite(res.history[key]).all(), key
    assert len(res.history["reward"]) == 20
