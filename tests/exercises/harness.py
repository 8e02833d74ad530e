"""The machinery the exercise checks share: where the files are, how they load, how a check reports.

Checks live in ``test_exercises.py`` (chapters 2 to 5 and 9) and in one ``checks_exNN.py`` module per
later exercise file; each registers itself with :func:`check`. A check receives the function under
test and raises :class:`Mismatch` with a short "expected ..., got ..." message when the answer is wrong.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SOLUTION_DIR = HERE / "solutions"
# RLCORE_EXERCISES_DIR lets the meta-tests grade a scratch copy of the stubs.
STUDENT_DIR = Path(os.environ.get("RLCORE_EXERCISES_DIR", ROOT / "notebooks" / "exercises")).resolve()
_LOADED: dict[Path, ModuleType] = {}


def load_exercise_module(directory: Path, name: str) -> ModuleType:
    """Import ``directory/name.py`` under a private name, so stubs and solutions never collide."""
    path = (directory / f"{name}.py").resolve()
    if path not in _LOADED:
        if not path.exists():
            raise FileNotFoundError(f"exercise file {path} is missing")
        tag = {STUDENT_DIR: "student", SOLUTION_DIR.resolve(): "solution"}.get(directory.resolve(), "stub")
        spec = importlib.util.spec_from_file_location(f"_rlcore_exercise_{tag}_{name}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        _LOADED[path] = module
    return _LOADED[path]


# --------------------------------------------------------------------------- check machinery
class Mismatch(AssertionError):
    """A wrong answer: carries a short expected-versus-got message."""


@dataclass(frozen=True)
class Check:
    module: str
    function: str
    name: str
    hint: str
    run: Callable[[Callable], None]

    @property
    def id(self) -> str:
        return f"{self.module}.{self.function}:{self.name}"


CHECKS: list[Check] = []


def check(module: str, function: str, hint: str):
    """Register ``fn(f)`` as a check of ``module.function``; ``f`` is the function under test."""

    def register(fn: Callable[[Callable], None]) -> Callable[[Callable], None]:
        CHECKS.append(Check(module, function, fn.__name__.removeprefix("check_"), hint, fn))
        return fn

    return register


def _fmt(x) -> str:
    arr = np.asarray(x)
    if arr.ndim == 0:
        return f"{arr.item():.6g}" if np.issubdtype(arr.dtype, np.number) else repr(arr.item())
    return np.array2string(arr, precision=4, suppress_small=True, threshold=30, max_line_width=100)


def expect_close(got, expected, what: str, atol: float = 1e-6) -> None:
    """Raise :class:`Mismatch` unless ``got`` has ``expected``'s shape and values (to ``atol``)."""
    expected = np.asarray(expected, dtype=float)
    if got is None:
        raise Mismatch(f"{what}: expected {_fmt(expected)}, got None (did you forget to return?)")
    try:
        got_arr = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        raise Mismatch(f"{what}: expected numbers, got {type(got).__name__} {got!r:.80}") from None
    if got_arr.shape != expected.shape:
        raise Mismatch(f"{what}: expected shape {expected.shape}, got shape {got_arr.shape}")
    if not np.allclose(got_arr, expected, atol=atol, rtol=0, equal_nan=False):
        raise Mismatch(f"{what}: expected {_fmt(expected)}, got {_fmt(got_arr)}")


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Mismatch(message)


def adam_bytes_torch_holds(model) -> tuple[int, int]:
    """``(parameters, bytes)`` after one Adam step on ``model``: weights, gradients and optimiser state.

    The independent reference for the memory budgets: the bytes of the tensors torch really keeps,
    counted after a forward pass, a backward pass and one step (Adam allocates its moments lazily).
    """
    import torch

    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    logits, values = model(torch.zeros(2, 5, dtype=torch.long))
    (logits.sum() + values.sum()).backward()
    opt.step()
    params = list(model.parameters())
    held = sum(p.numel() * p.element_size() for p in params)
    held += sum(p.grad.numel() * p.grad.element_size() for p in params)
    held += sum(t.numel() * t.element_size() for st in opt.state.values() for k, t in st.items() if k != "step")
    return sum(p.numel() for p in params), held

