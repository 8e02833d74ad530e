"""Static checks on the committed notebooks (no kernel needed; nbval re-executes them separately).

Re-execution against the stored outputs is the job of nbval:

    python -m pytest --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg notebooks/

These tests check what nbval cannot: every notebook names its book section first and ends with an
Exercises cell, was saved *with* outputs from a clean top-to-bottom run, and contains no errors,
warnings or progress bars that would make those outputs fragile.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return src if isinstance(src, str) else "".join(src)


def _text(output: dict) -> str:
    if "text" in output:
        return output["text"] if isinstance(output["text"], str) else "".join(output["text"])
    plain = output.get("data", {}).get("text/plain", "")
    return plain if isinstance(plain, str) else "".join(plain)


def test_notebooks_are_numbered_01_to_n_without_gaps() -> None:
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert len(numbers) >= 9 and numbers == list(range(1, len(numbers) + 1)), numbers


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_opens_with_book_section_and_ends_with_exercises(path: Path) -> None:
    cells = _load(path)["cells"]
    first, last = cells[0], cells[-1]
    assert first["cell_type"] == "markdown" and "Companion to chapter" in _source(first), \
        f"{path.name}: the first cell must name the book section it mirrors"
    assert _source(first).startswith(f"# {path.name[:2]} · "), \
        f"{path.name}: the title must carry the file's number, '# {path.name[:2]} · ...'"
    chapter = re.search(r"book/chapters/[\w.-]+\.md", _source(first))
    assert chapter and (ROOT / chapter.group(0)).exists(), f"{path.name}: first cell must link an existing chapter"
    assert last["cell_type"] == "markdown" and _source(last).lstrip().startswith("## Exercises"), \
        f"{path.name}: the last cell must be the Exercises cell"
    for ref in re.findall(r"notebooks/exercises/\w+\.py", _source(last)):
        assert (ROOT / ref).exists(), f"{path.name}: Exercises cell points to missing {ref}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_saved_with_clean_outputs(path: Path) -> None:
    nb = _load(path)
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3", f"{path.name}: kernel must be python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    counts = [c.get("execution_count") for c in code]
    assert all(isinstance(n, int) for n in counts), f"{path.name}: save the notebook after running every cell"
    assert counts == list(range(1, len(code) + 1)), f"{path.name}: cells were not run once, top to bottom"
    assert sum(bool(c.get("outputs")) for c in code) >= len(code) // 2, f"{path.name}: saved without outputs?"
    for i, cell in enumerate(code):
        for out in cell.get("outputs", []):
            where = f"{path.name}, code cell {i}"
            assert out["output_type"] != "error", f"{where}: stored error {out.get('ename')}"
            assert not (out["output_type"] == "stream" and out.get("name") == "stderr"), \
                f"{where}: stderr output (a warning?) makes nbval fragile: {_text(out)[:200]}"
            text = _text(out)
            assert not re.search(r"0x[0-9a-f]{6,}", text), f"{where}: memory address in output"
            assert not re.search(r"\d+%\|", text), f"{where}: progress bar in output"
