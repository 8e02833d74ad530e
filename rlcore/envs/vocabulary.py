"""The vocabulary of the character-level language MDP: characters plus EOS, BOS and PAD.

Book: *RL for large language models*, "Text generation as an MDP".

Token ids (one id space shared with [`rlcore.lm.model`][]): the ``n`` characters
are ``0 .. n-1``, then ``EOS = n``, ``BOS = n+1``, ``PAD = n+2``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rlcore.core.validation import check_array, check_instance

__all__ = ["Vocabulary"]


class Vocabulary:
    """Characters and the three special tokens, with ``stoi``/``itos`` maps.

    ``chars`` = the ``n`` characters (ids ``0 .. n-1``); ``EOS = n``, ``BOS = n+1``,
    ``PAD = n+2``; ``n_actions = n + 1`` (characters and EOS), ``n_tokens = n + 3``.
    """

    def __init__(self, chars: str | Sequence[str]) -> None:
        if not isinstance(chars, (str, list, tuple)):   # a set would number its characters differently every run
            raise TypeError(f"chars must be a str or a list/tuple of characters, got {type(chars).__name__}")
        chars = list(chars)
        if len(chars) == 0:
            raise ValueError("chars: a vocabulary must contain at least one character, got an empty vocabulary")
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"chars: vocabulary entries must be single characters, got {c!r}")
        if len(set(chars)) != len(chars):
            dup = sorted({c for c in chars if chars.count(c) > 1})
            raise ValueError(f"chars: vocabulary characters must be distinct, got duplicates {dup}")
        self.chars: tuple[str, ...] = tuple(chars)
        self.n_chars = len(chars)
        self.EOS = self.n_chars
        self.BOS = self.n_chars + 1
        self.PAD = self.n_chars + 2
        self.n_actions = self.n_chars + 1
        self.n_tokens = self.n_chars + 3
        self.stoi = {c: i for i, c in enumerate(chars)}
        self.itos = {i: c for i, c in enumerate(chars)}
        self.itos.update({self.EOS: "<eos>", self.BOS: "<bos>", self.PAD: "<pad>"})

    @classmethod
    def from_text(cls, text: str | Iterable[str]) -> Vocabulary:
        """The sorted set of characters in ``text`` (newlines excluded)."""
        if not isinstance(text, str):
            if isinstance(text, (bytes, dict)) or not isinstance(text, Iterable):
                raise TypeError(f"text must be a str or an iterable of str, got {type(text).__name__}")
            text = "".join(check_instance(t, "text", str, "an iterable of str") for t in text)
        chars = sorted(set(text) - {"\n", "\r"})
        if not chars:
            raise ValueError(f"text has no characters to build a vocabulary from, got {text!r}")
        return cls(chars)

    def check(self, text: str, name: str = "text") -> None:
        """Raise ``ValueError`` naming the characters of ``text`` not in the vocabulary."""
        check_instance(text, name, str)
        bad = sorted({c for c in text if c not in self.stoi})
        if bad:
            raise ValueError(f"{name} {text!r} contains characters not in the vocabulary: {bad}; "
                             f"vocabulary is {''.join(self.chars)!r}")

    def encode(self, text: str) -> list[int]:
        """Character ids of ``text`` (no special tokens)."""
        self.check(text)
        return [self.stoi[c] for c in text]

    def decode(self, ids: Iterable[int]) -> str:
        """Text of a sequence of ids; stops at ``EOS``, skips ``BOS`` and ``PAD``."""
        out = []
        ids = check_array(ids, "ids", shape=(None,), allow_empty=True, integer=True)
        if ids.size and not 0 <= ids.min() <= ids.max() < self.n_tokens:  # a negative id would wrap around
            raise ValueError(f"token ids must lie in [0, {self.n_tokens - 1}], got {ids.min()} to {ids.max()}")
        for i in ids.tolist():
            if i == self.EOS:
                break
            if i < self.n_chars:
                out.append(self.chars[i])
        return "".join(out)

    def __len__(self) -> int:
        return self.n_chars

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and other.chars == self.chars

    def __hash__(self) -> int:
        return hash(self.chars)

    def __repr__(self) -> str:
        return f"Vocabulary({''.join(self.chars)!r})"
