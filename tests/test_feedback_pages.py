"""Feedback pages a student can read, and a report that reads like an instructor's summary (issue 24, items 3, 4).

One small ch04 batch is graded as an instructor grades it: the solution (with an extra cell whose error has a
traceback through numpy, and a long printed line), an answer that does not parse, a blank copy and a notebook
whose test cell was edited. Then every feedback page is searched for what a student must not see, read for each
part's title, score and message, and opened in headless Chromium (offline) to see the math typeset and the long
lines wrapped.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from conftest import REPO, html_text, run_cli
from submissions import notebook_name, released_notebook, solution_notebook, with_answer, write_submission

A = "ch04_dropout"
NB = notebook_name(A)
SYNTAX = """
def dropout_forward(x, p, rng):
    mask = rng.random(x.shape) >= p
    out = (x * mask / (1 - p)
    return out, mask
"""
LONG = "a-hint-without-spaces-" * 40


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("feedback-pages")
    sub, out = tmp / "submitted", tmp / "out"
    nb = solution_notebook(A)
    nb.cells.insert(4, nbformat.v4.new_code_cell(f"print({LONG!r})\nnp.zeros((2, 3)).reshape(4)"))
    write_submission(sub, "solution", A, nb)
    write_submission(sub, "syntax", A, with_answer(A, "dropout_forward", SYNTAX))
    write_submission(sub, "blank", A, nbformat.reads(released_notebook(A), as_version=4))
    nb = solution_notebook(A)
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_dropout_backward")
    test.source = "assert True  # edited"
    write_submission(sub, "tampered", A, nb)
    run_cli("grade", A, sub, "--out", out, "--no-progress")
    return out


def _page(out, student):
    return (out / "feedback" / student / A / f"{NB}.html").read_text()


def _summary(page):
    """(title, score, message) of every part in the summary at the top of a feedback page."""
    table = page.split('<table class="parts">')[1].split("</table>")[0]
    rows = []
    for row in re.findall(r"<tr id=\"summary-[^\"]+\">(.*?)</tr>", table, re.S):
        title = html_text(re.search(r'<a class="title"[^>]*>(.*?)</a>', row, re.S).group(1)).strip()
        score = html_text(re.search(r'<td class="score-cell">(.*?)</td>', row, re.S).group(1)).strip()
        message = re.search(r'<pre class="message">(.*?)</pre>', row, re.S)
        rows.append((title, score, html_text(message.group(1)) if message else ""))
    return rows


def test_no_hidden_tests_or_instructor_paths_on_any_page(graded):
    pages = sorted(graded.glob("feedback/*/*/*.html"))
    assert len(pages) == 4
    for page in pages:
        text = page.read_text()
        for secret in ("BEGIN HIDDEN", "autograder/hidden", "PARTS[", str(REPO), "/work/"):
            assert secret not in text, f"{page.relative_to(graded)} shows {secret!r}"
    # The student's own error is still there, its traceback without the environment's paths.
    page = html_text(_page(graded, "solution"))
    assert "ValueError: cannot reshape array of size 6 into shape (4,)" in page
    assert "site-packages" not in page


def test_each_part_under_its_title_with_its_score_and_message(graded):
    parts = _summary(_page(graded, "solution"))
    assert [t for t, _, _ in parts] == [
        "Part 1: inverted dropout in numpy", "Part 2: the backward pass",
        "Part 3: a Dropout layer that matches torch.nn.Dropout", "Part 4: Monte-Carlo dropout",
        "Part 5: written answer: when is the eval-mode output the ensemble average?"]
    assert [s for _, s, _ in parts][:4] == ["2 / 2", "2 / 2", "3 / 3", "3 / 3"]
    assert all(m.startswith("passed all") for _, _, m in parts[:4])
    assert "waiting for grading" in parts[4][1] and "waiting to be graded by hand" in parts[4][2]
    # Test cells are headed by their part, not by their grade id.
    page = _page(graded, "solution")
    assert "Test of Part 1: inverted dropout in numpy" in html_text(page)
    assert "Grade cell:" not in page and "Points: " not in html_text(page).split("Your notebook, as graded")[0]

    blank = _summary(_page(graded, "blank"))
    assert [s for _, s, _ in blank] == ["0 / 2", "0 / 2", "0 / 3", "0 / 3", "0 / 2"]
    assert blank[4][2] == "Not answered."


def test_an_answer_that_does_not_parse_is_told_its_syntax_error(graded):
    """As `coursekit check` says it, with its line; not a later NameError."""
    part1 = _summary(_page(graded, "syntax"))[0]
    assert part1[1] == "0 / 2"
    assert part1[2].startswith("your dropout_forward cell raised an error: SyntaxError: '(' was never closed "
                               "(line 3)"), part1[2]
    text = html_text(_page(graded, "syntax"))
    assert "NameError" not in text and "ipython-input" not in text


def test_report_reads_like_a_summary(graded):
    page = (graded / "report.html").read_text()
    text = html_text(page)
    assert "Part 1: inverted dropout in numpy" in text and "Item analysis" in text
    attention = html_text(page.split('id="attention"')[1])
    assert "blank submission" in attention and "does not parse" in attention and "tampered" in attention
    assert "answer cell dropout_forward: SyntaxError: '(' was never closed (line 3)" in attention
    assert "test cell test_dropout_backward was edited" in attention


def test_pages_in_chromium_typeset_math_offline_and_wrap_long_lines(graded):
    """Opened from disk with every network request refused: MathJax comes from feedback/mathjax."""
    from playwright.sync_api import sync_playwright

    from site_browser import CHROMIUM, CHROMIUM_ARGS, WINDOW

    assert (graded / "feedback" / "mathjax" / "tex-mml-chtml.js").is_file()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport=WINDOW)
            refused = []
            tab.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:"))
                      else (refused.append(r.request.url), r.abort()))
            for student in ("solution", "syntax"):
                tab.goto((graded / "feedback" / student / A / f"{NB}.html").as_uri())
                tab.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
                tab.evaluate("MathJax.startup.promise")
                seen = tab.evaluate("""() => ({
                    math: document.querySelectorAll('mjx-container').length,
                    errors: document.querySelectorAll('mjx-merror').length,
                    raw: /\\$1 - p\\$/.test(document.body.innerText),
                    wide: [...document.querySelectorAll('pre, .output_area, table.parts')]
                          .filter(e => e.scrollWidth > e.clientWidth + 1).length,
                    page: document.documentElement.scrollWidth})""")
                assert seen["math"] > 5 and not seen["errors"] and not seen["raw"], (student, seen)
                assert seen["wide"] == 0 and seen["page"] <= WINDOW["width"], (student, seen)
            assert not refused, refused
        finally:
            browser.close()


def test_a_part_whose_answer_cell_was_stopped_says_so():
    """Not "NameError: ... is not defined": the answer cell ran too long (or crashed) before defining it."""
    from autograder.sandboxed_execute import _blame_answer_cell
    from autograder.verdicts import Verdict

    stopped = [{"output_type": "error", "ename": "CellAborted",
                "evalue": "this cell ran too long (over 5 s) and was stopped", "traceback": []}]
    undefined = Verdict(False, "dropout_backward raised NameError: dropout_backward is not defined")
    message = _blame_answer_cell(undefined, "dropout_backward", stopped).message
    assert message.startswith("your dropout_backward cell ran too long (over 5 s) and was stopped, before it "
                              "defined what this part tests"), message
    # A verdict on a function the cell did define stands; so does a pass.
    wrong = Verdict(False, "Likely mistake: no 1/(1 - p) scaling.")
    assert _blame_answer_cell(wrong, "dropout_backward", stopped) is wrong
    passed = Verdict(True, "passed all 7 scenarios")
    assert _blame_answer_cell(passed, "dropout_backward", stopped) is passed

