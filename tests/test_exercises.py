"""The exercise pattern: one nbgrader source per exercise, a generated student copy.

- `nbgrader validate` passes on every source notebook and, with --invert, on
  every student version (there, every test cell must fail);
- the student copies in chapters/exercises are exactly what nbgrader generates now;
- student copies contain no solution code and no hidden test;
- a student copy runs cleanly until the first unimplemented stub.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbgrader.validator import Validator

from conftest import ASSIGNMENTS, REPO
from autograder.course import SOURCE

NOTEBOOKS = [(a, nb) for a, nbs in sorted(ASSIGNMENTS.items()) for nb in nbs]
SITE_COPY = REPO / "chapters" / "exercises"


def _source(a, nb):
    return SOURCE / a / f"{nb}.ipynb"


@pytest.mark.parametrize("assignment,notebook", NOTEBOOKS)
def test_source_notebook_validates(assignment, notebook):
    results = Validator().validate(str(_source(assignment, notebook)))
    assert results == {}, results


@pytest.mark.parametrize("assignment,notebook", NOTEBOOKS)
def test_every_test_cell_fails_on_the_student_version(assignment, notebook, released):
    results = Validator(invert=True).validate(str(released / assignment / f"{notebook}.ipynb"))
    assert results == {}, f"test cells that pass on the blank student copy: {results}"


@pytest.mark.parametrize("assignment,notebook", NOTEBOOKS)
def test_site_copy_is_freshly_generated(assignment, notebook, released):
    committed = SITE_COPY / assignment / f"{notebook}.ipynb"
    assert committed.is_file(), f"{committed} missing: run `make exercises`"
    assert committed.read_bytes() == (released / assignment / f"{notebook}.ipynb").read_bytes(), \
        f"{committed} is stale: regenerate it with `make exercises`, never edit it by hand"


def _solution_lines(path):
    """Non-trivial lines of the solution regions and hidden tests of a source notebook."""
    lines = set()
    for cell in nbformat.read(path, as_version=4).cells:
        for block in re.findall(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", cell.source, re.S):
            lines |= {ln.strip() for ln in block[1].splitlines() if len(ln.strip()) >= 20}
    return lines


@pytest.mark.parametrize("assignment,notebook", NOTEBOOKS)
def test_student_version_hides_solutions_and_hidden_tests(assignment, notebook, released):
    text = (released / assignment / f"{notebook}.ipynb").read_text()
    secret = _solution_lines(_source(assignment, notebook))
    assert len(secret) > 10
    leaked = [ln for ln in secret if ln in text]
    assert not leaked, f"solution or hidden-test lines in the student copy: {leaked[:3]}"
    for marker in ("BEGIN SOLUTION", "HIDDEN TESTS", "autograder.hidden", "Model answer"):
        assert marker not in text
    assert not re.search(r"^\s*(from|import)\s+solutions\b", text, re.M)


@pytest.mark.parametrize("assignment,notebook", NOTEBOOKS)
def test_student_version_runs_until_the_first_stub(assignment, notebook, released, tmp_path):
    nb = nbformat.read(released / assignment / f"{notebook}.ipynb", as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    first_answer = next(i for i, c in enumerate(nb.cells)
                        if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code")
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, i)
            except CellExecutionError as exc:
                assert i > first_answer, f"cell {i} fails before any stub: {exc}"
                assert "NotImplementedError" in str(exc), f"cell {i} fails with something else: {exc}"
                break
            stderr = [o for o in cell.outputs if o.get("name") == "stderr"]
            assert not stderr, f"cell {i} writes to stderr: {stderr}"
        else:
            pytest.fail("the student copy ran to the end: no stub raised NotImplementedError")
