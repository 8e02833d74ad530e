"""Helpers for tests/test_site.py: build the MkDocs site, serve it, drive Chromium.

Kept apart from the test module so the checks there read as a list of what a
reader of the site should see.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Debian's Chromium; override with RLCORE_CHROMIUM=/path/to/chrome.
CHROMIUM = os.environ.get("RLCORE_CHROMIUM", "/usr/bin/chromium")

#: Flags for a root, offline, headless machine (no sandbox, no phoning home).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: Chapter whose math the tests inspect and screenshot.
CHAPTER_PAGE = "chapters/02-fundamentals/"

SETUP_HINT = "run `bash tests/setup_browser.sh` first"


def unavailable(reason: str) -> None:
    """Skip on a developer machine; fail under CI, where the checks must run."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true, so this is an error; {SETUP_HINT})")
    pytest.skip(f"{reason}; {SETUP_HINT}")


def build_site(out_dir: Path) -> None:
    """`mkdocs build --strict` into out_dir, failing the test with mkdocs' log."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", PYTHONUNBUFFERED="1")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--config-file",
            str(ROOT / "mkdocs.yml"),
            "--site-dir",
            str(out_dir),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        log = "\n".join(
            line
            for line in (proc.stdout + proc.stderr).splitlines()
            if "WARNING" in line or "ERROR" in line or "Error" in line or "Aborted" in line
        )
        tail = (proc.stdout + proc.stderr)[-4000:]
        pytest.fail(f"mkdocs build --strict failed (exit {proc.returncode}):\n{log}\n--- full log tail ---\n{tail}")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


class SiteServer:
    """A static file server for the built site on 127.0.0.1 and a free port."""

    def __init__(self, directory: Path) -> None:
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        host, port = self.httpd.server_address[:2]
        self.base_url = f"http://{host}:{port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> SiteServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@dataclass
class Problems:
    """Everything a page did wrong while it was open."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return (
            [f"console error: {m}" for m in self.console_errors]
            + [f"uncaught exception: {m}" for m in self.page_errors]
            + [f"failed request: {m}" for m in self.failed_requests]
            + [f"request leaves the machine (site must work offline): {m}" for m in self.external_requests]
        )


def watch(page, base_url: str) -> Problems:
    """Record console errors, exceptions, failed and non-local requests of a page."""
    problems = Problems()

    def on_console(msg):
        if msg.type == "error":
            loc = msg.location or {}
            problems.console_errors.append(f"{msg.text} ({loc.get('url', '?')})")

    def on_request(request):
        url = request.url
        if not (url.startswith(base_url) or url.startswith(("data:", "blob:", "about:"))):
            problems.external_requests.append(url)

    def on_response(response):
        if response.status >= 400:
            problems.failed_requests.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.page_errors.append(str(exc)))
    page.on("request", on_request)
    page.on("response", on_response)
    page.on(
        "requestfailed",
        lambda request: problems.failed_requests.append(f"{request.failure} {request.url}"),
    )
    return problems


#: Resolves once MathJax has loaded and finished every typesetting pass queued
#: by book/javascripts/mathjax-config.js; false on pages without MathJax.
WAIT_FOR_MATHJAX = """
async () => {
  const deadline = Date.now() + 20000;
  while (!(window.MathJax && window.MathJax.typesetPromise && window.MathJax.startup
           && window.MathJax.startup.promise)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  // Typesetting passes are chained on startup.promise; wait until it settles.
  let p;
  do { p = window.MathJax.startup.promise; await p; } while (p !== window.MathJax.startup.promise);
  return true;
}
"""

#: Text a reader sees in `selector`, without code, and without MathJax output.
VISIBLE_TEXT = """
(selector) => {
  const parts = [];
  for (const el of document.querySelectorAll(selector)) {
    const copy = el.cloneNode(true);
    copy.querySelectorAll("pre, code, script, style, mjx-container, .highlight")
        .forEach((n) => n.remove());
    parts.push(copy.textContent);
  }
  return parts.join("\\n");
}
"""


def open_page(page, url: str) -> bool:
    """Load url, wait for MathJax to settle; return whether MathJax is present."""
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, f"{url} -> {response and response.status}"
    return bool(page.evaluate(WAIT_FOR_MATHJAX))


_MATH_IN_MARKDOWN = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$", re.DOTALL)


def notebook_pages(site_dir: Path) -> list[tuple[str, Path, Path]]:
    """(url path, built html, source .ipynb) of each notebook page, in name order."""
    pages = []
    for html in sorted((site_dir / "notebooks").glob("*/index.html")):
        name = html.parent.name
        source = ROOT / "notebooks" / f"{name}.ipynb"
        if source.is_file():
            pages.append((f"notebooks/{name}/", html, source))
    return pages


def _load(source: Path) -> dict:
    return json.loads(source.read_text(encoding="utf-8"))


def notebook_has_image(source: Path) -> bool:
    """Whether a stored output of the notebook is a PNG or JPEG picture (a plot)."""
    return any(
        mime in output.get("data", {})
        for cell in _load(source).get("cells", [])
        for output in cell.get("outputs", [])
        for mime in ("image/png", "image/jpeg")
    )


def notebook_has_math(source: Path) -> bool:
    nb = _load(source)
    text = "\n".join(
        "".join(cell.get("source", "")) for cell in nb.get("cells", []) if cell.get("cell_type") == "markdown"
    )
    return bool(_MATH_IN_MARKDOWN.search(text))


def find_chromium() -> str | None:
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium")
