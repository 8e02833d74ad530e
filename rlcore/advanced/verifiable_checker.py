"""The grammar and the checker behind the verifiable reward of [`rlcore.advanced.verifiable`][].

Book: *Case studies*, "Code Generation with RL" (a program, not a person, grades the answer).

An expression is decimal numbers joined by ``+`` and ``*``, such as ``"1+2*3"``; a text is graded
``"<expression>=<answer>"``. The checker parses the expression with its own recursive-descent parser
(``*`` binds tighter than ``+``; Python's ``eval`` is never called) and pays

    R(x, y) = [y == str(value(x))]          (1 for an exact answer, else 0).
"""

from __future__ import annotations

__all__ = ["DIGITS", "OPERATORS", "evaluate_expression", "check_answer"]

DIGITS = "0123456789"
OPERATORS = "+*"
"""The operators the grammar knows: ``+`` and ``*`` (``*`` first)."""


def evaluate_expression(expression: str) -> int:
    """The value of ``expression`` under ``expr := term ('+' term)*``, ``term := number ('*' number)*``.

    ``number`` is one or more decimal digits; no spaces, signs or brackets. A malformed
    expression (empty, a dangling or doubled operator, an unknown character) raises
    ``ValueError`` naming the position.
    """
    if not isinstance(expression, str):
        raise TypeError(f"expression must be a str, got {type(expression).__name__}: {expression!r}")
    pos = 0

    def number() -> int:
        nonlocal pos
        start = pos
        while pos < len(expression) and expression[pos] in DIGITS:
            pos += 1
        if pos == start:
            got = repr(expression[pos]) if pos < len(expression) else "the end"
            raise ValueError(f"expression {expression!r}: expected a digit at position {pos}, got {got}")
        return int(expression[start:pos])

    def term() -> int:
        nonlocal pos
        value = number()
        while pos < len(expression) and expression[pos] == "*":
            pos += 1
            value *= number()
        return value

    total = term()
    while pos < len(expression) and expression[pos] == "+":
        pos += 1
        total += term()
    if pos != len(expression):
        raise ValueError(f"expression {expression!r}: unexpected {expression[pos]!r} at position {pos}")
    return total


def check_answer(text: str) -> float:
    """The checker: 1.0 when ``text`` is ``"<expression>=<its value>"`` exactly, else 0.0.

    The part after the first ``=`` must be the decimal value with no leading zeros, no
    spaces and nothing after it; a malformed expression scores 0 (a policy may write anything).
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}: {text!r}")
    expression, sep, answer = text.partition("=")
    if not sep:
        return 0.0
    try:
        value = evaluate_expression(expression)
    except ValueError:
        return 0.0
    return float(answer == str(value))
