"""The corpus of submissions for the grading tests: the solution, the blank student copy,
and known-buggy or correct-alternative answers spliced into the solution notebook.

One module per chapter, ``chNN.py``, defines that chapter's ``BUGGY`` and ``CORRECT`` lists of
:class:`Variant`; the registry below finds every such module and files it under the assignment
whose folder in ``autograder/source`` starts with ``chNN_``. Adding a chapter means adding one file.

Each variant replaces the source of one answer cell (by nbgrader grade_id). The buggy ones must
lose points on exactly the test cell ``part`` (tests/test_grading_pipeline.py, one graded batch per
assignment); the correct alternatives must keep full marks. ``visible`` and ``hidden`` are words the
message of the visible test (run in a kernel, tests/test_exercises.py) and the grader's feedback
must contain: the named mistake, in the student's terms. ``not_named`` is a mistake the answer resembles on some
scenario but did not make: its feedback must not name it.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.course import SOURCE, assignments


@dataclass(frozen=True)
class Variant:
    name: str                   # becomes the student id
    answer: str                 # grade_id of the answer cell that is replaced
    code: str                   # its new source
    part: str                   # grade_id of the test cell that must lose (buggy) / keep (correct) points
    visible: str | None = None  # buggy: words the visible test's message must contain (None: not checked there)
    hidden: str | None = None   # buggy: words the grader's feedback must contain (required of every buggy one)
    not_named: str | None = None  # buggy: words of a mistake it did not make, which the feedback must not contain


# Messages of static checks (the code is read, not run): they name the mistake by construction.
STATIC_MESSAGES = ("must implement the update itself", "do not form the inverse matrix", "must be written by you")


def localizes(message: str) -> bool:
    """Does a part's feedback point at the fault: a named mistake, or scenarios that fail next to ones that pass?
    (issue 10's measure; a bare "differs from torch" does not count)."""
    lines = message.splitlines()
    if lines and "Points: " in lines[0]:  # partial credit's points line comes first
        message = "\n".join(lines[1:])
    if message.startswith("Likely mistake:") or any(s in message for s in STATIC_MESSAGES):
        return True
    passes = [ln for ln in message.splitlines() if ln.startswith("Passes with: ")]
    return bool(passes) and passes[0] != "Passes with: none of the scenarios."


def _discover() -> dict[str, dict[str, list[Variant]]]:
    """assignment -> {"buggy": [...], "correct": [...]}, from every chNN.py module of this package."""
    known = assignments()
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not re.fullmatch(r"ch\d\d", info.name):
            continue
        matches = [a for a in known if a.startswith(info.name + "_")]
        if len(matches) != 1:
            raise RuntimeError(f"tests/submissions/{info.name}.py: expected one assignment "
                               f"autograder/source/{info.name}_*, found {matches}")
        module = importlib.import_module(f"{__name__}.{info.name}")
        variants = {"buggy": list(module.BUGGY), "correct": list(module.CORRECT)}
        names = [v.name for kind in variants.values() for v in kind]
        duplicates = sorted({n for n in names if names.count(n) > 1} | {"solution", "blank"} & set(names))
        if duplicates:
            raise RuntimeError(f"tests/submissions/{info.name}.py: variant names must be unique: {duplicates}")
        found[matches[0]] = variants
    return found


def notebook_name(assignment: str) -> str:
    (nb,) = sorted(p.stem for p in (SOURCE / assignment).glob("*.ipynb"))
    return nb


def write_submission(submitted: Path, student: str, assignment: str, nb: nbformat.NotebookNode) -> Path:
    path = submitted / student / assignment / f"{notebook_name(assignment)}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@functools.lru_cache(maxsize=None)
def released_notebook(assignment: str) -> str:
    """The student version as nbgrader releases it (JSON text), made once per test session."""
    from autograder.release import release

    out = Path(tempfile.mkdtemp(prefix="released-"))
    (path,) = release(out, [assignment])
    return path.read_text()


def solution_notebook(assignment: str) -> nbformat.NotebookNode:
    """What a student who solved everything submits: the released notebook with the source's
    solutions typed into the answer cells and their own words in the written answers."""
    nb = nbformat.reads(released_notebook(assignment), as_version=4)
    source = nbformat.read(SOURCE / assignment / f"{notebook_name(assignment)}.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("solution"):
            continue
        text = answers[meta["grade_id"]].source
        if cell.cell_type == "code":
            cell.source = "\n".join(ln for ln in text.splitlines()
                                    if ln.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
        else:
            cell.source = "My answer: " + model_answer(text)
    return nb


def model_answer(source: str) -> str:
    """The model answer of a written-answer cell of the source: its solution region without the rubric."""
    region = re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", source, re.S)
    text = region.group(1) if region else source
    return text.split("**Model answer.**", 1)[-1].strip()


def with_answer(assignment: str, grade_id: str, code: str) -> nbformat.NotebookNode:
    nb = solution_notebook(assignment)
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    assert len(cells) == 1 and cells[0].metadata["nbgrader"]["solution"], f"no answer cell {grade_id}"
    cells[0].source = code.strip("\n")
    return nb


def build_batch(submitted: Path, assignment: str, released: Path) -> None:
    """solution + blank + every variant of the assignment, as nbgrader's submitted/ layout."""
    nb_name = notebook_name(assignment)
    write_submission(submitted, "solution", assignment, solution_notebook(assignment))
    (submitted / "blank" / assignment).mkdir(parents=True)
    shutil.copyfile(released / assignment / f"{nb_name}.ipynb", submitted / "blank" / assignment / f"{nb_name}.ipynb")
    for kind in ("buggy", "correct"):
        for v in VARIANTS[assignment][kind]:
            write_submission(submitted, v.name, assignment, with_answer(assignment, v.answer, v.code))


# ---------------------------------------------------------------- notebook surgery for attack tests
def cell_index(nb, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def set_source(nb, grade_id: str, code: str):
    nb.cells[cell_index(nb, grade_id)].source = code.strip("\n")
    return nb


def insert_after(nb, grade_id: str, code: str):
    nb.cells.insert(cell_index(nb, grade_id) + 1, nbformat.v4.new_code_cell(code.strip("\n")))
    return nb


def solution_and_buggy(sub: Path, assignment: str, buggy: slice) -> Path:
    """A small batch: the solution plus a slice of the buggy variants, in nbgrader's layout."""
    write_submission(sub, "solution", assignment, solution_notebook(assignment))
    for v in VARIANTS[assignment]["buggy"][buggy]:
        write_submission(sub, v.name, assignment, with_answer(assignment, v.answer, v.code))
    return sub


# Every chapter's variants. Built last: the chapter modules import Variant from this package.
VARIANTS = _discover()
