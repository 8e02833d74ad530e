"""The book's website, as a reader's browser sees it.

Builds the MkDocs site with ``--strict`` into a temporary folder, serves it on
127.0.0.1 and opens it in headless Chromium (Debian's, through Playwright) to
check what a static build cannot: that formulas on chapter and notebook pages
are typeset by the bundled MathJax, that notebook plots display, that search
returns results, and that no page logs an error or reaches off the machine.

Needs ``bash tests/setup_browser.sh`` once (installs Debian's chromium). Without
a browser the tests skip, except under CI=true, where they fail.
A screenshot of a chapter lands in test-artifacts/chapter.png.
"""

from __future__ import annotations

import re

import pytest

try:  # tests/ may or may not be a package
    from . import site_helpers as sh
except ImportError:
    import site_helpers as sh


ARTIFACTS = sh.ROOT / "test-artifacts"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    sh.build_site(out)
    return out


@pytest.fixture(scope="session")
def base_url(site_dir):
    with sh.SiteServer(site_dir) as server:
        yield server.base_url


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sh.unavailable("the playwright Python package is not installed")
    executable = sh.find_chromium()
    if executable is None:
        sh.unavailable(f"no Chromium at {sh.CHROMIUM}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=sh.CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def visit(browser, base_url):
    """visit(path) -> (page, problems): a fresh page with an error recorder."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def _visit(path: str):
        page = context.new_page()
        page.set_default_timeout(20_000)
        problems = sh.watch(page, base_url)
        has_mathjax = sh.open_page(page, base_url + path)
        return page, problems, has_mathjax

    yield _visit
    context.close()


def assert_clean(path: str, problems: sh.Problems) -> None:
    found = problems.all()
    assert not found, f"{path}:\n  " + "\n  ".join(found)


# --------------------------------------------------------------------------- tests


def test_site_builds_strict(site_dir):
    """The build itself (runs even where no browser is installed)."""
    assert (site_dir / "index.html").is_file()
    assert (site_dir / sh.CHAPTER_PAGE / "index.html").is_file()
    assert (site_dir / "javascripts/vendor/mathjax/tex-chtml-full.js").is_file()
    assert sh.notebook_pages(site_dir), "no notebook page was built"


def test_chapter_math_is_typeset(visit):
    page, problems, has_mathjax = visit(sh.CHAPTER_PAGE)
    assert has_mathjax, "MathJax did not load on the chapter page"

    n_math = page.locator(".arithmatex").count()
    assert n_math > 0, f"{sh.CHAPTER_PAGE} has no math (no .arithmatex element)"
    untypeset = page.evaluate(
        "() => [...document.querySelectorAll('.arithmatex')]"
        ".filter((el) => !el.querySelector('mjx-container')).map((el) => el.textContent)"
    )
    assert not untypeset, f"formulas left as source: {untypeset[:5]}"
    assert page.locator("mjx-merror").count() == 0, "MathJax reported a TeX error"

    text = page.evaluate(sh.VISIBLE_TEXT, "article.md-content__inner")
    for delimiter in ("$$", "\\(", "\\["):
        assert delimiter not in text, f"raw {delimiter!r} visible on {sh.CHAPTER_PAGE}"

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chapter.png"))
    assert_clean(sh.CHAPTER_PAGE, problems)


def test_notebook_shows_plot(visit, site_dir):
    with_images = [p for p in sh.notebook_pages(site_dir) if sh.notebook_has_image(p[2])]
    assert with_images, "no notebook page shows an image output"
    path = with_images[0][0]

    page, problems, _ = visit(path)
    images = page.locator(".jp-RenderedImage img")
    assert images.count() > 0
    first = images.first
    first.scroll_into_view_if_needed()
    page.wait_for_function("(img) => img.complete", arg=first.element_handle())
    src = first.get_attribute("src") or ""
    assert src.startswith("data:image/") or "://" not in src, f"plot not stored locally: {src[:80]}"
    width = first.evaluate("(img) => img.naturalWidth")
    assert width > 0, f"plot on {path} did not decode (naturalWidth = {width})"

    ARTIFACTS.mkdir(exist_ok=True)
    first.screenshot(path=str(ARTIFACTS / "notebook-plot.png"))
    assert_clean(path, problems)


def test_notebook_math_is_typeset(visit, site_dir):
    with_math = [p for p in sh.notebook_pages(site_dir) if sh.notebook_has_math(p[2])]
    if not with_math:
        pytest.skip("no notebook has $...$ math in a markdown cell")
    # Prefer a page that also has a plot, as a reader would see both together.
    with_math.sort(key=lambda p: not sh.notebook_has_image(p[2]))
    path = with_math[0][0]

    page, problems, has_mathjax = visit(path)
    assert has_mathjax, f"MathJax did not load on {path}"
    typeset = page.locator(".jp-RenderedMarkdown mjx-container").count()
    assert typeset > 0, f"no formula typeset in the markdown cells of {path}"
    assert page.locator("mjx-merror").count() == 0, "MathJax reported a TeX error"
    text = page.evaluate(sh.VISIBLE_TEXT, ".jp-RenderedMarkdown")
    leftover = re.findall(r"\$\$.+?\$\$|\$[^$\n]+\$", text, flags=re.DOTALL)
    assert not leftover, f"math left as source on {path}: {leftover[:5]}"
    assert_clean(path, problems)


def test_search_finds_pages(visit):
    page, problems, _ = visit("")
    query = page.locator("input[data-md-component='search-query']")
    query.click()  # in the header at desktop width; opens the search overlay
    # Material reacts to key events, not to a programmatic fill().
    page.keyboard.type("notebook", delay=20)
    results = page.locator(".md-search-result__item")
    results.first.wait_for(state="visible", timeout=15_000)
    assert results.count() > 0
    link = results.first.locator("a").first.get_attribute("href")
    assert link, "search result without a link"
    assert_clean("search on the front page", problems)


def test_pages_load_without_errors(visit, site_dir):
    """Front page, every chapter and every notebook: no console errors, offline."""
    paths = [""]
    paths += sorted(f"chapters/{p.parent.name}/" for p in (site_dir / "chapters").glob("*/index.html"))
    paths += [p[0] for p in sh.notebook_pages(site_dir)]
    failures = []
    for path in paths:
        page, problems, _ = visit(path)
        failures += [f"{path or '/'}: {m}" for m in problems.all()]
        page.close()
    assert not failures, "\n".join(failures)


def test_every_notebook_page_offers_its_notebook(site_dir):
    """A download link at the top of each notebook page, pointing at the .ipynb copied beside it."""
    notebooks = sorted((sh.ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert notebooks
    for nb in notebooks:
        page = site_dir / "notebooks" / nb.stem / "index.html"
        html = page.read_text(encoding="utf-8")
        link = re.search(r'<a class="md-button" href="([^"]+\.ipynb)" download>', html)
        assert link, f"{page}: no download link"
        target = page.parent / link.group(1)
        assert target.is_file() and target.read_bytes() == nb.read_bytes(), f"{target} is not {nb.name}"


def test_solution_pages_are_generated_from_the_graded_solutions(site_dir):
    """One page per exercise file; one collapsed block per solution function, holding its source."""
    import ast

    solutions = sorted((sh.ROOT / "tests" / "exercises" / "solutions").glob("ex*.py"))
    assert len(solutions) >= 7
    for path in solutions:
        html = (site_dir / "exercises" / "solutions" / path.stem / "index.html").read_text(encoding="utf-8")
        functions = [n.name for n in ast.parse(path.read_text(encoding="utf-8")).body
                     if isinstance(n, ast.FunctionDef)]
        assert html.count("<details") == len(functions), path.name
        for name in functions:
            assert f"<code>{name}</code>" in html and f"{name}</span>" in html, f"{path.name}: {name}"
