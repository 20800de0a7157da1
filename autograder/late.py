"""Late work: the penalty policy (an nbgrader LateSubmissionPlugin), when each submission was made, and
per-student extensions.

nbgrader takes the due date from the gradebook (``--due``) and each
submission's time from its ``timestamp.txt`` (written by ``nbgrader
collect`` / ``zip_collect``), and asks this plugin for the penalty of every
late notebook. Policies (``--late-policy``):

- ``none``: late work is flagged in the report, nothing is deducted (nbgrader's default);
- ``zero``: late work scores 0;
- ``per-day:F``: each started day late costs the fraction F of the notebook's score, never below 0
  (``per-day:0.1`` = 10% per day, so work more than 9 days late scores 0).
"""

from __future__ import annotations

import csv
import math
import re
from datetime import timedelta
from pathlib import Path

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Unicode, validate


class LatePolicy(LateSubmissionPlugin):
    policy = Unicode("none", help="none | zero | per-day:F").tag(config=True)

    @validate("policy")
    def _check(self, proposal):
        parse_policy(proposal["value"])
        return proposal["value"]

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        kind, fraction = parse_policy(self.policy)
        if kind == "none" or total_seconds_late <= 0:
            return 0.0
        if kind == "zero":
            return score
        days = math.ceil(total_seconds_late / 86400)
        return min(score, score * fraction * days)


def parse_policy(text: str) -> tuple[str, float]:
    if text in ("none", "zero"):
        return text, 0.0
    if text.startswith("per-day:"):
        try:
            fraction = float(text.split(":", 1)[1])
        except ValueError:
            fraction = -1
        if 0 < fraction <= 1:
            return "per-day", fraction
    raise ValueError(f"late policy must be none, zero or per-day:F with 0 < F <= 1, got {text!r}")


# ----------------------------------------------------------------- when was it submitted?
# Canvas marks work handed in after its due date with _LATE_ in the file name, and gives no time.
LMS_LATE = re.compile(r"^(?:.*/)?(?P<student_id>[^_/]+)_LATE_")


def lms_late_students(extracted: Path) -> set[str]:
    """Students whose files in an LMS download carry the late marker."""
    if not extracted.is_dir():
        return set()
    return {m["student_id"] for p in extracted.rglob("*")
            if p.is_file() and (m := LMS_LATE.match(p.relative_to(extracted).as_posix()))}


def submission_times(submitted: Path, assignment: str, students: list[str], due: str | None,
                     late_marked: set[str], lms_marks_lateness: bool) -> dict[str, list[str]]:
    """What is known about when each student submitted; notes for those whose time is unknown or guessed.

    - ``timestamp.txt`` (nbgrader's collect and zip_collect, or a timestamp group in --name-pattern): exact.
    - an LMS late marker without a time: with ``due`` it is written as timestamp.txt one second after the due
      date, so the policy treats it as late by under a day (``zero`` gives 0, ``per-day`` one day's penalty),
      and a note says so. ``submitted`` must then be the intake's own folder, never the instructor's.
    - neither, with ``due``: graded as on time, with a note, unless the LMS marks late files
      (``lms_marks_lateness``), which makes an unmarked file on time.
    """
    from nbgrader.utils import parse_utc

    notes: dict[str, list[str]] = {}
    for student in students:
        folder = submitted / student / assignment
        stamp = folder / "timestamp.txt"
        if stamp.is_file():
            continue
        if student in late_marked:
            if due:
                stamp.write_text(str(parse_utc(due) + timedelta(seconds=1)))
                notes[student] = ["marked LATE by the LMS, which gives no time: graded as late by less than a day "
                                  "(put the times in the file names and a timestamp group in --name-pattern for "
                                  "the exact penalty)"]
            else:
                notes[student] = ["marked LATE by the LMS; no penalty without --due"]
        elif due and not lms_marks_lateness:
            notes[student] = ["submission time unknown (no timestamp.txt, no time in the file name): graded as on "
                              "time"]
    return notes


def read_extensions(path: Path | None, due: str | None) -> dict[str, str]:
    """student_id -> their own due date, from a CSV with columns student_id and due; checked, never guessed."""
    if path is None:
        return {}
    from nbgrader.utils import parse_utc

    from .errors import UsageError

    if not due:
        raise UsageError("--extensions needs --due (an extension moves a student's due date)")
    if not path.is_file():
        raise UsageError(f"extensions file not found: {path}")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    if rows and not {"student_id", "due"} <= set(rows[0]):
        raise UsageError(f"{path}: the extensions CSV needs the columns student_id and due")
    found = {}
    for line, row in enumerate(rows, start=2):
        student, when = (row.get("student_id") or "").strip(), (row.get("due") or "").strip()
        try:
            when = str(parse_utc(when))   # UTC, as nbgrader stores the due date
        except Exception:
            raise UsageError(f"{path}, line {line}: cannot read the due date {when!r} "
                             "(e.g. '2026-11-27 23:59:00 UTC')") from None
        if not student:
            raise UsageError(f"{path}, line {line}: no student_id")
        found[student] = when
    return found


def apply_extensions(gb, assignment: str, due: str, extensions: dict[str, str]) -> None:
    """Each listed student's submission gets nbgrader's extension (their due date minus the assignment's), which
    nbgrader's lateness and so the late policy take into account; an extension no longer listed is removed."""
    from nbgrader.api import MissingEntry
    from nbgrader.utils import parse_utc

    base = parse_utc(due)
    for student, when in extensions.items():
        gb.update_or_create_student(student)
        gb.update_or_create_submission(assignment, student, extension=parse_utc(when) - base)
    for sub in gb.assignment_submissions(assignment):
        if sub.extension is not None and sub.student_id not in extensions:
            try:
                gb.update_or_create_submission(assignment, sub.student_id, extension=None)
            except MissingEntry:
                pass
