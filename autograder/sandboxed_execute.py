"""nbgrader preprocessor that replaces ``Execute`` in ``nbgrader autograde``.

Instead of running the notebook in a kernel with the grader's permissions
and trusting whatever the test cells print, it runs the student's code cells
in the sandbox and writes, into each test cell, the verdict decided outside
(``autograder.verdicts``): an AssertionError with the hint when the part is
wrong, a line saying it passed otherwise. nbgrader's own SaveAutoGrades then
scores the cells as usual, so the gradebook, formgrader, feedback and export
work unchanged.
"""

from __future__ import annotations

import dataclasses
import re

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Integer

from .layout import SOURCE
from .sandbox import Sandbox
from .verdicts import parts_of, run_submission

HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS\n?", re.S)


def _meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def is_test_cell(cell) -> bool:
    m = _meta(cell)
    return cell.cell_type == "code" and m.get("grade") and not m.get("solution")


PARSE_ERRORS = ("SyntaxError", "IndentationError", "TabError")


def parse_error(outputs: list) -> str | None:
    """"SyntaxError: '(' was never closed (line 3)" when a cell's outputs say it does not parse, else None."""
    for out in outputs or []:
        if out.get("output_type") == "error" and out.get("ename") in PARSE_ERRORS:
            evalue = re.sub(r" \(<ipython-input-[^>]*>, line (\d+)\)", r" (line \1)", str(out.get("evalue", "")))
            return f"{out['ename']}: {evalue}"
    return None


def _blame_answer_cell(verdict, answer: str, outputs: list):
    """A part whose answer cell does not parse fails because of that, not because a name is undefined: its
    message is the cell's SyntaxError with its line, in `coursekit check`'s words. Likewise an answer cell that
    was stopped (too long, a crash) before it defined what the part tests."""
    if verdict is None or verdict.passed:
        return verdict
    error = parse_error(outputs)
    stopped = next((o for o in outputs or [] if o.get("output_type") == "error" and o.get("ename") == "CellAborted"),
                   None)
    if error:
        message = f"your {answer} cell raised an error: {error}\nNothing in that cell was defined, so this part was " \
                  "not tested: fix the error and run the cell again."
    elif stopped and "is not defined" in verdict.message:
        what = re.sub(r"^this cell ", "", str(stopped.get("evalue", "was stopped")))
        message = f"your {answer} cell {what}, before it defined what this part tests, so this part was not " \
                  "tested: make the cell run to its end, and run it again."
    else:
        return verdict
    if verdict.fraction > 0:  # points earned all the same (another cell defines what was tested)
        message += "\n" + verdict.message
    return dataclasses.replace(verdict, message=message)


class SandboxedExecute(NbGraderPreprocessor):
    sandbox = Bool(True, help="Run student code in the bubblewrap sandbox").tag(config=True)
    timeout = Integer(60, help="Seconds one cell (or one tested part, doubled) may run").tag(config=True)

    def preprocess(self, nb, resources):
        assignment = resources["nbgrader"]["assignment"]
        notebook = resources["nbgrader"]["notebook"]
        parts = parts_of(assignment)
        self._restore_missing_test_cells(nb, assignment, notebook, parts)

        cells = [{"index": i, "source": c.source} for i, c in enumerate(nb.cells)
                 if c.cell_type == "code" and not is_test_cell(c)]
        answers = {_meta(c)["grade_id"]: c.source for c in nb.cells if _meta(c).get("solution")}
        run = run_submission(assignment, cells, answers, Sandbox(enabled=self.sandbox),
                             cell_timeout=self.timeout, part_timeout=2 * self.timeout)
        answer_cells = {_meta(c)["grade_id"]: i for i, c in enumerate(nb.cells) if _meta(c).get("solution")}
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            cell.execution_count = None
            if is_test_cell(cell):
                gid = _meta(cell)["grade_id"]
                verdict = run.verdicts.get(gid)
                if gid in parts:
                    answer = parts[gid].answer
                    verdict = _blame_answer_cell(verdict, answer, run.cell_outputs.get(answer_cells.get(answer), []))
                cell.outputs = self._verdict_outputs(verdict, float(_meta(cell).get("points") or 0))
            else:
                cell.outputs = [nbformat.from_dict(o) for o in run.cell_outputs.get(i, [])]
        resources.setdefault("sandbox", {})["problem"] = run.problem
        return nb, resources

    @staticmethod
    def _verdict_outputs(verdict, points: float) -> list:
        """The test cell's outputs as nbgrader scores them: a stream for full marks, an error for none, and for
        partial credit the message and, as the cell's result, the points earned (nbgrader's partial credit)."""
        if verdict is None:
            return [nbformat.v4.new_output("error", ename="AssertionError",
                                           evalue="no hidden test is declared for this cell",
                                           traceback=["AssertionError: no hidden test is declared for this cell"])]
        if verdict.passed:
            return [nbformat.v4.new_output("stream", name="stdout", text=f"✔ {verdict.message}\n")]
        earned = round(verdict.fraction * points, 6)
        if earned > 0:
            return [nbformat.v4.new_output("stream", name="stdout", text=f"✘ {verdict.message}\n"),
                    nbformat.v4.new_output("execute_result", data={"text/plain": f"{earned:g}"},
                                           execution_count=None)]
        return [nbformat.v4.new_output("error", ename="AssertionError", evalue=verdict.message,
                                       traceback=[f"AssertionError: {verdict.message}"])]

    @staticmethod
    def _restore_missing_test_cells(nb, assignment, notebook, parts):
        """Put back test cells a student deleted or whose metadata they stripped."""
        present = {_meta(c).get("grade_id") for c in nb.cells if is_test_cell(c)}
        missing = [gid for gid in parts if gid not in present]
        if not missing:
            return
        source = nbformat.read(SOURCE / assignment / f"{notebook}.ipynb", as_version=4)
        for cell in source.cells:
            if _meta(cell).get("grade_id") in missing:
                restored = nbformat.v4.new_code_cell(HIDDEN.sub("", cell.source))
                restored.metadata["nbgrader"] = dict(_meta(cell))
                nb.cells.append(restored)
