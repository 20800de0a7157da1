"""What arrives from students: an LMS download or nbgrader's layout, and notebooks renamed or tampered with."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

from .course import SOURCE, UsageError


def find_students(assignment: str, submitted: Path) -> list[str]:
    if not submitted.is_dir():
        raise UsageError(f"submissions folder not found: {submitted}")
    students = sorted(p.name for p in submitted.iterdir()
                      if p.is_dir() and (p / assignment).is_dir() and not p.name.startswith("."))
    if not students:
        raise UsageError(f"no submissions of '{assignment}' in {submitted} "
                         f"(expected {submitted}/<student_id>/{assignment}/<notebook>.ipynb)")
    return students


# A learning-management-system download: <student>_[LATE_][<number>_...]<notebook>.ipynb
# (Canvas names files like this). nbgrader's zip_collect matches the regexp against the path
# under its extracted/ folder, so patterns start with (?:.*/)? to allow sub-folders of a zip.
LMS_PATTERN = r"^(?:.*/)?(?P<student_id>[^_/]+)_(?:LATE_)?(?:\d+_)*(?P<file_id>[^_/][^/]*\.ipynb)$"


def has_nbgrader_layout(folder: Path, assignment: str) -> bool:
    return any((p / assignment).is_dir() for p in folder.iterdir() if p.is_dir())


def collect_lms(source: Path, assignment: str, out: Path, pattern: str, verbose: bool = False) -> Path:
    """Turn a zip or a flat folder from an LMS into nbgrader's layout with nbgrader's own zip_collect.

    Returns the folder <student_id>/<assignment>/<notebook>.ipynb it wrote (with timestamp.txt when
    the file names carry a timestamp).
    """
    from nbgrader.apps import NbGraderAPI  # noqa: F401  (nbgrader's apps must be importable)
    from nbgrader.apps.zipcollectapp import ZipCollectApp
    from traitlets.config import Config

    intake = out / "intake"
    archive = intake / "downloaded" / assignment / "archive"
    shutil.rmtree(intake, ignore_errors=True)
    archive.mkdir(parents=True)
    if source.is_file():
        if source.suffix.lower() != ".zip":
            raise UsageError(f"{source} is neither a folder nor a .zip archive")
        shutil.copyfile(source, archive / source.name)
    else:
        for path in source.iterdir():
            if path.is_file():
                shutil.copyfile(path, archive / path.name)
    c = Config()
    c.CourseDirectory.root = str(intake)
    c.CourseDirectory.assignment_id = assignment
    c.FileNameCollectorPlugin.named_regexp = pattern
    c.FileNameCollectorPlugin.valid_ext = [".ipynb", ".txt", ".py", ".csv", ".json"]
    c.ZipCollectApp.log_level = "INFO"
    app = ZipCollectApp(config=c)
    # nbgrader's own log goes to a file: its routine warnings ("Directory not found. Creating", "Invalid submission
    # notebook name", one per file) are not problems; files it did not collect are reported by grade, one line each.
    import logging

    handler = logging.FileHandler(out / "nbgrader.log")
    handler.setFormatter(logging.Formatter("[zip_collect | %(levelname)s] %(message)s"))
    handlers = [handler] + ([logging.StreamHandler()] if verbose else [])
    app.log.handlers, app.log.propagate = list(handlers), False
    app.initialize([])
    app.log.handlers = list(handlers)
    try:
        app.start()
    except Exception as exc:
        raise UsageError(f"could not collect the LMS download {source}: {exc}") from None
    collected = intake / "submitted"
    if not collected.is_dir() or not any(collected.iterdir()):
        raise UsageError(f"no file in {source} matches the name pattern {pattern!r} "
                         "(set --name-pattern, with groups student_id and file_id)")
    return collected


def uncollected_files(out: Path, assignment: str, pattern: str) -> list[str]:
    """Notebooks of an LMS download whose names do not match ``pattern``: not graded, so said one line each."""
    import re

    extracted = out / "intake" / "downloaded" / assignment / "extracted"
    regexp = re.compile(pattern)
    return sorted(p.relative_to(extracted).as_posix() for p in extracted.rglob("*.ipynb")
                  if p.is_file() and not regexp.match(p.relative_to(extracted).as_posix()))


def _read_notebook(path: Path):
    """The notebook, or a one-line reason why it cannot be graded."""
    import nbformat

    try:
        return nbformat.read(path, as_version=4), None
    except UnicodeDecodeError:
        return None, f"{path.name} is not UTF-8 text"
    except Exception as exc:  # invalid JSON, not a notebook, wrong schema
        return None, f"{path.name} is not a valid notebook ({type(exc).__name__})"


@functools.lru_cache(maxsize=None)
def _source_cells(assignment: str, notebook: str) -> tuple[dict, ...]:
    """nbgrader metadata of each cell of the exercise's source, read once per grading process."""
    import nbformat

    source = nbformat.read(SOURCE / assignment / f"{notebook}.ipynb", as_version=4)
    return tuple(c.metadata.get("nbgrader", {}) for c in source.cells)


def _graded_ids(assignment: str, notebook: str) -> set[str]:
    """grade_ids of the exercise's graded cells: its test cells and written answers."""
    return {meta["grade_id"] for meta in _source_cells(assignment, notebook) if meta.get("grade")}


def renamed_notebooks(src: Path, assignment: str, notebooks: list[str]) -> dict[str, Path]:
    """{expected notebook: file} for a download that renamed the one notebook of a submission.

    Browsers and LMSs save "weight_decay (1).ipynb" or "weight_decay-Copy1.ipynb". When exactly one expected
    notebook is missing, exactly one other notebook was submitted, and that one carries every graded cell id of
    the missing one, it is the student's work under another name.
    """
    missing = [nb for nb in notebooks if not (src / f"{nb}.ipynb").is_file()]
    others = sorted(p for p in src.glob("*.ipynb") if p.stem not in notebooks)
    if len(missing) != 1 or len(others) != 1:
        return {}
    parsed, why = _read_notebook(others[0])
    if why:
        return {}
    ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in parsed.cells}
    return {missing[0]: others[0]} if _graded_ids(assignment, missing[0]) <= ids else {}


def tamper_notes(nb, assignment: str, notebook: str) -> list[str]:
    """What a student changed that they should not have: noted, then undone by nbgrader before grading."""
    from nbgrader.utils import compute_checksum

    tests = [meta["grade_id"] for meta in _source_cells(assignment, notebook)
             if meta.get("grade") and not meta.get("solution")]
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    notes = []
    for gid in tests:
        cell = cells.get(gid)
        if cell is None:
            notes.append(f"test cell {gid} was deleted or its metadata stripped (restored for grading)")
        elif cell.cell_type != "code":
            notes.append(f"test cell {gid} was changed to {cell.cell_type} (restored for grading)")
        elif cell.metadata["nbgrader"].get("checksum") != compute_checksum(cell):
            notes.append(f"test cell {gid} was edited (restored for grading)")
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel not in (None, "python3"):
        notes.append(f"the kernel was changed to {kernel!r} (graded with python3)")
    return notes
