"""The character-level language MDP: vocabulary, env semantics, rewards, and the limits of tables."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlcore.envs.language import (
    CharLanguageEnv,
    TextReward,
    Vocabulary,
    char_reward,
    contains_word,
    length_constraint,
    lexicon_score,
    pattern_match,
    state_count,
    target_match,
    weighted_sum,
)
from rlcore.envs.language_tasks import echo_task, enumerate_states, greedy_success_rate
from rlcore.tabular.td import q_learning


# ---------------------------------------------------------------- vocabulary
def test_vocabulary_ids_and_roundtrip():
    v = Vocabulary("abc")
    assert (v.EOS, v.BOS, v.PAD) == (3, 4, 5)
    assert len({v.EOS, v.BOS, v.PAD}) == 3 and v.PAD != v.EOS
    assert v.n_actions == 4 and v.n_tokens == 6
    assert v.encode("cab") == [2, 0, 1]
    assert v.decode([2, 0, 1, v.EOS, 0, 0]) == "cab"
    assert v.decode([v.BOS, 0, v.PAD]) == "a"
    assert Vocabulary.from_text(["ba\n", "ca"]) == Vocabulary("abc")


@pytest.mark.parametrize("chars, match", [("", "empty"), ("aa", "distinct"), (["ab"], "single")])
def test_vocabulary_rejects_bad_input(chars, match):
    with pytest.raises(ValueError, match=match):
        Vocabulary(chars)


def test_unknown_characters_are_named():
    v = Vocabulary("ab")
    with pytest.raises(ValueError, match=r"not in the vocabulary: \['z'\]"):
        v.encode("abz")
    with pytest.raises(ValueError, match="not in the vocabulary"):
        CharLanguageEnv("ab", 3, prompts=["az"])


# ---------------------------------------------------------------------- env
@pytest.mark.parametrize("bad", [0, -1, 2.5])
def test_max_len_must_be_positive(bad):
    with pytest.raises(ValueError, match="max_len"):
        CharLanguageEnv("ab", bad)


def test_empty_vocabulary_in_env():
    with pytest.raises(ValueError, match="empty"):
        CharLanguageEnv("", 3)


def test_nan_reward_raises():
    env = CharLanguageEnv("ab", 2, delayed_reward=lambda text: float("nan"))
    env.reset(seed=0)
    env.step(0)
    with pytest.raises(ValueError, match="non-finite"):
        env.step(0)
    env2 = CharLanguageEnv("ab", 2, immediate_reward=lambda text: math.inf)
    env2.reset(seed=0)
    with pytest.raises(ValueError, match="immediate_reward"):
        env2.step(1)


def test_eos_and_the_length_limit_both_terminate():
    env = CharLanguageEnv("ab", 3, delayed_reward=target_match("ab"))
    env.reset(seed=0)
    _, r, term, trunc, info = env.step(0)
    assert (r, term, trunc) == (0.0, False, False)
    _, r, term, trunc, _ = env.step(1)
    assert (r, term, trunc) == (0.0, False, False)
    _, r, term, trunc, info = env.step(env.vocab.EOS)
    assert (r, term, trunc) == (1.0, True, False) and info["final_text"] == "ab"
    env.reset()
    for _ in range(2):
        assert env.step(1)[2:4] == (False, False)
    _, r, term, trunc, info = env.step(1)
    # the length limit is part of the task: terminated, never truncated (nothing follows max_len)
    assert (term, trunc, info["final_text"]) == (True, False, "bbb")
    with pytest.raises(RuntimeError):
        env.step(0)


def test_max_len_one():
    env = CharLanguageEnv("ab", 1, delayed_reward=target_match("a"))
    env.reset(seed=0)
    _, r, term, trunc, _ = env.step(0)
    assert (r, term, trunc) == (1.0, True, False)  # the length limit terminates


def test_immediate_and_delayed_rewards_add():
    env = CharLanguageEnv("ab", 4, delayed_reward=length_constraint(2, 2),
                          immediate_reward=char_reward({"a": 0.5, "b": -1.0}))
    rewards, term = env.reward_sequence([0, 1, env.vocab.EOS])
    assert term and rewards == [0.5, -1.0, 1.0]  # EOS earns no immediate reward


def test_gymnasium_env_checker():
    from gymnasium.utils.env_checker import check_env

    check_env(CharLanguageEnv("abc", 3, delayed_reward=target_match("ab")), skip_render_check=True)
    check_env(CharLanguageEnv("abc", 3, observation="tokens"), skip_render_check=True)


def test_state_index_is_a_bijection():
    env = CharLanguageEnv("abc", 3)
    idx = {env.state_index(t) for t in ["", "a", "b", "c", "ab", "ca", "abc", "ccc"]}
    assert len(idx) == 8
    for s in range(env.n_states):
        assert env.state_index(env.state_text(s)) == s
    assert env.observation_space.n == 1 + 3 + 9 + 27


def test_large_instances_fall_back_to_token_observations():
    env = CharLanguageEnv(" abcdefghijklmnopqrstuvwxyz", 20)
    assert env.observation == "tokens"
    obs, _ = env.reset(seed=0)
    assert obs.shape == (21,) and obs[0] == env.vocab.BOS
    with pytest.raises(ValueError, match="window"):
        CharLanguageEnv(" abcdefghijklmnopqrstuvwxyz", 20, observation="index")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=6))
def test_reward_sequence_matches_stepping(actions):
    reward = weighted_sum([(1.0, target_match("ab", partial=True)), (0.5, pattern_match("a.*"))])
    env = CharLanguageEnv("abc", 4, delayed_reward=reward, immediate_reward=char_reward({"c": -0.1}))
    expected, term = env.reward_sequence(actions)
    env.reset(seed=0)
    got, done_term = [], False
    for a in actions:
        _, r, t, tr, _ = env.step(a)
        got.append(r)
        if t or tr:
            done_term = t and a == env.vocab.EOS  # reward_sequence flags an EOS ending only
            break
    assert got == expected and done_term == term


# ------------------------------------------------------------------ rewards
def test_reward_library():
    assert target_match("cat")("cat") == 1.0 and target_match("cat")("cap") == 0.0
    assert target_match("cat", partial=True)("cap") == pytest.approx(2 / 3)
    assert target_match("cat", partial=True)("cats") == pytest.approx(3 / 4)
    assert pattern_match(r"c.t")("cut") == 1.0 and pattern_match(r"c.t")("cute") == 0.0
    assert pattern_match(r"c.t", full=False)("a cute") == 1.0
    assert contains_word("dog")("the dog sat") == 1.0 and contains_word("dog")("dogs") == 0.0
    lex = lexicon_score({"the", "dog"})
    assert lex("the dog ran") == pytest.approx(2 / 3) and lex("") == 0.0
    ln = length_constraint(2, 4)
    assert ln("abc") == 1.0 and ln("") == pytest.approx(0.5) and ln("abcdefgh") == 0.0
    combo = weighted_sum({contains_word("dog"): 0.5, lex: 0.5})
    assert combo("the dog") == 1.0 and combo("a cat") == 0.0
    assert combo.components("the dog") == {"contains_word('dog')": 1.0, "lexicon_score": 1.0}
    with pytest.raises(ValueError):
        weighted_sum([])
    with pytest.raises(ValueError):
        length_constraint(3, 1)


# ------------------------------------------------------- limits of the tables
@pytest.mark.parametrize("n, T, window", [(2, 1, None), (2, 4, None), (3, 3, None), (3, 4, 2), (2, 5, 1)])
def test_state_count_matches_enumeration(n, T, window):
    env = CharLanguageEnv("abc"[:n], T, window=window)
    assert enumerate_states(env) == state_count(n, T, window) == env.n_states


def test_state_count_grows_like_vocab_to_the_T():
    counts = [state_count(27, T) for T in range(1, 21)]
    ratios = [b / a for a, b in zip(counts, counts[1:])]
    assert all(26.9 < r < 27.1 for r in ratios[3:])
    assert counts[-1] > 1e28  # more states than a table could ever hold
    assert state_count(27, 20, window=3) == 1 + 27 + 27**2 + 27**3


def test_q_learning_solves_a_tiny_instance():
    env = CharLanguageEnv("abc", 3, delayed_reward=target_match("cab"))
    res = q_learning(env, n_episodes=3000, alpha=0.5, epsilon=0.3, gamma=1.0, seed=0)
    obs, _ = env.reset(seed=0)
    done = False
    while not done:
        obs, r, term, trunc, info = env.step(int(res.policy[obs]))
        done = term or trunc
    assert info["final_text"] == "cab" and r == 1.0


def test_window_makes_an_earlier_character_unlearnable():
    rates = {}
    for window in (None, 2, 1):
        env = echo_task(window)
        res = q_learning(env, n_episodes=400, alpha=0.2, epsilon=0.3, gamma=0.0, seed=1)
        rates[window] = greedy_success_rate(env, res.policy, n_episodes=600, seed=2)
    assert rates[None] == 1.0 and rates[2] == 1.0
    # window=1 sees only the filler 'a': both prompts look alike, so the best is chance (1/2)
    assert abs(rates[1] - 0.5) < 4 * math.sqrt(0.25 / 600)


def test_echo_task_with_three_characters_and_a_longer_gap():
    env = echo_task(window=2, chars="abc", gap=2)
    res = q_learning(env, n_episodes=600, alpha=0.2, epsilon=0.3, gamma=0.0, seed=0)
    rate = greedy_success_rate(env, res.policy, n_episodes=900, seed=1)
    assert abs(rate - 1 / 3) < 4 * math.sqrt(2 / 9 / 900)
    env = echo_task(window=3, chars="abc", gap=2)
    res = q_learning(env, n_episodes=600, alpha=0.2, epsilon=0.3, gamma=0.0, seed=0)
    assert greedy_success_rate(env, res.policy, n_episodes=300, seed=1) == 1.0


def test_render_and_reset_prompt_option():
    env = CharLanguageEnv("ab", 3, prompts=["a", "b"], render_mode="ansi")
    obs, info = env.reset(seed=0, options={"prompt": "b"})
    assert info["text"] == "b" and obs == env.state_index("b")
    assert env.render().startswith("b")
    seen = {env.reset()[1]["prompt"] for _ in range(50)}
    assert seen == {"a", "b"}
    np.testing.assert_equal(env.observation_space.n, 1 + 2 + 4 + 8)


# ------------------------------------------- the length limit ends the task
class _TruncatingAtMaxLen(CharLanguageEnv):
    """The env as it was: ``max_len`` reported as ``truncated`` (kept here to show the failure)."""

    def step(self, action):
        obs, r, term, trunc, info = super().step(action)
        if term and int(action) != self.vocab.EOS:
            term, trunc = False, True
        return obs, r, term, trunc, info


def _best_return(env):
    """Exact optimal return from the empty prompt: enumerate every action sequence (gamma = 1)."""
    best = -np.inf

    def visit(actions):
        nonlocal best
        rewards, _ = env.reward_sequence(actions)
        if len(rewards) < len(actions):
            return
        ended = bool(actions) and (actions[-1] == env.vocab.EOS or len(actions) >= env.max_len)
        if ended:
            best = max(best, sum(rewards))
            return
        for a in range(env.vocab.n_actions):
            visit(actions + [a])

    visit([])
    return best


def test_q_learning_with_a_window_learns_the_true_value_at_the_length_limit():
    # 'a' pays 0.1 per character, 5 characters at most: the best text is 'aaaaa', V(start) = 0.5.
    # With window=1 the state at max_len looks like every earlier 'a' state; if max_len were a
    # truncation, Q-learning would bootstrap through it and Q would grow without bound (about 81
    # after 3000 episodes). Terminating at max_len gives the true value.
    def make(cls):
        return cls("ab", 5, immediate_reward=char_reward({"a": 0.1}), window=1)

    env = make(CharLanguageEnv)
    v_true = _best_return(env)
    assert v_true == pytest.approx(0.5)
    res = q_learning(env, n_episodes=3000, alpha=0.1, epsilon=0.2, gamma=1.0, seed=0)
    s0, _ = env.reset(seed=0)
    assert res.Q[s0].max() == pytest.approx(v_true, abs=0.05)
    old = make(_TruncatingAtMaxLen)
    res_old = q_learning(old, n_episodes=3000, alpha=0.1, epsilon=0.2, gamma=1.0, seed=0)
    assert res_old.Q[s0].max() > 10 * v_true  # the old ending: bootstrapping from a state with no future


def test_env_rewards_are_text_rewards():
    env = CharLanguageEnv("ab", 3, delayed_reward=lambda text: float(text == "ab"))
    assert isinstance(env.delayed_reward, TextReward)
    np.testing.assert_array_equal(env.delayed_reward(["ab", "ba"]), [1.0, 0.0])


def test_decode_refuses_ids_outside_the_vocabulary():
    from rlcore.envs.vocabulary import Vocabulary

    v = Vocabulary("ab")
    assert v.decode([0, 1, v.PAD, v.BOS, 0, v.EOS, 1]) == "aba"
    for bad in ([-1], [v.n_tokens], [0, 99]):
        with pytest.raises(ValueError, match="token ids must lie in"):
            v.decode(bad)


def test_state_count_is_the_geometric_sum_and_construction_is_fast():
    import time

    from rlcore.envs.language import CharLanguageEnv, state_count

    for n in (1, 2, 3, 27):
        for T in (1, 2, 5, 13):
            assert state_count(n, T) == sum(n**t for t in range(T + 1))
            assert state_count(n, T, window=3) == sum(n**t for t in range(min(3, T) + 1))
    start = time.perf_counter()
    env = CharLanguageEnv("abcdefghijklmnopqrstuvwxyz ", 3000)  # took about 40 s when the sum was a loop
    assert time.perf_counter() - start < 2.0
    assert env.n_states == state_count(27, 3000) == sum(27**t for t in range(3001))
