"""Offline alignment from a fixed log (filtered cloning, AWR, offline DPO) against online PPO, on the enumerable toy.

References written here: AWR's weights and loss as plain loops over the log with log-probabilities fed token by
token, the filtered-cloning selection as a sorted list, the preference pairs as a double loop, and the exact gold
reward and KL of every trained model as a sum over completions listed with itertools.
"""

import itertools
import math
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest
import torch

from rlcore.advanced.offline_lm import (
    TextLog,
    awr,
    awr_weights,
    collect_log,
    compare_offline,
    evaluate_method,
    filtered_bc,
    fit_weighted,
    log_preference_pairs,
    top_fraction_indices,
    weighted_nll,
)
from rlcore.envs.rewards import from_function
from rlcore.envs.vocabulary import Vocabulary
from rlcore.lm import CharLM, pretrain
from rlcore.rlhf.overoptimisation import ToyEvaluator

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PROMPTS, MAX_LEN, N_PER_PROMPT = ("a", "b"), 5, 64
HEADLINE_SEEDS = (0, 1)
VOCAB = Vocabulary("ab")


def gold_rule(text):
    """The judge: likes 'b's after the prompt, dislikes length (as in test_rlhf.py)."""
    return float(text[1:].count("b")) - 0.3 * len(text)


GOLD = from_function(gold_rule, "gold")


def logprob_by_hand(model, prompt, completion, max_len):
    """log pi(completion | prompt), one token at a time; EOS is scored unless the text fills max_len."""
    v = model.vocab
    targets = v.encode(completion) + ([v.EOS] if len(prompt) + len(completion) < max_len else [])
    logp, hidden, feed = 0.0, None, [v.BOS] + v.encode(prompt)
    with torch.no_grad():
        for tok in targets:
            logits, _, hidden = model.step(torch.tensor([feed]), hidden)
            logp += float(torch.log_softmax(logits[0, -1].double(), -1)[tok])
            feed = [tok]
    return logp


def exact_by_hand(model, ref):
    """(mean_x sum_y pi(y|x) gold(x y), mean_x sum_y pi(y|x) log(pi/pi_ref)) over every completion of every prompt."""
    gold, kl = 0.0, 0.0
    for p in PROMPTS:
        for n in range(MAX_LEN - len(p) + 1):
            for chars in itertools.product("ab", repeat=n):
                c = "".join(chars)
                lp, lq = logprob_by_hand(model, p, c, MAX_LEN), logprob_by_hand(ref, p, c, MAX_LEN)
                gold += math.exp(lp) * gold_rule(p + c) / len(PROMPTS)
                kl += math.exp(lp) * (lp - lq) / len(PROMPTS)
    return gold, kl


@pytest.fixture(scope="module")
def toy(one_torch_thread):
    ref = CharLM("ab", embed_dim=16, hidden_dim=32, seed=0)
    pretrain(ref, ["ab", "aab", "ba", "abba", "b", "aa"], steps=100, seed=0, max_len=MAX_LEN)
    return ref, ToyEvaluator(ref, MAX_LEN, PROMPTS, {"gold": GOLD})


@pytest.fixture(scope="module")
def headline(toy):
    ref, ev = toy
    out = {}
    for seed in HEADLINE_SEEDS:
        log = collect_log(ref, PROMPTS, GOLD, N_PER_PROMPT, MAX_LEN, seed=seed)
        out[seed] = log, compare_offline(ref, log, GOLD, ev, seed=seed)
    return out


def hand_log(rewards=(1.0, 0.5, -0.3, 1.0, 2.0, 3.0, 0.5)):
    return TextLog(("a", "b", "a", "a", "b", "a", "b"), ("b", "", "bb", "ab", "a", "bbbb", "ba"), np.array(rewards),
                   VOCAB, MAX_LEN)


