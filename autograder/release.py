"""Generate the student version of every exercise with nbgrader, and, when the instructor decides, the solutions."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from .course import SOURCE, UsageError, assignments, nbgrader_config, prepare_environment


def release(out: Path, only: list[str] | None = None) -> list[Path]:
    """Write ``out/<assignment>/<notebook>.ipynb`` for each assignment.

    nbgrader works in a scratch course directory: ``generate_assignment
    --force`` deletes its destination, so it never writes into ``out`` itself.
    Only the notebooks are copied over; other files already in ``out`` stay.
    """
    from nbgrader.apps import NbGraderAPI

    prepare_environment()
    known = assignments()
    names = only or list(known)
    for name in names:
        if name not in known:
            raise UsageError(f"unknown assignment '{name}'; known: {', '.join(known)}")
    written = []
    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        root = Path(tmp)
        shutil.copytree(SOURCE, root / "source")
        api = NbGraderAPI(config=nbgrader_config(root, f"sqlite:///{root / 'gradebook.db'}"))
        for name in names:
            result = api.generate_assignment(name, force=True)
            if not result["success"]:
                raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{result.get('error') or result.get('log')}")
            dest = out / name
            dest.mkdir(parents=True, exist_ok=True)
            for notebook in known[name]:
                target = dest / f"{notebook}.ipynb"
                shutil.copyfile(root / "release" / name / f"{notebook}.ipynb", target)
                written.append(target)
    return written


HIDDEN_TESTS = re.compile(r"[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*\n?", re.S)
SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)
# Folders whose contents reach students before grading: the book's sources and the built site.
PUBLIC = ("chapters", "_build", "coursekit", "intro.md")


def release_solutions(out: Path, only: list[str] | None = None) -> list[Path]:
    """Write ``out/<assignment>/<notebook>.ipynb`` with the reference solutions (and the written answers' rubrics)
    for handing out after grading: the source notebooks without nbgrader's markers, its metadata or the hidden
    tests' pointers. Refuses to write where the site or the student package is built from."""
    import nbformat

    from .layout import REPO

    out = Path(out).resolve()
    for public in PUBLIC:
        if out == REPO / public or (REPO / public) in out.parents:
            raise UsageError(f"refusing to write solutions into {out}: {public} reaches students before grading")
    known = assignments()
    names = only or list(known)
    for name in names:
        if name not in known:
            raise UsageError(f"unknown assignment '{name}'; known: {', '.join(known)}")
    written = []
    for name in names:
        for notebook in known[name]:
            nb = nbformat.read(SOURCE / name / f"{notebook}.ipynb", as_version=4)
            for cell in nb.cells:
                cell.source = SOLUTION_MARKERS.sub("", HIDDEN_TESTS.sub("", cell.source)).strip("\n")
                cell.metadata.pop("nbgrader", None)
                if cell.cell_type == "code":
                    cell.outputs, cell.execution_count = [], None
            target = out / name / f"{notebook}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, target)
            written.append(target)
    return written
