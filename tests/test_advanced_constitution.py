"""Tests for rlcore.advanced.constitution: the predicates against plain-loop references, and the critic/reviser.

Every expected value below is either worked out by hand or produced by the reference loops in this file;
none were copied from running the module.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rlcore.advanced.constitution import (
    TOY_CHARS,
    TOY_MAX_LEN,
    Constitution,
    Principle,
    ends_with,
    no_repeats,
    toy_constitution,
    vowel_in_every_word,
)

# All strings over the toy vocabulary with length 0..TOY_MAX_LEN, shortest first.
ALL_TEXTS = ["".join(chars) for n in range(TOY_MAX_LEN + 1) for chars in itertools.product(TOY_CHARS, repeat=n)]


# --- independent references: plain loops, no regular expressions, no rlcore calls ---------------------------

def ref_no_repeats(text: str, run: int) -> bool:
    """True unless some character appears `run` (or more) times back to back."""
    streak, prev = 0, None
    for ch in text:
        streak = streak + 1 if ch == prev else 1
        prev = ch
        if streak >= run:
            return False
    return True


def ref_ends_with(text: str, end: str) -> bool:
    return text[-1:] == end


def ref_vowel_in_every_word(text: str, vowels: str, separators: str) -> bool:
    """Split on the separator characters by hand; each non-empty piece must contain a vowel."""
    words, current = [], ""
    for ch in text:
        if ch in separators:
            if current:
                words.append(current)
            current = ""
        else:
            current += ch
    if current:
        words.append(current)
    for w in words:
        if not any(ch in vowels for ch in w):
            return False
    return True


def ref_toy(text: str) -> list[bool]:
    """Compliance with the toy's three rules, in the toy's order (full stop, vowels, no triple)."""
    return [ref_ends_with(text, "."), ref_vowel_in_every_word(text, "a", " ."), ref_no_repeats(text, 3)]


TOY = toy_constitution()


def test_enumeration_size():
    assert len(ALL_TEXTS) == sum(4**t for t in range(7)) == 5461
    assert len(set(ALL_TEXTS)) == len(ALL_TEXTS)


# --- hand-written cases with known answers -------------------------------------------------------------------

@pytest.mark.parametrize("run, text, ok", [
    (3, "", True), (3, "aa", True), (3, "aaa", False), (3, "aaaa", False), (3, "baaab", False),
    (3, "aabbaa", True), (3, "  ", True), (3, "   ", False), (3, "..", True), (3, "...", False),
    (3, "ab..b", True), (3, "a a a", True), (2, "ab", True), (2, "abb", False), (2, "", True), (4, "aaab", True),
])
def test_no_repeats_hand_cases(run, text, ok):
    assert ref_no_repeats(text, run) is ok
    assert no_repeats(run).complies(text) is ok


@pytest.mark.parametrize("text, ok", [
    ("", False), (".", True), ("ab.", True), ("ab .", True), ("ab. ", False), ("ab", False),
    ("...", True), ("   ", False), ("a.b", False), ("  .", True),
])
def test_ends_with_hand_cases(text, ok):
    assert ref_ends_with(text, ".") is ok
    assert ends_with(".").complies(text) is ok


@pytest.mark.parametrize("text, ok", [
    ("", True), ("   ", True), (" . ..", True), ("a", True), ("b", False), ("ab ba", True), ("ab b", False),
    ("b.", False), (".b", False), ("ba.bb", False), ("bbab", True), ("a  .. a.", True), ("bb  ", False),
])
def test_vowel_hand_cases(text, ok):
    assert ref_vowel_in_every_word(text, "a", " .") is ok
    assert vowel_in_every_word("a", " .").complies(text) is ok


# Repairs, with results worked out by hand. The no_repeats rows fail if `{n,}` became `{n}` (a run of four
# would only lose one character); the ends_with rows fail without `rstrip` or with `<=` in place of `<`.
@pytest.mark.parametrize("principle, text, max_len, fixed", [
    (no_repeats(3), "aaaa", None, "aa"),
    (no_repeats(3), "aaab....", None, "aab.."),
    (no_repeats(3), "bbbbbb", None, "bb"),
    (no_repeats(2), "aaab", None, "ab"),
    (ends_with("."), "ab  ", None, "ab."),
    (ends_with("."), "ab. ", None, "ab."),
    (ends_with("."), "", None, "."),
    (ends_with("."), "      ", 6, "."),
    (ends_with("."), "abab", 4, "aba."),
    (ends_with("."), "aba", 4, "aba."),
    (ends_with("."), "ab  ", 3, "ab."),
    (vowel_in_every_word("a", " ."), "bb b.", None, "ba a."),
    (vowel_in_every_word("a", " ."), "ab bb", None, "ab ba"),
    (vowel_in_every_word("a", " ."), "b", None, "a"),
])
def test_fix_hand_cases(principle, text, max_len, fixed):
    assert principle.fix(text, max_len) == fixed
    assert principle.complies(fixed)


@pytest.mark.parametrize("text, revised", [
    ("bbbbbb", "bba."),   # stop replaces the last b (no room), the word gets an a, the run of b's is cut
    ("ab  ", "ab."),
    ("b b", "a a."),
    ("aaaa", "aa."),
    ("ab a.", "ab a."),   # already complies: untouched
    ("", "."),
])
def test_revise_hand_cases(text, revised):
    assert TOY.revise(text, max_len=6, max_rounds=1) == revised


# --- exhaustive checks over every toy text -------------------------------------------------------------------

def test_violations_match_reference_exhaustively():
    v = TOY.violations(ALL_TEXTS)
    assert v.dtype == bool and v.shape == (len(ALL_TEXTS), 3)
    expected = np.array([[not ok for ok in ref_toy(t)] for t in ALL_TEXTS])
    assert np.array_equal(v, expected)
    assert np.array_equal(TOY.complies(ALL_TEXTS), expected.sum(axis=1) == 0)


def test_other_parameters_match_reference_exhaustively():
    other = Constitution((no_repeats(2), ends_with("a"), vowel_in_every_word("b", "."), no_repeats(4)))
    expected = np.array([[not ref_no_repeats(t, 2), not ref_ends_with(t, "a"),
                          not ref_vowel_in_every_word(t, "b", "."), not ref_no_repeats(t, 4)] for t in ALL_TEXTS])
    assert np.array_equal(other.violations(ALL_TEXTS), expected)


def test_one_round_of_revision_always_suffices():
    for text in ALL_TEXTS:
        out = TOY.revise(text, max_len=TOY_MAX_LEN, max_rounds=1)
        assert all(ref_toy(out)), (text, out)
        assert len(out) <= TOY_MAX_LEN, (text, out)
        if all(ref_toy(text)):
            assert out == text


def test_violation_rate_is_the_exact_share():
    n = len(ALL_TEXTS)
    refs = [ref_toy(t) for t in ALL_TEXTS]
    n_bad = sum(1 for r in refs if not all(r))
    assert TOY.violation_rate(ALL_TEXTS) == n_bad / n
    per = TOY.violation_rate(ALL_TEXTS, per_principle=True)
    assert per.shape == (3,)
    for k in range(3):
        assert per[k] == sum(1 for r in refs if not r[k]) / n
    # By hand: 4**(t-1) texts of length t >= 1 end in ".", i.e. 1365 in all, so 4096 of 5461 do not.
    assert per[0] == 4096 / 5461


def test_violation_rate_on_a_small_hand_set():
    texts = ["ab.", "bbb", "ab", "a a."]   # only the 2nd and 3rd break something
    assert TOY.violation_rate(texts) == 0.5
    assert list(TOY.violation_rate(texts, per_principle=True)) == [0.5, 0.25, 0.25]


# --- names, subset, critique, repr ---------------------------------------------------------------------------

def test_names_subset_and_critique():
    assert TOY.names == ("full_stop", "vowel_in_every_word", "no_3_in_a_row") and len(TOY) == 3
    sub = TOY.subset(["no_3_in_a_row", "full_stop"])
    assert sub.names == ("full_stop", "no_3_in_a_row")
    assert TOY.critique("bbb") == ["full_stop", "vowel_in_every_word", "no_3_in_a_row"]
    assert TOY.critique("b b") == ["full_stop", "vowel_in_every_word"]
    assert TOY.critique("aaa.") == ["no_3_in_a_row"]
    assert TOY.critique("ab.") == []
    assert sub.critique("b.") == []   # the subset ignores the vowel rule


def test_repr_is_short_and_names_the_principles():
    r = repr(TOY)
    assert len(r) < 100 and "3 principles" in r
    assert all(name in r for name in TOY.names)
    p = repr(ends_with("."))
    assert "full_stop" in p and "lambda" not in p and "function" not in p


# --- bad input -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, exc, match", [
    (lambda: no_repeats(1), ValueError, "run"),
    (lambda: no_repeats(0), ValueError, "run"),
    (lambda: no_repeats(2.5), ValueError, "run"),
    (lambda: ends_with(""), ValueError, "end"),
    (lambda: ends_with("ab"), ValueError, "end"),
    (lambda: vowel_in_every_word("", " "), ValueError, "vowels"),
    (lambda: vowel_in_every_word("a", ""), ValueError, "separators"),
    (lambda: vowel_in_every_word("a", "a "), ValueError, "share"),
    (lambda: Constitution(()), ValueError, "principles"),
    (lambda: Constitution((ends_with("."), ends_with("."))), ValueError, "distinct names"),
    (lambda: Constitution(("full_stop",)), ValueError, "principles"),
    (lambda: TOY.subset(["nope"]), ValueError, "names"),
    (lambda: TOY.subset("full_stop"), ValueError, "names"),
    (lambda: TOY.subset([]), ValueError, "names"),
    (lambda: TOY.violations("abc"), TypeError, "texts"),
    (lambda: TOY.violations(["ab", 3]), TypeError, "str"),
    (lambda: TOY.violation_rate([]), ValueError, "texts"),
    (lambda: TOY.revise(123), TypeError, "text"),
    (lambda: TOY.revise("aaaaaaa", max_len=6), ValueError, "max_len"),
    (lambda: TOY.revise("ab", max_len=0), ValueError, "max_len"),
    (lambda: TOY.revise("ab", max_rounds=0), ValueError, "max_rounds"),
    (lambda: Principle("", lambda t: True), ValueError, "name"),
    (lambda: Principle("x", check=5), TypeError, "check"),
    (lambda: Principle("x", lambda t: True, fix="no"), TypeError, "fix"),
])
def test_bad_input_raises_clearly(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_revise_accepts_a_text_exactly_at_the_limit():
    # Six characters with max_len=6 is allowed (only a longer text is refused).
    assert TOY.revise("ab ab.", max_len=6) == "ab ab."
