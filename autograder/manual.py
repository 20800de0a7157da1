"""Grades a human gave in formgrader: kept by every rerun, and brought into everything handed out.

nbgrader's autograde keeps a manual score but marks the cell as needing grading again whenever it reruns
(``SaveAutoGrades._add_score``), so a regrade after a hidden-test fix would send every graded written answer back
to the queue. Here a human's score stands while the answer it judged is unchanged; an answer the student changed
since keeps its score and is flagged for review.
"""

from __future__ import annotations

import json
from pathlib import Path


def answer_checksums(notebook_paths: list[Path]) -> dict[str, str]:
    """grade_id -> nbgrader checksum of every answer cell (solution cells) of the submitted notebooks."""
    import nbformat
    from nbgrader.utils import compute_checksum

    found = {}
    for path in notebook_paths:
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution") and meta.get("grade_id"):
                found[meta["grade_id"]] = compute_checksum(cell)
    return found


def load_checksums(state: Path) -> dict[str, str]:
    path = state / "answers.json"
    try:
        return json.loads(path.read_text()) if path.is_file() else {}
    except ValueError:
        return {}


def keep_human_grades(gb, assignment: str, student: str, notebooks: list[str], before: dict[str, str],
                      now: dict[str, str]) -> list[str]:
    """After autograde: a cell a human scored whose answer is unchanged no longer needs grading. Returns notes for
    the answers that changed since a human scored them (their score is kept until someone reviews them)."""
    from nbgrader.api import MissingEntry

    notes = []
    for nb in notebooks:
        try:
            grades = gb.find_submission_notebook(nb, assignment, student).grades
        except MissingEntry:
            continue
        for grade in grades:
            if grade.manual_score is None:
                continue
            if grade.name in now:  # a written answer (or code) a human scored: is it the same answer?
                unchanged = before.get(grade.name) == now[grade.name]
            else:                  # a test cell whose autograde a human overrode: are all answers the same?
                unchanged = bool(before) and before == now
            if unchanged:
                grade.needs_manual_grade = False
            elif grade.needs_manual_grade:
                notes.append(f"{grade.name} was graded by hand, then changed: review it in formgrader "
                             f"(its score {grade.manual_score:g} is kept until then)")
    gb.db.commit()
    return notes


def has_human_grades(gb, assignment: str, student: str) -> bool:
    """Did a human score or comment on any cell of this student's submission?"""
    from nbgrader.api import MissingEntry

    try:
        submission = gb.find_submission(assignment, student)
    except MissingEntry:
        return False
    for nb in submission.notebooks:
        if any(g.manual_score is not None for g in nb.grades):
            return True
        if any(c.manual_comment for c in nb.comments):
            return True
    return False


def reapply_late_penalty(gb, assignment: str, student: str, policy: str) -> None:
    """The late penalty of each notebook recomputed from its score now: nbgrader computes it when it autogrades,
    so a per-day penalty would otherwise miss the points a human added since."""
    from nbgrader.api import MissingEntry

    from .late import LatePolicy

    try:
        submission = gb.find_submission(assignment, student)
    except MissingEntry:
        return
    plugin = LatePolicy(policy=policy)
    for nb in submission.notebooks:
        nb.late_submission_penalty = (plugin.late_submission_penalty(student, nb.score, submission.total_seconds_late)
                                      if submission.total_seconds_late > 0 else None)
    gb.db.commit()