# ------------------------------------------------------------------ the formulas, against plain loops
@pytest.mark.parametrize("temperature, max_weight", [(0.5, None), (0.5, 2.0), (2.0, 1.1)])
def test_awr_weights_and_loss_match_a_plain_loop(temperature, max_weight):
    log = hand_log()
    expected = []
    for i in range(len(log)):
        same = [log.rewards[j] for j in range(len(log)) if log.prompts[j] == log.prompts[i]]
        w = math.exp((log.rewards[i] - sum(same) / len(same)) / temperature)
        expected.append(w if max_weight is None else min(w, max_weight))
    w = awr_weights(log, temperature, max_weight)
    np.testing.assert_allclose(w, expected, rtol=1e-12)
    if max_weight is not None:
        assert (w == max_weight).any()                       # the clip is active on this log
    model = CharLM("ab", embed_dim=8, hidden_dim=16, seed=3)
    for idx in (None, [5, 0, 4]):
        rows = range(len(log)) if idx is None else idx
        loss = -sum(w[i] * logprob_by_hand(model, log.prompts[i], log.completions[i], MAX_LEN) for i in rows)
        assert float(weighted_nll(model, log, w, idx).detach()) == pytest.approx(loss / len(rows), rel=1e-5)


def test_fit_weighted_trains_only_on_entries_with_positive_weight():
    log = hand_log()
    w = np.zeros(len(log))
    w[[0, 5]] = 1.0
    model = CharLM("ab", embed_dim=8, hidden_dim=16, seed=3)
    before = [logprob_by_hand(model, log.prompts[i], log.completions[i], MAX_LEN) for i in (0, 5)]
    losses = fit_weighted(model, log, w, epochs=40, learning_rate=1e-2, batch_size=2, seed=0)
    after = [logprob_by_hand(model, log.prompts[i], log.completions[i], MAX_LEN) for i in (0, 5)]
    assert len(losses) == 40 and losses[-1] < 0.5 * losses[0]        # one batch of the two kept entries per epoch
    assert all(a > b + 1.0 for a, b in zip(after, before))


def reference_selection(log, q, per_prompt):
    """Sort each group's (-r, position) pairs and keep the first ceil(q n): ties go to earlier entries."""
    groups = [[i for i in range(len(log)) if log.prompts[i] == p] for p in dict.fromkeys(log.prompts)] \
        if per_prompt else [list(range(len(log)))]
    kept = []
    for g in groups:
        k = math.ceil(Fraction(str(q)) * len(g))
        kept += [i for _, i in sorted((-log.rewards[i], i) for i in g)[:k]]
    return sorted(kept)


@pytest.mark.parametrize("per_prompt", [True, False])
def test_filtered_selection_matches_a_sorted_list_with_ties_to_earlier_entries(per_prompt):
    rng = np.random.default_rng(0)
    for n in (1, 7, 10, 33):
        prompts = tuple(rng.choice(["a", "b", "ab"], n))
        log = TextLog(prompts, tuple("b" * int(k) for k in rng.integers(0, 3, n)),
                      rng.integers(0, 3, n).astype(float), VOCAB, MAX_LEN)       # rewards in {0, 1, 2}: many ties
        for q in (0.1, 0.25, 0.3, 0.5, 0.99, 1.0):
            assert top_fraction_indices(log, q, per_prompt).tolist() == reference_selection(log, q, per_prompt)
    ties = TextLog(("a",) * 10, ("b",) * 10, np.array([1.0] * 9 + [0.0]), VOCAB, MAX_LEN)
    assert top_fraction_indices(ties, 0.3, per_prompt).tolist() == [0, 1, 2]   # 0.3 * 10 is 3, not 4
    assert top_fraction_indices(ties, 1.0, per_prompt).tolist() == list(range(10))


def reference_pairs(log):
    out = []
    for p in dict.fromkeys(log.prompts):
        rows = [i for i in range(len(log)) if log.prompts[i] == p]
        for a in range(len(rows)):
            for b in range(a + 1, len(rows)):
                i, j = rows[a], rows[b]
                if log.completions[i] == log.completions[j] or log.rewards[i] == log.rewards[j]:
                    continue
                hi, lo = (i, j) if log.rewards[i] > log.rewards[j] else (j, i)
                assert log.rewards[hi] > log.rewards[lo] and log.prompts[hi] == log.prompts[lo]
                out.append((p, log.completions[hi], log.completions[lo]))
    return out


