"""Text rewards as batched objects: rule-based rewards, gold scorers and (later) reward models.

Book: *RL for large language models*, "Rewards for text".

A [`TextReward`][] scores a batch of texts at once, ``R(x_1 .. x_B) -> [B]``
(float64). A Python rule is wrapped with [`from_function`][]; a learned
reward model subclasses [`TextReward`][] and overrides [`TextReward.score`][]
to run one forward pass per batch. Every factory below returns a ``TextReward``.

Calling convention: ``reward(["ab", "ba"])`` returns an array of shape ``[2]``;
``reward("ab")`` (a single ``str``) is a convenience that scores the one-element
batch ``["ab"]`` and returns a Python ``float``. The env uses that scalar path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from rlcore.core.validation import (
    check_flag,
    check_instance,
    check_nonnegative_int,
    check_real,
    check_strings,
)

__all__ = [
    "TextReward", "from_function", "target_match", "pattern_match", "contains_word", "lexicon_score",
    "length_constraint", "char_reward", "weighted_sum",
]


class TextReward:
    """A reward on texts, scored a batch at a time: ``R(texts) -> float64 array [B]``.

    Subclasses implement [`score`][]; calling the reward checks its output
    (shape ``[B]``, real numbers, all finite) and raises ``ValueError`` naming the reward.
    """

    name: str = "reward"

    def score(self, texts: list[str]) -> Any:
        """Raw scores of ``texts`` (one per text); overridden by every reward."""
        raise NotImplementedError

    def __call__(self, texts: str | Sequence[str]) -> Any:
        single = isinstance(texts, str)
        if not single and (isinstance(texts, (bytes, Mapping, set, frozenset)) or not isinstance(texts, Iterable)):
            raise TypeError(f"texts must be a str or a sequence of str, got {type(texts).__name__}")
        batch = [texts] if single else list(texts)
        for x in batch:
            if not isinstance(x, str):
                raise TypeError(f"reward {self.name!r} expects texts (str), got {type(x).__name__}: {x!r}")
        out = self._validate(self.score(batch), len(batch))
        return float(out[0]) if single else out

    def _validate(self, raw: Any, n: int) -> np.ndarray:
        """``raw`` as a float64 array of shape ``[n]``, or ``ValueError`` naming this reward."""
        if hasattr(raw, "detach"):  # a torch tensor from a learned reward model
            raw = raw.detach().cpu().numpy()
        arr = np.asarray(raw)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.floating)
                                       or np.issubdtype(arr.dtype, np.integer)
                                       or np.issubdtype(arr.dtype, np.bool_)):
            raise ValueError(f"reward {self.name!r} returned non-float scores of dtype {arr.dtype}; "
                             "expected real numbers")
        if arr.shape != (n,):
            raise ValueError(f"reward {self.name!r} returned scores of shape {arr.shape} for {n} texts; "
                             f"expected shape ({n},)")
        arr = arr.astype(np.float64)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"reward {self.name!r} returned non-finite scores {arr[~np.isfinite(arr)]}")
        return arr

    def components(self, texts: str | Sequence[str]) -> dict[str, Any]:
        """Named parts of the reward, for logging; a plain reward is its own single part."""
        return {self.name: self(texts)}

    # gymnasium/pickle-style niceties
    @property
    def __name__(self) -> str:  # older code read ``fn.__name__``
        return self.name

    def __repr__(self) -> str:
        return f"<TextReward {self.name}>"


class _FunctionReward(TextReward):
    """A per-text rule ``text -> float`` applied to each text of the batch."""

    def __init__(self, fn: Callable[[str], float], name: str) -> None:
        self.fn = fn
        self.name = name

    def score(self, texts: list[str]) -> np.ndarray:
        vals = [self.fn(x) for x in texts]
        for v in vals:
            if isinstance(v, (str, bytes)) or not isinstance(v, (int, float, np.number, bool, np.bool_)):
                raise ValueError(f"reward {self.name!r} returned a non-float score {v!r}")
        return np.asarray(vals, dtype=np.float64)


def from_function(fn: Callable[[str], float], name: str | None = None) -> TextReward:
    """Wrap a per-text Python rule ``fn(text) -> float`` as a batched [`TextReward`][]."""
    if isinstance(fn, TextReward):
        return fn
    if not callable(fn):
        raise TypeError(f"fn must be a callable text -> float, got {fn!r}")
    if name is not None:
        check_instance(name, "name", str)
    return _FunctionReward(fn, name or getattr(fn, "__name__", "reward"))


def target_match(target: str, partial: bool = False) -> TextReward:
    """Target-word reward: ``R(x) = [x == target]``.

    With ``partial=True``, ``R(x) = (number of positions i with x_i == target_i) / max(|x|, |target|)``,
    a shaped version that is 1 only for the exact target.
    """
    check_instance(target, "target", str), check_flag(partial, "partial")
    def rule(text: str) -> float:
        if not partial:
            return float(text == target)
        n = max(len(text), len(target))
        if n == 0:
            return 1.0
        return sum(a == b for a, b in zip(text, target)) / n

    return from_function(rule, f"target_match({target!r})")


def pattern_match(pattern: str, full: bool = True) -> TextReward:
    """Regular-expression reward: ``R(x) = [x matches pattern]``.

    ``full=True`` uses ``re.fullmatch`` (the whole text), otherwise ``re.search`` (anywhere).
    """
    check_instance(pattern, "pattern", (str, re.Pattern), "a regular expression (str)"), check_flag(full, "full")
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from None
    match = rx.fullmatch if full else rx.search
    return from_function(lambda text: float(match(text) is not None), f"pattern_match({pattern!r})")


def contains_word(word: str) -> TextReward:
    """``R(x) = [word is one of the space-separated words of x]``."""
    if check_instance(word, "word", str).split() != [word]:  # "" or "two words" would never match
        raise ValueError(f"word must be one word without spaces, got {word!r}")
    return from_function(lambda text: float(word in text.split()), f"contains_word({word!r})")


def lexicon_score(lexicon: Iterable[str], empty: float = 0.0) -> TextReward:
    """Lexicon reward: fraction of the words of ``x`` that are in the lexicon.

    ``R(x) = |{w in words(x) : w in L}| / |words(x)|``, and ``empty`` for a text without words.
    """
    lex = frozenset(check_strings(lexicon if isinstance(lexicon, (str, list, tuple)) or not isinstance(
        lexicon, Iterable) else list(lexicon), "lexicon", allow_empty=True))     # "good" is not {"g", "o", "d"}
    empty = check_real(empty, "empty", low=-math.inf)

    def rule(text: str) -> float:
        words = text.split()
        if not words:
            return float(empty)
        return sum(w in lex for w in words) / len(words)

    return from_function(rule, "lexicon_score")


def length_constraint(min_len: int, max_len: int, scale: float | None = None) -> TextReward:
    """Length reward: 1 inside ``[min_len, max_len]``, falling linearly outside.

    ``R(x) = max(0, 1 - d(|x|) / scale)`` with ``d`` the distance of ``|x|`` to the
    interval (``scale`` defaults to ``max(max_len, 1)``).
    """
    if check_nonnegative_int(min_len, "min_len") > check_nonnegative_int(max_len, "max_len"):
        raise ValueError(f"need 0 <= min_len <= max_len, got min_len={min_len}, max_len={max_len}")
    s = check_real(scale, "scale", open_low=True, none=True) or float(max(max_len, 1))

    def rule(text: str) -> float:
        n = len(text)
        d = min_len - n if n < min_len else max(0, n - max_len)
        return max(0.0, 1.0 - d / s)

    return from_function(rule, f"length_constraint({min_len}, {max_len})")


def char_reward(scores: Mapping[str, float]) -> TextReward:
    """Immediate (per-token) reward for the character just written: ``r_t = scores[x_t]`` (0 if absent).

    Used as ``immediate_reward``: it is called on the text *after* each character.
    """
    if not isinstance(scores, Mapping):
        raise TypeError(f"scores must be a mapping character -> score, got {type(scores).__name__}")
    table = {check_instance(c, "scores key", str): check_real(v, f"scores[{c!r}]", low=-math.inf)
             for c, v in scores.items()}
    if any(len(c) != 1 for c in table):
        raise ValueError(f"scores keys must be single characters, got {[c for c in table if len(c) != 1]}")
    return from_function(lambda text: float(table.get(text[-1], 0.0)) if text else 0.0, "char_reward")


class _WeightedSum(TextReward):
    """``R(x) = sum_i w_i R_i(x)``, each part scored once per batch."""

    def __init__(self, pairs: list[tuple[float, TextReward]]) -> None:
        self.terms = pairs
        self.name = "weighted_sum"

    def score(self, texts: list[str]) -> np.ndarray:
        total = np.zeros(len(texts))
        for w, f in self.terms:
            total += w * f(texts)
        return total

    def components(self, texts: str | Sequence[str]) -> dict[str, Any]:
        """``{name_i: R_i(texts)}`` (floats for one text, arrays ``[B]`` for a batch)."""
        return {f.name: f(texts) for _, f in self.terms}


def weighted_sum(terms: Mapping[Any, float] | Sequence[tuple[float, Any]]) -> TextReward:
    """Multi-objective reward: ``R(x) = sum_i w_i R_i(x)``.

    ``terms`` is ``{reward: weight}`` or ``[(weight, reward), ...]``; plain
    callables are wrapped with [`from_function`][]. ``.components(texts)``
    gives each ``R_i`` by name, for logging.
    """
    if not isinstance(terms, Iterable) or isinstance(terms, (str, bytes)):
        raise TypeError(f"terms must be {{reward: weight}} or [(weight, reward), ...], got {type(terms).__name__}")
    pairs = [(w, f) for f, w in terms.items()] if isinstance(terms, Mapping) else list(terms)
    if not pairs:
        raise ValueError("terms: weighted_sum needs at least one (weight, reward) term")
    checked: list[tuple[float, TextReward]] = []
    for pair in pairs:
        w, f = pair if isinstance(pair, tuple) and len(pair) == 2 else (None, None)
        if not callable(f) or isinstance(w, bool) or not isinstance(w, (int, float, np.number)) \
                or not math.isfinite(w):
            raise ValueError(f"terms: each term must be (finite weight, callable), got {pair!r}")
        checked.append((float(w), from_function(f)))
    return _WeightedSum(checked)
