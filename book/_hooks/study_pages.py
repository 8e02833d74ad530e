"""MkDocs hook: a download link on every notebook page, and one solutions page per exercise file.

* Each notebook page opens with a link to its ``.ipynb`` (mkdocs-jupyter copies the file
  next to the page) and the command that opens it locally.
* ``exercises/solutions/<exNN>.md`` is generated at build time from
  ``tests/exercises/solutions/<exNN>.py``: one collapsed block per function, so the page
  can never drift from the solutions the tests check.
"""

from __future__ import annotations

import ast
from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "tests" / "exercises" / "solutions"
STUBS = ROOT / "notebooks" / "exercises"


def solution_page(path: Path) -> str:
    """The Markdown of one solutions page: the module's docstring, then each function collapsed."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    lines = [f"# Solutions: `{path.stem}.py`", ""]
    lines += ["Try the exercise first: open `notebooks/exercises/" + path.name + "`, fill in a stub, and run",
              "`python -m pytest tests/exercises --student -k " + path.stem.split("_")[0] + "`. Each block",
              "below opens on a click. These are the reference solutions the test suite grades.", ""]
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            source = ast.get_source_segment(text, node)
            lines.append(f'??? success "`{node.name}`"')
            lines.append("")
            lines.append("    ```python")
            lines += ["    " + ln if ln else "" for ln in source.splitlines()]
            lines.append("    ```")
            lines.append("")
    return "\n".join(lines)


def on_files(files: Files, config) -> Files:
    for path in sorted(SOLUTIONS.glob("ex*.py")):
        files.append(File.generated(config, f"exercises/solutions/{path.stem}.md", content=solution_page(path)))
    return files


def on_page_content(html: str, page, config, files) -> str:
    src = page.file.src_uri
    if src.startswith("notebooks/") and src.endswith(".ipynb"):
        name = Path(src).name
        link = (f'<p class="rl-download"><a class="md-button" href="{name}" download>Download {name}</a> '
                f"or run it yourself: <code>jupyter lab notebooks/{name}</code> from the project root "
                f"(see the README's notebook command).</p>")
        html = link + html
    return html
