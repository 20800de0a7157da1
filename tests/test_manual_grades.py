"""A human's grade sticks (issue 24, item 1): a written answer waiting for a human is pending, never 0; after
grading in formgrader, rerunning the grade command brings feedback, grades.csv (with the late penalty of the new
score), parts.csv and the report up to date; no rerun, with or without --force, and no change of the rules (a hidden-test fix) resets or hides it.
Through the real gradebook, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import shutil
import tempfile
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from conftest import html_text, run_cli
from submissions import set_source, solution_notebook, write_submission

A, NB, WRITTEN = "ch04_dropout", "dropout", "written_weight_scaling"


@pytest.fixture(scope="module")
def pg_url():
    from postgres import create_database, postgres_server

    base = Path(tempfile.mkdtemp(prefix="course-pg-manual-"))
    try:
        with postgres_server(base) as server:
            yield create_database(server.url, "manual")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _rows(out, name):
    with open(out / name, newline="") as fh:
        return list(csv.DictReader(fh))


def _written(out, student):
    (row,) = [r for r in _rows(out, "parts.csv") if r["student_id"] == student and r["part"] == WRITTEN]
    return row


def _grade(out, student):
    (row,) = [r for r in _rows(out, "grades.csv") if r["student_id"] == student]
    return row


def _feedback(out, student):
    return html_text((out / "feedback" / student / A / f"{NB}.html").read_text())


def _state(db, student):
    with Gradebook(db) as gb:
        g = gb.find_grade(WRITTEN, NB, A, student)
        c = gb.find_comment(WRITTEN, NB, A, student)
        return g.manual_score, g.needs_manual_grade, c.manual_comment


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_human_grade_sticks_through_reruns_force_and_new_rules(backend, tmp_path, request):
    sub, out = tmp_path / "submitted", tmp_path / "out"
    for student, stamp in (("alice", "2026-11-20 10:00:00 UTC"), ("bob", "2026-11-21 10:00:00 UTC")):
        path = write_submission(sub, student, A, solution_notebook(A))
        (path.parent / "timestamp.txt").write_text(stamp)   # bob is a day late: per-day:0.5 halves his score
    db = request.getfixturevalue("pg_url") if backend == "postgresql" else f"sqlite:///{out / 'gradebook.db'}"
    grade = ["grade", A, sub, "--out", out, "--db", db, "--no-progress", "--workers", "1",
             "--due", "2026-11-20 23:59:00 UTC", "--late-policy", "per-day:0.5"]
    run_cli(*grade)

    # Waiting for a human: pending, never a 0.
    assert _written(out, "alice")["score"] == "" and "waiting" in _written(out, "alice")["message"]
    assert _grade(out, "alice")["pending_manual"] == "1"
    auto_total = float(_grade(out, "alice")["score"])
    assert float(_grade(out, "bob")["score"]) == pytest.approx(0.5 * auto_total)
    late = {"alice": 1.0, "bob": 0.5}   # the share of the score each keeps

    # The instructor grades both written answers in formgrader (what its API does to the gradebook).
    with Gradebook(db) as gb:
        for student, score in (("alice", 1.5), ("bob", 2.0)):
            g = gb.find_grade(WRITTEN, NB, A, student)
            g.manual_score, g.needs_manual_grade = score, False
            gb.find_comment(WRITTEN, NB, A, student).manual_comment = f"Clear argument, {student}."
        gb.db.commit()

    # One command brings everything handed out up to date.
    proc = run_cli(*grade)
    assert "2 with feedback updated from formgrader" in proc.stdout
    for student, score in (("alice", 1.5), ("bob", 2.0)):
        assert float(_written(out, student)["score"]) == score
        assert float(_grade(out, student)["score"]) == pytest.approx(late[student] * (auto_total + score))
        assert _grade(out, student)["pending_manual"] == "0"
        assert f"Clear argument, {student}." in _feedback(out, student)
    assert "manual grading pending" not in (out / "report.html").read_text()

    # A forced regrade, then new rules (as a hidden-test fix makes): the grades and comments stay.
    run_cli(*grade, "--force")
    run_cli(*grade, "--timeout", "61")
    for student, score in (("alice", 1.5), ("bob", 2.0)):
        assert _state(db, student) == (score, False, f"Clear argument, {student}.")
        assert float(_written(out, student)["score"]) == score
        assert float(_grade(out, student)["score"]) == pytest.approx(late[student] * (auto_total + score))
        assert f"Clear argument, {student}." in _feedback(out, student)
    assert "manual grading pending" not in (out / "report.html").read_text()

    # bob rewrites the answer after it was graded: the score is kept, and it is flagged for review.
    nb = set_source(solution_notebook(A), WRITTEN, "A new answer, written after the grade.")
    write_submission(sub, "bob", A, nb)
    proc = run_cli(*grade)
    assert "bob: note: written_weight_scaling was graded by hand, then changed" in proc.stdout
    assert _state(db, "bob")[0] == 2.0 and float(_written(out, "bob")["score"]) == 2.0
    assert _state(db, "alice") == (1.5, False, "Clear argument, alice.")
