"""Solutions when the instructor decides (issue 24, item 7): `release --solutions` writes runnable solution
notebooks with a warning, never into what reaches students."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.course import REPO, assignments
from conftest import run_cli


@pytest.fixture(scope="module")
def solutions(tmp_path_factory):
    out = tmp_path_factory.mktemp("solutions")
    proc = run_cli("release", "--solutions", "--out", out)
    assert proc.stderr.strip().splitlines() == [
        "warning: these are the solutions: hand them out only after every submission is graded"]
    return out


def test_every_notebook_has_its_solutions_and_nothing_of_the_grader(solutions):
    for assignment, notebooks in assignments().items():
        for name in notebooks:
            nb = nbformat.read(solutions / assignment / f"{name}.ipynb", as_version=4)
            text = "\n".join(c.source for c in nb.cells)
            for leak in ("BEGIN HIDDEN TESTS", "autograder/hidden", "PARTS[", "### BEGIN SOLUTION"):
                assert leak not in text, f"{assignment}: {leak}"
            code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
            assert "raise NotImplementedError" not in code, f"{assignment}: an answer cell was left blank"
            assert not any("nbgrader" in c.metadata for c in nb.cells)


def test_a_solution_notebook_runs_and_passes_its_visible_tests(solutions):
    nb = nbformat.read(solutions / "ch10_lr_schedules" / "lr_schedules.ipynb", as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(solutions)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors[0]["evalue"]


@pytest.mark.parametrize("public", ["chapters/exercises", "_build/html", "coursekit/solutions"])
def test_solutions_are_never_written_where_students_see_them(public, tmp_path):
    proc = run_cli("release", "--solutions", "--out", REPO / public, check=False)
    assert proc.returncode == 2 and "refusing to write solutions" in proc.stderr
    assert not (REPO / public / "ch10_lr_schedules").exists() or public == "chapters/exercises"