def test_preference_pairs_from_the_log_match_a_reference_loop(toy):
    ref, _ = toy
    log = collect_log(ref, PROMPTS, GOLD, 30, MAX_LEN, noise=0.3, seed=4)    # noise: one text, several rewards
    assert len(set(zip(log.prompts, log.completions))) < len(log)            # the log has duplicates
    expected = reference_pairs(log)
    data = log_preference_pairs(log)
    got = list(zip(data.prompts, data.chosen, data.rejected))
    assert got == expected and data.soft_label is None
    capped = log_preference_pairs(log, max_pairs_per_prompt=50, seed=1)
    per_prompt = Counter(capped.prompts)
    assert per_prompt == {p: min(50, Counter(data.prompts)[p]) for p in PROMPTS}
    assert not Counter(zip(capped.prompts, capped.chosen, capped.rejected)) - Counter(expected)   # a sub-multiset
    again = log_preference_pairs(log, max_pairs_per_prompt=50, seed=1)
    assert (again.chosen, again.rejected) == (capped.chosen, capped.rejected)
    small = hand_log()
    assert list(zip(*[getattr(log_preference_pairs(small), k) for k in ("prompts", "chosen", "rejected")])) == \
        reference_pairs(small)


def make_log(**kw):
    fields = dict(prompts=("a", "b"), completions=("b", "a"), rewards=np.array([1.0, 0.0]), vocab=VOCAB,
                  max_len=MAX_LEN)
    return TextLog(**{**fields, **kw})


@pytest.mark.parametrize("call, match", [
    (lambda: top_fraction_indices(make_log(), 0.0), r"top_fraction must lie in \(0, 1\], got 0.0"),
    (lambda: top_fraction_indices(make_log(), 1.5), "top_fraction"),
    (lambda: top_fraction_indices(make_log(), float("nan")), "top_fraction"),
    (lambda: top_fraction_indices(make_log(), 0.5, per_prompt=1), "per_prompt"),
    (lambda: awr_weights(make_log(), temperature=0.0), "temperature must be a finite number > 0, got 0.0"),
    (lambda: awr_weights(make_log(), temperature=-1), "temperature"),
    (lambda: awr_weights(make_log(), max_weight=0.0), "max_weight"),
    (lambda: make_log(prompts=(), completions=(), rewards=np.array([])), "empty log"),
    (lambda: make_log(completions=("b",)), r"completions and rewards must have one entry .* got 1 completions"),
    (lambda: make_log(rewards=np.array([1.0, 2.0, 3.0])), r"rewards of shape \(3,\)"),
    (lambda: make_log(rewards=np.array([1.0, np.nan])), "finite"),
    (lambda: make_log(completions=("bbbbb", "a")), "max_len"),
    (lambda: weighted_nll(CharLM("ab"), make_log(), np.ones(3)), r"weights must hold .* got shape \(3,\)"),
    (lambda: fit_weighted(CharLM("ab"), make_log(), np.zeros(2)), "all zeros"),
    (lambda: fit_weighted(CharLM("ab"), make_log(), np.ones(2), epochs=0), "epochs"),
    (lambda: collect_log(CharLM("ab"), PROMPTS, GOLD, 0, MAX_LEN), "n_per_prompt"),
    (lambda: collect_log(CharLM("ab"), PROMPTS, GOLD, 2, MAX_LEN, noise=-1.0), "noise"),
    (lambda: log_preference_pairs(make_log(), max_pairs_per_prompt=0), "max_pairs_per_prompt"),
    (lambda: log_preference_pairs(make_log()), "no pairs"),
])
def test_bad_inputs_raise_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_evaluation_inputs_are_checked(toy):
    ref, ev = toy
    with pytest.raises(ValueError, match="gold must name one of the evaluator's rewards"):
        evaluate_method("ref", ref, ev, 2, gold="proxy")
    other = TextLog(("ab",), ("b",), np.array([1.0]), VOCAB, MAX_LEN)
    with pytest.raises(ValueError, match=r"evaluator must be built on ref, the log's prompts \('ab',\)"):
        compare_offline(ref, other, GOLD, ev)
    log = TextLog(PROMPTS, ("b", "a"), np.array([1.0, 0.0]), VOCAB, MAX_LEN)
    with pytest.raises(ValueError, match="evaluator must be built on ref"):
        compare_offline(CharLM("ab", embed_dim=16, hidden_dim=32, seed=0), log, GOLD, ev)


