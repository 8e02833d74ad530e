"""MkDocs hook: serve MathJax 3 from an installed Python package, not a CDN.

MathJax's browser build ships on PyPI inside ``django-static-mathjax`` (a plain
copy of the MathJax 3.2.2 release; it has no dependencies and needs no Django
to be importable). This hook adds the files the site uses to the build as
``javascripts/vendor/mathjax/...``, so ``mkdocs build`` and ``mkdocs serve``
work on a fresh clone after ``pip install -e ".[dev]"`` with no download step
and nothing generated inside ``book/``.

It also removes the MathJax 2 loader that mkdocs-jupyter writes into every
notebook page (a ``<script src="">`` plus a ``text/x-mathjax-config`` block):
the site-wide MathJax 3 typesets notebook markdown instead (see
``book/javascripts/mathjax-config.js``).
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

#: Where the files appear in the built site; mkdocs.yml's extra_javascript
#: points at ``<VENDOR_URI>/tex-chtml-full.js``.
VENDOR_URI = "javascripts/vendor/mathjax"

#: Combined bundles we do not load; everything else (fonts, lazily loaded TeX
#: extensions, menu and accessibility modules) is kept so that nothing MathJax
#: may fetch at run time is missing.
_UNUSED = re.compile(
    r"^(?:node-main\.js|mml-.*\.js|tex-svg.*\.js|tex-mml-.*\.js"
    r"|tex-chtml\.js|tex-chtml-full-speech\.js)$"
)

# What mkdocs-jupyter (through nbconvert's base/mathjax.html.j2) emits.
_NB_MATHJAX = re.compile(
    r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->",
    re.DOTALL,
)


def _mathjax_es5_dir() -> Path:
    try:
        root = resources.files("mathjax")
    except ModuleNotFoundError:
        root = None
    es5 = Path(str(root)) / "static" / "mathjax" / "es5" if root is not None else None
    if es5 is None or not (es5 / "tex-chtml-full.js").is_file():
        raise PluginError(
            "MathJax 3 assets not found: install the docs dependencies with "
            '`pip install -e ".[dev]"` (they include django-static-mathjax).'
        )
    return es5


def on_files(files: Files, config) -> Files:
    es5 = _mathjax_es5_dir()
    for path in sorted(es5.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(es5).as_posix()
        if "/" not in rel and _UNUSED.match(rel):
            continue
        files.append(File.generated(config, f"{VENDOR_URI}/{rel}", abs_src_path=str(path)))
    return files


def on_page_content(html: str, page, config, files) -> str:
    if page.file.src_uri.endswith(".ipynb"):
        html = _NB_MATHJAX.sub("", html)
    return html
