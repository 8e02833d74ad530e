"""The healthcare language policy: prompts, the gold reward from exact Q*, the exact report, and training.

References written here: value iteration as a plain loop over the model's transition arrays,
a token-by-token pass through the network, and policy evaluation by a linear solve.
"""

import copy

import numpy as np
import pytest
import torch
from reference_loops import deterministic_policy_q, token_by_token_logprob

from rlcore.advanced.clinical_policy import answer_probabilities, evaluate_clinical_policy
from rlcore.advanced.clinical_prompts import (
    CLINICAL_CHARS,
    MAX_LEN,
    TREATMENT_CODES,
    clinical_task,
    clinician_corpus,
    clinician_policy,
    decode_prompt,
    encode_prompt,
    parse_treatment,
)
from rlcore.envs.language import CharLanguageEnv
from rlcore.lm.config import PPOConfig
from rlcore.lm.model import CharLM
from rlcore.lm.ppo import ppo
from rlcore.lm.pretrain import pretrain
from rlcore.rlhf.dpo import DPOConfig, dpo
from rlcore.rlhf.preferences import Labeller, simulate_preferences
from rlcore.rlhf.reward_model import RewardConfig, train_reward_model


@pytest.fixture(scope="module")
def task():
    return clinical_task()


def reference_q(mdp, mask, sweeps=3000):
    """Q*(s, a) = sum_k p_k [r_k + gamma (1 - done_k) max_{a' allowed} Q*(s'_k, a')], iterated from zero."""
    V = np.zeros(mdp.n_states)
    for _ in range(sweeps):
        Q = np.zeros((mdp.n_states, mdp.n_actions))
        for k in range(mdp.n_successors):
            cont = mdp.gamma * (1 - mdp.done[:, :, k]) * V[mdp.next_state[:, :, k]]
            Q += mdp.prob[:, :, k] * (mdp.reward[:, :, k] + cont)
        V = np.where(mask, Q, -np.inf).max(axis=1)
    return Q, V


def test_prompts_round_trip_and_refuse_bad_input():
    for group, code in (("adult", "a"), ("older", "o"), ("ckd", "k")):
        for s in range(15):
            prompt = encode_prompt(group, s)
            assert prompt == f"{code}{s // 3}{s % 3}>" and decode_prompt(prompt) == (group, s)
    for bad in ("a31", "x31>", "a51>", "a03>", "a31>>", 5, ""):
        with pytest.raises(ValueError, match="prompt must look like"):
            decode_prompt(bad)
    for args in (("adult", 15), ("adult", -1), ("adult", 1.0), ("adult", True), ("child", 0)):
        with pytest.raises(ValueError, match="state|subgroup"):
            encode_prompt(*args)


def test_only_exact_treatment_words_count():
    assert [parse_treatment(w) for w in TREATMENT_CODES] == [0, 1, 2, 3, 4]
    for bad in ("", "me", "metx", "Met", "life ", "ins."):
        assert parse_treatment(bad) is None
    with pytest.raises(TypeError, match="completion"):
        parse_treatment(None)
    assert set("".join(TREATMENT_CODES)) <= set(CLINICAL_CHARS) and MAX_LEN == 4 + 5 + 1


def test_ground_truth_is_value_iteration_with_the_mask(task):
    for i, m in enumerate(task.models):
        Q, V = reference_q(m.mdp, m.mask)
        np.testing.assert_allclose(task.Q[i], Q[:15], atol=1e-8)
        np.testing.assert_allclose(task.V[i], V[:15], atol=1e-8)
        assert np.array_equal(task.mask[i], m.mask[:15])
        best = np.where(m.mask[:15], Q[:15], -np.inf).argmax(axis=1)
        assert np.array_equal(task.optimal[i], best)


def test_gold_reward_orders_allowed_refusal_and_contraindicated(task):
    gold = task.gold_table
    allowed = task.mask
    assert np.all(gold[allowed] <= 1e-12) and np.all(gold[~allowed] < -1.9)
    assert np.all(gold[allowed] > task.invalid_reward)
    assert np.allclose(np.take_along_axis(gold, task.optimal[..., None], -1), 0.0, atol=1e-12)
    for i, group in enumerate(task.subgroups):
        for s in range(15):
            prompt = encode_prompt(group, s)
            for a, word in enumerate(TREATMENT_CODES):
                expected = task.Q[i, s, a] - task.V[i, s] - (0.0 if task.mask[i, s, a] else 2.0)
                assert task.reward(prompt + word) == pytest.approx(expected)
            assert task.reward(prompt + "me") == task.reward(prompt) == -1.0
    assert task.gold([encode_prompt("ckd", 4) + "su"]).shape == (1,)
    with pytest.raises(ValueError, match="subgroups"):
        clinical_task(("adult", "adult"))
    with pytest.raises(ValueError, match="gamma"):
        clinical_task(gamma=1.5)


