"""The referential game of [`rlcore.advanced.referential`][]: its objects, candidates, prompts and natural names.

Book: *Advanced techniques*, "Multi-agent RL for dialogue systems" ("Learning dynamics").

Objects are ``(colour, shape)`` pairs (default 3 x 3); each round shows ``n_candidates`` distinct objects,
one of them the target. The speaker sees the target as the prompt ``"RS"`` (upper-case initials); the natural
language names it by the lower-case initials, ``"rs"`` for the red square. A [`ReferentialGame`][] holds these
rules and checks them on construction.
"""

from __future__ import annotations

from dataclasses import dataclass

from rlcore.core.validation import check_index_array, check_instance, check_positive_int, check_strings

__all__ = ["ReferentialGame"]


@dataclass(frozen=True)
class ReferentialGame:
    """The objects, the candidate count and the message format; object ``o`` is ``(o // n_shapes, o % n_shapes)``."""

    colours: tuple[str, ...] = ("red", "green", "blue")
    shapes: tuple[str, ...] = ("square", "circle", "triangle")
    n_candidates: int = 3
    """objects shown to the listener (the target and ``n_candidates - 1`` distractors)"""
    max_message_len: int = 3
    """characters the speaker may write (``EOS`` ends a message earlier)"""
    extra_chars: str = "xyz"
    """letters the natural language never uses, free for a drifting code"""

    def __post_init__(self) -> None:
        words = check_strings(self.colours, "colours") + check_strings(self.shapes, "shapes")
        check_instance(self.extra_chars, "extra_chars", str)
        initials = [w[:1].lower() if isinstance(w, str) else "" for w in words] + list(str(self.extra_chars).lower())
        if not all(i.isalpha() for i in initials[:len(words)]) or len(set(initials)) != len(initials):
            raise ValueError(f"colours and shapes must be words with distinct initials not in extra_chars, got "
                             f"{self.colours}, {self.shapes}, extra_chars={self.extra_chars!r}")
        if not 2 <= check_positive_int(self.n_candidates, "n_candidates") <= self.n_objects:
            raise ValueError(f"n_candidates must lie in [2, {self.n_objects}], got {self.n_candidates}")
        if check_positive_int(self.max_message_len, "max_message_len") < 2:
            raise ValueError(f"max_message_len must be >= 2 (the length of a name), got {self.max_message_len}")

    @property
    def n_objects(self) -> int:
        """``len(colours) * len(shapes)``."""
        return len(self.colours) * len(self.shapes)

    @property
    def chars(self) -> str:
        """The vocabulary: upper-case initials (prompts), lower-case initials (names), then ``extra_chars``."""
        initials = "".join(w[0] for w in self.colours + self.shapes)
        return initials.upper() + initials.lower() + self.extra_chars

    def prompt(self, obj: int) -> str:
        """What the speaker sees: ``"RS"`` for the red square."""
        obj = int(check_index_array(obj, "obj", self.n_objects, shape=()))
        return (self.colours[obj // len(self.shapes)][0] + self.shapes[obj % len(self.shapes)][0]).upper()

    def name(self, obj: int) -> str:
        """The natural description: ``"rs"`` for the red square."""
        return self.prompt(obj).lower()

    def corpus(self, repeats: int = 8) -> list[str]:
        """``repeats`` lines ``prompt + name`` per object (``"RSrs"``), for
        [`reference_speaker`][rlcore.advanced.referential.reference_speaker]."""
        return [self.prompt(o) + self.name(o) for o in range(self.n_objects)] * check_positive_int(repeats, "repeats")