# ------------------------------------------------------------------ the headline comparison
def test_each_offline_method_beats_the_reference_and_online_ppo_goes_further(headline):
    for seed, (log, res) in headline.items():
        ref_gold = res["reference"].gold_reward
        assert res["reference"].kl == pytest.approx(0.0, abs=1e-9)
        offline = [res[k] for k in ("filtered_bc", "awr", "offline_dpo")]
        for r in offline:                               # measured gains 0.31 to 0.45 on seeds 0, 1, 2
            assert r.gold_reward > ref_gold + 0.2, (seed, r)
            assert 0 < r.kl < 2.0 and r.log_size == len(log) == 2 * N_PER_PROMPT and r.fresh_samples == 0
        best = max(offline, key=lambda r: r.gold_reward)
        ppo_res = res["online_ppo"]                     # measured: gold + 0.38 or more, KL 3 times or more
        assert ppo_res.gold_reward > best.gold_reward + 0.2, (seed, ppo_res, best)
        assert ppo_res.kl > 2 * max(r.kl for r in offline) and ppo_res.fresh_samples > len(log)
        assert repr(ppo_res).count("\n") == 0 and "online_ppo: gold" in repr(ppo_res)


def test_the_reported_numbers_are_exact_sums_over_every_completion(headline, toy):
    ref, _ = toy
    _, res = headline[HEADLINE_SEEDS[0]]
    for name in ("reference", "filtered_bc", "awr", "offline_dpo", "online_ppo"):
        gold, kl = exact_by_hand(res[name].model, ref)
        assert res[name].gold_reward == pytest.approx(gold, abs=2e-5), name
        assert res[name].kl == pytest.approx(kl, abs=2e-5), name


def test_a_noisy_proxy_in_the_log_weakens_filtered_cloning(headline, toy):
    """Noise of std 0.5 on the logged reward makes the top quarter less good: measured -0.11 to -0.12 gold."""
    ref, ev = toy
    for seed, (log, res) in headline.items():
        noisy = collect_log(ref, PROMPTS, GOLD, N_PER_PROMPT, MAX_LEN, noise=0.5, seed=seed)
        assert noisy.completions == log.completions and not np.array_equal(noisy.rewards, log.rewards)
        got = evaluate_method("filtered_bc", filtered_bc(ref, noisy, 0.25, seed=seed), ev, len(noisy))
        assert res["reference"].gold_reward < got.gold_reward < res["filtered_bc"].gold_reward - 0.05


# ------------------------------------------------------------------ reproducibility
def test_same_seed_same_numbers_bit_for_bit(headline, toy):
    ref, ev = toy
    seed = HEADLINE_SEEDS[0]
    log, res = headline[seed]
    again = collect_log(ref, PROMPTS, GOLD, N_PER_PROMPT, MAX_LEN, seed=seed)
    assert again.completions == log.completions and np.array_equal(again.rewards, log.rewards)
    assert collect_log(ref, PROMPTS, GOLD, N_PER_PROMPT, MAX_LEN, seed=seed + 7).completions != log.completions
    rerun = compare_offline(ref, again, GOLD, ev, seed=seed)
    for name, r in res.items():
        assert (rerun[name].gold_reward, rerun[name].kl) == (r.gold_reward, r.kl), name
        for a, b in zip(rerun[name].model.state_dict().values(), r.model.state_dict().values()):
            assert torch.equal(a, b), name
    a, b = (awr(ref, log, epochs=2, seed=s).state_dict()["head.weight"] for s in (seed + 1, seed + 2))
    assert not torch.equal(a, b)                                     # the seed does matter (shuffling)
