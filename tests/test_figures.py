"""The book's figures: every one a chapter shows exists and has the rlcore code that draws it."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

ROOT = Path(__file__).resolve().parents[1]
FIG_DIR = ROOT / "book" / "figures"


def _generator():
    spec = importlib.util.spec_from_file_location("make_figures", FIG_DIR / "make_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def referenced() -> set[str]:
    names = set()
    for page in (ROOT / "book" / "chapters").glob("*.md"):
        names |= set(re.findall(r"\(\.\./figures/([A-Za-z0-9_]+)\.png\)", page.read_text(encoding="utf-8")))
    return names


def test_every_chapter_figure_exists_and_is_generated_by_the_script():
    gen = _generator()
    names = referenced()
    assert len(names) >= 11  # at least one per chapter
    assert names <= set(gen.FIGURES), f"no generator for {sorted(names - set(gen.FIGURES))}"
    missing = [n for n in names if not (FIG_DIR / f"{n}.png").is_file()]
    assert missing == []


@pytest.mark.parametrize("name", ["ch04_bradley_terry", "ch02_state_count", "ch01_gridworld_policy"])
def test_cheap_figures_regenerate(name):
    fig = _generator().FIGURES[name]()
    assert isinstance(fig, Figure) and fig.axes
    plt.close(fig)
