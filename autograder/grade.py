"""Autograde a folder of submissions with nbgrader and export the results."""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .course import COURSE_ID, SOURCE, UsageError, check_assignment, nbgrader_config, prepare_environment

# The columns of `nbgrader export` (nbgrader.plugins.export.CsvExportPlugin).
GRADE_COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
                 "email", "raw_score", "late_submission_penalty", "score", "max_score"]


@dataclass
class GradeReport:
    assignment: str
    graded: list[str] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)  # student_id -> one-line message
    grades_csv: Path | None = None


def find_students(assignment: str, submitted: Path) -> list[str]:
    if not submitted.is_dir():
        raise UsageError(f"submissions folder not found: {submitted}")
    students = sorted(p.name for p in submitted.iterdir()
                      if p.is_dir() and (p / assignment).is_dir() and not p.name.startswith("."))
    if not students:
        raise UsageError(f"no submissions of '{assignment}' in {submitted} "
                         f"(expected {submitted}/<student_id>/{assignment}/<notebook>.ipynb)")
    return students


def _first_error_line(result: dict) -> str:
    text = (result.get("error") or result.get("log") or "").strip().splitlines()
    lines = [ln for ln in text if "Error" in ln or "error" in ln] or text or ["unknown error"]
    return lines[-1].strip()[:300]


def grade(assignment: str, submitted: Path, out: Path, db_url: str | None = None,
          timeout: int = 120, progress: bool = True) -> GradeReport:
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from tqdm import tqdm

    import warnings

    from sqlalchemy.exc import SAWarning

    # nbgrader 0.9.6 trips SQLAlchemy 2's autoflush warnings on every autograde; they are not ours to fix.
    warnings.filterwarnings("ignore", category=SAWarning)
    notebooks = check_assignment(assignment)
    submitted = submitted.resolve()
    students = find_students(assignment, submitted)
    prepare_environment()

    out = out.resolve()
    root = out / "nbgrader"  # nbgrader's course directory: source, submitted, autograded, feedback
    (root / "source").mkdir(parents=True, exist_ok=True)
    shutil.rmtree(root / "source" / assignment, ignore_errors=True)
    shutil.copytree(SOURCE / assignment, root / "source" / assignment)
    db_url = db_url or f"sqlite:///{out / 'gradebook.db'}"
    api = NbGraderAPI(config=nbgrader_config(root, db_url, timeout=timeout))
    # So that plain nbgrader (formgrader, generate_feedback, export) run in `root` finds the same gradebook.
    (root / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821  (written by `python -m autograder grade`)\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.CourseDirectory.db_url = {db_url!r}\n")

    # Records the assignment, its notebooks and graded cells in the gradebook.
    result = api.generate_assignment(assignment, force=True)
    if not result["success"]:
        raise RuntimeError(f"could not prepare '{assignment}': {_first_error_line(result)}")

    report = GradeReport(assignment)
    bar = tqdm(students, desc=f"grading {assignment}", unit="submission", disable=not progress)
    for student in bar:
        try:
            message = _grade_one(api, root, assignment, notebooks, submitted, student, out)
        except Exception as exc:  # one broken submission never stops the batch
            message = f"grading failed: {type(exc).__name__}: {exc}"
        if message:
            report.problems[student] = message
        else:
            report.graded.append(student)

    with Gradebook(db_url) as gb:
        for student in report.problems:  # listed in grades.csv with 0, like any non-submitter
            gb.update_or_create_student(student)
        report.grades_csv = _export(gb, assignment, out / "grades.csv")
    return report


def _grade_one(api, root: Path, assignment: str, notebooks: list[str], submitted: Path,
               student: str, out: Path) -> str | None:
    """Grade one student; return a one-line problem, or None if all went well."""
    src = submitted / student / assignment
    present = [nb for nb in notebooks if (src / f"{nb}.ipynb").is_file()]
    if not present:
        expected = ", ".join(f"{nb}.ipynb" for nb in notebooks)
        found = ", ".join(sorted(p.name for p in src.iterdir())) or "nothing"
        return f"empty submission: expected {expected}, found {found}"
    dest = root / "submitted" / student / assignment
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(src, dest)

    result = api.autograde(assignment, student, force=True, create=True)
    if not result["success"]:
        return f"autograde failed: {_first_error_line(result)}"
    result = api.generate_feedback(assignment, student, force=True)
    if not result["success"]:
        return f"feedback failed: {_first_error_line(result)}"
    for nb in present:
        html = root / "feedback" / student / assignment / f"{nb}.html"
        target = out / "feedback" / student / assignment / f"{nb}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(html, target)
    missing = [nb for nb in notebooks if nb not in present]
    if missing:
        return "missing notebook(s): " + ", ".join(f"{nb}.ipynb" for nb in missing)
    return None


def _export(gb, assignment: str, path: Path) -> Path:
    """grades.csv with `nbgrader export`'s columns, written with proper CSV quoting."""
    from nbgrader.api import MissingEntry

    a = gb.find_assignment(assignment)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=GRADE_COLUMNS)
        writer.writeheader()
        for student in gb.students:
            row = {"assignment": a.name, "duedate": a.duedate or "", "student_id": student.id,
                   "last_name": student.last_name or "", "first_name": student.first_name or "",
                   "email": student.email or "", "max_score": a.max_score}
            try:
                sub = gb.find_submission(assignment, student.id)
            except MissingEntry:
                row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0)
            else:
                penalty = sub.late_submission_penalty or 0.0
                row.update(timestamp=sub.timestamp or "", raw_score=sub.score,
                           late_submission_penalty=penalty, score=max(0.0, sub.score - penalty))
            writer.writerow(row)
    return path
