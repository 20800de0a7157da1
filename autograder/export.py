"""What the instructor gets from a graded batch: grades.csv (nbgrader export's columns) and parts.csv (every
student's score and message per part)."""

from __future__ import annotations

import csv
import re
from pathlib import Path


# The columns of `nbgrader export` (nbgrader.plugins.export.CsvExportPlugin), then the written answers still waiting
# for a human (their points are not in score yet).
PART_COLUMNS = ["student_id", "assignment", "notebook", "part", "score", "max_score", "message", "points_by_item"]


GRADE_COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
                 "email", "raw_score", "late_submission_penalty", "score", "max_score", "pending_manual"]


def part_messages(root: Path, student: str, assignment: str, notebook: str) -> dict[str, str]:
    """grade_id -> the message its test cell shows in the autograded notebook."""
    import nbformat

    path = root / "autograded" / student / assignment / f"{notebook}.ipynb"
    if not path.is_file():
        return {}
    messages = {}
    for cell in nbformat.read(path, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade"):
            continue
        if cell.cell_type == "markdown":
            messages[meta["grade_id"]] = "written answer: graded by hand"
            continue
        texts = [o.get("evalue") or o.get("text", "") for o in cell.get("outputs", [])]
        messages[meta["grade_id"]] = " ".join(t.strip() for t in texts if t).strip()
    return messages


def write_parts(gb, root: Path, assignment: str, notebooks: list[str], problems: dict, path: Path) -> Path:
    """parts.csv: one row per student x graded part, with the message the student sees."""
    from nbgrader.api import MissingEntry

    from .verdicts import parts_of

    credits = {gid: part.credit for gid, part in parts_of(assignment).items()}
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(PART_COLUMNS)
        cells = {nb: sorted(gb.find_notebook(nb, assignment).grade_cells, key=lambda c: c.name) for nb in notebooks}
        for student in sorted(s.id for s in gb.students):
            for nb in notebooks:
                messages = part_messages(root, student, assignment, nb)
                for cell in cells[nb]:
                    try:
                        grade = gb.find_grade(cell.name, nb, assignment, student)
                        score = grade.score
                        pending = is_pending(grade)
                    except MissingEntry:
                        score, pending = 0.0, False
                    message = problems.get(student) or messages.get(cell.name, "not submitted")
                    if pending:
                        message = "written answer: waiting for manual grading"
                    items = "" if pending else points_by_item(credits.get(cell.name), score, cell.max_score, message)
                    writer.writerow([student, assignment, nb, cell.name, "" if pending else score,
                                     cell.max_score, message, items])
    return path


def points_by_item(credits, score, max_score, message: str) -> str:
    """"label earned/points; ..." for a part with partial credit ("" for others): all earned at full marks, the
    test cell's "Points:" line when partly right, none otherwise."""
    if not credits:
        return ""
    earned = {c.label: 0.0 for c in credits}
    if score is not None and float(score) >= float(max_score):
        earned = {c.label: c.points for c in credits}
    elif "Points: " in message:
        line = message.split("Points: ", 1)[1].split("\n", 1)[0]
        for c in credits:
            hit = re.search(r"(?:\(|· )" + re.escape(c.label) + r" ✔ ", line)
            earned[c.label] = c.points if hit else 0.0
    return "; ".join(f"{c.label} {earned[c.label]:g}/{c.points:g}" for c in credits)


def is_pending(grade) -> bool:
    """A written answer no human has scored yet: pending, never 0. (nbgrader also marks cells a human scored as
    needing grading after a rerun; those keep their score: see manual.py.)"""
    return grade.manual_score is None and grade.auto_score is None


def pending_count(gb, assignment: str, student: str) -> int:
    from nbgrader.api import MissingEntry

    try:
        submission = gb.find_submission(assignment, student)
    except MissingEntry:
        return 0
    return sum(is_pending(g) for nb in submission.notebooks for g in nb.grades)


def write_grades(gb, assignment: str, path: Path) -> Path:
    """grades.csv: `nbgrader export`'s columns and pending_manual, written with proper CSV quoting."""
    from nbgrader.api import MissingEntry

    a = gb.find_assignment(assignment)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=GRADE_COLUMNS)
        writer.writeheader()
        # By id, as parts.csv is: nbgrader orders by name, and PostgreSQL returns students without names
        # in the order parallel workers happened to add them.
        for student in sorted(gb.students, key=lambda s: s.id):
            row = {"assignment": a.name, "duedate": a.duedate or "", "student_id": student.id,
                   "last_name": student.last_name or "", "first_name": student.first_name or "",
                   "email": student.email or "", "max_score": a.max_score}
            try:
                sub = gb.find_submission(assignment, student.id)
            except MissingEntry:
                row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0, pending_manual=0)
            else:
                penalty = sub.late_submission_penalty or 0.0
                row.update(timestamp=sub.timestamp or "", raw_score=sub.score,
                           late_submission_penalty=penalty, score=max(0.0, sub.score - penalty),
                           pending_manual=pending_count(gb, assignment, student.id))
            writer.writerow(row)
    return path
