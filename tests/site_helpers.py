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
import urllib.parse
from dataclasses import dataclass, field
from html.parser import HTMLParser
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


def watch(page, base_url: str, ignore_aborted: bool = False) -> Problems:
    """Record console errors, exceptions, failed and non-local requests of a page.

    ignore_aborted: skip requests the browser cancelled (net::ERR_ABORTED), as
    when a tab that goes on to the next page drops the favicon or a font of the
    last one; a missing file still shows up as its 404 response.
    """
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
    def on_failed(request):
        if not (ignore_aborted and request.failure == "net::ERR_ABORTED"):
            problems.failed_requests.append(f"{request.failure} {request.url}")

    page.on("requestfailed", on_failed)
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


# --------------------------------------------------------------------------- layout

#: Viewports of the layout checks, width -> height: a laptop and a phone.
VIEWPORTS = {1280: 900, 390: 844}

#: Pixels of rounding slack in every width comparison.
TOLERANCE = 1.0

#: A figure file may hold this many times the pixels it is shown at (2x covers
#: "retina" PNGs); more means it was drawn far larger than the page shows it.
MAX_IMAGE_DOWNSCALE = 2.2

#: width / height above which a figure is an unreadable strip.
MAX_IMAGE_ASPECT = 4.0

#: mkdocs-jupyter's alt text for every notebook output image.
NBCONVERT_ALT = "No description has been provided for this image"


def content_pages(site_dir: Path) -> list[str]:
    """URL paths of the front page, every chapter and every notebook page."""
    paths = [""]
    paths += sorted(f"chapters/{p.parent.name}/" for p in (site_dir / "chapters").glob("*/index.html"))
    paths += [p[0] for p in notebook_pages(site_dir)]
    return paths


