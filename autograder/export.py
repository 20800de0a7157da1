"""What the instructor gets: from a graded batch, grades.csv (nbgrader export's columns) and parts.csv (every
student's score and message per part); for the whole course, one gradebook CSV (``python -m autograder export``)."""

from __future__ import annotations

import csv
import re
from pathlib import Path


PART_COLUMNS = ["student_id", "assignment", "notebook", "part", "score", "max_score", "message", "points_by_item"]
# The columns of `nbgrader export` (nbgrader.plugins.export.CsvExportPlugin), then the written answers still waiting
# for a human (their points are not in score yet).
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
                        grade_entry = gb.find_grade(cell.name, nb, assignment, student)
                        score = grade_entry.score
                        pending = is_pending(grade_entry)
                    except MissingEntry:
                        grade_entry, score, pending = None, 0.0, False
                    message = problems.get(student) or messages.get(cell.name, "not submitted")
                    if pending:
                        message = "written answer: waiting for manual grading"
                    elif cell.cell_type == "markdown" and message.startswith("written answer") \
                            and grade_entry is not None and grade_entry.manual_score is None \
                            and grade_entry.auto_score == 0:  # left as released: nbgrader scores it 0 itself
                        message = "written answer: not answered"
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
                row.update(timestamp=sub.timestamp or "", raw_score=round(sub.score, 6),
                           late_submission_penalty=round(penalty, 6), score=round(max(0.0, sub.score - penalty), 6),
                           pending_manual=pending_count(gb, assignment, student.id))
            writer.writerow(row)
    return path


# ----------------------------------------------------------------- the course gradebook
def gradebook_urls(results: list[Path]) -> list[str]:
    """The SQLite gradebooks of ``results``: each an assignment's --out folder (holding gradebook.db), or a folder
    of such folders."""
    from .errors import UsageError

    found = []
    for folder in results:
        if not folder.is_dir():
            raise UsageError(f"results folder not found: {folder}")
        dbs = [folder / "gradebook.db"] if (folder / "gradebook.db").is_file() else sorted(folder.glob("*/gradebook.db"))
        if not dbs:
            raise UsageError(f"no gradebook.db in {folder} or its subfolders (give the --out folders of grade)")
        found += [f"sqlite:///{db.resolve()}" for db in dbs]
    return list(dict.fromkeys(found))


def course_table(urls: list[str]) -> tuple[list[dict], dict[str, float]]:
    """One row per student over every assignment of the gradebooks: {assignment: score after the late penalty},
    and pending written answers; with the maximum of each assignment."""
    from nbgrader.api import Gradebook, MissingEntry

    students: dict[str, dict] = {}
    maxima: dict[str, float] = {}
    for url in urls:
        with Gradebook(url) as gb:
            for a in gb.assignments:
                if a.name in maxima:
                    from .errors import UsageError

                    raise UsageError(f"assignment {a.name} is in two gradebooks; give each assignment's results once")
                maxima[a.name] = a.max_score
                for s in gb.students:
                    row = students.setdefault(s.id, {"student_id": s.id, "last_name": s.last_name or "",
                                                     "first_name": s.first_name or "", "email": s.email or "",
                                                     "scores": {}, "pending": 0})
                    try:
                        sub = gb.find_submission(a.name, s.id)
                    except MissingEntry:
                        row["scores"][a.name] = 0.0
                        continue
                    penalty = sub.late_submission_penalty or 0.0
                    row["scores"][a.name] = max(0.0, sub.score - penalty)
                    row["pending"] += sum(is_pending(g) for nb in sub.notebooks for g in nb.grades)
    order = sorted(maxima)
    for row in students.values():
        for name in order:
            row["scores"].setdefault(name, 0.0)   # not in that gradebook: did not submit
    return sorted(students.values(), key=lambda r: r["student_id"]), {n: maxima[n] for n in order}


def write_course(path: Path, urls: list[str], canvas: bool = False) -> Path:
    """The course gradebook as CSV: per student, a column per assignment (late penalty applied), the total and
    the written answers still pending; or Canvas's gradebook import (Student, ID, SIS User ID, SIS Login ID,
    Section, one column per assignment, a "Points Possible" row), matched by SIS Login ID = student_id."""
    rows, maxima = course_table(urls)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        if canvas:
            w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *maxima])
            w.writerow(["Points Possible", "", "", "", "", *(f"{m:g}" for m in maxima.values())])
            for r in rows:
                name = ", ".join(x for x in (r["last_name"], r["first_name"]) if x) or r["student_id"]
                w.writerow([name, "", "", r["student_id"], "", *(f"{r['scores'][a]:g}" for a in maxima)])
        else:
            w.writerow(["student_id", "last_name", "first_name", "email", *maxima, "total", "max_total",
                        "pending_manual"])
            total_max = sum(maxima.values())
            for r in rows:
                scores = [r["scores"][a] for a in maxima]
                w.writerow([r["student_id"], r["last_name"], r["first_name"], r["email"],
                            *(f"{x:g}" for x in scores), f"{sum(scores):g}", f"{total_max:g}", r["pending"]])
    return path
