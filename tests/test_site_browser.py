"""The built site in a real browser: every page at 1280×800 in Debian's headless Chromium.

The checks are in ``site_browser.py`` (see its docstring). One test runs them
over the whole site and lists every problem of every page in one message; a
full-page screenshot of each page lands in ``_build/screenshots/`` (outside
git) for an author to look at. The other tests plant one error each in a copy
of the built site and require the same checker to report exactly that error,
so a clean result means something.
"""

from __future__ import annotations

import io
import re
import shutil
import time
from pathlib import Path

import pytest

from conftest import REPO
from site_browser import EXERCISE_PAGE, SiteChecker, format_problems, pages_of


SCREENSHOTS = REPO / "_build" / "screenshots"


@pytest.fixture(scope="module")
def checker():
    with SiteChecker() as browser:
        yield browser


def test_every_page_in_a_real_browser(site, checker):
    pages = pages_of(site)
    chapters = {p.relative_to(REPO).with_suffix(".html").as_posix()
                for p in (REPO / "chapters").glob("[0-9][0-9]_*") if p.suffix in (".md", ".ipynb")}
    assert len(chapters) >= 2 and chapters <= set(pages), f"chapter pages missing from the site: {chapters - set(pages)}"
    for old in SCREENSHOTS.glob("*.png"):  # none left over from pages that are gone
        old.unlink()
    start = time.monotonic()
    problems = checker.check(site, pages, screenshots=SCREENSHOTS, source_root=REPO)
    took = time.monotonic() - start
    assert not problems, (f"{format_problems(problems)}\n\n({len(pages)} pages checked in {took:.0f} s; "
                          f"screenshots in {SCREENSHOTS.relative_to(REPO)}/)")


# ---------------------------------------------------------------- planted errors

def _after_h1(html: str, snippet: str) -> str:
    """Insert ``snippet`` right after the page's title in the article."""
    at = html.index("</h1>", html.index("<article")) + len("</h1>")
    return html[:at] + "\n" + snippet + "\n" + html[at:]


def _png(width: int, height: int) -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width / 100, height / 100), dpi=100)
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [0, 1, 0], label="a planted curve")
    ax.legend()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _slider_html(broken: bool = False) -> str:
    """A real demo slider from coursekit, two frames 6 in wide; ``broken``: moving it changes nothing."""
    from matplotlib.figure import Figure

    from coursekit.demos.slider import figure_slider

    def draw(slope):
        fig = Figure(figsize=(6, 3), dpi=100)
        fig.add_subplot().plot([0, 1], [0, slope])
        return fig

    html = figure_slider(draw, {"slope": [1, 2, 3]}, caption="A planted demo.",
                         alt="A planted line whose slope follows the slider")._repr_html_()
    if broken:
        html = html.replace('addEventListener("input", show)', 'addEventListener("input", function () {})')
    return html


def _image_page(root: Path, page: str, style: str) -> None:
    (root / "_images" / "planted-wide.png").write_bytes(_png(1600, 400))
    up = "../" * page.count("/")
    _edit(root / page, lambda h: _after_h1(
        h, f'<p><img src="{up}_images/planted-wide.png" alt="A planted line plot drawn 16 inches wide"{style}></p>'))


def _edit(path: Path, change) -> None:
    html = path.read_text()
    new = change(html)
    assert new != html, f"nothing planted in {path}"
    path.write_text(new)


def _student_to_source(root: Path, page: str) -> None:
    """The download button serves the instructor's source notebook instead of the student copy."""
    rel = Path(page).with_suffix(".ipynb")
    shutil.copyfile(REPO / "autograder" / "source" / rel.relative_to("chapters/exercises"),
                    root / "_sources" / rel)


WIDE_TABLE = ('<div class="pst-scrollable-table-container"><table class="table"><thead><tr>'
              '<th><p>planted wide table</p></th><th><p>b</p></th></tr></thead><tbody><tr>'
              + '<td style="white-space: nowrap"><p>' + "an unbreakable cell " * 8 + '</p></td>'
              + '<td style="white-space: nowrap"><p>' + "and another one " * 6 + '</p></td>'
              + '</tr></tbody></table></div>')