def test_clinician_forgets_the_mask(task):
    pi = clinician_policy(task, p_best=0.6)
    assert np.allclose(pi.sum(-1), 1.0) and np.all(pi >= 0.08 - 1e-12)
    for i, m in enumerate(task.models):
        Q, _ = reference_q(m.mdp, np.ones_like(m.mask))
        unmasked_best = Q[:15].argmax(axis=1)
        assert np.allclose(np.take_along_axis(pi[i], unmasked_best[:, None], 1)[:, 0], 0.6 + 0.4 / 5)
    # metformin is contraindicated in chronic kidney disease, and the clinician's favourite somewhere
    ckd = task.subgroups.index("ckd")
    favourite = pi[ckd].argmax(axis=1)
    assert (~task.mask[ckd, np.arange(15), favourite]).any()
    lines = clinician_corpus(task, lines_per_prompt=40, p_typo=0.1, seed=3)
    assert len(lines) == 45 * 40 and lines == clinician_corpus(task, lines_per_prompt=40, p_typo=0.1, seed=3)
    typos = np.mean([parse_treatment(x[4:]) is None for x in lines])
    assert abs(typos - 0.1) < 4 * np.sqrt(0.1 * 0.9 / len(lines))
    with pytest.raises(ValueError, match="p_typo"):
        clinician_corpus(task, p_typo=-0.1)


@pytest.fixture(scope="module")
def sft(task):
    model = CharLM(CLINICAL_CHARS, embed_dim=16, hidden_dim=48, seed=0, dtype=torch.float64)
    pretrain(model, clinician_corpus(task, 20, seed=0), steps=300, seed=0, lr=1e-2, max_len=MAX_LEN)
    return model


def test_answer_probabilities_equal_a_token_by_token_product(task, sft):
    p = answer_probabilities(sft, task)
    assert p.shape == (3, 15, 6) and np.allclose(p.sum(-1), 1.0) and np.all(p >= 0)
    for i, s, a in ((0, 0, 0), (1, 7, 3), (2, 14, 4), (2, 4, 1)):
        logp = token_by_token_logprob(sft, encode_prompt(task.subgroups[i], s), TREATMENT_CODES[a])
        assert p[i, s, a] == pytest.approx(np.exp(logp), rel=1e-9)
    with pytest.raises(ValueError, match="vocabulary"):
        answer_probabilities(CharLM("ab", embed_dim=4, hidden_dim=4, seed=0), task)


def test_report_of_a_model_that_always_gives_the_unmasked_optimum(task):
    """Train a model to answer the clinician's favourite only; check its report against sums written here."""
    favourite = clinician_policy(task, p_best=1.0).argmax(-1)
    lines = [encode_prompt(g, s) + TREATMENT_CODES[favourite[i, s]] for i, g in enumerate(task.subgroups)
             for s in range(15)]
    model = CharLM(CLINICAL_CHARS, embed_dim=16, hidden_dim=48, seed=1, dtype=torch.float64)
    pretrain(model, lines * 8, steps=400, seed=1, lr=1e-2, max_len=MAX_LEN)
    rep = evaluate_clinical_policy(model, task)
    assert np.array_equal(rep.answers, favourite)
    assert rep.agreement == pytest.approx(np.mean(favourite == task.optimal))
    violated = ~np.take_along_axis(task.mask, favourite[..., None], -1)[..., 0]
    assert rep.violation_rate == pytest.approx(violated.mean()) and rep.violation_rate > 0
    lost = []
    for i, m in enumerate(task.models):
        pol = np.zeros(m.mdp.n_states, dtype=int)
        pol[:15] = favourite[i]
        V, _ = deterministic_policy_q(m.mdp, pol)
        lost.append(m.mdp.initial[:15] @ (task.V[i] - V[:15]))
    # negative: the model's reward does not price the contraindication, so ignoring the mask "gains" value
    assert rep.value_lost == pytest.approx(np.mean(lost), rel=1e-9) and rep.value_lost < 0
    assert "ClinicalReport(agreement" in repr(rep) and len(repr(rep)) < 200


def test_rlhf_and_dpo_never_name_a_contraindicated_treatment(task, sft):
    """Acceptance (issue 12, item 6), seed 0: gold labels, a reward model and PPO; and DPO on the same pairs."""
    before = evaluate_clinical_policy(sft, task)
    assert before.violation_rate > 0.1  # the clinicians' habit is in the supervised model
    pairs = simulate_preferences(sft, task.prompts, task.gold, 40, MAX_LEN, Labeller(temperature=0.1), seed=1)
    rm = train_reward_model(pairs, RewardConfig(num_train_epochs=10, learning_rate=1e-2, seed=0), init=sft).model
    env = CharLanguageEnv(CLINICAL_CHARS, MAX_LEN, delayed_reward=rm, prompts=task.prompts)
    rlhf = copy.deepcopy(sft)
    ppo(rlhf, env, PPOConfig(n_iterations=60, batch_size=180, num_generations=4, kl_coef=0.05, learning_rate=3e-3,
                             seed=0), ref_model=sft)
    direct = copy.deepcopy(sft)
    dpo(direct, pairs, DPOConfig(beta=0.1, num_train_epochs=5, learning_rate=3e-3, seed=0), ref_model=sft)
    for model in (rlhf, direct):
        rep = evaluate_clinical_policy(model, task)
        assert rep.violation_rate == 0.0 and rep.masked_mass < 0.01, rep
        assert rep.expected_gold > before.expected_gold + 0.1, (rep, before)
    after = evaluate_clinical_policy(rlhf, task)
    # a policy that respects the mask cannot beat V*; the supervised one "gains" only by breaking it
    assert after.value_lost >= -1e-9 and after.invalid_mass < 0.05, after
