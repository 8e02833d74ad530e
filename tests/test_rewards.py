"""The batched reward interface: hand-computed values, batch == per text, one call per batch, bad outputs."""

from __future__ import annotations

import numpy as np
import pytest

from rlcore.envs.rewards import (
    TextReward,
    char_reward,
    contains_word,
    from_function,
    length_constraint,
    lexicon_score,
    pattern_match,
    target_match,
    weighted_sum,
)

TEXTS = ["cat", "cap", "cats", "", "the dog sat", "a cute", "dogs"]

# each factory, with its value on TEXTS worked out by hand
HAND = [
    (target_match("cat"), [1, 0, 0, 0, 0, 0, 0]),
    (target_match("cat", partial=True), [1, 2 / 3, 3 / 4, 0, 0, 0, 0]),  # "" vs "cat": 0 of 3
    (pattern_match(r"c.t"), [1, 0, 0, 0, 0, 0, 0]),
    (pattern_match(r"c.t", full=False), [1, 0, 1, 0, 0, 1, 0]),  # "a cute" holds "cut"
    (contains_word("dog"), [0, 0, 0, 0, 1, 0, 0]),
    (lexicon_score({"the", "dog", "cat"}), [1, 0, 0, 0, 2 / 3, 0, 0]),
    (length_constraint(2, 4), [1, 1, 1, 0.5, 0, 1 - 2 / 4, 1]),  # |"the dog sat"| = 11: 1 - 7/4 -> 0
    (char_reward({"t": 0.5, "s": -1.0}), [0.5, 0, -1, 0, 0.5, 0, -1]),
    (weighted_sum([(0.5, contains_word("dog")), (2.0, target_match("cat"))]), [2, 0, 0, 0, 0.5, 0, 0]),
]


@pytest.mark.parametrize("reward, expected", HAND, ids=[r.name for r, _ in HAND])
def test_factories_against_hand_computed_values(reward, expected):
    assert isinstance(reward, TextReward)
    out = reward(TEXTS)
    assert out.dtype == np.float64 and out.shape == (len(TEXTS),)
    np.testing.assert_allclose(out, expected, atol=1e-12)


@pytest.mark.parametrize("reward, expected", HAND, ids=[r.name for r, _ in HAND])
def test_batch_equals_per_text(reward, expected):
    singles = [reward(x) for x in TEXTS]  # a str is the scalar path: a float
    assert all(isinstance(v, float) for v in singles)
    np.testing.assert_array_equal(reward(TEXTS), singles)
    np.testing.assert_array_equal(reward([]), np.zeros(0))


class CountingReward(TextReward):
    """A stand-in for a learned reward model: scores a batch in one call and counts the calls."""

    name = "counting"

    def __init__(self):
        self.calls = 0

    def score(self, texts):
        self.calls += 1
        return np.array([len(x) for x in texts], dtype=np.float32)


def test_a_batch_is_scored_in_one_call():
    rm = CountingReward()
    np.testing.assert_array_equal(rm(TEXTS), [len(x) for x in TEXTS])
    assert rm.calls == 1
    combo = weighted_sum([(1.0, rm), (1.0, contains_word("dog"))])
    combo(TEXTS)
    assert rm.calls == 2  # the weighted sum asks each part once per batch, not once per text
    comps = combo.components(TEXTS)
    assert set(comps) == {"counting", "contains_word('dog')"} and rm.calls == 3


def test_from_function_wraps_a_rule_and_keeps_text_rewards():
    r = from_function(lambda x: x.count("a"), "count_a")
    assert r.name == "count_a"
    np.testing.assert_array_equal(r(["aa", "b"]), [2.0, 0.0])
    assert from_function(r) is r


class Fixed(TextReward):
    def __init__(self, out):
        self.out, self.name = out, "fixed_bad"

    def score(self, texts):
        return self.out


@pytest.mark.parametrize("bad, match", [
    (np.zeros((2, 1)), "shape"),
    (np.zeros(3), "shape"),
    (np.array([1.0, np.nan]), "non-finite"),
    (np.array(["a", "b"]), "non-float"),
    ([None, 1.0], "non-float"),
])
def test_bad_outputs_raise_naming_the_reward(bad, match):
    with pytest.raises(ValueError, match=f"fixed_bad.*{match}|{match}.*fixed_bad"):
        Fixed(bad)(["x", "y"])


@pytest.mark.parametrize("value", [float("nan"), "1.0", None])
def test_a_rule_returning_a_bad_value_raises(value):
    with pytest.raises(ValueError, match="my_rule"):
        from_function(lambda x: value, "my_rule")(["x"])


def test_texts_must_be_strings():
    with pytest.raises(TypeError, match="target_match"):
        target_match("a")([1, 2])
