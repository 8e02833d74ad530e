"""Text metrics against hand computations: distinct-n, BLEU and self-BLEU, perplexity, win rate."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rlcore.lm import CharLM
from rlcore.lm.metrics import bleu, distinct_n, pass_at_k, perplexity, self_bleu, win_rate


def test_distinct_n_by_hand():
    texts = ["a b a", "b c"]
    assert distinct_n(texts, 1) == pytest.approx(3 / 5)  # a b a b c
    assert distinct_n(texts, 2) == 1.0  # (a b) (b a) (b c)
    assert distinct_n(["a", "b"], 2) == 0.0  # no bigram at all
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        distinct_n(texts, 0)


def test_bleu_by_hand():
    # p1 = 2/3; p2 = (1 + 1)/(2 + 1); p3 = (0 + 1)/(1 + 1); p4 = (0 + 1)/(0 + 1); equal lengths: BP = 1
    assert bleu("the cat sat", ["the cat ran"]) == pytest.approx((2 / 9) ** 0.25)
    assert bleu("the cat sat on the mat", ["the cat sat on the mat"]) == pytest.approx(1.0)
    # a short candidate pays the brevity penalty exp(1 - r / c) = exp(1 - 4 / 2)
    short = bleu("the cat", ["the cat sat down"], max_n=1)
    assert short == pytest.approx(math.exp(1 - 4 / 2))
    # counts are clipped by the reference: "the the the" against "the cat" has p1 = 1/3
    assert bleu("the the the", ["the cat"], max_n=1) == pytest.approx(1 / 3)
    assert bleu("dog", ["the cat"], max_n=1) == 0.0


def test_self_bleu_spans_copies_to_strangers():
    assert self_bleu(["a b c d e"] * 3) == pytest.approx(1.0)
    assert self_bleu(["a b", "c d", "e f"]) == 0.0
    mixed = self_bleu(["a b c d", "a b c e", "x y z w"])
    assert 0.0 < mixed < 1.0
    with pytest.raises(ValueError, match="at least two texts"):
        self_bleu(["only one"])


def test_perplexity_of_a_uniform_model_is_the_number_of_actions():
    model = CharLM("abc", embed_dim=4, hidden_dim=8, seed=0)
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.zero_()  # every next token (a, b, c or EOS) has probability 1/4
    assert perplexity(model, ["abc", "b", "cab"]) == pytest.approx(4.0)
    assert perplexity(model, ["a", "bc"], prompts=["c", "a"]) == pytest.approx(4.0)
    trained = CharLM("abc", embed_dim=4, hidden_dim=8, seed=0)
    from rlcore.lm import pretrain

    pretrain(trained, ["abc"] * 10, steps=60, seed=0, max_len=6)
    assert perplexity(trained, ["abc"]) < 1.5  # it has learnt the one text it saw
    with pytest.raises(ValueError, match="one prompt per text"):
        perplexity(model, ["a", "b"], prompts=[""])


def test_win_rate_counts_ties_as_half():
    assert win_rate([1, 2, 3, 4], [0, 2, 5, 1]) == pytest.approx((1 + 0.5 + 0 + 1) / 4)
    with pytest.raises(ValueError, match="paired"):
        win_rate([1, 2], [1])
    with pytest.raises(ValueError, match="finite"):
        win_rate([float("nan")], [1.0])


# --------------------------------------------------------------------------- pass@k
def _pass_at_k_by_enumeration(n: int, c: int, k: int) -> float:
    """Share of all k-subsets of n samples (the first c pass) that hold at least one pass."""
    import itertools

    subsets = list(itertools.combinations(range(n), k))
    return sum(s[0] < c for s in subsets) / len(subsets)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_pass_at_k_equals_enumeration_of_subsets(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(_pass_at_k_by_enumeration(n, c, k), abs=1e-12)


def test_pass_at_k_is_exact_where_binomials_overflow_and_takes_arrays():
    from fractions import Fraction

    n, c, k = 20_000, 30, 1_000
    exact = 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
    assert pass_at_k(n, c, k) == pytest.approx(float(exact), rel=1e-10)
    ks = np.array([1, 3, 10])
    got = pass_at_k(10, 2, ks)
    assert got.shape == (3,)
    assert got[0] == pytest.approx(0.2) and got[2] == 1.0  # pass@1 = c/n; n - c < k -> 1
    # the plug-in 1 - (1 - c/n)^k is biased low: the estimator must not be it
    assert got[1] > 1 - (1 - 0.2) ** 3 + 0.01


@pytest.mark.parametrize("args, name", [((0, 0, 1), "n"), ((5, 6, 1), "c"), ((5, -1, 1), "c"), ((5, 2, 0), "k"),
                                        ((5, 2, 6), "k"), ((5, 2, 1.5), "k"), ((5, 2.5, 1), "c"),
                                        ((5, 2, []), "k")])
def test_pass_at_k_refuses_bad_input(args, name):
    with pytest.raises(ValueError, match=f"^{name} must"):
        pass_at_k(*args)