#: One pass over an open page: every measurement the layout tests need.
#: Widths are CSS pixels; "column" is the article (.md-content__inner), "area"
#: is .md-content, the column plus the gutters Material lets display math and
#: code blocks bleed into on a phone.
MEASURE_LAYOUT = r"""
async (nbconvertAlt) => {
  const clip = (s) => (s || "").replace(/\s+/g, " ").trim().slice(0, 60);
  const round = (x) => Math.round(x * 10) / 10;
  const box = (el) => { const r = el.getBoundingClientRect(); return {left: round(r.left), right: round(r.right)}; };
  // What a reader can open must fit too: unfold the <details> and show the tabs
  // that hold display math or a picture (only those: each costs a relayout).
  const SHOWN = 'mjx-container[display="true"], img';
  document.querySelectorAll("details:not([open])").forEach((d) => {
    if (d.querySelector(SHOWN)) d.open = true;
  });
  const reveal = document.createElement("style");
  reveal.textContent = `.md-typeset .tabbed-content > .tabbed-block:has(${SHOWN}) { display: block !important; }`;
  document.head.appendChild(reveal);
  const column = document.querySelector("article.md-content__inner");
  const area = document.querySelector(".md-content") || column;
  const out = {
    innerWidth: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    column: {width: column.clientWidth, ...box(column)},
    area: box(area),
    equations: [], images: [], missingTocTargets: [], spills: [],
  };

  // ---- display math
  const scrolls = (el) => /^(auto|scroll)$/.test(getComputedStyle(el).overflowX);
  const containers = [...column.querySelectorAll('mjx-container[display="true"]')];
  for (const c of containers) {
    const parent = c.parentElement;
    // The box meant to scroll sideways: the formula itself, or arithmatex's block.
    const scroller = scrolls(c) ? c : (parent.matches("div.arithmatex") && scrolls(parent) ? parent : null);
    const frame = scroller || c;
    const math = c.querySelector("mjx-math");
    const mathWidth = math ? math.getBoundingClientRect().width : 0;
    out.equations.push({
      tex: null,
      width: round(Math.max(frame.scrollWidth, c.scrollWidth, mathWidth)),  // at least its box
      mathWidth: round(mathWidth),  // the formula alone
      room: Math.min(frame.clientWidth, column.clientWidth),
      scrolls: scroller !== null,
      shown: frame.getClientRects().length > 0,
      ...box(frame),
    });
  }
  // Name the formulas that may be reported by their TeX. MathJax replaced it,
  // so read it from the page as served: the k-th display formula of the i-th
  // element MathJax typeset (book/javascripts/mathjax-config.js).
  const named = new Map();
  const wide = (eq) => eq.width > eq.room + 1 || eq.left < out.area.left - 1 || eq.right > out.area.right + 1;
  containers.forEach((c, i) => { if (wide(out.equations[i])) named.set(c, out.equations[i]); });
  if (named.size) {
    const HOSTS = ".arithmatex, .jp-RenderedMarkdown, .jp-RenderedLatex, .jp-MarkdownOutput";
    // \$ | $$display$$ | \[display\] | \(inline\) | $inline$ | \begin{env}display\end{env}
    const TEX = new RegExp([String.raw`\\\$`, String.raw`\$\$([\s\S]+?)\$\$`, String.raw`\\\[([\s\S]+?)\\\]`,
      String.raw`\\\(([\s\S]+?)\\\)`, String.raw`\$[^$]+?\$`,
      String.raw`(\\begin\{([a-zA-Z]+\*?)\}[\s\S]*?\\end\{\5\})`].join("|"), "g");
    const served = new DOMParser().parseFromString(await (await fetch(location.href)).text(), "text/html");
    const servedHosts = [...served.querySelectorAll(HOSTS)];
    const liveHosts = [...document.querySelectorAll(HOSTS)];
    if (servedHosts.length === liveHosts.length) {
      liveHosts.forEach((host, i) => {
        const inHost = [...host.querySelectorAll('mjx-container[display="true"]')];
        if (!inHost.some((c) => named.has(c))) return;
        const copy = servedHosts[i].cloneNode(true);
        copy.querySelectorAll("pre, code, script, style").forEach((n) => n.remove());
        const display = [...copy.textContent.matchAll(TEX)]
          .map((m) => m[1] || m[2] || m[4]).filter((t) => t !== undefined);
        if (inHost.length === display.length) {
          inHost.forEach((c, j) => { if (named.has(c)) named.get(c).tex = clip(display[j]); });
        }
      });
    }
    // Failing that, MathJax's copy for screen readers (the symbols, not the TeX).
    named.forEach((eq, c) => { if (eq.tex === null) eq.tex = clip("[MathML] " + c.textContent); });
  }

  // ---- images, once decoded
  const imgs = [...column.querySelectorAll("img")];
  await Promise.all(imgs.map((img) => img.decode().catch(() => null)));
  for (const img of imgs) {
    const r = img.getBoundingClientRect();
    const src = img.getAttribute("src") || "";
    const alt = img.getAttribute("alt") || "";
    out.images.push({
      label: clip(alt && alt !== nbconvertAlt ? alt : src.startsWith("data:") ? src.slice(0, 15) : src),
      cell: null,  // filled in from the .ipynb by crawl_layout
      src: src.startsWith("data:") ? null : src,
      naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
      width: round(r.width), height: round(r.height), left: round(r.left), right: round(r.right),
    });
  }

  // ---- table of contents
  for (const a of document.querySelectorAll('.md-nav--secondary a[href^="#"]')) {
    const id = decodeURIComponent(a.getAttribute("href").slice(1));
    const link = `${clip(a.textContent)} -> #${id}`;  // the TOC is in the page twice (drawer, sidebar)
    if (id && !document.getElementById(id) && !out.missingTocTargets.includes(link)) out.missingTocTargets.push(link);
  }

  // ---- what makes the page scroll sideways: outermost elements past the viewport edge
  if (out.scrollWidth > out.innerWidth + 1) {
    // Only the right edge: what sticks out to the left (the closed drawer) adds no scroll.
    const past = (el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.right > innerWidth + 1;
    };
    for (const el of document.body.querySelectorAll("*")) {
      if (!past(el) || (el.parentElement !== document.body && past(el.parentElement))) continue;
      let clipped = false;
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        if (getComputedStyle(a).overflowX !== "visible") { clipped = true; break; }
      }
      if (clipped) continue;
      const name = el.tagName.toLowerCase() + (el.className && typeof el.className === "string"
        ? "." + el.className.trim().split(/\s+/).slice(0, 2).join(".") : "");
      const text = el.textContent.trim() || el.getAttribute("alt") || el.getAttribute("src") || "";
      out.spills.push({element: name, text: clip(text), ...box(el)});
      if (out.spills.length >= 10) break;
    }
  }
  return out;
}
"""


@dataclass
class PageLayout:
    """What MEASURE_LAYOUT found on one page at one viewport width."""

    path: str
    data: dict
    problems: Problems


@dataclass
class Layout:
    """One crawl of the content pages at one viewport."""

    width: int
    height: int
    pages: list[PageLayout]
    screenshots: list[Path]
    seconds: float