# name -> (which page: "text" any page with a title, "quiz" a page with quiz answers,
#          "exercise" an exercise page; the planting; what the checker must then report)
PLANTS = {
    "raw TeX in a paragraph": (
        "text", lambda root, page: _edit(root / page, lambda h: _after_h1(
            h, r"<p>The planted step size $\eta_t$ shrinks.</p>")),
        r'^raw TeX in the text: ".*\$\\eta_t\$'),
    "backslash-TeX shown inside math": (
        "text", lambda root, page: _edit(root / page, lambda h: _after_h1(
            h, r'<p>Planted: <span class="math notranslate nohighlight">\(\eta/\texttt{lr\_decay}\)</span>.</p>')),
        r"^math shows TeX literally: \"lr\\_decay\""),
    "a link to a missing page": (
        "text", lambda root, page: _edit(root / page, lambda h: _after_h1(
            h, '<p>See <a href="no_such_page.html">the planted page</a>.</p>')),
        r"^link 'no_such_page.html' leads to a missing page"),
    "a link to a missing section": (
        "text", lambda root, page: _edit(root / page, lambda h: _after_h1(
            h, '<p>See <a href="#no-such-section">the planted section</a>.</p>')),
        r"^link '#no-such-section': no element with id 'no-such-section'"),
    "an unhidden quiz answer": (
        "quiz", lambda root, page: _edit(root / page, lambda h: h.replace(
            'class="solution dropdown admonition"', 'class="solution admonition"', 1)),
        r"^quiz answer 1 .* is visible before its toggle is clicked$"),
    "an image drawn 16 inches wide": (
        "text", lambda root, page: _image_page(root, page, ""),
        r"^image \"A planted line plot drawn 16 inches wide\" is shrunk to 4\d% of its drawn width \(1600 px"),
    "an image wider than the column": (
        "text", lambda root, page: _image_page(root, page, ' style="max-width: none"'),
        r"^image \"A planted line plot drawn 16 inches wide\" is wider than the content column \(1600 px"),
    "a table that does not wrap": (
        "text", lambda root, page: _edit(root / page, lambda h: _after_h1(h, WIDE_TABLE)),
        r"^table \"planted wide table \| b\" (is wider than the content column|scrolls sideways|is clipped)"),
    "a demo slider that does not move the figure": (
        "text", lambda root, page: _edit(root / page, lambda h: _after_h1(h, _slider_html(broken=True))),
        r"^slider demo 1: moving 'slope' does not change the figure"),
    "the download button serving the solution notebook": (
        "exercise", _student_to_source,
        r"^the downloaded notebook is not the student copy: contains 'BEGIN SOLUTION'"),
}


def _page_for(kind: str, site: Path) -> str:
    pages = pages_of(site)
    if kind == "quiz":
        return next(p for p in pages if 'class="solution dropdown admonition"' in (site / p).read_text())
    if kind == "exercise":
        return next(p for p in pages if EXERCISE_PAGE.match(p))
    return "intro.html"


@pytest.fixture(scope="module")
def clean(site, checker, tmp_path_factory):
    """Problems the checker finds on an untouched copy of each page the plants use (the baseline)."""
    root = tmp_path_factory.mktemp("clean") / "html"
    shutil.copytree(site, root)
    pages = sorted({_page_for(kind, site) for kind, _, _ in PLANTS.values()})
    found = checker.check(root, pages, source_root=REPO)
    return {page: found.get(page, []) for page in pages}


@pytest.mark.parametrize("name", PLANTS)
def test_a_planted_error_is_reported_exactly(name, site, checker, clean, tmp_path):
    kind, plant, expected = PLANTS[name]
    page = _page_for(kind, site)
    assert not [p for p in clean[page] if re.search(expected, p)], f"the clean copy already reports it: {clean[page]}"
    root = tmp_path / "html"
    shutil.copytree(site, root)
    plant(root, page)
    found = checker.check(root, [page], source_root=REPO).get(page, [])
    new = [p for p in found if p not in clean[page]]
    gone = [p for p in clean[page] if p not in found]
    assert len(new) == 1 and re.search(expected, new[0]), \
        f"planted {name} in {page}; expected one new problem matching {expected!r}, got {new}"
    assert not gone, f"planting {name} hid other problems: {gone}"


