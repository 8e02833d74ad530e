"""The README's promises: two commands first, and CI runs the second one verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_readme_opens_with_the_demo_and_the_test_command():
    first, second = readme_commands()[:2]
    assert "rlcore demo" in first and "pip install -e ." in first
    assert "pytest" in second and "[dev,trl]" in second  # the TRL cross-checks run in the default suite
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.index(first) < text.index("## ")  # both commands come before the first section


def test_ci_runs_exactly_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line for line in script.splitlines() if line.strip() and not line.startswith(("#", "set ", "cd "))]
    assert commands == [readme_commands()[1]]
