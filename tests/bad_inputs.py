"""The shared harness of the bad-input sweep (issue 9): one clear refusal per bad input.

A sweep file lists, for each public function or class, at least five bad inputs as
``Bad(label, call, arg)`` cases, where ``call`` is a zero-argument lambda that makes the
bad call and ``arg`` is the argument the error must name. ``assert_refused`` then checks the
three things a demanding user expects:

* the call raises ``ValueError`` or ``TypeError`` (not ``IndexError``, ``KeyError``,
  ``RuntimeError``, ``ZeroDivisionError``, ... from deep inside numpy, torch or scipy);
* the message names the argument, so the user knows what to fix;
* the exception was raised by rlcore itself, not by numpy/torch/scipy with a message that
  happens to contain the word (the innermost traceback frame lies in ``rlcore/``);

and the sweep module marks every case with ``pytest.mark.timeout`` so that a hang fails.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

RLCORE = str(Path(__file__).resolve().parents[1] / "rlcore")


@dataclass(frozen=True)
class Bad:
    """One bad call: a label for the test id, the call, and the argument its error must name."""

    label: str
    call: Callable[[], object]
    arg: str


def assert_refused(case: Bad) -> None:
    """``case.call()`` must raise ValueError/TypeError from rlcore code, naming ``case.arg``."""
    with pytest.raises((ValueError, TypeError)) as info:
        case.call()
    msg = str(info.value)
    assert case.arg in msg, f"{case.label}: the error does not name {case.arg!r}: {msg!r}"
    frames = traceback.extract_tb(info.tb)
    origin = frames[-1].filename if frames else ""
    assert origin.startswith(RLCORE), (
        f"{case.label}: raised inside {origin} (a raw library error), not by rlcore: "
        f"{type(info.value).__name__}: {msg}")


def cases(bad: list[Bad]) -> list:
    """``bad`` as pytest parameters with readable ids (duplicate labels are a mistake in the sweep)."""
    labels = [b.label for b in bad]
    dupes = sorted({x for x in labels if labels.count(x) > 1})
    if dupes:
        raise AssertionError(f"duplicate sweep labels: {dupes}")
    return [pytest.param(b, id=b.label) for b in bad]
