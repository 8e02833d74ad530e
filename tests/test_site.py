"""The book's website, as a reader's browser sees it.

Builds the MkDocs site with ``--strict`` into a temporary folder, serves it on
127.0.0.1 and opens it in headless Chromium (Debian's, through Playwright) to
check what a static build cannot: that formulas on chapter and notebook pages
are typeset by the bundled MathJax, that notebook plots display, that search
returns results, and that no page logs an error or reaches off the machine.

Needs ``bash tests/setup_browser.sh`` once (installs Debian's chromium). Without
a browser the tests skip, except under CI=true, where they fail.
The layout checks open every content page once at 1280 px and once at 390 px
(display math and images fit the column, no page scrolls sideways, every
table-of-contents link resolves) and save test-artifacts/chapter-<width>.png and
notebook-<width>.png; test-artifacts/chapter.png and notebook-plot.png come from
the MathJax and plot checks.
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


# --------------------------------------------------------------------------- layout, two widths
#
# One crawl per viewport width opens the front page, every chapter and every
# notebook page once and measures everything at a go (sh.MEASURE_LAYOUT); the
# tests below only read the measurements.

WIDTHS = [pytest.param(width, id=f"{width}px") for width in sh.VIEWPORTS]
DESKTOP = max(sh.VIEWPORTS)


def screenshot_targets(site_dir, width: int) -> dict:
    """A chapter with much math and the first notebook with a plot, at `width`."""
    notebook = next(p[0] for p in sh.notebook_pages(site_dir) if sh.notebook_has_image(p[2]))
    return {
        sh.CHAPTER_PAGE: ARTIFACTS / f"chapter-{width}.png",
        notebook: ARTIFACTS / f"notebook-{width}.png",
    }


@pytest.fixture(scope="session")
def layouts(browser, base_url, site_dir):
    """layouts(width) -> sh.Layout, crawled on first use and kept for the session."""
    paths = sh.content_pages(site_dir)
    # The .ipynb copied beside each page is the one that page was rendered from.
    image_cells = {url: sh.notebook_image_cells(html.parent / source.name)
                   for url, html, source in sh.notebook_pages(site_dir)}
    crawled = {}

    def get(width: int) -> sh.Layout:
        if width not in crawled:
            crawled[width] = sh.crawl_layout(browser, base_url, paths, width,
                                             screenshot_targets(site_dir, width), image_cells)
        return crawled[width]

    return get


def report(offenders: list[str], what: str, width: int) -> str:
    return f"{len(offenders)} {what} at {width} px:\n  " + "\n  ".join(offenders)


def where(page: sh.PageLayout) -> str:
    return page.path or "/"


def image_name(img: dict) -> str:
    cell = f", cell {img['cell']}" if img["cell"] is not None else ""
    return f"image ({img['label']}{cell})"


@pytest.mark.parametrize("width", WIDTHS)
def test_pages_load_without_errors(layouts, width):
    """Front page, every chapter and every notebook: no console errors, offline."""
    failures = [f"{where(page)}: {m}" for page in layouts(width).pages for m in page.problems.all()]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("width", WIDTHS)
def test_display_math_fits_the_column(layouts, width):
    """On a laptop every display formula fits its column; on a phone a wider one
    scrolls inside its own box, which stays in the content area."""
    tol = sh.TOLERANCE
    offenders = []
    for page in layouts(width).pages:
        area = page.data["area"]
        for eq in page.data["equations"]:
            if not eq["shown"]:
                continue
            name = f"{where(page)}: display math ({eq['tex'] or '?'})"
            too_wide = eq["width"] > eq["room"] + tol
            if width == DESKTOP and too_wide:
                offenders.append(f"{name}: width {eq['width']:g} > column {eq['room']:g}")
            elif too_wide and not eq["scrolls"]:
                offenders.append(f"{name}: width {eq['width']:g} > column {eq['room']:g}, "
                                 "and no box of its own to scroll in (cut off or spills)")
            if eq["left"] < area["left"] - tol or eq["right"] > area["right"] + tol:
                offenders.append(f"{name}: box {eq['left']:g}..{eq['right']:g} px leaves the "
                                 f"column's area {area['left']:g}..{area['right']:g} px")
    assert not offenders, report(offenders, "display formulas do not fit", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_images_fit_the_column(layouts, width):
    tol = sh.TOLERANCE
    offenders = []
    for page in layouts(width).pages:
        column, area = page.data["column"], page.data["area"]
        for img in page.data["images"]:
            name = f"{where(page)}: {image_name(img)}"
            if img["naturalWidth"] == 0:
                offenders.append(f"{name}: did not load")
            elif img["width"] > column["width"] + tol:
                offenders.append(f"{name}: width {img['width']:g} > column {column['width']:g}")
            elif img["right"] > area["right"] + tol:
                offenders.append(f"{name}: right edge {img['right']:g} > column's area {area['right']:g}")
    assert not offenders, report(offenders, "images overflow", width)


def test_figures_are_drawn_at_the_size_shown(layouts):
    """A figure's file is not far larger than it is shown on a laptop, and not a strip."""
    offenders = []
    for page in layouts(DESKTOP).pages:
        for img in page.data["images"]:
            w, h, shown = img["naturalWidth"], img["naturalHeight"], img["width"]
            if not (w and h and shown):
                continue  # reported by test_images_fit_the_column, or hidden
            name = f"{where(page)}: {image_name(img)}"
            if w > sh.MAX_IMAGE_DOWNSCALE * shown:
                offenders.append(f"{name}: natural width {w} > {sh.MAX_IMAGE_DOWNSCALE:g} x shown width "
                                 f"{shown:g} = {sh.MAX_IMAGE_DOWNSCALE * shown:.0f}")
            if w / h > sh.MAX_IMAGE_ASPECT:
                offenders.append(f"{name}: {w} x {h} px is a strip, width/height {w / h:.1f} > "
                                 f"{sh.MAX_IMAGE_ASPECT:g} (shown {shown:g} x {img['height']:g})")
    assert not offenders, report(offenders, "figures drawn at the wrong size", DESKTOP)


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_scrolls_sideways(layouts, width):
    """Wide tables, code blocks and formulas scroll in their own box, never the page."""
    offenders = []
    for page in layouts(width).pages:
        d = page.data
        if d["scrollWidth"] > d["innerWidth"] + sh.TOLERANCE:
            culprits = "".join(f"\n      sticking out: {s['element']} ({s['text']}): right edge "
                               f"{s['right']:g} > {d['innerWidth']}" for s in d["spills"])
            offenders.append(f"{where(page)}: page: width {d['scrollWidth']} > viewport "
                             f"{d['innerWidth']}{culprits}")
    assert not offenders, report(offenders, "pages wider than the screen", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_table_of_contents_links_resolve(layouts, width):
    offenders = [f"{where(page)}: table of contents: {link}: no element with that id"
                 for page in layouts(width).pages for link in page.data["missingTocTargets"]]
    assert not offenders, report(offenders, "table-of-contents links lead nowhere", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_layout_screenshots_are_saved(layouts, site_dir, width):
    expected = sorted(screenshot_targets(site_dir, width).values())
    layout = layouts(width)
    assert sorted(layout.screenshots) == expected
    for shot in expected:
        assert shot.is_file() and shot.stat().st_size > 1000, f"{shot} missing or empty"


def test_in_site_links_resolve(site_dir):
    """Every in-site link on the front page, the chapters and the notebooks, read from
    the built HTML: the file exists, and so does the #anchor in it."""
    broken = [b for path in sh.content_pages(site_dir) for b in sh.broken_links(site_dir, path)]
    assert not broken, f"{len(broken)} broken in-site links:\n  " + "\n  ".join(broken)


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


def test_api_reference_pages_show_the_documented_signatures(site_dir):
    """book/api/: one page per layer, rendered from the docstrings by mkdocstrings.

    Every module of a layer has its section, and the key functions show their
    heading (the anchor chapters link to), their real signature and a docstring.
    """
    import ast

    key_objects = {
        "core": ["mdp.TabularMDP", "returns.gae", "returns.discounted_returns", "exploration.epsilon_greedy_probs"],
        "envs": ["gridworld.GridWorld", "language.CharLanguageEnv", "chronic.chronic_disease_model"],
        "tabular": ["dp.value_iteration", "dp.policy_evaluation", "dp.policy_iteration", "td.q_learning"],
        "approx": ["tiles.TileCoder", "linear.semi_gradient_sarsa", "off_policy_td.tdc", "dqn.dqn", "a2c.a2c"],
        "lm": ["ppo.ppo", "reinforce.reinforce", "rollout.sample", "kl.kl_estimate", "losses.ppo_policy_loss"],
        "rlhf": ["dpo.dpo", "dpo.dpo_loss", "grpo.grpo", "rloo.rloo", "exact.exact_optimum"],
        "health": ["ope.importance_sampling", "ope.doubly_robust", "offline.fitted_q_iteration"],
        "advanced": ["verifiable.arithmetic_task", "verifiable.evaluate_pass_at_k", "cql.cql",
                     "constitution.no_repeats", "clinical_prompts.clinical_task",
                     "clinical_policy.evaluate_clinical_policy", "options.smdp_value_iteration",
                     "smdp_learning.smdp_q_learning", "offline_lm.awr", "matrix_games.independent_pg",
                     "referential.self_play", "rlaif.run_rlaif", "plan_write.train_plan_write"],
        "plots": ["tabular.plot_grid", "rlhf.plot_frontier", "approx.plot_learning_curves"],
        "bench": ["tabular.run_all", "rlhf.run_pipeline", "approx.run_approx"],
        "cli": ["commands.demo", "train.train"],
    }
    not_documented = {"core/policies.py", "cli/__main__.py"}  # a re-export shim; `python -m rlcore.cli`
    package = sh.ROOT / "rlcore"
    layers = sorted(p.parent.name for p in package.glob("*/__init__.py")
                    if any(m.name != "__init__.py" for m in p.parent.glob("*.py")))
    assert sorted(key_objects) == layers, "every layer with modules needs a page in book/api/ (and here)"

    index = (site_dir / "api" / "index.html").read_text(encoding="utf-8")
    for layer, objects in key_objects.items():
        assert f'href="{layer}/"' in index, f"api/index.md does not link the {layer} page"
        html = (site_dir / "api" / layer / "index.html").read_text(encoding="utf-8")
        for module in sorted((package / layer).glob("*.py")):
            if f"{layer}/{module.name}" in not_documented or module.name == "__init__.py":
                continue
            assert f'id="rlcore.{layer}.{module.stem}"' in html, f"api/{layer}.md has no section for {module.name}"
        for dotted in objects:
            module, name = dotted.split(".")
            path = f"rlcore.{layer}.{dotted}"
            start = html.find(f'id="{path}"')
            assert start >= 0, f"{path}: no heading on api/{layer}/"
            signature = html[start:html.find("</code></pre>", start)]
            assert re.search(rf'<span class="nf">{name}</span><span class="p">\(</span>', signature), \
                f"{path}: no rendered signature"
            tree = ast.parse((package / layer / f"{module}.py").read_text(encoding="utf-8"))
            node = next(n for n in tree.body if getattr(n, "name", None) == name)
            assert ast.get_docstring(node), f"{path} has no docstring"
            if isinstance(node, ast.FunctionDef):
                a = node.args
                params = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg] if p]
                missing = [p for p in params if f'<span class="n">{p}</span>' not in signature]
                assert not missing, f"{path}: parameters {missing} missing from the rendered signature"
            contents = html[start:html.find('<div class="doc doc-object', start + 1)]
            assert '<div class="doc doc-contents' in contents and "<p>" in contents, f"{path}: docstring not rendered"


