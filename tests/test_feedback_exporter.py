"""Feedback pages from autograder.feedback_exporter equal those nbconvert's HTMLExporter code path renders.

nbconvert re-parses every page with BeautifulSoup (adding alt text to images)
and serializes it again; ours adds the alt text directly. Once normalised by
BeautifulSoup, the two must be the same page (the same template and the same
notebook cleaned for students: NbconvertFeedbackExporter differs only in how
it renders).
"""

from __future__ import annotations

import base64
import subprocess
import sys

from bs4 import BeautifulSoup

from conftest import run_cli
from submissions import solution_notebook, write_submission

A = "ch02_weight_decay"
# A 1x1 PNG, shown without alt text by a student's cell.
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")).decode()


def test_feedback_pages_equal_nbconverts(tmp_path):
    import nbformat

    sub = tmp_path / "submitted"
    write_submission(sub, "solution", A, solution_notebook(A))
    nb = solution_notebook(A)
    nb.cells.insert(2, nbformat.v4.new_code_cell(
        "from IPython.display import HTML, Image, display\n"
        f"display(Image(data=__import__('base64').b64decode('{PNG}')))\n"
        "display(HTML('<p>a table: <img src=\"x.png\"></p>'))\nprint('<b>not markup</b>')"))
    write_submission(sub, "with-images", A, nb)
    out = tmp_path / "out"
    run_cli("grade", A, sub, "--out", out, "--no-progress")
    ours = {p.relative_to(out): p.read_text() for p in out.glob("feedback/*/*/*.html")}
    assert len(ours) == 2 and 'alt="No description has been provided for this image"' in \
        ours[next(p for p in ours if "with-images" in str(p))]

    # The same pages through nbconvert's own rendering, via `nbgrader generate_feedback`.
    root = out / "nbgrader"
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", A, "--force",
                    "--GenerateFeedback.exporter_class=autograder.feedback_exporter.NbconvertFeedbackExporter"],
                   cwd=root, check=True, capture_output=True)
    for rel, page in ours.items():
        stock = (root / "feedback" / rel.relative_to("feedback")).read_text()
        assert str(BeautifulSoup(page, "html.parser")) == stock, rel
