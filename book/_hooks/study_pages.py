"""MkDocs hook: a download link on every notebook page, and one solutions page per exercise file.

* Each notebook page opens with a link to its ``.ipynb`` (mkdocs-jupyter copies the file
  next to the page) and the command that opens it locally. When ``repo_url`` in
  ``mkdocs.yml`` names a GitHub repository, two more buttons open the same notebook on
  Colab and on Binder (branch: ``extra.notebook_branch``, default ``main``); without a
  public repository there is nothing for them to open, so they are left out.
* ``exercises/solutions/<exNN>.md`` is generated at build time from
  ``tests/exercises/solutions/<exNN>.py``: one collapsed block per function, so the page
  can never drift from the solutions the tests check.
"""

from __future__ import annotations

import ast
import re
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


GITHUB = re.compile(r"^https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?$")


def cloud_links(repo_url: str | None, branch: str, name: str) -> list[tuple[str, str]]:
    """``(label, href)`` of the Colab and Binder buttons for ``notebooks/<name>``; none without a GitHub URL."""
    match = GITHUB.match(repo_url or "")
    if not match:
        return []
    owner, repo = match.groups()
    return [("Open in Colab", f"https://colab.research.google.com/github/{owner}/{repo}/blob/{branch}/notebooks/{name}"),
            ("Launch Binder", f"https://mybinder.org/v2/gh/{owner}/{repo}/{branch}?labpath=notebooks%2F{name}")]


def on_page_content(html: str, page, config, files) -> str:
    src = page.file.src_uri
    if src.startswith("notebooks/") and src.endswith(".ipynb"):
        name = Path(src).name
        branch = (config.get("extra") or {}).get("notebook_branch", "main")
        cloud = "".join(f' <a class="md-button" href="{href}">{label}</a>'
                        for label, href in cloud_links(config.get("repo_url"), branch, name))
        link = (f'<p class="rl-download"><a class="md-button" href="{name}" download>Download {name}</a>{cloud} '
                f"or run it yourself: <code>jupyter lab notebooks/{name}</code> from the project root "
                f"(see the README's notebook command).</p>")
        html = link + html
    return html