def _study_pages_hook():
    import importlib.util

    spec = importlib.util.spec_from_file_location("study_pages", sh.ROOT / "book" / "_hooks" / "study_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cloud_buttons_follow_repo_url():
    """With a GitHub ``repo_url`` a notebook page gains Colab and Binder buttons for that very file on the
    configured branch; without one (or with a non-GitHub URL) it keeps the download link only."""
    from types import SimpleNamespace

    hook = _study_pages_hook()
    page = SimpleNamespace(file=SimpleNamespace(src_uri="notebooks/09_policy_gradients_ppo.ipynb"))
    html = hook.on_page_content("<h1>x</h1>", page, {"repo_url": "https://github.com/someone/rlcore.git",
                                                     "extra": {"notebook_branch": "dev"}}, None)
    hrefs = re.findall(r'<a class="md-button" href="([^"]+)"', html)
    assert hrefs == ["09_policy_gradients_ppo.ipynb",
                     "https://colab.research.google.com/github/someone/rlcore/blob/dev/notebooks/"
                     "09_policy_gradients_ppo.ipynb",
                     "https://mybinder.org/v2/gh/someone/rlcore/dev?labpath=notebooks%2F09_policy_gradients_ppo.ipynb"]
    for config in ({}, {"repo_url": None}, {"repo_url": "https://gitlab.com/someone/rlcore"}):
        html = hook.on_page_content("", page, config, None)
        assert re.findall(r'<a class="md-button" href="([^"]+)"', html) == ["09_policy_gradients_ppo.ipynb"]
    chapter = SimpleNamespace(file=SimpleNamespace(src_uri="chapters/01-introduction.md"))
    assert hook.on_page_content("<p>c</p>", chapter, {"repo_url": "https://github.com/a/b"}, None) == "<p>c</p>"
