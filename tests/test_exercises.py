"""The exercise pattern: one nbgrader source per exercise, a generated student copy.

- `nbgrader validate` passes on every source notebook and, with --invert, on
  every student version (there, every test cell must fail);
- the student copies in chapters/exercises are exactly what nbgrader generates now;
- student copies contain no solution code, no hidden test and no rubric;
- a student copy runs cleanly until the first unimplemented stub;
- every written answer has a rubric whose points add up to the cell's points;
- the visible tests, run in a kernel on the student copy, pass every correct answer of the corpus
  (tests/submissions/) and fail each buggy one with a message that names its mistake.
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
from submissions import VARIANTS, solution_notebook

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


# Idioms every torch program writes: finding one on a page reveals nothing of a solution.
GENERIC_LINES = {"with torch.no_grad():", "@torch.no_grad()", "for group in self.param_groups:",
                 "for p in group[\"params\"]:", "optimizer.zero_grad()", "loss.backward()", "optimizer.step()",
                 "for _ in range(num_epochs):", "Xc, yc = X - X.mean(axis=0), y - y.mean()"}


def _solution_lines(path):
    """Non-trivial lines of the solution regions and hidden tests of a source notebook."""
    lines = set()
    for cell in nbformat.read(path, as_version=4).cells:
        for block in re.findall(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", cell.source, re.S):
            lines |= {ln.strip() for ln in block[1].splitlines() if len(ln.strip()) >= 20}
    return lines - GENERIC_LINES


@pytest.mark.parametrize("assignment,notebook", NOTEBOOKS)
def test_student_version_hides_solutions_and_hidden_tests(assignment, notebook, released):
    text = (released / assignment / f"{notebook}.ipynb").read_text()
    secret = _solution_lines(_source(assignment, notebook))
    assert len(secret) > 10
    leaked = [ln for ln in secret if ln in text]
    assert not leaked, f"solution or hidden-test lines in the student copy: {leaked[:3]}"
    for marker in ("BEGIN SOLUTION", "HIDDEN TESTS", "autograder.hidden", "Model answer", "Rubric"):
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


def _written_answers(nb):
    return [c for c in nb.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("grade")]


@pytest.mark.parametrize("assignment,notebook", NOTEBOOKS)
def test_written_answers_have_a_rubric_that_students_never_see(assignment, notebook, released):
    source = _written_answers(nbformat.read(_source(assignment, notebook), as_version=4))
    student = {c.metadata["nbgrader"]["grade_id"]: c.source
               for c in _written_answers(nbformat.read(released / assignment / f"{notebook}.ipynb", as_version=4))}
    assert source, "every exercise has a written answer"
    for cell in source:
        meta = cell.metadata["nbgrader"]
        region = re.fullmatch(r"### BEGIN SOLUTION\n(.*)\n### END SOLUTION", cell.source.strip(), re.S)
        assert region, f"{meta['grade_id']}: the whole cell is one solution region (rubric and model answer)"
        text = region.group(1)
        assert "**Rubric" in text and "**Model answer.**" in text, meta["grade_id"]
        # each bullet of the rubric starts with its points: "* **1 point: ...", "* **½ point: ..."
        points = re.findall(r"^\* \*\*(\d*½?) points?", text, re.M)
        assert sum(float(p.replace("½", ".5")) for p in points) == meta["points"], \
            f"{meta['grade_id']}: the rubric's points {points} do not add up to {meta['points']}"
        assert student[meta["grade_id"]].strip() == "YOUR ANSWER HERE", student[meta["grade_id"]]


# ---------------------------------------------------------------- the visible tests, as a student runs them
@pytest.fixture(scope="module", params=sorted(ASSIGNMENTS))
def visible_messages(request, tmp_path_factory):
    """(assignment, {variant name: the visible test's error message, or None if it passed}).

    One kernel per assignment runs the student copy with the solutions typed in (every visible test must
    pass), then, for each variant, its answer cell, the test cell of its part, and the solution again.
    """
    assignment = request.param
    nb = solution_notebook(assignment)
    index = {c.metadata.get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(nb.cells)}
    source = [c.source for c in nb.cells]  # nbclient stores each executed cell into nb.cells[its index]
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path_factory.mktemp("visible"))}})
    messages = {}
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, i)  # raises if the solution fails a visible test
        for kind in ("buggy", "correct"):
            for v in VARIANTS[assignment][kind]:
                client.execute_cell(nbformat.v4.new_code_cell(v.code.strip("\n")), index[v.answer])
                test = nbformat.v4.new_code_cell(source[index[v.part]])
                try:
                    client.execute_cell(test, index[v.part])
                    messages[v.name] = None
                except CellExecutionError as exc:
                    messages[v.name] = f"{exc.ename}: {exc.evalue}"
                client.execute_cell(nbformat.v4.new_code_cell(source[index[v.answer]]), index[v.answer])
    return assignment, messages


def test_visible_tests_pass_every_correct_answer(visible_messages):
    assignment, messages = visible_messages
    failed = {v.name: messages[v.name] for v in VARIANTS[assignment]["correct"] if messages[v.name]}
    assert not failed, f"correct answers that fail a visible test: {failed}"


def test_visible_tests_name_each_mistake(visible_messages):
    """A buggy answer fails its part's visible test, and the message names the mistake (``visible``)."""
    assignment, messages = visible_messages
    for v in VARIANTS[assignment]["buggy"]:
        if v.visible is None:
            continue
        assert messages[v.name] is not None, f"{v.name} passes the visible test of {v.part}"
        assert v.visible in messages[v.name], f"{v.name}: the visible test says {messages[v.name]!r}"
