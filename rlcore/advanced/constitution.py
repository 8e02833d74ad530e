"""A constitution in miniature: written principles a program can check, a critic, and a reviser.

Book: *Advanced techniques*, "Constitutional AI and self-supervision" (the supervised phase:
critique and revise), and *Case studies*, "Constitutional AI (Claude)".

A [`Principle`][] pairs a one-line statement with a predicate ``c_k(y) in {True, False}``
(True: the text ``y`` complies) and a deterministic repair. A [`Constitution`][] is an
ordered tuple of principles ``(c_1 .. c_K)``; its violation matrix is

    V[i, k] = not c_k(y_i),      complies(y_i) = all_k c_k(y_i),

and the violation rate of a set of texts is the share of texts that break at least one
principle. Where Bai et al. (2022) ask a model to critique and revise its own answer,
here [`Constitution.critique`][] lists the broken principles and
[`Constitution.revise`][] applies their repairs in the constitution's order.

The toy ([`toy_constitution`][]) lives on the four characters ``"ab ."``: a *word* is a run
of letters between spaces and full stops, ``a`` is the only vowel, and answers of at most
six characters can all be listed, so every rate below can be an exact sum.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from rlcore.core.validation import check_flag, check_instance, check_positive_int

__all__ = ["TOY_CHARS", "TOY_MAX_LEN", "Principle", "Constitution", "no_repeats", "ends_with",
           "vowel_in_every_word", "toy_constitution"]

TOY_CHARS = "ab ."
"""The toy's vocabulary: two letters (``a`` is the vowel), a space and a full stop."""
TOY_MAX_LEN = 6
"""The toy's length limit: ``sum_{t<=6} 4^t = 5461`` answers to an empty prompt, few enough to list."""


def _keep(text: str, max_len: int | None) -> str:
    return text


@dataclass(frozen=True)
class Principle:
    """One written rule: ``check(text)`` is True when ``text`` complies; ``fix(text, max_len)`` repairs it."""

    name: str
    """short identifier, used by [`Constitution.critique`][]"""
    check: Callable[[str], bool] = field(repr=False)
    """the predicate ``c(y)``: True when the text complies"""
    statement: str = ""
    """the principle in one line of plain words"""
    fix: Callable[[str, int | None], str] = field(default=_keep, repr=False)
    """a deterministic edit that makes ``check`` hold, never longer than ``max_len`` (None: no limit)"""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Principle.name must be a non-empty string, got {self.name!r}")
        check_instance(self.statement, "Principle.statement", str)
        for arg in ("check", "fix"):
            if not callable(getattr(self, arg)):
                raise TypeError(f"Principle.{arg} must be callable, got {getattr(self, arg)!r}")

    def complies(self, text: str) -> bool:
        """``c(y)`` as a Python bool (``TypeError`` for a non-string)."""
        if not isinstance(text, str):
            raise TypeError(f"texts must be str, got {type(text).__name__}: {text!r}")
        return bool(self.check(text))