def test_a_working_demo_slider_is_not_reported(site, checker, clean, tmp_path):
    """The slider check passes a real coursekit slider: the checker moves it and sees the figure change."""
    page = "intro.html"
    root = tmp_path / "html"
    shutil.copytree(site, root)
    _edit(root / page, lambda h: _after_h1(h, _slider_html()))
    found = checker.check(root, [page], source_root=REPO).get(page, [])
    assert found == clean[page], f"a working slider was reported: {[p for p in found if p not in clean[page]]}"



# ---------------------------------------------------------------- downloads from a site opened as local files

def _save(tab, locator, what: str) -> tuple[str, bytes]:
    """Click ``locator`` and return the download it starts (file name, bytes); fail if the page just navigates."""
    try:
        with tab.expect_download(timeout=15_000) as info:
            locator.click()
    except Exception as exc:  # noqa: BLE001 - the finding is that no download started
        raise AssertionError(f"{what}: no download (the browser is at {tab.url[:100]})") from exc
    return info.value.suggested_filename, Path(info.value.path()).read_bytes()


def _same_cells(got: bytes, committed: Path) -> bool:
    import nbformat

    def cells(nb):
        return [(c.cell_type, c.source) for c in nb.cells]

    return cells(nbformat.reads(got.decode(), as_version=4)) == cells(nbformat.read(committed, as_version=4))


def test_downloads_work_from_local_files(site, checker):
    """Opened as file://, each exercise page saves its notebook (the download menu's .ipynb and the box's link),
    and the home page shows `pip install file:///.../coursekit-....whl` and saves the wheel."""
    from site_browser import WINDOW

    (wheel,) = sorted((site / "downloads").glob("coursekit-*-py3-none-any.whl"))
    context = checker._browser.new_context(viewport=WINDOW, accept_downloads=True)
    try:
        tab = context.new_page()
        tab.goto((site / "intro.html").as_uri(), wait_until="load")
        shown = tab.locator(".ck-wheel-url").first.text_content()
        assert shown == wheel.as_uri(), f"the home page's install line reads {shown!r}, not {wheel.as_uri()!r}"
        name, data = _save(tab, tab.locator("a.ck-wheel-download").first, "the home page's wheel link")
        assert name == wheel.name and data == wheel.read_bytes()
        pages = [p for p in pages_of(site) if EXERCISE_PAGE.match(p)]
        assert len(pages) >= 12
        problems = []
        for page in pages:
            committed = REPO / Path(page).with_suffix(".ipynb")
            tab.goto((site / page).as_uri(), wait_until="load")
            tab.locator(".dropdown-download-buttons .dropdown-toggle").first.click()
            for what, link in (("the download menu's .ipynb",
                                tab.locator(".dropdown-download-buttons a.btn-download-source-button").first),
                               ("the box's notebook link", tab.locator("a.ck-notebook-download").first)):
                try:
                    name, data = _save(tab, link, f"{page}: {what}")
                except AssertionError as exc:
                    problems.append(str(exc))
                    tab.goto((site / page).as_uri(), wait_until="load")
                    continue
                if name != committed.name or not _same_cells(data, committed):
                    problems.append(f"{page}: {what} saved {name!r}, not the student copy {committed.name}")
        assert not problems, "\n".join(problems)
    finally:
        context.close()


def test_the_download_menu_saves_the_notebook_from_a_server(site, checker):
    """Served over http, the download menu's .ipynb item saves the file too (the `download` attribute)."""
    from site_browser import WINDOW, serve

    page = next(p for p in pages_of(site) if EXERCISE_PAGE.match(p))
    context = checker._browser.new_context(viewport=WINDOW, accept_downloads=True)
    try:
        with serve(site) as base:
            tab = context.new_page()
            tab.goto(base + page, wait_until="load")
            assert tab.locator(".ck-wheel-url").first.text_content() == base + "downloads/" + \
                next((site / "downloads").glob("coursekit-*.whl")).name
            tab.locator(".dropdown-download-buttons .dropdown-toggle").first.click()
            name, data = _save(tab, tab.locator('.dropdown-download-buttons a[href$=".ipynb"]').first,
                               f"{page}: the download menu's .ipynb over http")
            assert name == Path(page).with_suffix(".ipynb").name
            assert _same_cells(data, REPO / Path(page).with_suffix(".ipynb"))
    finally:
        context.close()
