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