@dataclass(frozen=True)
class Constitution:
    """An ordered tuple of [`Principle`][]s with names that are all different."""

    principles: tuple[Principle, ...]

    def __post_init__(self) -> None:
        ps = tuple(_as_texts(self.principles, "principles"))
        if not ps or not all(isinstance(p, Principle) for p in ps):
            raise ValueError(f"principles must be a non-empty sequence of Principle, got {self.principles!r}")
        names = [p.name for p in ps]
        if len(set(names)) != len(names):
            raise ValueError(f"principles must have distinct names, got {names}")
        object.__setattr__(self, "principles", ps)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.principles)

    def __len__(self) -> int:
        return len(self.principles)

    def subset(self, names: Sequence[str]) -> Constitution:
        """The principles called ``names``, in this constitution's order (a judge that checks only some)."""
        picked = None if isinstance(names, str) else _as_texts(names, "names")
        if not picked or any(n not in self.names for n in picked):
            raise ValueError(f"names must be a non-empty list of principle names among {self.names}, got {names!r}")
        return Constitution(tuple(p for p in self.principles if p.name in set(picked)))

    def violations(self, texts: Sequence[str]) -> np.ndarray:
        """``V[i, k] = not c_k(texts[i])``: a bool array ``[n_texts, n_principles]``."""
        texts = _as_texts(texts)
        out = np.zeros((len(texts), len(self)), dtype=bool)
        for k, p in enumerate(self.principles):
            out[:, k] = [not p.complies(t) for t in texts]
        return out

    def complies(self, texts: Sequence[str]) -> np.ndarray:
        """``all_k c_k(y_i)`` per text: a bool array ``[n_texts]``."""
        return ~self.violations(texts).any(axis=1)

    def violation_rate(self, texts: Sequence[str], per_principle: bool = False) -> float | np.ndarray:
        """Share of ``texts`` breaking at least one principle (``per_principle``: each principle's share ``[K]``)."""
        check_flag(per_principle, "per_principle")
        v = self.violations(texts)
        if len(v) == 0:
            raise ValueError("texts must hold at least one text to take a rate over, got none")
        return v.mean(axis=0) if per_principle else float(v.any(axis=1).mean())

    def critique(self, text: str) -> list[str]:
        """The names of the principles ``text`` breaks, in the constitution's order (empty: it complies)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be str, got {type(text).__name__}: {text!r}")
        return [p.name for p in self.principles if not p.complies(text)]

    def revise(self, text: str, max_len: int | None = None, max_rounds: int = 3) -> str:
        """Repair ``text``: apply the ``fix`` of each broken principle in order, for up to ``max_rounds`` passes.

        A complying text is returned unchanged. The repairs never make the text longer
        than ``max_len``. For [`toy_constitution`][] one pass always suffices: each
        repair keeps the principles before it (see [`toy_constitution`][]).
        """
        check_positive_int(max_rounds, "max_rounds")
        check_positive_int(max_len, "max_len", none=True)
        if not isinstance(text, str):
            raise TypeError(f"text must be str, got {type(text).__name__}: {text!r}")
        if max_len is not None and len(text) > max_len:
            raise ValueError(f"text {text!r} is longer than max_len={max_len}")
        for _ in range(max_rounds):
            if not self.critique(text):
                break
            for p in self.principles:
                if not p.complies(text):
                    text = p.fix(text, max_len)
        return text

    def __repr__(self) -> str:
        return f"Constitution({len(self)} principles: {', '.join(self.names)})"


def _as_texts(texts: Sequence[str], name: str = "texts") -> list:
    if isinstance(texts, (str, bytes)) or not hasattr(texts, "__iter__"):
        raise TypeError(f"{name} must be a sequence (a list), got {type(texts).__name__}: {texts!r}")
    return list(texts)


def no_repeats(run: int = 3) -> Principle:
    """No character ``run`` times in a row; repair: cut every longer run to ``run - 1`` characters."""
    run = check_positive_int(run, "run")
    if run < 2:
        raise ValueError(f"run must be >= 2 (a run of 1 forbids every character), got {run}")
    rx = re.compile(rf"(.)\1{{{run - 1},}}", re.DOTALL)
    return Principle(f"no_{run}_in_a_row", lambda t: rx.search(t) is None,
                     f"Never write the same character {run} times in a row.",
                     lambda t, max_len: rx.sub(lambda m: m.group(1) * (run - 1), t))


def ends_with(end: str = ".") -> Principle:
    """The text ends with ``end`` (an empty text does not); repair: drop trailing spaces, then end with ``end``.

    The end character is appended when there is room under ``max_len``; otherwise it
    replaces the last character.
    """
    if not isinstance(end, str) or len(end) != 1:
        raise ValueError(f"end must be one character, got {end!r}")

    def fix(text: str, max_len: int | None) -> str:
        text = text.rstrip(" ")
        if text.endswith(end):
            return text
        if max_len is None or len(text) < max_len:
            return text + end
        return text[:-1] + end

    return Principle("full_stop" if end == "." else f"ends_with_{end!r}", lambda t: t.endswith(end),
                     f"End the answer with {end!r}.", fix)


def vowel_in_every_word(vowels: str = "a", separators: str = " .") -> Principle:
    """Every word (a run of characters outside ``separators``) holds one of ``vowels``.

    A text without words complies. Repair: the last letter of each word without a vowel
    becomes ``vowels[0]`` (a substitution, so the length does not change).
    """
    if not isinstance(vowels, str) or not vowels or not isinstance(separators, str) or not separators:
        raise ValueError(f"vowels and separators must be non-empty strings, got {vowels!r} and {separators!r}")
    if set(vowels) & set(separators):
        raise ValueError(f"vowels {vowels!r} and separators {separators!r} must not share characters")
    word = re.compile("[^" + re.escape(separators) + "]+")
    has_vowel = re.compile("[" + re.escape(vowels) + "]").search

    def check(text: str) -> bool:
        return all(has_vowel(w) for w in word.findall(text))

    def fix(text: str, max_len: int | None) -> str:
        return word.sub(lambda m: m.group() if has_vowel(m.group()) else m.group()[:-1] + vowels[0], text)

    return Principle("vowel_in_every_word", check, f"Every word holds a vowel ({vowels!r}).", fix)


def toy_constitution() -> Constitution:
    """The toy's three principles, in the order their repairs run: full stop, vowels, no triple.

    Why one pass of [`Constitution.revise`][] always ends in compliance: the vowel repair
    changes letters only, so the final full stop stays; cutting a run of three or more to
    two keeps the last character and each word's set of letters, so neither the full stop
    nor any vowel is lost, and a substituted vowel cannot start a run (its word had none).
    """
    return Constitution((ends_with("."), vowel_in_every_word("a", " ."), no_repeats(3)))