def notebook_image_cells(ipynb: Path) -> list[int]:
    """Index of the cell behind each picture nbconvert shows, in page order.

    nbconvert shows the first of its preferred MIME types an output has; only
    outputs whose choice is a PNG or JPEG become <img> tags.
    """
    shown = ("text/html", "application/pdf", "text/latex", "image/svg+xml", "image/png", "image/jpeg")
    cells = []
    for index, cell in enumerate(_load(ipynb).get("cells", [])):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            first = next((mime for mime in shown if mime in data), None)
            if first in ("image/png", "image/jpeg"):
                cells.append(index)
    return cells


def crawl_layout(browser, base_url: str, paths: list[str], width: int, shots: dict[str, Path],
                 image_cells: dict[str, list[int]] | None = None) -> Layout:
    """Open every path once at `width` and measure it with MEASURE_LAYOUT.

    One tab serves all pages: a new tab per page costs about as much as the page
    (and tabs loading side by side only compete for the same CPUs). `shots`
    maps a path to a screenshot file; the viewport is scrolled to the widest
    display formula, else to the first image. `image_cells` maps a notebook page
    to notebook_image_cells() of its .ipynb, to name the cell of each picture.
    """
    import time

    start = time.perf_counter()
    context = browser.new_context(viewport={"width": width, "height": VIEWPORTS[width]})
    pages: list[PageLayout] = []
    written: list[Path] = []
    try:
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        problems = watch(tab, base_url, ignore_aborted=True)
        for path in paths:
            open_page(tab, base_url + path)
            data = tab.evaluate(MEASURE_LAYOUT, NBCONVERT_ALT)
            embedded = [img for img in data["images"] if img["src"] is None]
            cells = (image_cells or {}).get(path, [])
            if len(cells) == len(embedded):
                for img, cell in zip(embedded, cells):
                    img["cell"] = cell
            # This page's share of what the recorder saw; then start afresh.
            found = Problems(*(list(getattr(problems, f)) for f in Problems.__dataclass_fields__))
            for f in Problems.__dataclass_fields__:
                getattr(problems, f).clear()
            pages.append(PageLayout(path, data, found))
            if path in shots:
                _screenshot(tab, data, shots[path])
                written.append(shots[path])
    finally:
        context.close()
    return Layout(width, VIEWPORTS[width], pages, written, time.perf_counter() - start)


def _screenshot(page, data: dict, target: Path) -> None:
    equations = data["equations"]
    if equations:
        widest = max(range(len(equations)), key=lambda k: equations[k]["mathWidth"])
        page.locator('article.md-content__inner mjx-container[display="true"]').nth(widest).scroll_into_view_if_needed()
    elif data["images"]:
        page.locator("article img").first.scroll_into_view_if_needed()
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target))


# --------------------------------------------------------------------------- links

class _LinkParser(HTMLParser):
    """Collects the ids (and a-names) of a page and its <a href> links with their text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[list[str]] = []  # [href, text]
        self._open: list[list[str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(key):
                self.ids.add(attrs[key])
        if tag == "a" and attrs.get("href") is not None:
            link = [attrs["href"], ""]
            self.links.append(link)
            self._open.append(link)

    def handle_endtag(self, tag):
        if tag == "a" and self._open:
            self._open.pop()

    def handle_data(self, data):
        for link in self._open:
            link[1] += data


@functools.cache
def _parse_html(path: Path) -> _LinkParser:
    parser = _LinkParser()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def broken_links(site_dir: Path, path: str) -> list[str]:
    """In-site links of the built page at URL `path` whose file or #anchor is missing."""
    page_file = site_dir / path / "index.html"
    page_url = "/" + path
    broken = []
    for href, text in _parse_html(page_file).links:
        if not href or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//", href):
            continue  # https:, mailto:, data: ... are not in-site
        target, _, anchor = href.partition("#")
        target = target.split("?", 1)[0]
        url = urllib.parse.urljoin(page_url, urllib.parse.unquote(target))
        file = site_dir / url.lstrip("/")
        if url.endswith("/") or file.is_dir():
            file = file / "index.html"
        label = f"{path or '/'}: link {clip(text)!r} -> {href}"
        if not file.is_file():
            broken.append(f"{label}: no file {file.relative_to(site_dir)}")
        elif anchor and file.suffix == ".html":
            if urllib.parse.unquote(anchor) not in _parse_html(file).ids:
                broken.append(f"{label}: no id {anchor!r} in {file.relative_to(site_dir)}")
    return list(dict.fromkeys(broken))  # a link in both the drawer and the sidebar, once


def clip(text: str, n: int = 60) -> str:
    return " ".join(text.split())[:n]
