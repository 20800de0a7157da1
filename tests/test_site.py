"""What the built book shows (conftest's ``site`` builds it once per run, as `make site` does).

The build itself passes with warnings as errors. No line of solution code, no
hidden test and no line of the reference package appears anywhere in the
built site (HTML, page sources, downloadable notebooks).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from conftest import REPO, html_text
from test_exercises import GENERIC_LINES, NOTEBOOKS, _solution_lines, _source

HTML = REPO / "_build" / "html"


@pytest.fixture(scope="module")
def site_files(site):
    """Text of every page source, notebook and script of the built site (``site`` builds it, once per run)."""
    files = [p for p in site.rglob("*") if p.is_file() and p.suffix in (".html", ".ipynb", ".md", ".txt", ".js", ".py")]
    return {p: (p.read_text(errors="replace"), _as_text(p)) for p in files}


def _as_text(path: Path) -> str:
    raw = path.read_text(errors="replace")
    return html_text(raw) if path.suffix == ".html" else raw


def _public_lines(released):
    """Lines students are given anyway: everything in the student notebooks (the scaffold)."""
    return {ln.strip() for path in released.rglob("*.ipynb")
            for cell in nbformat.read(path, as_version=4).cells for ln in cell.source.splitlines()}


def _reference_lines():
    """Substantive code lines of the instructor-only packages."""
    lines = set()
    for path in list((REPO / "solutions").glob("*.py")) + list((REPO / "autograder" / "hidden").glob("*.py")):
        for ln in path.read_text().splitlines():
            ln = ln.strip()
            if len(ln) >= 30 and not ln.startswith(("#", "from ", "import ", '"', "'", "raise ", "def ", "class ")) \
                    and re.search(r"[=(\[]", ln):
                lines.add(ln)
    return lines


def test_every_page_is_built(site_files):
    for page in ["intro.html", "chapters/02_weight_decay.html", "chapters/09_adaptive_methods.html",
                 "chapters/references.html"]:
        assert (HTML / page).is_file(), page
    for assignment, notebook in NOTEBOOKS:
        page = HTML / "chapters" / "exercises" / assignment / f"{notebook}.html"
        assert page.is_file(), page
        raw, text = site_files[page]
        assert f"{notebook}.ipynb" in raw, f"{page.name} has no download link to the notebook"
        assert "NotImplementedError" in text, f"{page.name} does not show the student stubs"


def test_chapters_have_figures_quiz_and_citations(site_files):
    for chapter in ("02_weight_decay", "09_adaptive_methods"):
        html, _ = site_files[HTML / "chapters" / f"{chapter}.html"]
        assert html.count("<img") >= 3, f"{chapter}: fewer than 3 figures"
        assert "&lt;Figure size" not in html, f"{chapter}: a figure shows as text, not as an image"
        assert "cdn.jsdelivr" not in html and 'src="https://' not in html, f"{chapter}: loads from the web"
        assert "_static/mathjax/tex-mml-chtml.js" in html, f"{chapter}: math needs the local MathJax"
        assert "Common misconceptions" in html and "Summary" in html
        assert html.count('class="solution') >= 4 and "dropdown" in html, f"{chapter}: quiz answers not hidden"
        assert re.search(r'href="references.html#id\d+"', html), f"{chapter}: no citation links"


def test_no_solution_or_hidden_test_in_the_built_site(site_files, released):
    secret = set()
    for assignment, notebook in NOTEBOOKS:
        secret |= _solution_lines(_source(assignment, notebook))
    secret |= _reference_lines()
    public = "\n".join(_public_lines(released))
    secret = {ln for ln in secret if ln not in public} - GENERIC_LINES
    assert len(secret) > 100
    for path, (_, text) in site_files.items():
        leaked = [ln for ln in secret if ln in text]
        assert not leaked, f"{path.relative_to(HTML)} shows instructor code: {leaked[:3]}"
        assert "HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text, path


def test_leak_check_would_see_a_leak(site_files):
    """The check above is not vacuous: the published notebook text is searched as shown."""
    _, page = site_files[HTML / "chapters" / "exercises" / "ch09_adaptive_methods" / "adaptive_methods.html"]
    assert "compare_with_torch(Adam, torch.optim.Adam" in page


def test_instructors_page_lists_every_assignment(site_files):
    _, text = site_files[HTML / "chapters" / "instructors.html"]
    for assignment, notebook in NOTEBOOKS:
        assert assignment in text and f"{notebook}.ipynb" in text, f"the instructors' page misses {assignment}"
    assert "python -m autograder grade" in text and "formgrader" in text
    # issue 24: the manual-grading loop, late work and extensions, the course export and the solutions' release
    for command in ("--extensions extensions.csv", "--late-policy per-day:0.1", "python -m autograder export",
                    "--canvas", "release --solutions", "pending_manual", ".gitignore"):
        assert command in text, f"the instructors' page does not document {command}"


def test_claims_page_lists_the_evidence_of_every_chapter(site_files):
    """The Claims page shows, for each of the twelve chapters, what its page checked when the site was built."""
    _, text = site_files[HTML / "chapters" / "claims.html"]
    chapters = sorted((REPO / "chapters").glob("[0-9][0-9]_*.md"))
    for chapter in chapters:
        n = int(chapter.name[:2])
        assert re.search(rf"Chapter {n}: \d+ claims checked, \d+ of them over 3 or more seeds", text), \
            f"the Claims page has no record of chapter {n}"
    summary = re.search(r"(\d+) claims in (\d+) chapters; (\d+) of them are measured over 3 or more seeds", text)
    assert summary and int(summary[2]) == len(chapters), "the Claims page misses chapters"
    assert int(summary[3]) >= 3 * len(chapters), "fewer than three multi-seed claims per chapter"
    assert "FAILED" not in text and "seed offset" in text and "torch CPU kernels" in text
    raw, _ = site_files[HTML / "intro.html"]
    assert 'href="chapters/claims.html' in raw, "the home page does not link the Claims page"


# ---------------------------------------------------------------- coursekit and the notebooks from the site itself

def _wheel_links(raw: str) -> list[str]:
    return re.findall(r'<a class="ck-wheel-download[^"]*" href="([^"]+)" download="([^"]+)"', raw)


def _check_install_lines(page: Path, raw: str) -> None:
    """``page`` links the served wheel and shows ``pip install <its address>`` and the offline line."""
    (wheel,) = sorted((HTML / "downloads").glob("coursekit-*-py3-none-any.whl"))
    links = _wheel_links(raw)
    assert links, f"{page.relative_to(HTML)} has no link to the coursekit wheel"
    for href, name in links:
        assert (page.parent / href).resolve() == wheel.resolve() and name == wheel.name, (page, href, name)
    # pip install <address>: the browser writes the absolute address (tests/test_site_browser.py checks it).
    assert re.search(r'pip install <span class="ck-wheel-url" data-wheel="' + re.escape(links[0][0]) + '"', raw), page
    assert f"pip install {wheel.name}" in raw, f"{page.relative_to(HTML)} lacks the offline install line"


def test_the_site_serves_the_coursekit_wheel(site):
    import tomllib
    import zipfile

    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    wheels = sorted((site / "downloads").glob("coursekit-*.whl"))
    assert [w.name for w in wheels] == [f"coursekit-{version}-py3-none-any.whl"], wheels
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert {n.split("/")[0] for n in names} == {"coursekit", f"coursekit-{version}.dist-info"}, \
        "the served wheel holds more than coursekit"
    modules = {p.relative_to(REPO).as_posix() for p in (REPO / "coursekit").rglob("*.py")}
    assert modules <= set(names), f"missing from the served wheel: {sorted(modules - set(names))}"


def test_home_page_starts_students_off(site_files):
    page = HTML / "intro.html"
    raw, text = site_files[page]
    assert "Start here" in text and 'id="start-here"' in raw
    start = text[text.index("Start here"):]
    for step in ("Read", "Download", "Install", "Check", "Submit"):
        assert step in start[:3000], f"the home page's Start here has no {step!r} step"
    assert "python -m coursekit check" in start[:3000]
    _check_install_lines(page, raw)
    for path, (_, shown) in site_files.items():
        assert not re.search(r"pip install[^\n]*(repository URL|coursekit @)", shown), \
            f"{path.relative_to(HTML)} still shows an install line with a placeholder"


def test_every_exercise_page_offers_the_notebook_and_coursekit(site_files):
    """The exercise page and its chapter's Exercise section: a link that saves the student notebook (a data: URL
    with ``download``, which a browser saves even from local files), the install lines and the check."""
    import base64

    problems = []
    for assignment, notebook in NOTEBOOKS:
        committed = (REPO / "chapters" / "exercises" / assignment / f"{notebook}.ipynb").read_bytes()
        (chapter,) = (HTML / "chapters").glob(f"{assignment[2:4]}_*.html")
        for page in (HTML / "chapters" / "exercises" / assignment / f"{notebook}.html", chapter):
            raw, text = site_files[page]
            where = page.relative_to(HTML)
            links = re.findall(r'<a class="ck-notebook-download[^"]*" href="data:application/x-ipynb\+json;base64,'
                               r'([A-Za-z0-9+/=]+)" download="([^"]+)"', raw)
            if len(links) != 1:
                problems.append(f"{where}: {len(links)} links that save the notebook, not 1")
                continue
            data, name = links[0]
            served = base64.b64decode(data)
            if name != f"{notebook}.ipynb":
                problems.append(f"{where}: the notebook is saved as {name!r}")
            if b"BEGIN SOLUTION" in served or b"HIDDEN TESTS" in served:
                problems.append(f"{where}: the saved notebook holds solutions or hidden tests")
            elif served != committed:
                problems.append(f"{where}: the saved notebook is not the committed student copy")
            if f"python -m coursekit check {notebook}.ipynb" not in text:
                problems.append(f"{where}: no check line")
            _check_install_lines(page, raw)
    assert not problems, "\n".join(problems)
