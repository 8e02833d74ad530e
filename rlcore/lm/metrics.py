"""Evaluation metrics for generated text: diversity, self-BLEU, perplexity, win rate.

Book: *Practical considerations*, "Evaluation metrics and benchmarks".

* ``distinct_n``: distinct word n-grams over all word n-grams of a set of texts
  (Li et al., 2016); 1 means no n-gram repeats anywhere.
* ``self_bleu``: the mean BLEU of each text against all the others as references
  (Zhu et al., 2018); high means the texts resemble each other.
  ``BLEU = BP exp(mean_n log p_n)``, ``p_n`` the clipped n-gram precision, with
  add-one smoothing of ``p_n`` for ``n > 1`` and the brevity penalty
  ``BP = min(1, exp(1 - r / c))`` for candidate length ``c`` and the closest reference length ``r``.
* ``perplexity``: ``exp(-(1/N) sum log pi(token))`` over the completion tokens (EOS included).
* ``win_rate``: ``mean([a_i > b_i] + 0.5 [a_i = b_i])`` for paired scores, ties counting half.
* ``pass_at_k``: the unbiased ``pass@k = 1 - C(n - c, k) / C(n, k)`` from ``n`` samples of which ``c``
  pass a checker (the metric: Kulal et al., 2019; the estimator: Chen et al., 2021).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import torch

from rlcore.core.validation import check_array, check_instance, check_positive_int, check_strings
from rlcore.lm.model import CharLM
from rlcore.lm.rollout import Rollout, rollout_from_texts, score

__all__ = ["distinct_n", "self_bleu", "bleu", "perplexity", "win_rate", "pass_at_k"]


def _check_n(n: int, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, float, np.integer, np.floating)) or not math.isfinite(n) \
            or int(n) != n or n < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {n!r}")
    return int(n)


def _grams(words: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]


def distinct_n(texts: Sequence[str], n: int = 1) -> float:
    """Distinct word ``n``-grams divided by all word ``n``-grams of ``texts`` (0 when there are none)."""
    n = _check_n(n)
    texts = check_strings(texts, "texts", allow_empty=True)
    grams = [g for t in texts for g in _grams(t.split(), n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def bleu(candidate: str, references: Sequence[str], max_n: int = 4) -> float:
    """Sentence BLEU of ``candidate`` against ``references`` (word level; see the module docstring)."""
    max_n = _check_n(max_n, "max_n")
    check_instance(candidate, "candidate", str)
    references = check_strings(references, "references", allow_empty=True)
    cand = candidate.split()
    refs = [r.split() for r in references]
    if not cand or not refs:
        return 0.0
    log_p = 0.0
    for n in range(1, max_n + 1):
        counts = Counter(_grams(cand, n))
        total = sum(counts.values())
        best = Counter()
        for r in refs:
            for g, c in Counter(_grams(r, n)).items():
                best[g] = max(best[g], c)
        clipped = sum(min(c, best[g]) for g, c in counts.items())
        if n > 1:  # add-one smoothing keeps one missing 4-gram from zeroing a short text's score
            clipped, total = clipped + 1, total + 1
        if clipped == 0 or total == 0:
            return 0.0
        log_p += math.log(clipped / total) / max_n
    c = len(cand)
    r = min((len(x) for x in refs), key=lambda length: (abs(length - c), length))
    bp = 1.0 if c > r else math.exp(1 - r / c)
    return bp * math.exp(log_p)


def self_bleu(texts: Sequence[str], max_n: int = 4) -> float:
    """Mean over texts of [`bleu`][] against all the other texts; needs at least two texts."""
    texts = list(check_strings(texts, "texts", allow_empty=True))
    _check_n(max_n, "max_n")
    if len(texts) < 2:
        raise ValueError(f"self_bleu needs at least two texts, got {len(texts)}")
    return float(np.mean([bleu(t, texts[:i] + texts[i + 1:], max_n) for i, t in enumerate(texts)]))


@torch.no_grad()
def perplexity(model: CharLM, texts: Sequence[str] | Rollout, prompts: Sequence[str] | None = None,
               max_len: int | None = None) -> float:
    """``exp`` of the mean negative log-likelihood per completion token (EOS included) under ``model``.

    ``texts`` are completions of ``prompts`` (default: the empty prompt), or a [`Rollout`][].
    """
    check_instance(model, "model", torch.nn.Module)
    if isinstance(texts, Rollout):
        ro = texts
    else:
        texts = list(check_strings(texts, "texts", allow_empty=True))
        if not texts:
            raise ValueError("perplexity needs at least one text, got none (texts is empty)")
        prompts = [""] * len(texts) if prompts is None else list(check_strings(prompts, "prompts"))
        if len(prompts) != len(texts):
            raise ValueError(f"prompts must give one prompt per text ({len(texts)}), got {len(prompts)}")
        for t in texts:
            model.vocab.check(t, "texts entry")
        if max_len is not None:
            check_positive_int(max_len, "max_len")
        limit = max_len if max_len is not None else max(len(p) + len(t) for p, t in zip(prompts, texts)) + 1
        ro = rollout_from_texts(model.vocab, prompts, texts, limit, device=model.device)
    logp = score(model, ro)[0]
    n = int(ro.mask.sum())
    return float(math.exp(-float(logp[ro.mask].sum()) / n))


def win_rate(scores: Sequence[float], reference_scores: Sequence[float]) -> float:
    """How often ``scores[i]`` beats ``reference_scores[i]``, ties counting half."""
    a = check_array(scores, "scores", ndim=1, allow_empty=True)
    b = check_array(reference_scores, "reference_scores", ndim=1, allow_empty=True)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"scores and reference_scores must be paired 1-d arrays of one length, got shapes "
                         f"{a.shape} and {b.shape}")
    return float(((a > b) + 0.5 * (a == b)).mean())


def pass_at_k(n: int, c: int, k: int | Sequence[int] | np.ndarray) -> float | np.ndarray:
    """Unbiased pass@k: the chance that ``k`` of the ``n`` samples, drawn without replacement, hold a pass.

    ``pass@k = 1 - C(n - c, k) / C(n, k)``, computed as the product
    ``1 - prod_{i = n - c + 1}^{n} (1 - k / i)``, which never forms the binomials (they overflow a
    float long before ``n = 2000``). It is exactly 1 when ``n - c < k``, since one factor is then 0.
    ``k`` may be an array of sizes; the answer then has its shape.
    """
    n = _check_n(n, "n")
    if isinstance(c, bool) or not isinstance(c, (int, float, np.integer, np.floating)) or not math.isfinite(c) \
            or int(c) != c or not 0 <= c <= n:
        raise ValueError(f"c must be an integer in [0, n] = [0, {n}], got {c!r}")
    c = int(c)
    ks = np.asarray(k)
    if ks.dtype == object or ks.size == 0 or not np.issubdtype(ks.dtype, np.integer) or ks.min() < 1 or ks.max() > n:
        raise ValueError(f"k must hold integers in [1, n] = [1, {n}], got {k!r}")
    i = np.arange(n - c + 1, n + 1, dtype=float)
    out = 1.0 - np.prod(1.0 - ks.astype(float)[..., None] / i, axis=-1)
    return float(out) if out.ndim == 0 else out

