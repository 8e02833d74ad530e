"""Constitutional AI / RLAIF in miniature (rlcore.advanced.rlaif), against references written here.

Every formula is checked against a plain loop, an enumeration or a hand-computed case; the headline claims
(stage 1 lowers the exact violation rate; a labeller that ignores the vowel principle lets the policy break it
more than a full-constitution labeller) are asserted with a margin at seeds 0 and 1.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from rlcore.advanced.constitution import TOY_CHARS, TOY_MAX_LEN, toy_constitution
from rlcore.advanced.rlaif import (
    AILabeller,
    agreement,
    careless_model,
    exact_stats,
    gold_scores,
    helpfulness,
    judge_scores,
    kl_sweep,
    label_pairs,
    rl_stage,
    run_rlaif,
    sample_pairs,
    supervised_stage,
    toy_evaluator,
)
from rlcore.lm.model import CharLM

pytestmark = pytest.mark.usefixtures("one_torch_thread")

C = toy_constitution()
PARTIAL = AILabeller(C.subset(["full_stop", "no_3_in_a_row"]))
FULL = AILabeller(C)
SEEDS = (0, 1)


# --- independent references ----------------------------------------------------------------------------------
def ref_words(text: str) -> list[str]:
    words, cur = [], ""
    for ch in text:
        if ch in " .":
            if cur:
                words.append(cur)
            cur = ""
        else:
            cur += ch
    return words + ([cur] if cur else [])


def ref_help(text: str) -> float:
    return len(ref_words(text)) + 0.5 * sum(ch == "b" for ch in text)


def ref_broken(text: str) -> dict[str, bool]:
    triple = any(text[i] == text[i + 1] == text[i + 2] for i in range(len(text) - 2))
    return {"full_stop": not text.endswith("."), "vowel_in_every_word": any("a" not in w for w in ref_words(text)),
            "no_3_in_a_row": triple}


def ref_score(text: str, names, penalty: float = 2.0) -> float:
    b = ref_broken(text)
    return ref_help(text) - penalty * sum(b[n] for n in names)


def all_texts() -> list[str]:
    return ["".join(c) for t in range(TOY_MAX_LEN + 1) for c in itertools.product(TOY_CHARS, repeat=t)]


@torch.no_grad()
def ref_distribution(model: CharLM) -> dict[str, float]:
    """pi(y) for every answer, token by token: level t feeds every prefix of length t its last token (one batch)."""
    v, out = model.vocab, {}
    prefixes, logps, tokens, hidden = [""], np.zeros(1), [v.BOS], None
    for t in range(TOY_MAX_LEN + 1):
        logits, _, hidden = model.step(torch.tensor(tokens)[:, None], hidden)
        lp = torch.log_softmax(logits[:, -1].double(), -1).numpy()
        nxt, nxt_lp, nxt_tok, rows = [], [], [], []
        for i, (pre, base) in enumerate(zip(prefixes, logps)):
            if t == TOY_MAX_LEN:  # at the limit the text ends without EOS
                out[pre] = math.exp(base)
                continue
            out[pre] = math.exp(base + lp[i, v.EOS])
            for ch in v.chars:
                nxt.append(pre + ch)
                nxt_lp.append(base + lp[i, v.stoi[ch]])
                nxt_tok.append(v.stoi[ch])
                rows.append(i)
        if t < TOY_MAX_LEN:
            prefixes, logps, tokens, hidden = nxt, np.array(nxt_lp), nxt_tok, hidden[:, rows]
    return out


# --- formulas --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, h", [("", 0.0), ("ab ab.", 3.0), ("b b b.", 4.5), ("aaa", 1.0), (" . ", 0.0),
                                     ("bbbbbb", 4.0), ("a.b", 2.5)])
def test_helpfulness_hand_cases(text, h):
    assert helpfulness([text])[0] == h


def test_helpfulness_and_gold_match_a_loop_over_every_answer():
    texts = all_texts()
    assert len(texts) == 5461
    np.testing.assert_array_equal(helpfulness(texts), [ref_help(t) for t in texts])
    np.testing.assert_array_equal(gold_scores(texts), [ref_score(t, C.names) for t in texts])
    np.testing.assert_array_equal(judge_scores(texts, C.subset(["full_stop"]), 0.5),
                                  [ref_score(t, ["full_stop"], 0.5) for t in texts])


def test_gold_hand_cases():
    # "b b b.": 3 words + 3 * 0.5, one broken principle (vowels) -> 4.5 - 2; "bbbbbb": 1 + 3, all three broken
    np.testing.assert_array_equal(gold_scores(["b b b.", "bbbbbb", "ab ab."]), [2.5, -2.0, 3.0])


def test_soft_labels_match_a_loop_with_noise_and_subset():
    rng = np.random.default_rng(5)
    texts = all_texts()
    first = [texts[i] for i in rng.integers(0, len(texts), 300)]
    second = [texts[i] for i in rng.integers(0, len(texts), 300)]
    lab = AILabeller(C.subset(["vowel_in_every_word"]), temperature=0.7, noise=0.15, penalty=1.5)
    ref = []
    for a, b in zip(first, second):
        z = (ref_score(a, ["vowel_in_every_word"], 1.5) - ref_score(b, ["vowel_in_every_word"], 1.5)) / 0.7
        s = 1 / (1 + math.exp(-z))
        ref.append(0.85 * s + 0.15 * (1 - s))
    np.testing.assert_allclose(lab.prob_first(first, second), ref, rtol=0, atol=1e-12)


def test_label_pairs_orders_by_the_labeller_and_drops_identical_pairs():
    first, second = ("ab.", "b b b", "aa.", "ba."), ("b b b", "ab.", "aa.", "bbb.")
    data = label_pairs(PARTIAL, first, second, CharLM(TOY_CHARS).vocab)
    assert len(data) == 3  # ("aa.", "aa.") carries no preference
    for c, r, q in zip(data.chosen, data.rejected, data.labels):
        names = PARTIAL.constitution.names
        assert ref_score(c, names) >= ref_score(r, names)
        z = (ref_score(c, names) - ref_score(r, names)) / PARTIAL.temperature
        assert q == pytest.approx(1 / (1 + math.exp(-z)), abs=1e-12)


def test_agreement_matches_a_double_loop():
    rng = np.random.default_rng(2)
    texts = all_texts()
    first = [texts[i] for i in rng.integers(0, len(texts), 200)] + ["ab.", "ab."]
    second = [texts[i] for i in rng.integers(0, len(texts), 200)] + ["ba.", "bb."]
    p = rng.random(len(first))
    p[:10] = 0.5  # the AI's ties count one half
    hits = count = 0.0
    for i in range(len(first)):  # outer loop: pairs; inner loop: principles, to build the gold difference
        d = ref_help(first[i]) - ref_help(second[i])
        for name in C.names:
            d -= 2.0 * (ref_broken(first[i])[name] - ref_broken(second[i])[name])
        if d == 0:
            continue
        count += 1
        hits += 0.5 if p[i] == 0.5 else float((p[i] > 0.5) == (d > 0))
    assert agreement(first, second, p) == pytest.approx(hits / count, abs=1e-15)
    # hand case: gold prefers "ab." to "bb." (broken vowel); the AI says 0.2 -> disagree; ("ab.", "ba.") ties
    assert agreement(["ab.", "ab."], ["bb.", "ba."], np.array([0.2, 0.9])) == 0.0


def test_full_labeller_agrees_with_gold_and_noise_does_not_move_the_preferred_side():
    first, second = sample_pairs(CharLM(TOY_CHARS, 8, 16, seed=1), 300, seed=4)
    assert agreement(first, second, FULL.prob_first(first, second)) == 1.0
    noisy = AILabeller(C, noise=0.3)
    assert agreement(first, second, noisy.prob_first(first, second)) == 1.0
    assert agreement(first, second, PARTIAL.prob_first(first, second)) < 1.0


def test_exact_stats_match_token_by_token_enumeration():
    model, ref = CharLM(TOY_CHARS, 8, 16, seed=3), CharLM(TOY_CHARS, 8, 16, seed=4)
    pi, pi_ref = ref_distribution(model), ref_distribution(ref)
    assert sum(pi.values()) == pytest.approx(1.0, abs=1e-5)
    st = exact_stats("x", model, toy_evaluator(ref))
    viol = sum(p * any(ref_broken(t).values()) for t, p in pi.items())
    assert st.violation_rate == pytest.approx(viol, abs=1e-5)
    assert st.helpfulness == pytest.approx(sum(p * ref_help(t) for t, p in pi.items()), abs=1e-5)
    for name in C.names:
        assert st.per_principle[name] == pytest.approx(sum(p * ref_broken(t)[name] for t, p in pi.items()), abs=1e-5)
    assert st.kl == pytest.approx(sum(p * math.log(p / pi_ref[t]) for t, p in pi.items()), abs=1e-4)


# --- the pipeline ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stages():
    out = {}
    for seed in SEEDS:
        start = careless_model(seed)
        sft, revisions = supervised_stage(start, seed=seed)
        out[seed] = (start, sft, revisions)
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_stage_one_revisions_comply_and_lower_the_exact_violation_rate(stages, seed):
    start, sft, revisions = stages[seed]
    assert not any(any(ref_broken(t).values()) for t in revisions)
    ev = toy_evaluator(start)
    before, after = exact_stats("start", start, ev), exact_stats("sft", sft, ev)
    assert before.violation_rate > 0.8  # careless: most answers break a principle
    assert after.violation_rate < 0.5 * before.violation_rate
    assert after.helpfulness < before.helpfulness  # the constitution costs helpfulness


@pytest.mark.parametrize("seed", SEEDS)
def test_stage_two_partial_labeller_lets_the_ignored_principle_be_broken(stages, seed):
    start, sft, _ = stages[seed]
    full = run_rlaif(FULL, seed, start=start, sft=sft)
    part = run_rlaif(PARTIAL, seed, start=start, sft=sft)
    assert full.agreement == 1.0 and 0.5 < part.agreement < 1.0
    v_full, v_part = full.rl.per_principle["vowel_in_every_word"], part.rl.per_principle["vowel_in_every_word"]
    assert v_part > 2 * v_full and v_part > v_full + 0.01
    assert full.rl.helpfulness > full.sft.helpfulness  # RLAIF buys back helpfulness
    assert full.rl.violation_rate < full.start.violation_rate


def test_kl_sweep_gives_more_kl_and_helpfulness_at_weaker_anchor(stages):
    _, sft, _ = stages[0]
    strong, weak = kl_sweep(sft, FULL, [1.0, 0.1], seed=0)
    assert strong.strength == 1.0 and weak.strength == 0.1
    assert weak.kl > strong.kl + 0.3
    assert weak.helpfulness > strong.helpfulness


def test_ppo_path_runs_and_moves_the_policy(stages):
    _, sft, _ = stages[0]
    model, data, agree = rl_stage(sft, PARTIAL, 64, "ppo", 0.1, seed=0, epochs=3, ppo_iterations=3)
    st = exact_stats("ppo", model, toy_evaluator(sft))
    assert st.kl > 0 and np.isfinite(st.helpfulness) and 0 <= st.violation_rate <= 1
    assert len(data) <= 64 and 0 < agree <= 1


def test_same_seed_same_numbers(stages):
    _, sft, _ = stages[0]
    a = exact_stats("a", rl_stage(sft, PARTIAL, 128, seed=3, epochs=2)[0], toy_evaluator(sft))
    b = exact_stats("a", rl_stage(sft, PARTIAL, 128, seed=3, epochs=2)[0], toy_evaluator(sft))
    assert a == b
    m1, m2 = careless_model(7, n_lines=50, steps=10), careless_model(7, n_lines=50, steps=10)
    assert all(torch.equal(x, y) for x, y in zip(m1.state_dict().values(), m2.state_dict().values()))
    assert sample_pairs(m1, 20, seed=1) == sample_pairs(m2, 20, seed=1)


@pytest.mark.parametrize("call, match", [
    (lambda: helpfulness("ab"), "texts must be a sequence"),
    (lambda: AILabeller(C, temperature=0.0), "temperature"),
    (lambda: AILabeller(C, noise=1.5), "noise"),
    (lambda: AILabeller("all"), "constitution must be a Constitution"),
    (lambda: agreement(["a"], ["b"], np.array([0.5, 0.5])), "one entry per pair"),
    (lambda: agreement(["ab."], ["ba."], np.array([0.5])), "ties every pair"),
    (lambda: label_pairs(FULL, ["a"], ["a"], CharLM(TOY_CHARS).vocab), "at least one pair"),
    (lambda: rl_stage(CharLM(TOY_CHARS), FULL, method="sgd"), "method must be 'dpo' or 'ppo', got 'sgd'"),
    (lambda: rl_stage(CharLM(TOY_CHARS), FULL, strength=0.0), "strength"),
    (lambda: kl_sweep(CharLM(TOY_CHARS), FULL, []), "strengths must hold"),
    (lambda: careless_model(-1), "seed"),
])
def test_bad_input_raises_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_reprs_are_one_line():
    st = exact_stats("x", CharLM(TOY_CHARS, 8, 16, seed=0), toy_evaluator(CharLM(TOY_CHARS, 8, 16, seed=1)))
    for obj in (st, FULL, PARTIAL):
        assert "\n" not in repr(obj) and len(repr(obj)) < 200
    assert "vowel_in_every_word" not in repr(PARTIAL)
